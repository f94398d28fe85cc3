import { performance } from 'node:perf_hooks';
import type { Pool, PoolClient } from '../src/platform/db/pool';
import { API_ROLE } from '../src/platform/db/roles';

export interface RunFigures {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  /** Milliseconds. */
  readonly p50: number;
  readonly p99: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? Number.NaN;
}

/**
 * The database work of one API read without the API: `connections` loops,
 * each checking a client out of the pool per request (as the API does) and
 * running BEGIN; SET LOCAL ROLE iotplane_api; set_config('app.org_id', …,
 * true); the select; COMMIT — until `seconds` have passed.
 */
export async function rawSqlLoop(
  pool: Pool,
  orgId: string,
  connections: number,
  seconds: number,
  select: (tx: PoolClient) => Promise<unknown>,
): Promise<RunFigures> {
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const loop = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(`SET LOCAL ROLE ${API_ROLE}`);
        await client.query(`SELECT set_config('app.org_id', $1, true)`, [orgId]);
        await select(client);
        await client.query('COMMIT');
        latencies.push(performance.now() - t0);
      } catch {
        errors += 1;
        await client.query('ROLLBACK').catch(() => undefined);
      } finally {
        client.release();
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, loop));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    seconds: elapsed,
    requestsPerSecond: latencies.length / elapsed,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
  };
}
