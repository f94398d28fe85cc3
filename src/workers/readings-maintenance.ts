import type { Pool, PoolClient } from '../platform/db/pool';
import type { Logger } from '../platform/logger';
import { addDays, retentionPlan, utcDay } from './readings-retention';
import type { Attempt, ReadingsStorage } from './readings-storage';
import { nativeStorage } from './readings-storage.native';
import {
  forgetRetentionPasses,
  organizationRetentions,
  recordRetentionPass,
  retentionPasses,
  storageMode,
  type StorageMode,
} from './readings-storage.queries';
import { timescaleStorage } from './readings-storage.timescaledb';

/** Session advisory lock: one maintenance run at a time across every worker process. */
const LOCK = 'readings-maintenance';

export interface MaintenanceOptions {
  /** Retention of organizations that set none (READINGS_RETENTION_DAYS). */
  readonly defaultRetentionDays: number;
  /** Days after today whose partitions must exist (PARTITIONS_AHEAD_DAYS). */
  readonly aheadDays: number;
  readonly now?: Date;
  /** Heap blocks per DELETE when purging a native partition (default 512, some 40,000 readings). */
  readonly batchBlocks?: number;
  /**
   * How long a step may wait for a lock before it gives up until the next run (default 2 s). Creating a
   * partition queues an ACCESS EXCLUSIVE lock on the parent, which holds up readers and the ingester while it waits.
   */
  readonly lockTimeoutMs?: number;
  readonly log?: Logger;
}

export interface PurgedWindow {
  readonly window: string;
  readonly day: string;
  /** Rows deleted per organization (organizations with none are listed with 0). */
  readonly rows: Readonly<Record<string, number>>;
}

export interface MaintenanceReport {
  /** False when another process held the lock: nothing was done. */
  readonly ran: boolean;
  readonly mode?: StorageMode;
  readonly longestRetentionDays?: number;
  /** Windows ending at or before this instant were dropped. */
  readonly dropBefore?: string;
  readonly created: string[];
  readonly dropped: string[];
  readonly purged: PurgedWindow[];
  readonly failures: { step: string; target: string; error: string }[];
}

export function storageFor(mode: StorageMode): ReadingsStorage {
  return mode === 'native' ? nativeStorage : timescaleStorage;
}

/**
 * The readings storage job, once: partitions ahead, then retention (see
 * RetentionPlan). Runs as the database owner (partition DDL); reads
 * organizations and deletes rows as the writer role. Every step is short and
 * waits at most `lockTimeoutMs` for a lock; a step that fails is reported and
 * retried by the next run.
 */
export async function maintainReadings(pool: Pool, options: MaintenanceOptions): Promise<MaintenanceReport> {
  const client = await pool.connect();
  let healthy = false;
  try {
    const { rows } = await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked`, [LOCK]);
    if (rows[0]?.locked !== true) {
      healthy = true;
      return { ran: false, created: [], dropped: [], purged: [], failures: [] };
    }
    await client.query(`SELECT set_config('lock_timeout', $1, false)`, [`${options.lockTimeoutMs ?? 2000}ms`]);
    const report = await run(client, options);
    await client.query('RESET lock_timeout');
    await client.query(`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, [LOCK]);
    healthy = true;
    return report;
  } finally {
    // After a failure the connection may still hold the lock or the setting: it is closed (which frees both), not reused.
    client.release(!healthy);
  }
}

export interface ReadingsStorageStatus {
  readonly mode: StorageMode;
  readonly defaultRetentionDays: number;
  readonly longestRetentionDays: number;
  readonly dropBefore: string;
  readonly windows: { name: string; day: string; attached: boolean; approxRows: number; bytes: number }[];
  readonly organizations: { orgId: string; name: string; retentionDays: number | null; effectiveRetentionDays: number }[];
}

/** What `admin readings partitions` shows: windows with approximate sizes, the mode, each organization's retention. */
export async function readingsStorageStatus(pool: Pool, defaultRetentionDays: number, now = new Date()): Promise<ReadingsStorageStatus> {
  const client = await pool.connect();
  try {
    const mode = await storageMode(client);
    const organizations = await organizationRetentions(client);
    const plan = retentionPlan(organizations, defaultRetentionDays, now);
    const windows = await storageFor(mode).windows(client);
    return {
      mode,
      defaultRetentionDays,
      longestRetentionDays: plan.longestDays,
      dropBefore: plan.dropBefore.toISOString(),
      windows: windows.map(({ name, day, attached, approxRows, bytes }) => ({ name, day, attached, approxRows, bytes })),
      organizations: organizations.map((o) => ({ orgId: o.orgId, name: o.name, retentionDays: o.days, effectiveRetentionDays: o.days ?? defaultRetentionDays })),
    };
  } finally {
    client.release();
  }
}

async function run(client: PoolClient, options: MaintenanceOptions): Promise<MaintenanceReport> {
  const now = options.now ?? new Date();
  const failures: MaintenanceReport['failures'] = [];
  const attempt: Attempt = async (step, target, fn) => {
    try {
      return await fn();
    } catch (error) {
      failures.push({ step, target, error: (error as Error).message });
      options.log?.warn({ err: error, step, target }, 'readings maintenance step failed; the next run retries it');
      return undefined;
    }
  };
  const mode = await storageMode(client);
  const storage = storageFor(mode);

  const today = utcDay(now);
  const days = Array.from({ length: options.aheadDays + 1 }, (_, i) => addDays(today, i));
  const created = await storage.ensureDays(client, days, attempt);

  const plan = retentionPlan(await organizationRetentions(client), options.defaultRetentionDays, now);
  const dropped = await storage.dropBefore(client, await storage.windows(client), plan.dropBefore, attempt);
  await forgetRetentionPasses(client, utcDay(plan.dropBefore));

  const passes = await retentionPasses(client);
  const purged: PurgedWindow[] = [];
  for (const window of await storage.windows(client)) {
    if (!window.attached || window.detachPending || window.end.getTime() <= plan.dropBefore.getTime()) continue;
    const expired = plan.expiredIn(window.end);
    if (!expired || passes.get(window.day) === expired.policy) continue;
    const deleted = await attempt('purge organizations', window.name, async () => {
      const rows = await storage.purge(client, window, expired.orgIds, { batchBlocks: options.batchBlocks ?? 512 });
      await recordRetentionPass(client, window.day, expired.policy, now);
      return rows;
    });
    if (deleted) purged.push({ window: window.name, day: window.day, rows: Object.fromEntries(expired.orgIds.map((id) => [id, deleted.get(id) ?? 0])) });
  }

  const report = { ran: true, mode, longestRetentionDays: plan.longestDays, dropBefore: plan.dropBefore.toISOString(), created, dropped, purged, failures };
  const rowsDeleted = purged.reduce((sum, p) => sum + Object.values(p.rows).reduce((a, b) => a + b, 0), 0);
  if (created.length + dropped.length + purged.length > 0) {
    options.log?.info({ mode, created, dropped, purged: purged.map((p) => p.window), rowsDeleted, longestRetentionDays: plan.longestDays }, 'readings storage maintained');
  } else {
    options.log?.debug({ mode, longestRetentionDays: plan.longestDays }, 'readings storage: nothing to do');
  }
  return report;
}
