import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { to as copyTo } from 'pg-copy-streams';
import { exportCommands } from '../src/commands/exports/export.handler';
import { deviceCommands } from '../src/commands/devices/device.handler';
import { createOrganization } from '../src/commands/organizations/organization.handler';
import { sensorCommands } from '../src/commands/sensors/sensor.handler';
import { LocalBlobStore } from '../src/platform/blobs/local-blob-store';
import { CheckpointWatcher } from '../src/platform/checkpoints/checkpoint-watcher';
import { loadConfig } from '../src/platform/config';
import { asWriter } from '../src/platform/db/roles';
import { PostgresEventStore } from '../src/platform/event-store/postgres-event-store';
import { createLogger } from '../src/platform/logger';
import { PROJECTIONS } from '../src/projections/index';
import { startProjectors } from '../src/projections/projector-process';
import { readingsCopy } from '../src/workers/export-entries.sql';
import { runExportJob } from '../src/workers/export-job';
import { runnableExports } from '../src/workers/export-runs.queries';
import { inTenantSnapshot, setExportParameters } from '../src/workers/export-snapshot';
import { uuidArray } from '../src/workers/export-scope';
import { writeBenchResult, num } from './bench-report';
import { flagsToEnv, say, size } from './bench-settings';
import { openBenchDatabase, serverSettings } from './eventstore-database';

/**
 * An export of BENCH_READINGS readings (1,000,000) of one device's
 * BENCH_SENSORS sensors (10) over 5 days (values with noise, so the zip
 * compresses about as real data does), through the export worker (COPY per
 * day → zip with deflate at EXPORT_COMPRESSION_LEVEL → SHA-256 per entry →
 * the local blob store), beside one `COPY (SELECT …) TO STDOUT` of the same
 * rows with the same SELECT, role and tenant, read and discarded, in the same
 * run. BENCH_ROUNDS (3) rounds alternate the two; the medians are compared.
 *   npm run bench:export [-- --readings 1000000 --rounds 3 --level 1]
 */
flagsToEnv(process.argv.slice(2), { readings: 'BENCH_READINGS', sensors: 'BENCH_SENSORS', rounds: 'BENCH_ROUNDS', level: 'EXPORT_COMPRESSION_LEVEL' });
const sizes = {
  readings: size('BENCH_READINGS', 1_000_000),
  sensors: size('BENCH_SENSORS', 10),
  rounds: Math.max(1, size('BENCH_ROUNDS', 3)),
};
const DAYS = 5;
const START = '2025-09-01T00:00:00.000Z';
const END = new Date(Date.parse(START) + DAYS * 86_400_000).toISOString();

const median = (values: number[]): number => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] ?? Number.NaN;

