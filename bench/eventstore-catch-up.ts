import { performance } from 'node:perf_hooks';
import type { Pool } from '../src/platform/db/pool';
import { asWriter } from '../src/platform/db/roles';
import type { EventStore } from '../src/platform/event-store/event-store.port';
import type { Logger } from '../src/platform/logger';
import { ident, orgIdOf, type Projection } from '../src/projections/projection';
import { ProjectionRunner } from '../src/projections/projection-runner';

export interface CatchUpFigures {
  readonly projection: string;
  readonly batchSize: number;
  readonly events: number;
  readonly seconds: number;
  readonly perSecond: number;
}

const SITES = 10_000;
const SEED_CHUNK = 100_000;

/**
 * Site histories as the API writes them (a SiteCreated, then SiteUpdated),
 * 10,000 sites over 10 organizations, interleaved, with full metadata.
 * Server-side, one transaction per 100,000 events.
 */
const SEED_SQL = `
INSERT INTO es_events (stream_name, revision, event_id, type, data, metadata)
SELECT 'site-' || s.site_id, g.i / $3::bigint, gen_random_uuid(),
       CASE WHEN g.i < $3 THEN 'SiteCreated' ELSE 'SiteUpdated' END,
       CASE WHEN g.i < $3 THEN jsonb_build_object(
              'id', s.site_id, 'name', 'Site ' || g.i, 'address', (g.i % 997) || ' Dock Road', 'timezone', 'Europe/Berlin',
              'location', jsonb_build_object('latitude', 52.52, 'longitude', 13.405),
              'labels', jsonb_build_object('region', 'eu', 'floor', (g.i % 7)::text), 'createdAt', s.at)
            ELSE jsonb_build_object('id', s.site_id, 'updatedAt', s.at, 'changes',
              jsonb_build_object('name', 'Site ' || g.i, 'labels', jsonb_build_object('region', 'eu', 'floor', (g.i % 7)::text)))
       END,
       jsonb_build_object('orgId', s.org_id, 'actor', 'apiKey:' || s.org_id, 'correlationId', gen_random_uuid(),
                          'causationId', NULL, 'schemaVersion', 1)
  FROM generate_series($1::bigint, $2::bigint) AS g(i)
 CROSS JOIN LATERAL (SELECT md5('site' || (g.i % $3))::uuid AS site_id, md5('org' || (g.i % $3 % 10))::uuid AS org_id,
                            to_char(timestamptz '2025-01-01' + g.i * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at) s`;

export async function seedSiteEvents(pool: Pool, total: number, progress: (line: string) => void): Promise<{ seconds: number }> {
  const started = performance.now();
  for (let from = 0; from < total; from += SEED_CHUNK) {
    const to = Math.min(from + SEED_CHUNK, total) - 1;
    await pool.query(SEED_SQL, [from, to, SITES]);
    const seconds = (performance.now() - started) / 1000;
    progress(`seed      ${(to + 1).toLocaleString('en')} / ${total.toLocaleString('en')} events  ${Math.round((to + 1) / seconds).toLocaleString('en')} rows/s`);
  }
  await pool.query('ANALYZE es_events');
  return { seconds: (performance.now() - started) / 1000 };
}

/** A simple read model: events and last revision per stream, one set-based upsert per batch. */
export const streamCountsProjection: Projection = {
  name: 'bench-stream-counts',
  tables: ['bench_stream_counts'],
  eventTypes: ['SiteCreated', 'SiteUpdated'],
  async apply(tx, events, table) {
    await tx.query(
      `INSERT INTO ${ident(table('bench_stream_counts'))} AS c (org_id, stream_name, events, last_revision)
       SELECT org_id, stream_name, count(*), max(revision)
         FROM unnest($1::uuid[], $2::text[], $3::bigint[]) AS u (org_id, stream_name, revision)
        GROUP BY org_id, stream_name
       ON CONFLICT (org_id, stream_name) DO UPDATE
         SET events = c.events + EXCLUDED.events, last_revision = GREATEST(c.last_revision, EXCLUDED.last_revision)`,
      [events.map(orgIdOf), events.map((e) => e.stream), events.map((e) => e.revision.toString())],
    );
  },
};

export async function createStreamCountsTable(pool: Pool): Promise<void> {
  await pool.query(`CREATE TABLE bench_stream_counts (
    org_id uuid NOT NULL, stream_name text NOT NULL, events bigint NOT NULL, last_revision bigint NOT NULL,
    PRIMARY KEY (org_id, stream_name))`);
  await pool.query(`CALL iotplane_make_tenant_table('bench_stream_counts')`);
}

export async function countedByStreamCounts(pool: Pool): Promise<number> {
  return asWriter(pool, async (tx) => (await tx.query<{ n: number }>('SELECT coalesce(sum(events), 0)::bigint AS n FROM bench_stream_counts')).rows[0]?.n ?? 0);
}

async function eventsApplied(pool: Pool, name: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('SELECT events_applied AS n FROM projection_checkpoints WHERE name = $1', [name]);
  return rows[0]?.n ?? 0;
}

/**
 * Times a ProjectionRunner from START until its checkpoint has counted
 * `target` events, printing progress every second.
 */
export async function timeCatchUp(
  db: { pool: Pool; url: string },
  store: EventStore,
  projection: Projection,
  target: number,
  batchSize: number,
  log: Logger,
  progress: (line: string) => void,
): Promise<CatchUpFigures> {
  const runner = new ProjectionRunner(db.pool, db.url, store, projection, log, { batchSize });
  const started = performance.now();
  let last = { at: started, applied: 0 };
  let applied = 0;
  runner.start();
  try {
    while (applied < target) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      applied = await eventsApplied(db.pool, projection.name);
      const now = performance.now();
      if (now - last.at >= 1000) {
        const rate = Math.round(((applied - last.applied) * 1000) / (now - last.at));
        progress(`catch-up  ${projection.name}: ${applied.toLocaleString('en')} / ${target.toLocaleString('en')} events  ${rate.toLocaleString('en')} ev/s`);
        last = { at: now, applied };
      }
    }
  } finally {
    await runner.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  return { projection: projection.name, batchSize, events: applied, seconds, perSecond: applied / seconds };
}
