import type { Pool, PoolClient } from '../platform/db/pool';
import { API_ROLE } from '../platform/db/roles';

/**
 * One read-only REPEATABLE READ transaction as the API role with the tenant
 * set: every entry of an export reads the same snapshot (the counts of the
 * manifest agree with each other), and row-level security confines every
 * statement to the export's organization whatever its SQL says. Read-only,
 * it holds no transaction id, so the event store's readers (which wait for
 * older transaction ids) are never held back by a long export.
 *
 * On any failure the connection is destroyed, not returned to the pool: a
 * COPY cut off mid-stream leaves it unusable.
 */
export async function inTenantSnapshot<T>(pool: Pool, orgId: string, fn: (tx: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await client.query(`SELECT set_config('role', $1, true), set_config('app.org_id', $2, true), set_config('TimeZone', 'UTC', true)`, [API_ROLE, orgId]);
    const result = await fn(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (error) {
    client.release(true);
    throw error;
  }
}

/**
 * Parameters of statements that take none (COPY, DECLARE CURSOR): set as
 * transaction-local settings through bind parameters and read back with
 * `current_setting('iotplane.export_<name>')`, so no value is ever written
 * into SQL text.
 */
export async function setExportParameters(tx: PoolClient, values: Readonly<Record<string, string>>): Promise<void> {
  const names = Object.keys(values);
  for (const name of names) if (!/^[a-z_]+$/.test(name)) throw new Error(`bad export parameter name ${name}`);
  const calls = names.map((name, i) => `set_config('iotplane.export_${name}', $${i + 1}, true)`).join(', ');
  await tx.query(`SELECT ${calls}`, names.map((name) => values[name]));
}

/**
 * `current_setting('iotplane.export_<name>')` for SQL text, as a scalar
 * subquery: an InitPlan, evaluated once per statement rather than once per
 * row (a uuid[] parsed for every reading cost the COPY most of its speed).
 */
export function exportParameter(name: string, cast: string): string {
  // The outer cast is a no-op that keeps `= ANY(…)` from reading the subquery as a set of rows.
  return `(SELECT current_setting('iotplane.export_${name}')::${cast})::${cast}`;
}
