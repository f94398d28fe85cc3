import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeMosquittoFiles, type MosquittoFiles } from '../../src/platform/mqtt/mosquitto-files';
import type { DeviceCa } from '../../src/platform/pki/device-ca';
import { freePort, startMosquitto, type MosquittoProcess } from './mosquitto-process';

/**
 * A real Mosquitto from the generated configuration (persistence included,
 * autosave every 60 s as generated) that a test can crash: `kill()` is
 * SIGKILL, so nothing since the last autosave is written; `start()` runs it
 * again on the same port from the same files and persistence folder.
 */
export class KillableMosquitto {
  readonly url: string;
  private process: MosquittoProcess | undefined;

  private constructor(
    private readonly binary: string,
    private readonly work: string,
    readonly port: number,
    readonly files: MosquittoFiles,
  ) {
    this.url = `mqtts://127.0.0.1:${port}`;
  }

  /** Writes the files for `internalNames` (one ACL block and certificate each) and starts the broker. */
  static async start(binary: string, ca: DeviceCa, internalNames: readonly string[]): Promise<KillableMosquitto> {
    const work = mkdtempSync(path.join(os.tmpdir(), 'iotplane-killable-mosquitto-'));
    try {
      const port = await freePort();
      const files = await writeMosquittoFiles({
        outDir: work,
        ca,
        port,
        bind: '127.0.0.1',
        serverNames: { hostnames: [], ips: [] },
        internalNames,
        revoked: [],
        // The broker runs as whoever runs the tests (root stays root), so it can read the 0600 keys.
        runAsUser: os.userInfo().username,
      });
      const broker = new KillableMosquitto(binary, work, port, files);
      await broker.start();
      return broker;
    } catch (error) {
      rmSync(work, { recursive: true, force: true });
      throw error;
    }
  }

  get running(): boolean {
    return this.process !== undefined;
  }

  /** What the broker printed so far (for failure messages). */
  output(): string {
    return this.process?.output() ?? '';
  }

  async start(): Promise<void> {
    if (this.process) return;
    this.process = await startMosquitto(this.binary, path.join(this.work, 'mosquitto.conf'), this.port);
  }

  /** SIGKILL: a crash; the broker writes nothing on the way out. */
  async kill(): Promise<void> {
    const running = this.process;
    this.process = undefined;
    if (!running) return;
    try {
      process.kill(running.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await running.stop(); // waits for the exit
  }

  async close(): Promise<void> {
    const running = this.process;
    this.process = undefined;
    await running?.stop();
    rmSync(this.work, { recursive: true, force: true });
  }
}
