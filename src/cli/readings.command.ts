import { maintainReadings, readingsStorageStatus } from '../workers/readings-maintenance';
import { withPlatform } from './cli-platform';

/** `admin readings partitions`: storage mode, partitions (or chunks) with approximate rows, retention per organization. */
export async function readingsPartitionsCommand(options: { json?: boolean }): Promise<void> {
  await withPlatform(async (platform) => {
    const status = await readingsStorageStatus(platform.pool, platform.config.readingsRetentionDays);
    if (options.json) {
      process.stdout.write(`${JSON.stringify(status)}\n`);
      return;
    }
    process.stdout.write(
      `storage: ${status.mode}; default retention ${status.defaultRetentionDays} days; longest ${status.longestRetentionDays} days ` +
        `(windows ending before ${status.dropBefore} are dropped)\n`,
    );
    console.table(status.windows.map((w) => ({ ...w, attached: w.attached ? 'yes' : 'DETACHED' })));
    console.table(status.organizations);
  });
}

/** `admin readings maintain`: the worker's job once, now; prints what it did. */
export async function readingsMaintainCommand(options: { json?: boolean }): Promise<void> {
  await withPlatform(async (platform) => {
    const report = await maintainReadings(platform.pool, {
      defaultRetentionDays: platform.config.readingsRetentionDays,
      aheadDays: platform.config.partitionsAheadDays,
      log: platform.log,
    });
    if (options.json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
      return;
    }
    if (!report.ran) {
      process.stdout.write('another process is running the readings maintenance now; nothing done\n');
      return;
    }
    const lines = [
      `storage ${report.mode ?? '?'}; longest retention ${report.longestRetentionDays ?? '?'} days`,
      `created: ${report.created.join(', ') || 'none'}`,
      `dropped: ${report.dropped.join(', ') || 'none'}`,
      ...report.purged.map((p) => `purged ${p.window}: ${Object.entries(p.rows).map(([org, n]) => `${org} ${n} rows`).join(', ')}`),
      ...report.failures.map((f) => `FAILED ${f.step} ${f.target}: ${f.error} (the next run retries)`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  });
}
