import { randomUUID } from 'node:crypto';
import { createPool, type Pool } from '../src/platform/db/pool';
import { asWriter } from '../src/platform/db/roles';
import { maintainReadings, type MaintenanceOptions } from '../src/workers/readings-maintenance';
import { startReadingsPartitions } from '../src/workers/readings-partitions';
import { addDays, utcDay } from '../src/workers/readings-retention';
import { capturedLogger } from './support/captured-logger';
import { PLATFORM_TABLES, tablesWithoutTenant, tenantTableOffences, tenantTables } from './support/rls-catalog';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';

/**
 * The readings storage job against a real Postgres (native partitions: the
 * TimescaleDB path needs a TimescaleDB server, which this machine cannot run).
 * Times are relative to the real clock, since migration 0013 created the
 * partitions around the real today.
 */
const NOW = new Date();
const TODAY = utcDay(NOW);
const partitionOf = (day: string) => `readings_p${day.replace(/-/g, '')}`;
const daysAgo = (n: number) => addDays(TODAY, -n);

let db: TestDatabase;
beforeEach(async () => {
  db = await createTestDatabase(6);
});
afterEach(async () => {
  await db.drop();
});

function maintain(pool: Pool, options: Partial<MaintenanceOptions> = {}) {
  return maintainReadings(pool, { defaultRetentionDays: 395, aheadDays: 7, now: NOW, ...options });
}

/** An organization row as its projection would write it (the job reads only the read model). */
async function anOrganization(pool: Pool, retentionDays: number | null): Promise<string> {
  const orgId = randomUUID();
  await asWriter(pool, (tx) =>
    tx.query(`INSERT INTO organizations (org_id, name, readings_retention_days, created_at, updated_at) VALUES ($1, 'retention probe', $2, now(), now())`, [
      orgId,
      retentionDays,
    ]),
  );
  return orgId;
}

async function setRetention(pool: Pool, orgId: string, days: number | null): Promise<void> {
  await asWriter(pool, (tx) => tx.query('UPDATE organizations SET readings_retention_days = $2 WHERE org_id = $1', [orgId, days]));
}

async function ensurePartition(pool: Pool, day: string): Promise<void> {
  await pool.query('SELECT readings_ensure_partition($1::date)', [day]);
}

/** `count` readings of one organization spread over the day, random device and sensor ids. */
async function insertReadings(pool: Pool, orgId: string, day: string, count: number): Promise<void> {
  await asWriter(pool, (tx) =>
    tx.query(
      `INSERT INTO readings (org_id, device_id, sensor_id, ts, value, received_at)
       SELECT $1, gen_random_uuid(), gen_random_uuid(), $2::date::timestamp AT TIME ZONE 'UTC' + g * (interval '1 day' / ($3 + 1)), g, now()
         FROM generate_series(1, $3) AS g`,
      [orgId, day, count],
    ),
  );
}

async function countReadings(pool: Pool, orgId: string, day: string): Promise<number> {
  const { rows } = await asWriter(pool, (tx) =>
    tx.query<{ n: number }>(
      `SELECT count(*)::bigint AS n FROM readings WHERE org_id = $1 AND ts >= $2::date::timestamp AT TIME ZONE 'UTC' AND ts < ($2::date + 1)::timestamp AT TIME ZONE 'UTC'`,
      [orgId, day],
    ),
  );
  return rows[0]?.n ?? -1;
}

