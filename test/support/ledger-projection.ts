import { randomUUID } from 'node:crypto';
import type { Pool, Queryable } from '../../src/platform/db/pool';
import { asWriter } from '../../src/platform/db/roles';
import type { AppendResult, EventStore, NewEvent } from '../../src/platform/event-store/event-store.port';
import { ident, orgIdOf, type Projection } from '../../src/projections/projection';
import { aMetadata } from './events';

export const LEDGER_ENTRY = 'LedgerEntryRecorded';

/**
 * A test projection with a table of its own: one row per event. It is
 * deliberately not idempotent: applying an event again bumps `applied`, so a
 * duplicate shows as applied > 1 instead of vanishing in an upsert.
 */
export interface LedgerProjection extends Projection {
  /** Ids of events whose apply throws (a bug in the projector). */
  readonly faults: Set<string>;
  /** Awaited before each batch: lets a test act while a batch is in flight. */
  beforeBatch: (() => Promise<void>) | undefined;
}

export interface LedgerRow {
  event_id: string;
  seq: number;
  applied: number;
}

export function ledgerProjection(): { projection: LedgerProjection; table: string } {
  const suffix = randomUUID().replace(/-/g, '').slice(0, 10);
  const table = `ledger_${suffix}`;
  const projection: LedgerProjection = {
    name: `ledger-${suffix}`,
    tables: [table],
    eventTypes: [LEDGER_ENTRY],
    faults: new Set(),
    beforeBatch: undefined,
    async apply(tx, events, tableName) {
      await projection.beforeBatch?.();
      const t = ident(tableName(table));
      for (const event of events) {
        if (projection.faults.has(event.id)) throw new Error(`ledger cannot apply event ${event.id}`);
        await tx.query(
          `INSERT INTO ${t} AS l (org_id, event_id, seq) VALUES ($1, $2, $3)
           ON CONFLICT (org_id, event_id) DO UPDATE SET applied = l.applied + 1`,
          [orgIdOf(event), event.id, (event.data as { seq: number }).seq],
        );
      }
    },
  };
  return { projection, table };
}

/** The table, made a tenant table like every read model. */
export async function createLedgerTable(db: Queryable, table: string): Promise<void> {
  await db.query(`CREATE TABLE ${ident(table)} (
    org_id uuid NOT NULL, event_id uuid NOT NULL, seq integer NOT NULL, applied integer NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, event_id))`);
  await db.query('CALL iotplane_make_tenant_table($1)', [table]);
}

export function aLedgerEntry(orgId: string, seq: number): NewEvent {
  return { id: randomUUID(), type: LEDGER_ENTRY, data: { seq, note: `entry ${seq}` }, metadata: aMetadata({ orgId }) };
}

/** Appends `count` entries numbered from `from`, `perAppend` to an append, over a few streams. */
export async function appendEntries(store: EventStore, orgId: string, from: number, count: number, perAppend = 1): Promise<{ events: NewEvent[]; last: AppendResult | undefined }> {
  const events = Array.from({ length: count }, (_, i) => aLedgerEntry(orgId, from + i));
  let last: AppendResult | undefined;
  for (let i = 0; i < events.length; i += perAppend) {
    last = await store.appendToStream(`ledger-${orgId}-${(from + i) % 7}`, events.slice(i, i + perAppend));
  }
  return { events, last };
}

export async function ledgerRows(pool: Pool, table: string): Promise<LedgerRow[]> {
  return asWriter(pool, async (tx) => (await tx.query<LedgerRow>(`SELECT event_id, seq, applied FROM ${ident(table)} ORDER BY seq, event_id`)).rows);
}

/** Every ledger event in the log, as the table should hold it. */
export async function loggedEntries(pool: Pool): Promise<{ event_id: string; seq: number }[]> {
  const { rows } = await pool.query<{ event_id: string; seq: number }>(
    `SELECT event_id, (data->>'seq')::int AS seq FROM es_events WHERE type = $1 ORDER BY seq, event_id`,
    [LEDGER_ENTRY],
  );
  return rows;
}
