import type { PoolClient, Queryable } from '../platform/db/pool';
import { WRITER_ROLE } from '../platform/db/roles';
import type { OrganizationRetention } from './readings-retention';

export type StorageMode = 'native' | 'timescaledb';

/** One transaction on a client the caller holds (the maintenance session keeps its advisory lock on it). */
export async function transaction<T>(client: PoolClient, fn: () => Promise<T>, options: { asWriter?: boolean } = {}): Promise<T> {
  await client.query('BEGIN');
  try {
    // The writer role bypasses RLS, which the owner is subject to (FORCE): it sees every organization's rows.
    if (options.asWriter) await client.query(`SET LOCAL ROLE ${WRITER_ROLE}`);
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

export async function storageMode(db: Queryable): Promise<StorageMode> {
  const { rows } = await db.query<{ mode: StorageMode }>('SELECT mode FROM readings_storage');
  const mode = rows[0]?.mode;
  if (mode !== 'native' && mode !== 'timescaledb') throw new Error('readings_storage holds no storage mode (migration 0013 not applied?)');
  return mode;
}

export interface OrganizationRetentionRow extends OrganizationRetention {
  readonly name: string;
}

/** Every organization's retention setting (read as the writer role: all organizations). */
export function organizationRetentions(client: PoolClient): Promise<OrganizationRetentionRow[]> {
  return transaction(
    client,
    async () => {
      const { rows } = await client.query<{ org_id: string; name: string; readings_retention_days: number | null }>(
        'SELECT org_id, name, readings_retention_days FROM organizations ORDER BY org_id',
      );
      return rows.map((r) => ({ orgId: r.org_id, name: r.name, days: r.readings_retention_days }));
    },
    { asWriter: true },
  );
}

/** Day → the policy fingerprint its window was last purged for. */
export async function retentionPasses(db: Queryable): Promise<Map<string, string>> {
  const { rows } = await db.query<{ day: string; policy: string }>(`SELECT to_char(day, 'YYYY-MM-DD') AS day, policy FROM readings_retention_passes`);
  return new Map(rows.map((r) => [r.day, r.policy]));
}

export async function recordRetentionPass(db: Queryable, day: string, policy: string, at: Date): Promise<void> {
  await db.query(
    `INSERT INTO readings_retention_passes (day, policy, passed_at) VALUES ($1, $2, $3)
     ON CONFLICT (day) DO UPDATE SET policy = EXCLUDED.policy, passed_at = EXCLUDED.passed_at`,
    [day, policy, at],
  );
}

/** Passes of days whose windows are gone. */
export async function forgetRetentionPasses(db: Queryable, beforeDay: string): Promise<void> {
  await db.query('DELETE FROM readings_retention_passes WHERE day < $1', [beforeDay]);
}
