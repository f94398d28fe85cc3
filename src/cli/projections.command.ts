import { SingleBar, Presets } from 'cli-progress';
import { listCheckpoints } from '../platform/checkpoints/checkpoints';
import type { Queryable } from '../platform/db/pool';
import type { Position } from '../platform/event-store/event-store.port';
import { findProjection, PROJECTIONS } from '../projections/index';
import { rebuildProjection } from '../projections/projection-rebuild';
import { withPlatform } from './cli-platform';
import { UsageError } from './create-org.command';

/** Events of these types after a position (Postgres event store only). */
async function eventsAfter(db: Queryable, types: readonly string[], from: Position): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::bigint AS n FROM es_events WHERE type = ANY($1) AND (transaction_id, position) > ($2::text::xid8, $3::bigint)`,
    [types, from.commit.toString(), from.prepare.toString()],
  );
  return rows[0]?.n ?? 0;
}

async function leaderPresent(db: Queryable, name: string): Promise<boolean> {
  const { rows } = await db.query<{ held: boolean }>(
    `SELECT EXISTS (
       SELECT 1 FROM pg_locks, (SELECT hashtextextended('projection:' || $1, 0) AS k) key
        WHERE locktype = 'advisory' AND granted AND objsubid = 1
          AND objid::bigint = (key.k & 4294967295) AND classid::bigint = ((key.k >> 32) & 4294967295)) AS held`,
    [name],
  );
  return rows[0]?.held === true;
}

/** `admin projections status`: checkpoint, lag in events and state of each projection. */
export async function projectionsStatusCommand(options: { json?: boolean }): Promise<void> {
  await withPlatform(async (platform) => {
    const checkpoints = await listCheckpoints(platform.pool);
    const postgresStore = !platform.config.eventStoreUrl;
    const rows = [];
    for (const projection of PROJECTIONS) {
      const checkpoint = checkpoints.find((c) => c.name === projection.name);
      const position = checkpoint?.position ?? { commit: 0n, prepare: 0n };
      const lag = postgresStore ? await eventsAfter(platform.pool, projection.eventTypes, position) : null;
      const active = await leaderPresent(platform.pool, projection.name);
      rows.push({
        projection: projection.name,
        checkpoint: `${position.commit}:${position.prepare}`,
        eventsApplied: checkpoint?.eventsApplied ?? 0,
        lagEvents: lag,
        state: !active ? 'stopped' : lag === 0 ? 'live' : 'catching-up',
        updatedAt: checkpoint?.updatedAt.toISOString() ?? null,
      });
    }
    if (options.json) for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);
    else console.table(rows);
  });
}

/** `admin projections rebuild <name>`: shadow rebuild and atomic swap, with a progress bar. */
export async function projectionsRebuildCommand(name: string | undefined): Promise<void> {
  const projection = name ? findProjection(name) : undefined;
  if (!projection) throw new UsageError(`admin projections rebuild <${PROJECTIONS.map((p) => p.name).join('|')}>`);
  await withPlatform(async (platform) => {
    const total = platform.config.eventStoreUrl ? 0 : await eventsAfter(platform.pool, projection.eventTypes, { commit: 0n, prepare: 0n });
    const bar = new SingleBar(
      {
        format: `${projection.name} [{bar}] {value}/{total} events | {rate} ev/s | ETA {eta_formatted}`,
        etaBuffer: 50,
        noTTYOutput: true,
        notTTYSchedule: 2000,
      },
      Presets.shades_classic,
    );
    const started = Date.now();
    bar.start(Math.max(total, 1), 0, { rate: 0 });
    const result = await rebuildProjection(platform.pool, platform.store, projection, {
      onProgress: ({ eventsDone }) => {
        const rate = Math.round(eventsDone / Math.max((Date.now() - started) / 1000, 0.001));
        if (eventsDone > bar.getTotal()) bar.setTotal(eventsDone);
        bar.update(eventsDone, { rate });
      },
    });
    bar.stop();
    const seconds = (Date.now() - started) / 1000;
    process.stdout.write(
      `rebuilt ${projection.name}: ${result.eventsApplied} events in ${seconds.toFixed(1)} s; swapped in at ${result.position.commit}:${result.position.prepare}\n`,
    );
  });
}
