import path from 'node:path';
import { asWriter } from '../src/platform/db/roles';
import { FAST_EXPORTS, pollExport, startExportRig, type ExportRig } from './support/exports.rig';
import type { TestOrg } from './support/test-api';
import { createDevice, createSensor } from './support/topology.http';
import { spawnTs } from './support/ts-child';

/**
 * Memory stays flat whatever the export's size: READINGS readings exported
 * by a worker process whose heap is capped at HEAP_MB. The bound checked is
 * on what the process holds at its peak above its start (JS heap plus
 * buffers, which live outside the heap cap): far below the size of the
 * archive it wrote, so buffering the file, or the CSV, would fail here.
 */
const READINGS = 1_000_000;
const SENSORS = 10;
const HEAP_MB = 128;
/** Peak growth of heap + buffers allowed while exporting (the archive itself is several times larger). */
const GROWTH_LIMIT_MB = 16;
const MB = 1024 * 1024;
/** Readings per sensor in one seeding transaction (× SENSORS rows). */
const SEED_ROWS_PER_SENSOR = 5_000;
const FROM = '2025-06-01T00:00:00.000Z';
const TO = '2025-06-04T00:00:00.000Z';

interface Memory {
  rss: number;
  heapUsed: number;
  arrayBuffers: number;
}

let rig: ExportRig;
let org: TestOrg;
let deviceId: string;

beforeAll(async () => {
  rig = await startExportRig();
  org = await rig.api.createOrg('Memory');
  deviceId = (await createDevice(rig.api, org)).id;
  const sensorIds = await Promise.all(Array.from({ length: SENSORS }, async () => (await createSensor(rig.api, org, deviceId)).id));
  const pool = rig.api.platform.pool;
  await pool.query(`SELECT readings_ensure_partition(d::date) FROM generate_series($1::date, $2::date, interval '1 day') AS d`, [FROM, TO]);
  const perSensor = READINGS / SENSORS;
  // Noisy values, so the archive compresses about as real data does. In short transactions: one holding an
  // xid for seconds would hold back every event-store reader on this Postgres cluster, other test files' too.
  for (let first = 0; first < perSensor; first += SEED_ROWS_PER_SENSOR) {
    await asWriter(pool, (tx) =>
      tx.query(
        `INSERT INTO readings (org_id, device_id, sensor_id, ts, value, received_at, seq, quality)
         SELECT $1, $2, s.id, t.ts, random() * 1000, t.ts + interval '1 second', i, 0
           FROM generate_series($7::bigint, least($7::bigint + $8, $3::bigint) - 1) AS i
          CROSS JOIN LATERAL (SELECT $4::timestamptz + i * $5 * interval '1 millisecond' AS ts) AS t
          CROSS JOIN unnest($6::uuid[]) AS s(id)`,
        [org.orgId, deviceId, perSensor, FROM, (Date.parse(TO) - Date.parse(FROM)) / perSensor, sensorIds, first, SEED_ROWS_PER_SENSOR],
      ),
    );
  }
}, 180_000);
afterAll(async () => {
  await rig?.close();
});

it(`exports ${READINGS.toLocaleString('en')} readings in a worker with a ${HEAP_MB} MB heap, holding far less than the archive`, async () => {
  const created = await rig.call(org, 'POST', '/api/v1/exports', { scopeType: 'DEVICE', scopeId: deviceId, from: FROM, to: TO, includes: ['READINGS'] });
  const child = spawnTs(path.join(__dirname, 'support', 'export-worker.child.ts'), {
    execArgv: [`--max-old-space-size=${HEAP_MB}`, '--max-semi-space-size=1'],
    env: { ...FAST_EXPORTS, EXPORT_LEASE_SECONDS: '30', EXPORT_HEARTBEAT_MS: '1000', DATABASE_URL: rig.api.platform.databaseUrl, DATA_DIR: rig.api.platform.config.dataDir, LOG_LEVEL: 'silent' },
  });
  try {
    const report = await child.message<{ seconds: number; baseline: Memory; peak: Memory; heapLimit: number }>((m) => m.event === 'idle', 170_000);
    const job = await pollExport(rig, org, String(created.body.id), ['READY', 'FAILED']);
    expect(job).toMatchObject({ status: 'READY', readingCount: READINGS });
    const sizeBytes = Number(job.sizeBytes);
    const held = (m: Memory) => m.heapUsed + m.arrayBuffers;
    const growth = held(report.peak) - held(report.baseline);
    process.stdout.write(
      `memory: ${READINGS} readings in ${report.seconds.toFixed(1)} s, zip ${(sizeBytes / MB).toFixed(0)} MB; ` +
        `peak heap+buffers +${(growth / MB).toFixed(1)} MB, peak RSS ${(report.peak.rss / MB).toFixed(0)} MB (start ${(report.baseline.rss / MB).toFixed(0)} MB)\n`,
    );
    expect(report.heapLimit).toBeLessThanOrEqual((HEAP_MB + 64) * MB);
    expect(sizeBytes).toBeGreaterThan(GROWTH_LIMIT_MB * MB);
    expect(growth).toBeLessThan(GROWTH_LIMIT_MB * MB);
  } finally {
    await child.kill('SIGKILL');
  }
}, 180_000);
