import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/platform/db/embedded-postgres';
import { createPool } from '../../src/platform/db/pool';
import { migrate } from '../../src/platform/db/migrate';
import { TEMPLATE_DATABASE, databaseUrl } from './database-names';

/**
 * Runs once per `npm test`: a real Postgres (DATABASE_URL, else an embedded
 * one in a temporary folder) and a migrated template database that every test
 * file copies into a database of its own.
 */
export default async function globalSetup(): Promise<void> {
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const dir = path.join(os.tmpdir(), `iotplane-test-pg-${process.pid}`);
    const server = await startEmbeddedPostgres(dir, { persistent: false });
    (globalThis as { __embeddedPostgres?: unknown }).__embeddedPostgres = server;
    adminUrl = server.url;
  }
  process.env.TEST_ADMIN_DATABASE_URL = adminUrl;

  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  await admin.end();

  const pool = createPool(databaseUrl(adminUrl, TEMPLATE_DATABASE), 2);
  await migrate(pool);
  await pool.end();
}
