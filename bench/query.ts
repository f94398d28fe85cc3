import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { createOrganization } from '../src/commands/organizations/organization.handler';
import { freePort } from '../src/platform/db/embedded-postgres';
import type { Pool } from '../src/platform/db/pool';
import { asWriter } from '../src/platform/db/roles';
import { PostgresEventStore } from '../src/platform/event-store/postgres-event-store';
import { startApiProcess, viaApi, waitForApiKey } from './api-process';
import { formatTable, writeReport, type ScenarioResult } from './bench-report';
import { say, size } from './bench-settings';
import { openBenchDatabase, serverSettings } from './eventstore-database';
import { rawSqlLoop } from './raw-sql';

/**
 * Readings queries through the HTTP API beside the same SQL written by hand
 * and run directly (same role and tenant settings, same pool size), in one run:
 *   npm run bench:query      (DATABASE_URL, else an embedded Postgres)
 * Seeds BENCH_READINGS readings (10,000,000) of BENCH_SENSORS sensors (100, four
 * per device) spread evenly over 30 days, in time order as ingest writes them.
 * Each scenario runs BENCH_SECONDS per side (BENCH_HEAVY_SECONDS for the
 * all-sensors aggregation) on BENCH_CONNECTIONS connections after one warm-up request.
 */
const sizes = {
  readings: size('BENCH_READINGS', 10_000_000),
  sensors: size('BENCH_SENSORS', 100),
  seconds: size('BENCH_SECONDS', 20),
  heavySeconds: size('BENCH_HEAVY_SECONDS', 60),
  connections: Math.max(1, size('BENCH_CONNECTIONS', 1)),
};
const DAYS = 30;
const START = '2025-09-01T00:00:00.000Z';
const END = new Date(Date.parse(START) + DAYS * 86_400_000).toISOString();
const SEED_CHUNKS = 30;
/** The bench measures queries, not the 503: the API's statement timeout is lifted to this for the run. */
const QUERY_TIMEOUT_SECONDS = 300;

interface Sensor {
  readonly id: string;
  readonly deviceId: string;
}

