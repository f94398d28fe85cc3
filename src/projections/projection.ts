import type { PoolClient } from '../platform/db/pool';
import type { RecordedEvent } from '../platform/event-store/event-store.port';

/** Maps a read-model table's name to the table a run writes into (live or shadow). */
export type TableName = (table: string) => string;

/**
 * A projector: the events it handles and the SQL it runs for them. `apply`
 * receives a batch and the transaction that also advances the checkpoint;
 * it must be idempotent per event, since a rebuild replays everything.
 */
export interface Projection {
  readonly name: string;
  /** Read-model tables it owns; a rebuild builds shadows of exactly these. */
  readonly tables: readonly string[];
  readonly eventTypes: readonly string[];
  apply(tx: PoolClient, events: readonly RecordedEvent[], table: TableName): Promise<void>;
}

export const liveTables: TableName = (table) => table;

/** Quotes an identifier (table names come from projection definitions, never from input). */
export function ident(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unexpected identifier ${name}`);
  return `"${name}"`;
}

export function orgIdOf(event: RecordedEvent): string {
  const orgId = event.metadata.orgId;
  if (!orgId) throw new Error(`event ${event.id} (${event.type}) has no orgId in its metadata`);
  return orgId;
}
