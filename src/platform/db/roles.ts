import type { Pool, PoolClient } from './pool';
import { createPool, inTransaction } from './pool';

/**
 * Database roles (created by the first migration):
 * - the login user of DATABASE_URL owns the tables and runs migrations;
 * - `iotplane_api`: NOSUPERUSER NOBYPASSRLS, owns nothing; every API request runs as it;
 * - `iotplane_writer`: BYPASSRLS; projectors and the ingester write as it with an
 *   explicit org_id taken from event metadata or the device identity.
 */
export const API_ROLE = 'iotplane_api';
export const WRITER_ROLE = 'iotplane_writer';

/**
 * One transaction on one checked-out client, as the API role, with the tenant
 * set transaction-locally so nothing survives into the next use of the
 * pooled connection.
 */
export function withTenant<T>(pool: Pool, orgId: string, fn: (tx: PoolClient) => Promise<T>): Promise<T> {
  return inTransaction(pool, async (tx) => {
    // set_config('role', …, true) is SET LOCAL ROLE; one round trip for both.
    await tx.query(`SELECT set_config('role', $1, true), set_config('app.org_id', $2, true)`, [API_ROLE, orgId]);
    return fn(tx);
  });
}

/** A transaction as the trusted writer role (projectors, ingest, auth lookups). */
export function asWriter<T>(pool: Pool, fn: (tx: PoolClient) => Promise<T>): Promise<T> {
  return inTransaction(pool, async (tx) => {
    await tx.query(`SET LOCAL ROLE ${WRITER_ROLE}`);
    return fn(tx);
  });
}

/**
 * A small pool whose sessions are the writer role for their whole life (set
 * at connection start): one round trip per lookup on hot paths (API-key
 * authentication) instead of a transaction that switches roles.
 */
export function createWriterPool(connectionString: string, max: number, applicationName: string): Pool {
  return createPool(connectionString, max, applicationName, `-c role=${WRITER_ROLE}`);
}
