import type { Pool, PoolClient } from '../platform/db/pool';
import { inTransaction } from '../platform/db/pool';
import { WRITER_ROLE } from '../platform/db/roles';
import { START, type EventStore, type Position } from '../platform/event-store/event-store.port';
import { resetCheckpoint } from '../platform/checkpoints/checkpoints';
import { ident, type Projection, type TableName } from './projection';

export interface RebuildProgress {
  readonly eventsDone: number;
  readonly position: Position;
}

export interface RebuildOptions {
  readonly batchSize?: number;
  readonly onProgress?: (progress: RebuildProgress) => void;
}

const SHADOW_SUFFIX = '__rebuild';
const OLD_SUFFIX = '__old';
const shadowTables: TableName = (table) => `${table}${SHADOW_SUFFIX}`;

/**
 * Rebuilds a projection without downtime: replays the whole log into shadow
 * tables (same columns, indexes and RLS as the live ones), then in one
 * transaction locks the live tables, applies what arrived meanwhile, swaps
 * the tables by renaming, and moves the checkpoint. Readers see the old
 * model until the swap commits and the new one after; never a half-built one.
 * The live projector notices the moved checkpoint and resumes from it.
 */
export async function rebuildProjection(
  pool: Pool,
  store: EventStore,
  projection: Projection,
  options: RebuildOptions = {},
): Promise<{ eventsApplied: number; position: Position }> {
  const batchSize = options.batchSize ?? 1000;
  await inTransaction(pool, async (tx) => {
    for (const table of projection.tables) {
      const shadow = shadowTables(table);
      await tx.query(`DROP TABLE IF EXISTS ${ident(shadow)}`);
      await tx.query(`CREATE TABLE ${ident(shadow)} (LIKE ${ident(table)} INCLUDING ALL)`);
      await tx.query('CALL iotplane_make_tenant_table($1)', [shadow]);
    }
  });

  let applied = 0;
  let position = START;
  const replay = async (tx: PoolClient): Promise<boolean> => {
    const page = await store.readAll({ fromPosition: position, maxCount: batchSize, filter: { eventTypes: projection.eventTypes } });
    if (page.events.length > 0) {
      await tx.query(`SET LOCAL ROLE ${WRITER_ROLE}`);
      await projection.apply(tx, page.events, shadowTables);
      await tx.query('RESET ROLE');
    }
    applied += page.events.length;
    position = page.checkpoint;
    options.onProgress?.({ eventsDone: applied, position });
    return page.events.length === batchSize;
  };

  // Bulk of the history, one transaction per batch.
  for (let more = true; more; ) more = await inTransaction(pool, replay);

  await inTransaction(pool, async (tx) => {
    const live = projection.tables.map(ident).join(', ');
    await tx.query(`LOCK TABLE ${live} IN ACCESS EXCLUSIVE MODE`);
    await tx.query('SELECT 1 FROM projection_checkpoints WHERE name = $1 FOR UPDATE', [projection.name]);
    while (await replay(tx));
    for (const table of projection.tables) {
      await tx.query(`ALTER TABLE ${ident(table)} RENAME TO ${ident(table + OLD_SUFFIX)}`);
      await tx.query(`ALTER TABLE ${ident(shadowTables(table))} RENAME TO ${ident(table)}`);
      await tx.query(`DROP TABLE ${ident(table + OLD_SUFFIX)}`);
    }
    await resetCheckpoint(tx, projection.name, position, applied);
  });
  return { eventsApplied: applied, position };
}
