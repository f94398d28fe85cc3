import type { PoolClient } from '../platform/db/pool';
import type { StorageMode } from './readings-storage.queries';

/** A stretch of readings stored together: a native daily partition or a TimescaleDB chunk. */
export interface StorageWindow {
  readonly name: string;
  /** UTC day of its start (`YYYY-MM-DD`): the key of its retention passes. */
  readonly day: string;
  readonly start: Date;
  readonly end: Date;
  /** False for a native partition detached but not yet dropped. */
  readonly attached: boolean;
  /** A native partition whose DETACH CONCURRENTLY was interrupted (it must be finalized). */
  readonly detachPending: boolean;
  readonly approxRows: number;
  readonly bytes: number;
}

/** Runs one step of the job; a failure is recorded and the job goes on with the next. Resolves to undefined on failure. */
export type Attempt = <T>(step: string, target: string, fn: () => Promise<T>) => Promise<T | undefined>;

/** Rows deleted per organization. */
export type DeletedRows = Map<string, number>;

export interface PurgeOptions {
  /** Native: heap blocks (8 KB) per DELETE statement. */
  readonly batchBlocks: number;
}

/** What the maintenance job needs of a storage mode; one adapter per mode. */
export interface ReadingsStorage {
  readonly mode: StorageMode;
  windows(client: PoolClient): Promise<StorageWindow[]>;
  /** Creates the windows of these UTC days where the mode needs them ahead; the names created. */
  ensureDays(client: PoolClient, days: readonly string[], attempt: Attempt): Promise<string[]>;
  /** Drops every window ending at or before `before`; the names dropped. */
  dropBefore(client: PoolClient, windows: readonly StorageWindow[], before: Date, attempt: Attempt): Promise<string[]>;
  /** Deletes every row of these organizations in the window, in short statements. */
  purge(client: PoolClient, window: StorageWindow, orgIds: readonly string[], options: PurgeOptions): Promise<DeletedRows>;
}

export function addDeleted(into: DeletedRows, rows: readonly { org_id: string; n: number }[]): void {
  for (const row of rows) into.set(row.org_id, (into.get(row.org_id) ?? 0) + row.n);
}
