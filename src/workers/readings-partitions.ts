import cron from 'node-cron';
import type { Pool } from '../platform/db/pool';
import type { Logger } from '../platform/logger';
import { maintainReadings, type MaintenanceReport } from './readings-maintenance';

export interface ReadingsPartitionsOptions {
  /** The database owner's pool: creating and dropping partitions needs the owner. */
  readonly pool: Pool;
  readonly log: Logger;
  readonly defaultRetentionDays: number;
  readonly aheadDays: number;
  /** node-cron expression (default: hourly, at minute 7). */
  readonly schedule?: string;
  readonly now?: () => Date;
}

export interface ReadingsPartitions {
  /** One run now (skipped, `ran: false`, while another process runs it). */
  runOnce(): Promise<MaintenanceReport>;
  stop(): Promise<void>;
}

/**
 * Keeps the readings table's daily partitions created ahead and applies
 * retention (src/workers/readings-maintenance.ts): at start, then on a
 * schedule. An advisory lock makes several workers safe: one runs, the
 * others skip that round.
 */
export function startReadingsPartitions(options: ReadingsPartitionsOptions): ReadingsPartitions {
  const { pool, log } = options;
  const runOnce = () =>
    maintainReadings(pool, {
      defaultRetentionDays: options.defaultRetentionDays,
      aheadDays: options.aheadDays,
      log,
      ...(options.now ? { now: options.now() } : {}),
    });
  let current: Promise<void> = Promise.resolve();
  const runLogged = (): Promise<void> => {
    current = runOnce().then(
      (report) => {
        if (!report.ran) log.debug('readings maintenance is running in another process; skipped');
      },
      (err: unknown) => log.error({ err }, 'readings maintenance failed'),
    );
    return current;
  };
  const task = cron.schedule(options.schedule ?? '7 * * * *', runLogged, { noOverlap: true, name: 'readings-partitions' });
  void runLogged();
  return {
    runOnce,
    async stop() {
      await task.destroy();
      // A run in progress finishes its current statement sequence; the pool closes after.
      await current;
    },
  };
}
