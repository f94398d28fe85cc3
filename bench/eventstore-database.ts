import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/platform/db/embedded-postgres';
import { migrate } from '../src/platform/db/migrate';
import { createPool, type Pool } from '../src/platform/db/pool';

export interface BenchDatabase {
  readonly url: string;
  readonly pool: Pool;
  /** `embedded` or the host of DATABASE_URL. */
  readonly server: string;
  close(): Promise<void>;
}

/**
 * A fresh, migrated database on DATABASE_URL's server, or on an embedded
 * Postgres in a temporary folder; dropped (and the server stopped) on close.
 */
export async function openBenchDatabase(poolSize: number): Promise<BenchDatabase> {
  let adminUrl = process.env.DATABASE_URL;
  let stopServer = async (): Promise<void> => undefined;
  let server = adminUrl ? new URL(adminUrl).host : 'embedded';
  if (!adminUrl) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'iotplane-bench-pg-'));
    const embedded = await startEmbeddedPostgres(dir, { persistent: false, unixSocket: true });
    adminUrl = embedded.url;
    server = `embedded (${dir})`;
    stopServer = async () => {
      await embedded.stop();
      await rm(dir, { recursive: true, force: true });
    };
  }
  const name = `iotplane_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pool = createPool(url.toString(), poolSize, 'bench-eventstore');
  await migrate(pool);
  return {
    url: url.toString(),
    pool,
    server,
    async close() {
      await pool.end();
      const drop = new pg.Client({ connectionString: adminUrl });
      await drop.connect();
      await drop.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await drop.end();
      await stopServer();
    },
  };
}

/** The settings that decide append latency, printed beside the figures. */
export async function serverSettings(pool: Pool): Promise<Record<string, string>> {
  const { rows } = await pool.query<{ name: string; setting: string }>(
    `SELECT name, setting FROM pg_settings WHERE name IN ('server_version', 'fsync', 'synchronous_commit', 'shared_buffers', 'wal_level')`,
  );
  return Object.fromEntries(rows.map((r) => [r.name, r.setting]));
}
