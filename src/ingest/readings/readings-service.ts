import type { Registry } from 'prom-client';
import { CheckpointWatcher } from '../../platform/checkpoints/checkpoint-watcher';
import type { Logger } from '../../platform/logger';
import type { Platform } from '../../platform/platform';
import { PROJECTIONS } from '../../projections';
import { IngestMetrics } from './ingest-metrics';
import { ReadingsBatcher, type BatchReport } from './readings-batcher';
import { ReadingsPipeline } from './readings-pipeline';
import { ReadingsWriter } from './readings-writer';
import { SensorDirectory } from './sensor-directory';
import { AlertEvaluator } from '../alerts/alert-evaluator';

/** The platform's pool, event store and config (a test may hand in another pool), the log and the metrics registry. */
export type ReadingsServiceDeps = Pick<Platform, 'pool' | 'databaseUrl' | 'store' | 'config'> & {
  readonly log: Logger;
  readonly registry: Registry;
};

export interface ReadingsService {
  readonly pipeline: ReadingsPipeline;
  readonly metrics: IngestMetrics;
  /** Streaming alert evaluation of every reading the pipeline takes. */
  readonly alerts: AlertEvaluator;
  /** Called after every committed batch (the MQTT door confirms sequence numbers from it). */
  onWritten(listener: (report: BatchReport) => void): void;
  /** Everything received so far is committed. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The readings pipeline of one process, shared by its doors (MQTT ingest
 * and the API's batch route): one sensor directory, one batcher, one
 * writer, and the alert evaluator that watches what it takes.
 */
export async function startReadingsService(deps: ReadingsServiceDeps): Promise<ReadingsService> {
  const { ingest } = deps.config;
  // Read at scrape time only, after the batcher below exists.
  const metrics = new IngestMetrics(deps.registry, () => batcher.bufferedRows);
  const watcher = new CheckpointWatcher(deps.pool, deps.databaseUrl, PROJECTIONS);
  const directory = new SensorDirectory(deps.pool, deps.store, watcher, deps.log, deps.config.readingsRetentionDays);
  await directory.start();
  const writer = new ReadingsWriter(deps.pool, deps.log);
  const listeners: ((report: BatchReport) => void)[] = [];
  const batcher = new ReadingsBatcher(
    (batch) => writer.write(batch),
    (report) => {
      metrics.batchRows.observe(report.rows);
      metrics.batchSeconds.observe(report.seconds);
      const { duplicates, refused, dropped } = report.result;
      if (duplicates > 0) metrics.readings.inc({ outcome: 'duplicate', source: 'ALL' }, duplicates);
      for (const entry of refused) metrics.quarantined.inc({ reason: entry.reason, source: entry.source });
      if (dropped > 0) metrics.rejected.inc({ reason: 'STORAGE_REFUSED', source: 'ALL' }, dropped);
      for (const listener of listeners) listener(report);
    },
    deps.log,
    { batchRows: ingest.batchRows, flushMs: ingest.flushMs, writers: ingest.writers, maxBufferedRows: ingest.maxBufferedRows },
  );
  const hours = 3_600_000;
  const pipeline = new ReadingsPipeline(directory, batcher, (part) => writer.writeOrThrow(part), metrics, {
    live: { maxFutureMs: ingest.maxFutureSeconds * 1000, maxAgeMs: ingest.maxAgeHours * hours },
    backfill: { maxFutureMs: ingest.maxFutureSeconds * 1000, maxAgeMs: ingest.backfillDays * 24 * hours },
  }, deps.log);
  const alerts = new AlertEvaluator(deps.pool, deps.store, watcher, deps.log, deps.registry);
  await alerts.start();
  pipeline.observer = (sensor, reading) => alerts.observe(sensor.sensorId, reading.ts, reading.tsMs, reading.value);
  return {
    pipeline,
    metrics,
    alerts,
    onWritten(listener) {
      listeners.push(listener);
    },
    drain: () => batcher.drain(),
    async stop() {
      await batcher.stop();
      await alerts.stop();
      await directory.stop();
      await watcher.stop();
    },
  };
}
