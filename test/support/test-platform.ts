import { rm } from 'node:fs/promises';
import { loadConfig, type Config } from '../../src/platform/config';
import { createLogger } from '../../src/platform/logger';
import type { Platform } from '../../src/platform/platform';
import { PostgresEventStore } from '../../src/platform/event-store/postgres-event-store';
import { createTestDatabase, type TestDatabase } from './test-database';

export interface TestPlatform extends Platform {
  readonly db: TestDatabase;
}

/** A platform on a fresh test database: real Postgres, Postgres event store, quiet logs. */
export async function createTestPlatform(env: Record<string, string> = {}): Promise<TestPlatform> {
  const db = await createTestDatabase(20);
  const config: Config = loadConfig({
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATA_DIR: `/tmp/iotplane-test-data-${process.pid}`,
    DATABASE_URL: db.url,
    PUBLIC_URL: 'http://iotplane.test',
    JWT_SECRET: 'test-secret-that-is-at-least-32-characters-long',
    READ_YOUR_WRITES_TIMEOUT_MS: '5000',
    ...env,
  });
  const store = new PostgresEventStore(db.pool, db.url);
  return {
    db,
    config,
    log: createLogger(config.logLevel),
    databaseUrl: db.url,
    pool: db.pool,
    store,
    async close() {
      await store.close();
      await db.drop();
      // The device CA generated there on start holds a private key: leave none behind.
      await rm(config.dataDir, { recursive: true, force: true });
    },
  };
}
