import { performance } from 'node:perf_hooks';
import type { MqttClient } from 'mqtt';
import { startReadingsIngest } from '../src/ingest/readings-ingest';
import { startReadingsService } from '../src/ingest/readings/readings-service';
import { loadConfig } from '../src/platform/config';
import { createLogger, moduleLogger } from '../src/platform/logger';
import { createMetricsRegistry } from '../src/platform/metrics-registry';
import { connectInternalClient } from '../src/platform/mqtt/internal-client';
import { deviceIdOf, deviceTopic } from '../src/platform/mqtt/topics';
import { openPlatform } from '../src/platform/platform';
import { loadOrCreateDeviceCa, type DeviceCa } from '../src/platform/pki/device-ca';
import { PLAIN_SUBSCRIPTION, type SubscriberReply, type SubscriberRequest, type SubscriberStats } from './subscriber-process';

/**
 * The receiving side of the ingest benchmark, in a process of its own so it
 * does not share an event loop with the publishers (the parent talks to it
 * over the IPC channel: bench/subscriber-process.ts). Configured by
 * environment like src/main.ts (DATABASE_URL, DATA_DIR with the device CA,
 * MQTT_URL, INGEST_*).
 *   ingest: the `ingest` role's readings door — startReadingsService +
 *           startReadingsIngest, wired as src/main.ts wires them.
 *   plain:  the broker alone — as many connections as INGEST_CONNECTIONS (named
 *           after INGEST_NAME, as the ingester names its own) in
 *           the same shared-subscription shape ($share/<group>/devices/+/readings,
 *           QoS 1), acknowledging each message on receipt and counting it; no
 *           pipeline, no database. Every 10 ms it confirms each device's highest
 *           seq received on devices/{id}/readings/committed (QoS 1, retained, as
 *           the ingester confirms), so the publishers' flow control is the same.
 */
const terminate: (code: number) => never = process.exit.bind(process);

interface Running {
  stats(): Promise<Record<string, number>>;
  reset(): void;
  stop(): Promise<void>;
}

async function startIngest(): Promise<Running> {
  const config = loadConfig();
  const root = createLogger(config.logLevel);
  const platform = await openPlatform(config, root, { name: 'iotplane-bench-ingest' });
  const ca = await loadOrCreateDeviceCa({ dataDir: config.dataDir, ...config.deviceCa });
  const registry = createMetricsRegistry();
  const service = await startReadingsService({ ...platform, log: moduleLogger(root, 'readings'), registry });
  const ingest = await startReadingsIngest({
    url: config.mqttUrl ?? '',
    ca,
    service,
    pool: platform.pool,
    store: platform.store,
    log: moduleLogger(root, 'readings-ingest'),
    name: config.ingest.name,
    connections: config.ingest.connections,
    gapTimeoutSeconds: config.ingest.gapTimeoutSeconds,
  });
  return {
    async stats() {
      // The pipeline's own counters and histograms (sums and counts), flattened to name{labels}.
      const figures: Record<string, number> = {};
      for (const metric of await registry.getMetricsAsJSON()) {
        if (!metric.name.startsWith('iotplane_ingest_')) continue;
        for (const value of metric.values) {
          const name = (value as { metricName?: string }).metricName ?? metric.name;
          if (name.endsWith('_bucket')) continue;
          const labels = Object.entries(value.labels).map(([k, v]) => `${k}=${String(v)}`).join(',');
          figures[labels === '' ? name : `${name}{${labels}}`] = value.value;
        }
      }
      return figures;
    },
    reset: () => undefined,
    async stop() {
      await ingest.stop();
      await service.stop();
      await platform.close();
    },
  };
}

/** The message's seq without parsing the rest: the bench's payloads begin `{"seq":<n>,`. */
function seqOf(payload: Buffer): number {
  const prefix = '{"seq":';
  if (payload.toString('latin1', 0, prefix.length) === prefix) {
    let seq = 0;
    for (let i = prefix.length; i < payload.length; i += 1) {
      const digit = (payload[i] ?? 0) - 48;
      if (digit < 0 || digit > 9) return seq;
      seq = seq * 10 + digit;
    }
  }
  return (JSON.parse(payload.toString('utf8')) as { seq: number }).seq;
}

async function startPlain(): Promise<Running> {
  const config = loadConfig();
  const ca: DeviceCa = await loadOrCreateDeviceCa({ dataDir: config.dataDir, ...config.deviceCa });
  const highest = new Map<string, number>();
  const changed = new Set<string>();
  let received = 0;
  const clients: MqttClient[] = [];
  for (let k = 1; k <= config.ingest.connections; k += 1) {
    const name = `${config.ingest.name}-${k}`;
    const client = await connectInternalClient({ url: config.mqttUrl ?? '', ca, name });
    // MQTT.js acknowledges a QoS 1 message once its 'message' listeners have run.
    client.on('message', (topic, payload) => {
      const deviceId = deviceIdOf(topic);
      if (deviceId === undefined) return;
      received += 1;
      highest.set(deviceId, Math.max(highest.get(deviceId) ?? 0, seqOf(payload)));
      changed.add(deviceId);
    });
    await client.subscribeAsync(PLAIN_SUBSCRIPTION, { qos: 1 });
    clients.push(client);
  }
  const confirm = setInterval(() => {
    const client = clients.find((c) => c.connected);
    if (!client) return;
    for (const deviceId of changed) {
      client.publish(deviceTopic(deviceId, 'readings/committed'), JSON.stringify({ seq: highest.get(deviceId) ?? 0 }), { qos: 1, retain: true });
    }
    changed.clear();
  }, 10);
  return {
    stats: () => Promise.resolve({ received }),
    reset() {
      highest.clear();
      changed.clear();
      received = 0;
    },
    async stop() {
      clearInterval(confirm);
      await Promise.all(clients.map((client) => client.endAsync()));
    },
  };
}

async function serve(): Promise<void> {
  const mode = process.argv[2];
  if (mode !== 'ingest' && mode !== 'plain') throw new Error(`mode must be ingest or plain, got ${String(mode)}`);
  const running = mode === 'ingest' ? await startIngest() : await startPlain();
  const send = (reply: SubscriberReply): void => void process.send?.(reply);

  process.on('message', (request: SubscriberRequest) => {
    void (async () => {
      try {
        if (request.op === 'reset') running.reset();
        const elu = performance.eventLoopUtilization();
        const usage = process.cpuUsage();
        const stats: SubscriberStats = { cpuSeconds: (usage.user + usage.system) / 1e6, loopActiveMs: elu.active, loopIdleMs: elu.idle, figures: await running.stats() };
        send({ id: request.id, stats });
      } catch (error) {
        send({ id: request.id, error: error instanceof Error ? error.message : String(error) });
      }
    })();
  });
  let stopping = false;
  process.once('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    void running.stop().then(
      () => terminate(0),
      (error: unknown) => {
        process.stderr.write(`bench subscriber: stop failed: ${String(error)}\n`);
        terminate(1);
      },
    );
  });
  send({ id: 0, ready: mode });
}

serve().catch((error: unknown) => {
  process.stderr.write(`bench subscriber: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  terminate(1);
});
