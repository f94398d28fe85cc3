import type { EventEmitter } from 'node:events';
import type Aedes from 'aedes';
import type { Logger } from '../logger';
import type { BrokerSessions } from './broker-sessions';
import type { DeviceHealthFeed } from './device-health.feed';
import { parseShare, type SharedSubscriptions } from './shared-subscriptions';
import { deviceTopic } from './topics';

export interface BrokerWatchers {
  readonly sessions: BrokerSessions;
  readonly shares: SharedSubscriptions;
  readonly health: DeviceHealthFeed;
  readonly log: Logger;
}

/**
 * What the broker reports about its sessions: device connects, disconnects
 * and heartbeats feed device health; shared-subscription members leave with
 * their session. Registration events ('client' / 'clientDisconnect') come in
 * pairs, so a device's stream never has a disconnect without its connect.
 */
export function watchBroker(broker: Aedes, { sessions, shares, health, log }: BrokerWatchers): void {
  broker.on('client', (client) => {
    const identity = sessions.identity(client);
    log.info({ clientId: client.id, kind: identity?.kind }, 'mqtt client connected');
    if (identity?.kind === 'device') health.connected(identity, client.id);
  });

  broker.on('clientDisconnect', (client) => {
    shares.leaveAll(client);
    const identity = sessions.identity(client);
    const reason = sessions.endReason(client);
    log.info({ clientId: client.id, reason }, 'mqtt client disconnected');
    if (identity?.kind === 'device') health.disconnected(identity, reason);
  });

  broker.on('clientError', (client, err) => sessions.noteEnd(client, err.message));
  broker.on('connectionError', (_client, err) => log.debug({ err: err.message }, 'mqtt connection failed before CONNECT'));

  broker.on('unsubscribe', (filters, client) => {
    for (const filter of filters) {
      const share = parseShare(filter);
      if (share) shares.leave(client, share);
    }
  });

  broker.on('publish', (packet, client) => {
    if (client === null) return;
    const identity = sessions.identity(client);
    if (identity?.kind === 'device' && packet.topic === deviceTopic(identity.deviceId, 'health')) health.heartbeat(identity, packet.payload);
  });

  // Persistence and delivery failures surface here; without a listener they would crash the process.
  const emitter: EventEmitter = broker; // the typings list every event but this one
  emitter.on('error', (err: Error) => log.error({ err }, 'mqtt broker error'));
}