async function post(port: number, apiKey: string, url: string, body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1${url}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`POST ${url} answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

/** Devices and sensors through the API, so the read models hold them as in production. */
async function createSensors(port: number, apiKey: string): Promise<Sensor[]> {
  const sensors: Sensor[] = [];
  for (let d = 0; sensors.length < sizes.sensors; d += 1) {
    const deviceId = await post(port, apiKey, '/devices', { name: `bench device ${d}` });
    for (let k = 0; k < 4 && sensors.length < sizes.sensors; k += 1) {
      sensors.push({ id: await post(port, apiKey, '/sensors', { deviceId, key: `s${k}` }), deviceId });
    }
  }
  return sensors;
}

/** INSERT … SELECT generate_series in time order (as ingest writes), chunk by chunk; then VACUUM ANALYZE. */
async function seedReadings(pool: Pool, orgId: string, sensors: readonly Sensor[]): Promise<number> {
  const started = Date.now();
  await pool.query(`SELECT readings_ensure_partition(d::date) FROM generate_series($1::date, $2::date, interval '1 day') AS d`, [START, END]);
  const perSensor = Math.floor(sizes.readings / sensors.length);
  const stepMs = (DAYS * 86_400_000) / perSensor;
  const chunk = Math.ceil(perSensor / SEED_CHUNKS);
  for (let first = 0; first < perSensor; first += chunk) {
    await asWriter(pool, (tx) =>
      tx.query(
        `INSERT INTO readings (org_id, device_id, sensor_id, ts, value, received_at, seq, quality)
         SELECT $1, s.device_id, s.sensor_id, t.ts, 20 + 5 * sin(i / 500.0 + s.n) + ((i * 7 + s.n) % 13) / 10.0,
                t.ts + interval '2 seconds', i, CASE WHEN i % 991 = 0 THEN 2 WHEN i % 97 = 0 THEN 1 ELSE 0 END
           FROM generate_series($2::bigint, $3::bigint) AS i
          CROSS JOIN LATERAL (SELECT $4::timestamptz + i * $5 * interval '1 millisecond' AS ts) AS t
          CROSS JOIN unnest($6::uuid[], $7::uuid[]) WITH ORDINALITY AS s(sensor_id, device_id, n)
          ORDER BY i, s.n`,
        [orgId, first, Math.min(first + chunk, perSensor) - 1, START, stepMs, sensors.map((s) => s.id), sensors.map((s) => s.deviceId)],
      ),
    );
    const done = Math.min(first + chunk, perSensor) * sensors.length;
    say(`  seeded ${done.toLocaleString('en')} readings (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
  // Steady state: hint bits and the visibility map set, statistics fresh (autovacuum's work, done now).
  await pool.query('VACUUM (ANALYZE) readings');
  say(`  vacuumed and analysed (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  return (Date.now() - started) / 1000;
}

interface Scenario {
  readonly name: string;
  readonly seconds: number;
  apiPath(): string;
  /** The hand-written SQL of the same answer. */
  select(tx: pg.PoolClient): Promise<unknown>;
}

function scenarios(sensors: readonly Sensor[]): Scenario[] {
  const pick = (): string => (sensors[Math.floor(Math.random() * sensors.length)] as Sensor).id;
  const all = sensors.map((s) => s.id);
  const range = `from=${START}&to=${END}`;
  const hourAt = (): string => new Date(Date.parse(START) + Math.floor(Math.random() * DAYS * 24) * 3_600_000).toISOString();
  const buckets = (seconds: number, ids: string[]) => (tx: pg.PoolClient) =>
    tx.query(
      `SELECT sensor_id, date_bin($4 * interval '1 second', ts, timestamptz '1970-01-01Z') AS bucket, avg(value), min(value), max(value), count(*)
         FROM readings WHERE sensor_id = ANY($1::uuid[]) AND ts >= $2 AND ts < $3
        GROUP BY 1, 2 ORDER BY 1, 2`,
      [ids, START, END, seconds],
    );
  return [
    {
      name: 'aggregated 1h × 30 d, 1 sensor',
      seconds: sizes.seconds,
      apiPath: () => `/api/v1/readings/aggregated?sensorId=${pick()}&${range}&bucket=1h`,
      select: (tx) => buckets(3600, [pick()])(tx),
    },
    {
      name: `aggregated 1d × 30 d, ${sensors.length} sensors`,
      seconds: sizes.heavySeconds,
      apiPath: () => `/api/v1/readings/aggregated?${all.map((id) => `sensorId=${id}`).join('&')}&${range}&bucket=1d`,
      select: buckets(86_400, all),
    },
    {
      name: 'stats 30 d, 1 sensor (p50, p90, p99)',
      seconds: sizes.seconds,
      apiPath: () => `/api/v1/readings/stats?sensorId=${pick()}&${range}`,
      select: (tx) =>
        tx.query(
          `SELECT count(*), min(value), max(value), avg(value), stddev_samp(value),
                  percentile_cont('{0.5,0.9,0.99}'::float8[]) WITHIN GROUP (ORDER BY value),
                  (SELECT ARRAY[extract(epoch FROM ts)::float8, value] FROM readings WHERE sensor_id = $1 AND ts >= $2 AND ts < $3 ORDER BY ts LIMIT 1),
                  (SELECT ARRAY[extract(epoch FROM ts)::float8, value] FROM readings WHERE sensor_id = $1 AND ts >= $2 AND ts < $3 ORDER BY ts DESC LIMIT 1)
             FROM readings WHERE sensor_id = $1 AND ts >= $2 AND ts < $3`,
          [pick(), START, END],
        ),
    },
    {
      name: 'raw page of 100, 1 sensor, from a random hour',
      seconds: sizes.seconds,
      apiPath: () => `/api/v1/readings?sensorId=${pick()}&from=${hourAt()}&to=${END}&limit=100`,
      select: (tx) =>
        tx.query('SELECT * FROM readings WHERE sensor_id = $1 AND ts >= $2 AND ts < $3 ORDER BY ts LIMIT 101', [pick(), hourAt(), END]),
    },
  ];
}

async function main(): Promise<void> {
  const db = await openBenchDatabase(sizes.connections + 2);
  const store = new PostgresEventStore(db.pool, db.url);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'iotplane-bench-query-'));
  // As root, embedded-postgres runs the server as an unprivileged user, who must be able to reach its data folder.
  await chmod(dataDir, 0o711);
  let api: { stop(): Promise<void> } | undefined;
  try {
    const settings = { ...sizes, days: DAYS, server: db.server, ...(await serverSettings(db.pool)) };
    say(`query bench: ${JSON.stringify(settings)}`);
    const org = await createOrganization(store, { name: 'Bench org' });
    const port = await freePort();
    api = await startApiProcess(db.url, port, path.join(dataDir, 'data'), { READINGS_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_SECONDS * 1000) });
    await waitForApiKey(port, org.apiKey);
    const sensors = await createSensors(port, org.apiKey);
    say(`${sensors.length} sensors created through the API; seeding ${sizes.readings.toLocaleString('en')} readings over ${DAYS} days`);
    const seedSeconds = await seedReadings(db.pool, org.orgId, sensors);

    const results: ScenarioResult[] = [];
    for (const scenario of scenarios(sensors)) {
      say(`${scenario.name}: ${sizes.connections} connection(s), ${scenario.seconds} s each side after a warm-up request`);
      const warm = await fetch(`http://127.0.0.1:${port}${scenario.apiPath()}`, { headers: { authorization: `Bearer ${org.apiKey}` } });
      if (!warm.ok) throw new Error(`${scenario.name}: the API answered ${warm.status}: ${await warm.text()}`);
      const viaHttp = await viaApi(port, org.apiKey, sizes.connections, scenario.seconds, scenario.apiPath, QUERY_TIMEOUT_SECONDS);
      const raw = await rawSqlLoop(db.pool, org.orgId, sizes.connections, scenario.seconds, scenario.select);
      say(`  API p50 ${viaHttp.p50.toFixed(1)} ms (${viaHttp.requests} requests), raw SQL p50 ${raw.p50.toFixed(1)} ms (${raw.requests})`);
      results.push({ scenario: scenario.name, api: viaHttp, raw });
    }

    say(`\n${formatTable(results)}\n`);
    say(`written ${await writeReport({ ...settings, seedSeconds }, results, 'query')}`);
  } finally {
    await api?.stop().catch((error: unknown) => say(`cleanup: ${String(error)}`));
    await store.close();
    await db.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:query failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
