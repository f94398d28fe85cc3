import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readRevocations } from '../../src/platform/mqtt/crl-revocations';
import { writeMosquittoFiles, type MosquittoFiles } from '../../src/platform/mqtt/mosquitto-files';
import type { EventStore } from '../../src/platform/event-store/event-store.port';
import type { DeviceCa } from '../../src/platform/pki/device-ca';
import { freePort, startMosquitto, type MosquittoProcess } from './mosquitto-process';

export interface PlatformMosquitto {
  readonly url: string;
  readonly files: MosquittoFiles;
  readonly broker: MosquittoProcess;
  /** Stops the broker (SIGTERM) and removes its folder. */
  close(): Promise<void>;
}

/**
 * A real Mosquitto started from the files `admin broker-config` writes, for
 * an existing platform: its device CA and the revocations in its event log
 * (MosquittoFixture makes a database and a CA of its own, so devices the test
 * API provisions could not connect to it). `internalNames` are the service
 * identities (`iotplane:<name>`) the ACL lets in.
 */
export async function startMosquittoFor(options: {
  readonly binary: string;
  readonly ca: DeviceCa;
  readonly store: EventStore;
  readonly internalNames: readonly string[];
}): Promise<PlatformMosquitto> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'iotplane-mosquitto-'));
  try {
    const port = await freePort();
    const files = await writeMosquittoFiles({
      outDir: path.join(work, 'broker'),
      ca: options.ca,
      port,
      bind: '127.0.0.1',
      serverNames: { hostnames: [], ips: [] },
      internalNames: options.internalNames,
      revoked: (await readRevocations(options.store)).records,
      // The broker runs as whoever runs the tests (root stays root), so it can read the 0600 keys.
      runAsUser: os.userInfo().username,
    });
    const broker = await startMosquitto(options.binary, path.join(work, 'broker', 'mosquitto.conf'), port);
    return {
      url: `mqtts://127.0.0.1:${port}`,
      files,
      broker,
      async close() {
        await broker.stop();
        rmSync(work, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(work, { recursive: true, force: true });
    throw err;
  }
}
