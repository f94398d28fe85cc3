import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import type { Pool } from '../platform/db/pool';
import { asWriter } from '../platform/db/roles';
import type { EventStore } from '../platform/event-store/event-store.port';
import type { Logger } from '../platform/logger';
import { connectInternalClient } from '../platform/mqtt/internal-client';
import { INGEST_SUBSCRIPTION, deviceIdOf, deviceTopic } from '../platform/mqtt/topics';
import type { DeviceCa } from '../platform/pki/device-ca';
import type { ReadingsService } from './readings/readings-service';
import { readingsStream, type ReadingsSequenceGap } from './readings/readings.events';

export interface ReadingsIngestOptions {
  /** `mqtts://…` of the embedded broker or Mosquitto. */
  readonly url: string;
  readonly ca: DeviceCa;
  readonly service: ReadingsService;
  readonly pool: Pool;
  readonly store: EventStore;
  readonly log: Logger;
  /** Internal identity; connection k is `<name>-<k>` (listed in Mosquitto's ACL). */
  readonly name: string;
  readonly connections: number;
  readonly gapTimeoutSeconds: number;
  /** How often holes are looked for. Default 10 s. */
  readonly gapSweepMs?: number;
}

export interface ReadingsIngest {
  /** Closes holes older than the timeout now (the sweep does it every gapSweepMs). */
  sweepGaps(): Promise<number>;
  /** Everything received is committed and confirmed. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

interface GapRow {
  org_id: string;
  device_id: string;
  from_seq: number | null;
  to_seq: number;
  committed_seq: number;
}

/**
 * The MQTT door of the readings pipeline. Several connections join the
 * shared subscription `$share/ingest/devices/+/readings`, so the broker
 * spreads messages over them and over other ingest processes.
 *
 * Durability is end to end rather than per message: a message is
 * acknowledged when the pipeline takes it (waiting only while the pipeline
 * is full, which pauses the connection), and once its rows are committed
 * the device's confirmed sequence number is published, retained, on
 * `devices/{id}/readings/committed`. A device keeps every message until a
 * confirmation covers it and sends the rest again after reconnecting or
 * when confirmations stall (docs/mqtt.md), so a message lost by a broker or
 * an ingester crash is sent again; storage is idempotent, so it is stored once.
 */
export async function startReadingsIngest(options: ReadingsIngestOptions): Promise<ReadingsIngest> {
  const { service, log } = options;
  const { pipeline } = service;
  const inFlight = new Set<Promise<unknown>>();
  const clients: MqttClient[] = [];

  const publishCommitted = (deviceId: string, seq: number): void => {
    // While disconnected, MQTT.js keeps QoS 1 publishes and sends them after reconnecting;
    // one lost anyway (a crash) is published again when the device resends what it covers.
    clients[0]?.publish(deviceTopic(deviceId, 'readings/committed'), JSON.stringify({ seq }), { qos: 1, retain: true }, (err) => {
      if (err) log.warn({ err, deviceId }, 'confirmation not published');
    });
  };
  service.onWritten((report) => {
    for (const { deviceId, seq } of report.result.committed) publishCommitted(deviceId, seq);
  });

  const take = (topic: string, payload: Buffer): void => {
    const deviceId = deviceIdOf(topic);
    if (deviceId === undefined || topic !== deviceTopic(deviceId, 'readings')) {
      service.metrics.unattributed.inc();
      return;
    }
    const taken = pipeline.takeDeviceMessage(deviceId, payload);
    if (taken === true) return; // the hot path: taken synchronously into the open batch
    const done = taken.catch((err: unknown) => {
      // Only an unexpected failure gets here (database errors are retried): the device resends.
      log.error({ err, deviceId }, 'readings message not ingested');
    });
    inFlight.add(done);
    void done.finally(() => inFlight.delete(done));
  };

  for (let k = 1; k <= options.connections; k += 1) {
    // Clean sessions: a persistent one would keep receiving its share of the group while this
    // process is gone (Mosquitto queues for offline members), stalling those devices until it returns.
    const client = await connectInternalClient({ url: options.url, ca: options.ca, name: `${options.name}-${k}`, clean: true });
    client.handleMessage = (packet, callback) => {
      take(packet.topic, typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload);
      // Acknowledged on receipt; a full pipeline holds the acknowledgement, which pauses this connection.
      if (pipeline.hasRoom()) callback();
      else void pipeline.waitForRoom().then(() => callback());
    };
    await client.subscribeAsync(INGEST_SUBSCRIPTION, { qos: 1 });
    clients.push(client);
  }
  log.info({ subscription: INGEST_SUBSCRIPTION, connections: options.connections, name: options.name }, 'readings ingest listening');

  const sweepGaps = async (): Promise<number> => {
    const { rows } = await asWriter(options.pool, (tx) =>
      tx.query<GapRow>('SELECT * FROM ingest_close_gaps(make_interval(secs => $1))', [options.gapTimeoutSeconds]),
    );
    for (const row of rows) {
      publishCommitted(row.device_id, row.committed_seq);
      if (row.from_seq === null) continue; // a device first seen above 1: where it started is unknown, not a gap
      const missing = row.to_seq - row.from_seq + 1;
      service.metrics.sequenceGaps.inc();
      service.metrics.missingMessages.inc(missing);
      const data: ReadingsSequenceGap['data'] = { deviceId: row.device_id, fromSeq: row.from_seq, toSeq: row.to_seq, missing, detectedAt: new Date().toISOString() };
      log.warn(data, 'readings sequence gap');
      await options.store.appendToStream(readingsStream(row.device_id), [
        { id: randomUUID(), type: 'ReadingsSequenceGap', data, metadata: { orgId: row.org_id, actor: 'system', correlationId: randomUUID(), causationId: null, schemaVersion: 1 } },
      ]);
    }
    return rows.length;
  };
  const timer = setInterval(() => {
    sweepGaps().catch((err: unknown) => log.error({ err }, 'gap sweep failed'));
  }, options.gapSweepMs ?? 10_000);

  const drain = async (): Promise<void> => {
    while (inFlight.size > 0) await Promise.all(inFlight);
    await service.drain();
  };
  return {
    sweepGaps,
    drain,
    async stop() {
      clearInterval(timer);
      await Promise.all(clients.map((client) => client.unsubscribeAsync(INGEST_SUBSCRIPTION).catch(() => undefined)));
      await drain();
      await Promise.all(clients.map((client) => client.endAsync()));
    },
  };
}
