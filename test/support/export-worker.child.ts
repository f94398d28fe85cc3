import { getHeapStatistics } from 'node:v8';
import { loadConfig } from '../../src/platform/config';
import { LocalBlobStore } from '../../src/platform/blobs/local-blob-store';
import { createPool } from '../../src/platform/db/pool';
import { PostgresEventStore } from '../../src/platform/event-store/postgres-event-store';
import { createLogger } from '../../src/platform/logger';
import { startExportWorker } from '../../src/workers/exports';
import { GatedBlobStore } from './gated-blob-store';

/**
 * An export worker in a process of its own (spawned by ts-child.ts), for the
 * tests that kill a worker mid-export or bound its heap. Configured by the
 * environment (DATABASE_URL, DATA_DIR, EXPORT_*) like the real worker role.
 * EXPORT_CHILD_HOLD_BYTES set: writes stop after that many bytes (the
 * export stays RUNNING until the process is killed). Otherwise it runs
 * every runnable export, then reports its peak memory and exits.
 * Reports are JSON lines on stdout.
 */
const say = (message: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(message)}\n`);

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const url = config.databaseUrl ?? '';
  const pool = createPool(url, 4, 'export-worker-child');
  const store = new PostgresEventStore(pool, url);
  const local = new LocalBlobStore(config.blobStore.kind === 'local' ? config.blobStore.root : '');
  const hold = process.env.EXPORT_CHILD_HOLD_BYTES;
  const blobs = hold === undefined ? local : new GatedBlobStore(local, Number(hold));
  const peak = { rss: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  const sample = (): void => {
    const now = process.memoryUsage();
    peak.rss = Math.max(peak.rss, now.rss);
    peak.heapUsed = Math.max(peak.heapUsed, now.heapUsed);
    peak.external = Math.max(peak.external, now.external);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, now.arrayBuffers);
  };
  const worker = await startExportWorker({ pool, databaseUrl: url, store, blobs, config: config.exports, log: createLogger('silent'), workerId: `child-${process.pid}` });
  const baseline = process.memoryUsage();
  const sampler = setInterval(sample, 5);
  say({ event: 'started', workerId: worker.workerId, baseline });
  if (hold !== undefined) return;
  const started = Date.now();
  await worker.idle();
  clearInterval(sampler);
  sample();
  say({ event: 'idle', seconds: (Date.now() - started) / 1000, baseline, peak, heapLimit: getHeapStatistics().heap_size_limit });
  await worker.stop();
  await store.close();
  await pool.end();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
