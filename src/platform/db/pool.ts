import pg from 'pg';

/**
 * Type parsing is decided here, once: bigint (int8) and numeric become JS
 * numbers (counts and measurements; values past 2^53 are refused rather than
 * rounded), timestamptz stays a Date and is turned into ISO text by mappers.
 */
function safeNumber(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) && Number.isInteger(value)) {
    throw new RangeError(`integer ${text} exceeds the safe range`);
  }
  return value;
}
pg.types.setTypeParser(pg.types.builtins.INT8, safeNumber);
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (text: string) => Number(text));

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
/** Anything that runs a query: a pool, or a client inside a transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** `options` are server settings for every session (e.g. `-c role=…`). */
export function createPool(connectionString: string, max = 10, applicationName = 'iotplane', options?: string): Pool {
  const pool = new pg.Pool({ connectionString, max, application_name: applicationName, ...(options ? { options } : {}) });
  // An idle client that loses its connection must not crash the process.
  pool.on('error', () => undefined);
  // Nor a checked-out one: pg-pool drops its own listener while a client is
  // lent, and a connection cut mid-transaction (server restart) would emit an
  // unheard 'error'. The failing query rejects with it anyway.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

export async function inTransaction<T>(pool: Pool, fn: (tx: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