async function attachedPartitions(pool: Pool): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'readings'::regclass ORDER BY 1`,
  );
  return rows.map((r) => r.name);
}

async function tableExists(pool: Pool, name: string): Promise<boolean> {
  const { rows } = await pool.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [name]);
  return rows[0]?.found === true;
}

describe('readings partitions ahead', () => {
  it('creates today through PARTITIONS_AHEAD_DAYS ahead, and nothing when run again', async () => {
    const wanted = Array.from({ length: 15 }, (_, i) => partitionOf(addDays(TODAY, i)));
    const first = await maintain(db.pool, { aheadDays: 14 });
    expect(first).toMatchObject({ ran: true, mode: 'native', failures: [] });
    expect(await attachedPartitions(db.pool)).toEqual(expect.arrayContaining(wanted));
    // Migration 0013 made a week ahead of its own run; this run made the rest.
    expect(first.created).toEqual(expect.arrayContaining([partitionOf(addDays(TODAY, 14))]));
    expect(first.created.every((name) => wanted.includes(name))).toBe(true);

    const second = await maintain(db.pool, { aheadDays: 14 });
    expect(second).toMatchObject({ ran: true, created: [], dropped: [], purged: [], failures: [] });
  });

  it('is safe with two workers at once: one runs while the other skips, each partition made once', async () => {
    const other = createPool(db.url, 2);
    try {
      const reports = await Promise.all([maintain(db.pool, { aheadDays: 30 }), maintain(other, { aheadDays: 30 })]);
      expect(reports.flatMap((r) => r.failures)).toEqual([]);
      const created = reports.flatMap((r) => r.created);
      expect(new Set(created).size).toBe(created.length);
      expect(created).toContain(partitionOf(addDays(TODAY, 30)));
      expect(await attachedPartitions(db.pool)).toEqual(expect.arrayContaining([partitionOf(TODAY), partitionOf(addDays(TODAY, 30))]));
      // Either one skipped (the lock was held) or it ran after and found everything made.
      expect(reports.filter((r) => r.ran && r.created.length > 0)).toHaveLength(1);
    } finally {
      await other.end();
    }
  });

  it('survives several processes creating the same partition at the same moment without the lock (ingest back-fill and the worker)', async () => {
    // Six sessions at once, day after day: the loser's CREATE TABLE can trip over the winner's row type
    // (duplicate_object, seen about once in 360 attempts before migration 0027 caught it).
    const pools = Array.from({ length: 6 }, () => createPool(db.url, 1));
    try {
      for (let d = 60; d < 90; d += 1) {
        const day = addDays(TODAY, d);
        const results = await Promise.all(pools.map((p) => p.query<{ created: boolean }>('SELECT readings_ensure_partition($1::date) AS created', [day])));
        expect([day, results.map((r) => r.rows[0]?.created).sort()]).toEqual([day, [false, false, false, false, false, true]]);
      }
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('gives every partition it makes RLS enabled and forced with the tenant policy, and leaves the catalog audit clean', async () => {
    await maintain(db.pool, { aheadDays: 20 });
    const tables = await tenantTables(db.pool);
    const made = tables.filter((t) => /^readings_p\d{8}$/.test(t.name));
    expect(made.map((t) => t.name)).toEqual(expect.arrayContaining([partitionOf(addDays(TODAY, 20))]));
    expect(made.filter((t) => !(t.rls && t.forced && t.policies === 1))).toEqual([]);
    expect(tables.flatMap((t) => tenantTableOffences(t).map((o) => `${t.name}: ${o}`))).toEqual([]);
    const platform = await tablesWithoutTenant(db.pool);
    expect(platform.filter((t) => !PLATFORM_TABLES.includes(t.name) || t.apiPrivileged)).toEqual([]);
  });

  it('runs at start as a worker, logs what it did, and stops', async () => {
    const captured = capturedLogger('info');
    const worker = startReadingsPartitions({ pool: db.pool, log: captured.log, defaultRetentionDays: 395, aheadDays: 25, now: () => NOW });
    await worker.stop();
    expect(await tableExists(db.pool, partitionOf(addDays(TODAY, 25)))).toBe(true);
    const line = captured.lines.find((l) => l.msg === 'readings storage maintained');
    expect(line).toMatchObject({ mode: 'native', created: expect.arrayContaining([partitionOf(addDays(TODAY, 25))]) });
    expect((await worker.runOnce()).created).toEqual([]);
  });
});

describe('readings retention', () => {
  it('drops a partition older than every organization’s retention and keeps one within the longest', async () => {
    const org = await anOrganization(db.pool, null);
    for (const day of [daysAgo(400), daysAgo(396), daysAgo(390)]) {
      await ensurePartition(db.pool, day);
      await insertReadings(db.pool, org, day, 50);
    }
    const report = await maintain(db.pool);
    expect(report).toMatchObject({ ran: true, longestRetentionDays: 395, failures: [] });
    expect(report.dropped.sort()).toEqual([partitionOf(daysAgo(400)), partitionOf(daysAgo(396))]);
    expect(await tableExists(db.pool, partitionOf(daysAgo(400)))).toBe(false);
    expect(await tableExists(db.pool, partitionOf(daysAgo(396)))).toBe(false);
    expect(await countReadings(db.pool, org, daysAgo(390))).toBe(50);
  });

  it('keeps partitions as long as the organization with the longest retention needs them', async () => {
    const standard = await anOrganization(db.pool, null);
    const archivist = await anOrganization(db.pool, 500);
    await ensurePartition(db.pool, daysAgo(450));
    await insertReadings(db.pool, standard, daysAgo(450), 40);
    await insertReadings(db.pool, archivist, daysAgo(450), 40);

    const kept = await maintain(db.pool);
    expect(kept).toMatchObject({ longestRetentionDays: 500, dropped: [], failures: [] });
    // The partition stays for the archivist; the default organization's rows in it are past their 395 days.
    expect(await countReadings(db.pool, archivist, daysAgo(450))).toBe(40);
    expect(await countReadings(db.pool, standard, daysAgo(450))).toBe(0);

    await setRetention(db.pool, archivist, null);
    const dropped = await maintain(db.pool);
    expect(dropped).toMatchObject({ longestRetentionDays: 395, dropped: [partitionOf(daysAgo(450))], failures: [] });
  });

  it('deletes a shorter-retention organization’s old rows in batches and keeps the others’ rows of the same partition', async () => {
    const short = await anOrganization(db.pool, 30);
    const long = await anOrganization(db.pool, null);
    const old = daysAgo(40);
    const recent = daysAgo(10);
    await ensurePartition(db.pool, old);
    await ensurePartition(db.pool, recent);
    await insertReadings(db.pool, short, old, 3000);
    await insertReadings(db.pool, long, old, 3000);
    await insertReadings(db.pool, short, recent, 200);

    // 4 blocks (32 KB) per statement: the partition takes many.
    const report = await maintain(db.pool, { batchBlocks: 4 });
    expect(report.failures).toEqual([]);
    expect(report.purged).toEqual([{ window: partitionOf(old), day: old, rows: { [short]: 3000 } }]);
    expect(await countReadings(db.pool, short, old)).toBe(0);
    expect(await countReadings(db.pool, long, old)).toBe(3000);
    expect(await countReadings(db.pool, short, recent)).toBe(200);

    // Nothing changed: the partition is not scanned again.
    expect((await maintain(db.pool, { batchBlocks: 4 })).purged).toEqual([]);

    // A shorter retention reaches the recent partition, and the old one is passed again under the new policy.
    await setRetention(db.pool, short, 5);
    const shortened = await maintain(db.pool, { batchBlocks: 4 });
    expect(shortened.purged.map((p) => [p.window, p.rows[short]]).sort()).toEqual(
      [
        [partitionOf(old), 0],
        [partitionOf(recent), 200],
      ].sort(),
    );
    expect(await countReadings(db.pool, short, recent)).toBe(0);
    expect(await countReadings(db.pool, long, old)).toBe(3000);
  });

  it('gives up a drop a long reader blocks after lock_timeout, goes on, and finishes the drop on the next run', async () => {
    const org = await anOrganization(db.pool, null);
    const expired = partitionOf(daysAgo(420));
    await ensurePartition(db.pool, daysAgo(420));
    await insertReadings(db.pool, org, daysAgo(420), 10);
    const reader = await db.pool.connect();
    try {
      await reader.query('BEGIN');
      await reader.query(`SELECT count(*) FROM ${expired}`);
      const started = Date.now();
      const blocked = await maintain(db.pool, { lockTimeoutMs: 300, aheadDays: 35 });
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(blocked.failures).toEqual([{ step: 'drop partition', target: expired, error: expect.stringMatching(/lock timeout/) }]);
      expect(blocked.created).toContain(partitionOf(addDays(TODAY, 35)));
      // Readers and writers of the live partitions were never blocked meanwhile.
      await insertReadings(db.pool, org, TODAY, 5);
      await reader.query('COMMIT');
    } finally {
      reader.release();
    }
    const next = await maintain(db.pool);
    expect(next).toMatchObject({ dropped: [expired], failures: [] });
    expect(await tableExists(db.pool, expired)).toBe(false);
  });

  it('does nothing while another process holds the job’s lock', async () => {
    const holder = await db.pool.connect();
    try {
      await holder.query(`SELECT pg_advisory_lock(hashtextextended('readings-maintenance', 0))`);
      expect(await maintain(db.pool, { aheadDays: 40 })).toEqual({ ran: false, created: [], dropped: [], purged: [], failures: [] });
      expect(await tableExists(db.pool, partitionOf(addDays(TODAY, 40)))).toBe(false);
    } finally {
      await holder.query(`SELECT pg_advisory_unlock_all()`);
      holder.release();
    }
  });
});

describe('PATCH /api/v1/organization: readings retention', () => {
  let api: TestApi;
  let org: TestOrg;
  beforeAll(async () => {
    api = await startTestApi({ READINGS_RETENTION_DAYS: '200' });
    org = await api.createOrg('Retention org');
  });
  afterAll(async () => {
    await api.close();
  });

  const patch = (body: unknown, authorization = org.auth) =>
    api.http().patch('/api/v1/organization').set('Authorization', authorization).send(body as object);

  it('shows the platform default until the organization sets its own', async () => {
    const res = await api.http().get('/api/v1/organization').set('Authorization', org.auth).expect(200);
    expect(res.body).toMatchObject({ id: org.orgId, readingsRetentionDays: null, effectiveReadingsRetentionDays: 200, version: 0 });
    expect(res.headers.etag).toBe('"0"');
  });

  it('sets, shows and resets the retention, with ETag and If-Match', async () => {
    const set = await patch({ readingsRetentionDays: 30 }).expect(200);
    expect(set.body).toMatchObject({ readingsRetentionDays: 30, effectiveReadingsRetentionDays: 30, version: 1 });
    expect(set.headers.etag).toBe('"1"');
    const viewer = `Bearer ${await org.jwt('viewer')}`;
    const read = await api.http().get('/api/v1/organization').set('Authorization', viewer).expect(200);
    expect(read.body).toMatchObject({ readingsRetentionDays: 30, effectiveReadingsRetentionDays: 30 });

    const stale = await patch({ readingsRetentionDays: 60 }).set('If-Match', '"0"').expect(412);
    expect(stale.body).toMatchObject({ code: 'PRECONDITION_FAILED' });

    const reset = await patch({ name: 'Retention org, renamed', readingsRetentionDays: null }).set('If-Match', '"1"').expect(200);
    expect(reset.body).toMatchObject({ name: 'Retention org, renamed', readingsRetentionDays: null, effectiveReadingsRetentionDays: 200, version: 3 });
    expect(reset.headers.etag).toBe('"3"');

    // The same values again decide nothing: the version stays.
    expect((await patch({ readingsRetentionDays: null }).expect(200)).body).toMatchObject({ version: 3 });
  });

  it.each([
    ['0', { readingsRetentionDays: 0 }, '/body/readingsRetentionDays'],
    ['5000', { readingsRetentionDays: 5000 }, '/body/readingsRetentionDays'],
    ['a fraction', { readingsRetentionDays: 1.5 }, '/body/readingsRetentionDays'],
    ['a string', { readingsRetentionDays: '30' }, '/body/readingsRetentionDays'],
    ['an empty body', {}, '/body'],
    ['an unknown field', { retention: 30 }, '/body/retention'],
  ])('refuses %s with 400', async (_what, body, path) => {
    const res = await patch(body).expect(400);
    expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((res.body as { errors: { path: string }[] }).errors.map((e) => e.path)).toContain(path);
  });

  it('refuses viewers and members with 403', async () => {
    for (const role of ['viewer', 'member'] as const) {
      const res = await patch({ readingsRetentionDays: 30 }, `Bearer ${await org.jwt(role)}`).expect(403);
      expect(res.body).toMatchObject({ code: 'INSUFFICIENT_ROLE' });
    }
  });

  it('is what the job applies: the organization’s old readings go, another organization’s stay', async () => {
    const other = await api.createOrg('Default retention org');
    await patch({ readingsRetentionDays: 30 }).expect(200);
    const pool = api.platform.pool;
    const old = daysAgo(45);
    await ensurePartition(pool, old);
    await insertReadings(pool, org.orgId, old, 100);
    await insertReadings(pool, other.orgId, old, 100);
    const report = await maintainReadings(pool, { defaultRetentionDays: api.platform.config.readingsRetentionDays, aheadDays: 7, now: NOW });
    expect(report).toMatchObject({ longestRetentionDays: 200, failures: [] });
    expect(await countReadings(pool, org.orgId, old)).toBe(0);
    expect(await countReadings(pool, other.orgId, old)).toBe(100);
  });
});
