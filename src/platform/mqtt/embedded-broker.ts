import { isIP } from 'node:net';
import { createBroker } from 'aedes';
import type { EventStore, Position } from '../event-store/event-store.port';
import type { Logger } from '../logger';
import type { DeviceCa } from '../pki/device-ca';
import { createAccessControl } from './broker-access';
import { normalizeSerial } from './broker-identity';
import { BrokerSessions } from './broker-sessions';
import { watchBroker } from './broker-events';
import { DeviceHealthFeed } from './device-health.feed';
import { followRevocationRecords } from './crl-revocations';
import { RevokedSerials } from './revocations';
import { SharedSubscriptions } from './shared-subscriptions';
import { ANY_ADDRESS, listenMutualTls, type TlsListener } from './tls-listener';

export interface EmbeddedBrokerOptions {
  readonly ca: DeviceCa;
  /** 0 picks a free port; `EmbeddedBroker.port` tells which. */
  readonly port: number;
  readonly host: string;
  readonly store: EventStore;
  readonly log: Logger;
  /**
   * Serials revoked before start (hex); later revocations arrive as
   * DeviceCertificateRevoked events, followed from the snapshot's `upTo`
   * when given (a read model's checkpoint, so nothing it has not seen yet is
   * missed), else from the log's head when the loader was called.
   */
  readonly revokedSerials: () => Promise<Iterable<string> | RevokedSerialsSnapshot>;
  /** Names devices use to reach the broker, besides localhost and 127.0.0.1, for its TLS certificate. */
  readonly serverNames?: { readonly hostnames?: readonly string[]; readonly ips?: readonly string[] };
  readonly now?: () => Date;
  /** Identical heartbeats become at most one DeviceHealthReported per this interval (default 60 s). */
  readonly heartbeatEventIntervalMs?: number;
}

export interface RevokedSerialsSnapshot {
  readonly serials: Iterable<string>;
  readonly upTo: Position;
}

export interface EmbeddedBrokerStats {
  readonly connectedClients: number;
  readonly revokedSerials: number;
  readonly deniedPublishes: number;
  readonly invalidHeartbeats: number;
  readonly throttledHeartbeats: number;
}

export interface EmbeddedBroker {
  /** `mqtts://host:port`, for the platform's own clients. */
  readonly url: string;
  readonly port: number;
  /** Marks a serial revoked and cuts every live session using it; returns how many were cut. */
  revoke(serialNumber: string): number;
  stats(): EmbeddedBrokerStats;
  stop(): Promise<void>;
}

/** Aedes behind mutual TLS: only certificates from the device CA get a session. */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { log, store } = options;
  const now = options.now ?? (() => new Date());
  const revoked = new RevokedSerials();
  // Head first: a revocation appended while the loader runs is then seen by the subscription.
  const head = await store.headPosition();
  const loaded = await options.revokedSerials();
  const snapshot = Symbol.iterator in loaded ? { serials: loaded, upTo: head } : loaded;
  for (const serial of snapshot.serials) revoked.add(serial);

  let stopping = false;
  const broker = createBroker({ maxClientsIdLength: 64 });
  const sessions = new BrokerSessions();
  const shares = new SharedSubscriptions(broker, log);
  const health = new DeviceHealthFeed(store, log, { now, intervalMs: options.heartbeatEventIntervalMs ?? 60_000 });
  const access = createAccessControl({ sessions, revoked, shares, log, stopping: () => stopping });
  Object.assign(broker, access.hooks);
  watchBroker(broker, { sessions, shares, health, log });

  const revoke = (serialNumber: string): number => {
    if (revoked.add(serialNumber)) log.info({ serialNumber }, 'certificate revoked');
    const cut = sessions.withSerial(normalizeSerial(serialNumber) ?? serialNumber);
    for (const client of cut) {
      sessions.noteEnd(client, 'certificate revoked');
      client.close();
    }
    return cut.length;
  };
  const follower = followRevocationRecords(store, snapshot.upTo, async (record) => void revoke(record.serialNumber), log);

  let listener: TlsListener | undefined;
  const stop = async (): Promise<void> => {
    stopping = true;
    const following = follower.stop();
    for (const client of sessions.all()) sessions.noteEnd(client, 'broker stopped');
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await Promise.all([listener?.close(), following]);
    await health.drain();
  };
  try {
    listener = await listenMutualTls({ ...options, onConnection: (socket) => broker.handle(socket) });
  } catch (error) {
    await stop();
    throw error;
  }
  const { port } = listener;
  // Loopback by address: `localhost` may resolve to ::1 first, where nothing listens on 0.0.0.0.
  const host = ANY_ADDRESS.has(options.host) ? '127.0.0.1' : options.host;
  log.info({ port, host: options.host, revokedSerials: revoked.size }, 'embedded mqtt broker listening');

  let stopped: Promise<void> | undefined;
  return {
    url: `mqtts://${isIP(host) === 6 ? `[${host}]` : host}:${port}`,
    port,
    revoke,
    stats: () => ({
      connectedClients: broker.connectedClients,
      revokedSerials: revoked.size,
      deniedPublishes: access.deniedPublishes(),
      invalidHeartbeats: health.invalidHeartbeats,
      throttledHeartbeats: health.throttledHeartbeats,
    }),
    stop: () => (stopped ??= stop()),
  };
}
