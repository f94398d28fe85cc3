import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { deviceCertificatesStream } from '../commands/device-certificates/device-certificate.events';
import { deviceHealthStream, type DeviceConnected } from '../commands/device-health/device-health.events';
import type { EventStore } from '../platform/event-store/event-store.port';
import type { Logger } from '../platform/logger';
import { DeviceHealthFeed } from '../platform/mqtt/device-health.feed';
import { connectInternalClient } from '../platform/mqtt/internal-client';
import type { DeviceCa } from '../platform/pki/device-ca';
import { HEALTH_SUBSCRIPTION, deviceIdOf, deviceTopic } from '../platform/mqtt/topics';

export interface DeviceHealthIngestOptions {
  /** `mqtts://…` of the external broker (Mosquitto). */
  readonly url: string;
  readonly ca: DeviceCa;
  readonly store: EventStore;
  readonly log: Logger;
  /** Internal client name, listed in the broker's ACL (default "health"). */
  readonly name?: string;
  /** Identical heartbeats become at most one event per this interval. Default 60 s. */
  readonly intervalMs?: number;
  /** Silence after which the next heartbeat counts as a new connection. Default 3 intervals. */
  readonly silenceMs?: number;
  readonly now?: () => Date;
}

export interface DeviceHealthIngest {
  readonly feed: DeviceHealthFeed;
  /** Resolves when every heartbeat received so far is handled and stored. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Device health with an external broker. Mosquitto tells the platform
 * nothing about sessions, so a heartbeat from a device not seen within
 * `silenceMs`, or one naming another `session` than the device's last (a
 * reconnect or a reboot within the silence), is recorded as a connect
 * first; an invalid heartbeat is no sign of presence. Going offline is derived from
 * the silence when health is read. Heartbeats go through the embedded
 * broker's DeviceHealthFeed, so throttling and validation are defined once.
 * The device is the topic's id: Mosquitto's ACL lets a device publish only
 * under its own certificate CN.
 */
export async function startDeviceHealthIngest(options: DeviceHealthIngestOptions): Promise<DeviceHealthIngest> {
  const { store, log } = options;
  const now = options.now ?? (() => new Date());
  const intervalMs = options.intervalMs ?? 60_000;
  const silenceMs = options.silenceMs ?? 3 * intervalMs;
  const feed = new DeviceHealthFeed(store, log, { now, intervalMs });
  const orgs = new Map<string, string>();
  const lastSeen = new Map<string, number>();
  /** The `session` of each device's last heartbeat, where it sends one. */
  const sessions = new Map<string, string>();
  // One chain per device: its connect is stored before the heartbeat that implied it.
  const chains = new Map<string, Promise<void>>();
  const name = options.name ?? 'health';
  const client: MqttClient = await connectInternalClient({ url: options.url, ca: options.ca, name });

  /** The org a device belongs to never changes: its certificate stream's first event names it. */
  const orgOf = async (deviceId: string): Promise<string | undefined> => {
    const cached = orgs.get(deviceId);
    if (cached !== undefined) return cached;
    const [first] = await store.readStream(deviceCertificatesStream(deviceId), { maxCount: 1 });
    const orgId = first?.metadata.orgId ?? undefined;
    if (orgId !== undefined) orgs.set(deviceId, orgId);
    return orgId;
  };

  const handle = async (deviceId: string, payload: Buffer): Promise<void> => {
    const orgId = await orgOf(deviceId);
    if (orgId === undefined) return void log.warn({ deviceId }, 'heartbeat from a device without certificate events ignored');
    // An invalid heartbeat says nothing about presence.
    const heartbeat = feed.check(deviceId, payload);
    if (heartbeat === undefined) return;
    const at = now();
    const seen = lastSeen.get(deviceId);
    lastSeen.set(deviceId, at.getTime());
    const session = heartbeat.session;
    const newSession = session !== undefined && sessions.has(deviceId) && sessions.get(deviceId) !== session;
    if (session !== undefined) sessions.set(deviceId, session);
    if (seen === undefined || at.getTime() - seen > silenceMs || newSession) {
      feed.sessionStarted(deviceId);
      // After the reports of the previous session the feed is still storing, so the stream keeps arrival order.
      await feed.settled(deviceId);
      // No serial: Mosquitto does not say which certificate the session uses, so this connect ends no renewal's grace.
      const data: DeviceConnected['data'] = { deviceId, at: at.toISOString(), clientId: deviceId };
      const metadata = { orgId, actor: `device:${deviceId}` as const, correlationId: randomUUID(), causationId: null, schemaVersion: 1 };
      await store.appendToStream(deviceHealthStream(deviceId), [{ id: randomUUID(), type: 'DeviceConnected', data, metadata }]);
    }
    // Only the fields the feed reads; the serial is unknown with Mosquitto.
    feed.report({ kind: 'device', deviceId, orgId, clientId: deviceId, serialNumber: '' }, heartbeat);
  };

  client.on('message', (topic, payload) => {
    const deviceId = deviceIdOf(topic);
    if (deviceId === undefined || topic !== deviceTopic(deviceId, 'health')) return;
    const next = (chains.get(deviceId) ?? Promise.resolve()).then(() =>
      handle(deviceId, payload).catch((err: unknown) => {
        // The connect was not stored: the next heartbeat tries again.
        lastSeen.delete(deviceId);
        sessions.delete(deviceId);
        log.error({ err, deviceId }, 'heartbeat not recorded');
      }),
    );
    chains.set(deviceId, next);
    void next.then(() => {
      if (chains.get(deviceId) === next) chains.delete(deviceId);
    });
  });
  await client.subscribeAsync(HEALTH_SUBSCRIPTION, { qos: 1 });
  log.info({ subscription: HEALTH_SUBSCRIPTION, name }, 'device health listening');

  const drain = async (): Promise<void> => {
    while (chains.size > 0) await Promise.all(chains.values());
    await feed.drain();
  };
  return {
    feed,
    drain,
    async stop() {
      await client.unsubscribeAsync(HEALTH_SUBSCRIPTION).catch(() => undefined);
      await drain();
      await client.endAsync();
    },
  };
}
