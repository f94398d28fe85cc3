import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from './embedded-postgres';

export interface Database {
  readonly url: string;
  stop(): Promise<void>;
}

const EMBEDDED_DATABASE = 'iotplane';

/**
 * DATABASE_URL when configured; otherwise the embedded Postgres under
 * `dataDir/postgres` (started, or found running), with its own `iotplane`
 * database created on first use.
 */
export async function openDatabase(databaseUrl: string | undefined, dataDir: string): Promise<Database> {
  if (databaseUrl) return { url: databaseUrl, stop: async () => undefined };
  const server = await startEmbeddedPostgres(path.join(dataDir, 'postgres'));
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [EMBEDDED_DATABASE]);
    if (exists.rowCount === 0) {
      await admin.query(`CREATE DATABASE ${EMBEDDED_DATABASE}`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error; // created concurrently
      });
    }
  } finally {
    await admin.end();
  }
  const url = new URL(server.url);
  url.pathname = `/${EMBEDDED_DATABASE}`;
  return { url: url.toString(), stop: () => server.stop() };
}
