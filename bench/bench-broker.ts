import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../src/platform/db/embedded-postgres';
import type { EventStore } from '../src/platform/event-store/event-store.port';
import type { Logger } from '../src/platform/logger';
import { startEmbeddedBroker } from '../src/platform/mqtt/embedded-broker';
import { writeMosquittoFiles } from '../src/platform/mqtt/mosquitto-files';
import type { DeviceCa } from '../src/platform/pki/device-ca';

export interface BenchBroker {
  readonly kind: 'mosquitto' | 'aedes';
  /** `mqtts://127.0.0.1:<port>`: mutual TLS with certificates from the device CA. */
  readonly url: string;
  /** What the broker is (version, limits), for the report. */
  readonly description: string;
  /** The broker's own process (Mosquitto); undefined when it runs inside the bench (Aedes). */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export interface BenchBrokerOptions {
  readonly ca: DeviceCa;
  /** A folder for Mosquitto's generated files. */
  readonly workDir: string;
  /** Internal identities that connect (each gets its ACL block). */
  readonly internalNames: readonly string[];
  /** `mosquitto`, `aedes`, or undefined: Mosquitto when its binary is installed. */
  readonly prefer: string | undefined;
  /** For the embedded broker (its health feed and revocation follower). */
  readonly store: EventStore;
  readonly log: Logger;
}

/** The Debian package's path first, then PATH; undefined when Mosquitto is not installed. */
function findMosquitto(): string | undefined {
  if (existsSync('/usr/sbin/mosquitto')) return '/usr/sbin/mosquitto';
  const which = spawnSync('which', ['mosquitto'], { encoding: 'utf8' });
  const found = which.status === 0 ? which.stdout.trim() : '';
  return found === '' ? undefined : found;
}

/**
 * The broker the benchmark measures through: Mosquitto started from the files
 * `admin broker-config` writes (writeMosquittoFiles: the production
 * mosquitto.conf with its deliberate inflight and queue limits, ACL, mutual
 * TLS, CRL) on a free loopback port; the embedded Aedes broker when the
 * binary is absent or BENCH_BROKER=aedes.
 */
export async function startBenchBroker(options: BenchBrokerOptions): Promise<BenchBroker> {
  if (options.prefer !== undefined && options.prefer !== 'mosquitto' && options.prefer !== 'aedes') {
    throw new Error(`BENCH_BROKER must be mosquitto or aedes, got "${options.prefer}"`);
  }
  const binary = options.prefer === 'aedes' ? undefined : findMosquitto();
  if (binary === undefined) {
    if (options.prefer === 'mosquitto') throw new Error('BENCH_BROKER=mosquitto but no mosquitto binary was found');
    const broker = await startEmbeddedBroker({ ca: options.ca, port: 0, host: '127.0.0.1', store: options.store, log: options.log, revokedSerials: async () => [] });
    return { kind: 'aedes', url: broker.url, description: 'embedded Aedes (in the bench process)', pid: undefined, stop: () => broker.stop() };
  }

  const port = await freePort();
  const outDir = path.join(options.workDir, 'mosquitto');
  const written = await writeMosquittoFiles({
    outDir,
    ca: options.ca,
    port,
    bind: '127.0.0.1',
    serverNames: { hostnames: [], ips: [] },
    internalNames: options.internalNames,
    revoked: [],
    // Mosquitto runs as whoever runs the bench (root stays root), so it can read the 0600 keys.
    runAsUser: os.userInfo().username,
  });
  const version = spawnSync(binary, ['-h'], { encoding: 'utf8' }).stdout.split('\n')[0]?.trim() ?? 'mosquitto';
  const child = spawn(binary, ['-c', path.join(outDir, 'mosquitto.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const append = (chunk: Buffer): void => {
    output = `${output}${chunk.toString()}`.slice(-4000);
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`mosquitto exited (${child.exitCode ?? child.signalCode}):\n${output}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`mosquitto did not listen on ${port} within 10 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // The settings as written, not as intended.
  const setting = (name: string): string => new RegExp(`^${name} (\\S+)$`, 'm').exec(written.conf)?.[1] ?? '?';
  const limits = ['max_inflight_messages', 'max_queued_messages', 'persistence', 'require_certificate'].map((name) => `${name} ${setting(name)}`);
  return {
    kind: 'mosquitto',
    url: `mqtts://127.0.0.1:${port}`,
    description: `${version}, generated mosquitto.conf (${limits.join(', ')})`,
    pid: child.pid,
    stop,
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