async function main(): Promise<void> {
  const db = await openBenchDatabase(8);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'iotplane-bench-export-'));
  const config = loadConfig({ ...process.env, DATABASE_URL: db.url, DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
  const log = createLogger('warn');
  const store = new PostgresEventStore(db.pool, db.url);
  const platform = { config, log, databaseUrl: db.url, pool: db.pool, store, close: () => Promise.resolve() };
  const projectors = startProjectors(platform, log, { idleCheckpointMs: 50 });
  const watcher = new CheckpointWatcher(db.pool, db.url, PROJECTIONS);
  await watcher.start();
  const blobs = new LocalBlobStore(path.join(dataDir, 'blobs'));
  try {
    const settings = { ...sizes, days: DAYS, compressionLevel: config.exports.compressionLevel, server: db.server, ...(await serverSettings(db.pool)) };
    say(`export bench: ${JSON.stringify(settings)}`);
    const org = await createOrganization(store, { name: 'Bench org' });
    const ctx = { orgId: org.orgId, actor: 'system' as const, correlationId: randomUUID() };
    const deviceId = randomUUID();
    await deviceCommands.create(store, ctx, deviceId, { name: 'bench device', siteId: null, deviceProfileId: null, serialNumber: null, labels: {}, tags: [], status: 'ACTIVE' });
    const sensorIds: string[] = [];
    for (let k = 0; k < sizes.sensors; k += 1) {
      const id = randomUUID();
      const created = await sensorCommands.create(store, { ...ctx, correlationId: randomUUID() }, id, { deviceId, componentId: null, key: `s${k}`, name: null, sensorProfileId: null, unit: null });
      if (created.position) await watcher.waitFor(['sensors'], created.position, 30_000);
      sensorIds.push(id);
    }

    const seedStarted = Date.now();
    await db.pool.query(`SELECT readings_ensure_partition(d::date) FROM generate_series($1::date, $2::date, interval '1 day') AS d`, [START, END]);
    const perSensor = Math.floor(sizes.readings / sizes.sensors);
    await asWriter(db.pool, (tx) =>
      tx.query(
        `INSERT INTO readings (org_id, device_id, sensor_id, ts, value, received_at, seq, quality)
         SELECT $1, $2, s.id, t.ts, round((20 + 5 * sin(i / 500.0 + s.n) + random())::numeric, 3), t.ts + interval '2 seconds', i, CASE WHEN i % 97 = 0 THEN 1 ELSE 0 END
           FROM generate_series(0, $3::bigint - 1) AS i
          CROSS JOIN LATERAL (SELECT $4::timestamptz + i * $5 * interval '1 millisecond' AS ts) AS t
          CROSS JOIN unnest($6::uuid[]) WITH ORDINALITY AS s(id, n)
          ORDER BY i, s.n`,
        [org.orgId, deviceId, perSensor, START, (DAYS * 86_400_000) / perSensor, sensorIds],
      ),
    );
    await db.pool.query('VACUUM (ANALYZE) readings');
    const rows = perSensor * sizes.sensors;
    say(`seeded ${num(rows)} readings in ${((Date.now() - seedStarted) / 1000).toFixed(0)} s`);

    const copyRound = async (): Promise<{ seconds: number; bytes: number; rows: number }> => {
      let bytes = 0;
      const started = performance.now();
      const copied = await inTenantSnapshot(db.pool, org.orgId, async (tx) => {
        await setExportParameters(tx, { from: START, to: END, sensors: uuidArray(sensorIds) });
        const stream = tx.query(copyTo(readingsCopy(true, true)));
        await pipeline(stream, new Writable({ write: (chunk: Buffer, _e, done) => ((bytes += chunk.length), done()) }));
        return stream.rowCount;
      });
      return { seconds: (performance.now() - started) / 1000, bytes, rows: copied };
    };
    const exportRound = async (): Promise<{ seconds: number; sizeBytes: number; rows: number }> => {
      const id = randomUUID();
      const requested = await exportCommands.request(store, { ...ctx, correlationId: randomUUID() }, { id, scopeType: 'DEVICE', scopeId: deviceId, from: START, to: END, includes: ['READINGS'], format: 'CSV' });
      if (requested.position) await watcher.waitFor(['exports'], requested.position, 30_000);
      const [job] = (await asWriter(db.pool, (tx) => runnableExports(tx, 10))).filter((j) => j.id === id);
      if (!job) throw new Error('the export is not runnable');
      const started = performance.now();
      const outcome = await runExportJob({ pool: db.pool, store, blobs, config: config.exports, log, workerId: 'bench' }, job, new AbortController().signal);
      const seconds = (performance.now() - started) / 1000;
      if (outcome !== 'ready') throw new Error(`the export ended ${outcome}`);
      const [event] = (await store.readStream(`export-${id}`)).filter((e) => e.type === 'ExportCompleted');
      const outcomeData = event?.data as { sizeBytes: number; readingCount: number } | undefined;
      if (outcomeData?.readingCount !== rows) throw new Error(`the export holds ${String(outcomeData?.readingCount)} readings, expected ${rows}`);
      return { seconds, sizeBytes: outcomeData.sizeBytes, rows: outcomeData.readingCount };
    };

    const copies: number[] = [];
    const exports: number[] = [];
    let last = { copyBytes: 0, zipBytes: 0 };
    for (let round = 1; round <= sizes.rounds; round += 1) {
      const copy = await copyRound();
      if (copy.rows !== rows) throw new Error(`COPY returned ${copy.rows} rows, expected ${rows}`);
      const exported = await exportRound();
      copies.push(copy.rows / copy.seconds);
      exports.push(exported.rows / exported.seconds);
      last = { copyBytes: copy.bytes, zipBytes: exported.sizeBytes };
      say(
        `round ${round}: COPY ${num(copy.rows / copy.seconds)} rows/s (${copy.seconds.toFixed(2)} s, ${num(copy.bytes / 1e6, 1)} MB of CSV); ` +
          `export ${num(exported.rows / exported.seconds)} rows/s (${exported.seconds.toFixed(2)} s, zip ${num(exported.sizeBytes / 1e6, 1)} MB)`,
      );
    }
    const figures = { copyRowsPerSecond: median(copies), exportRowsPerSecond: median(exports), ratio: median(exports) / median(copies) };
    say(
      `\nmedian of ${sizes.rounds}: COPY (SELECT …) TO STDOUT ${num(figures.copyRowsPerSecond)} rows/s, export ${num(figures.exportRowsPerSecond)} rows/s, ` +
        `ratio ${figures.ratio.toFixed(2)} (goal ≥ 0.5); CSV ${num(last.copyBytes / 1e6, 1)} MB → zip ${num(last.zipBytes / 1e6, 1)} MB`,
    );
    say(`load average at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    say(`written ${await writeBenchResult('export', { settings, rounds: { copies, exports }, ...figures, csvBytes: last.copyBytes, zipBytes: last.zipBytes, loadAverage: os.loadavg() })}`);
  } finally {
    await projectors.stop();
    await watcher.stop();
    await store.close();
    await db.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:export failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
