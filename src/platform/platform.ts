import type { Config } from './config';
import { openDatabase } from './db/database-url';
import { migrate } from './db/migrate';
import { createPool, type Pool } from './db/pool';
import type { EventStore } from './event-store/event-store.port';
import { openEventStore } from './event-store/open-event-store';
import type { Logger } from './logger';

/** The outside world a process talks to, opened from config by a composition root. */
export interface Platform {
  readonly config: Config;
  readonly log: Logger;
  readonly databaseUrl: string;
  readonly pool: Pool;
  readonly store: EventStore;
  close(): Promise<void>;
}

export async function openPlatform(config: Config, log: Logger, options: { poolSize?: number; name?: string } = {}): Promise<Platform> {
  const database = await openDatabase(config.databaseUrl, config.dataDir);
  const pool = createPool(database.url, options.poolSize ?? 20, options.name ?? 'iotplane');
  try {
    const applied = await migrate(pool);
    if (applied.length > 0) log.info({ module: 'migrate', applied }, 'migrations applied');
  } catch (error) {
    await pool.end();
    throw error;
  }
  const store = openEventStore(config.eventStoreUrl, pool, database.url);
  return {
    config,
    log,
    databaseUrl: database.url,
    pool,
    store,
    async close() {
      await store.close();
      await pool.end();
      // The embedded server keeps running if another process uses it; stop only ours.
      await database.stop();
    },
  };
}
