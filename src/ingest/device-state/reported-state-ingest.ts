import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { Counter, type Registry } from 'prom-client';
import { MAX_CONTENT_BYTES, contentVersion } from '../../commands/config-artefacts/config-artefact.content';
import { reportedStateStream, type DeviceStateReported } from '../../commands/desired-state/device-state.events';
import type { Pool } from '../../platform/db/pool';
import { asWriter } from '../../platform/db/roles';
import type { EventStore } from '../../platform/event-store/event-store.port';
import type { Logger } from '../../platform/logger';
import { mqttSchema, readDevicePayload } from '../../platform/mqtt/mqtt-schemas';
import { deviceIdOf, deviceTopic } from '../../platform/mqtt/topics';

/** Shared subscription of the reported-state reader: several processes split the reports. */
export const REPORTED_SUBSCRIPTION = '$share/reported/devices/+/reported';

interface ReportedPayload {
  state: Record<string, unknown>;
  appliedVersion?: string;
}

export type ReportOutcome = 'recorded' | 'unchanged' | 'too_large' | 'invalid' | 'unknown_device';

export interface ReportedStateIngest {
  /** Resolves when every report received so far is handled. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

export interface ReportedStateIngestOptions {
  readonly client: MqttClient;
  readonly pool: Pool;
  readonly store: EventStore;
  readonly log: Logger;
  readonly registry?: Registry;
  readonly now?: () => Date;
}

/**
 * Reads devices/{id}/reported: a report that differs from the device's last
 * one (by content hash and applied version) becomes a DeviceStateReported
 * event; an identical one is only counted. A report that is not JSON, breaks
 * schemas/mqtt/reported.json, exceeds 32 KB or comes from a device the
 * platform does not know is refused, logged and counted by reason — it
 * changes nothing the platform knows, and the device sends its whole state
 * again with its next report. Reports of one device are handled in order.
 */
export async function startReportedStateIngest(options: ReportedStateIngestOptions): Promise<ReportedStateIngest> {
  const { client, pool, store, log } = options;
  const now = options.now ?? (() => new Date());
  const validate = mqttSchema<ReportedPayload>('reported');
  const reports = new Counter({
    name: 'iotplane_reported_states_total',
    help: 'Reported states received from devices, by outcome (recorded, unchanged, too_large, invalid, unknown_device).',
    labelNames: ['outcome'],
    registers: options.registry ? [options.registry] : [],
  });
  const chains = new Map<string, Promise<void>>();

  const orgOf = async (deviceId: string): Promise<string | undefined> => {
    const { rows } = await asWriter(pool, (tx) => tx.query<{ org_id: string }>('SELECT org_id FROM devices WHERE id = $1', [deviceId]));
    return rows[0]?.org_id;
  };

  const handle = async (deviceId: string, payload: Buffer): Promise<ReportOutcome> => {
    if (payload.length > MAX_CONTENT_BYTES) return 'too_large';
    const read = readDevicePayload(payload, validate, MAX_CONTENT_BYTES);
    if ('error' in read) return 'invalid';
    const body = read.value;
    const orgId = await orgOf(deviceId);
    if (orgId === undefined) return 'unknown_device';
    const version = contentVersion(body.state);
    const appliedVersion = body.appliedVersion ?? null;
    const stream = reportedStateStream(deviceId);
    const [last] = await store.readStream(stream, { direction: 'backwards', fromRevision: 'end', maxCount: 1 });
    const previous = last?.data as DeviceStateReported['data'] | undefined;
    if (previous && previous.version === version && previous.appliedVersion === appliedVersion) return 'unchanged';
    const data: DeviceStateReported['data'] = { deviceId, version, reported: body.state, appliedVersion, reportedAt: now().toISOString() };
    const metadata = { orgId, actor: `device:${deviceId}` as const, correlationId: randomUUID(), causationId: null, schemaVersion: 1 };
    await store.appendToStream(stream, [{ id: randomUUID(), type: 'DeviceStateReported', data, metadata }], { expectedRevision: last?.revision ?? 'no_stream' });
    return 'recorded';
  };

  client.on('message', (topic, payload) => {
    const deviceId = deviceIdOf(topic);
    if (deviceId === undefined || topic !== deviceTopic(deviceId, 'reported')) return;
    const next = (chains.get(deviceId) ?? Promise.resolve()).then(async () => {
      try {
        const outcome = await handle(deviceId, payload);
        reports.inc({ outcome });
        if (outcome !== 'recorded' && outcome !== 'unchanged') log.warn({ deviceId, outcome, bytes: payload.length }, 'reported state refused');
      } catch (err) {
        log.error({ err, deviceId }, 'reported state not recorded');
      }
    });
    chains.set(deviceId, next);
    void next.then(() => {
      if (chains.get(deviceId) === next) chains.delete(deviceId);
    });
  });
  await client.subscribeAsync(REPORTED_SUBSCRIPTION, { qos: 1 });

  const drain = async (): Promise<void> => {
    while (chains.size > 0) await Promise.all(chains.values());
  };
  return {
    drain,
    async stop() {
      await client.unsubscribeAsync(REPORTED_SUBSCRIPTION).catch(() => undefined);
      await drain();
      if (options.registry) options.registry.removeSingleMetric('iotplane_reported_states_total');
    },
  };
}
