import { randomUUID } from 'node:crypto';
import { exportBlobKey } from '../commands/exports/export.events';
import { exportCommands } from '../commands/exports/export.handler';
import type { BlobStore } from '../platform/blobs/blob-store.port';
import type { ExportsConfig } from '../platform/config';
import type { Pool } from '../platform/db/pool';
import { asWriter } from '../platform/db/roles';
import type { EventStore } from '../platform/event-store/event-store.port';
import type { Logger } from '../platform/logger';
import { ExportProgress, writeArchive } from './export-archive';
import { exportEntries, workUnits } from './export-entries';
import { exportManifest, exportOutcome } from './export-manifest';
import { claimExport, endRun, heartbeat, type ExportClaim } from './export-runs.queries';
import { resolvePlan } from './export-scope';
import { inTenantSnapshot } from './export-snapshot';

export interface ExportJobDeps {
  /** The platform pool: leases as the writer role, the export itself under the tenant's RLS. */
  readonly pool: Pool;
  readonly store: EventStore;
  readonly blobs: BlobStore;
  readonly config: ExportsConfig;
  readonly log: Logger;
  readonly workerId: string;
}

/** Why a running export stops before its end. */
export class ExportStopped extends Error {
  constructor(readonly why: 'cancelled' | 'lease-lost' | 'shutdown') {
    super(`export stopped: ${why}`);
    this.name = 'ExportStopped';
  }
}

export type ExportJobResult = 'not-claimed' | 'skipped' | 'ready' | 'failed' | 'stopped';

const REASON_MAX = 500;

/**
 * Claims one export and runs the attempt to its end: ExportStarted, the
 * archive streamed into the blob store, then ExportCompleted — or
 * ExportFailed with the reason. A heartbeat renews the lease, reports the
 * progress, and stops the attempt when the export was cancelled or the lease
 * was lost. The attempt writes its own file (`exports/<org>/<id>/<attempt>.zip`),
 * so an attempt that lost its lease cannot overwrite its successor's; such
 * a late attempt finds its ExportCompleted refused and deletes its file.
 */
export async function runExportJob(deps: ExportJobDeps, job: Omit<ExportClaim, 'attempt'>, stop: AbortSignal): Promise<ExportJobResult> {
  const { pool, store, blobs, config, workerId } = deps;
  const attempt = await asWriter(pool, (tx) => claimExport(tx, job.orgId, job.id, workerId, config.leaseSeconds));
  if (attempt === undefined) return 'not-claimed';
  const claim: ExportClaim = { ...job, attempt };
  const run = { orgId: job.orgId, id: job.id, attempt, workerId };
  const log = deps.log.child({ exportId: job.id, attempt });
  const ctx = () => ({ orgId: job.orgId, actor: 'system' as const, correlationId: randomUUID() });
  const deleteFiles = async (attempts: number[]): Promise<void> => {
    for (const n of attempts) await blobs.delete(exportBlobKey(job.orgId, job.id, n)).catch((err: unknown) => log.warn({ err }, 'export file not deleted; the sweep retries'));
  };
  const earlier = Array.from({ length: attempt - 1 }, (_, i) => i + 1);

  if (attempt > config.maxAttempts) {
    const times = attempt - 1 === 1 ? 'once' : `${attempt - 1} times`;
    await exportCommands.fail(store, ctx(), job.id, attempt, `The export was interrupted ${times} (its worker stopped mid-export) and was given up.`);
    await deleteFiles(earlier);
    await asWriter(pool, (tx) => endRun(tx, run, true));
    return 'failed';
  }
  const started = await exportCommands.start(store, ctx(), job.id, attempt, workerId);
  if (started.events.length === 0) {
    // Cancelled, or already finished, while the read model had not caught up yet.
    await asWriter(pool, (tx) => endRun(tx, run, false));
    return 'skipped';
  }
  await deleteFiles(earlier);
  log.info('export started');

  const controller = new AbortController();
  const onStop = (): void => controller.abort(stop.reason);
  stop.addEventListener('abort', onStop, { once: true });
  const progress = new ExportProgress(workUnits(claim));
  const beat = async (): Promise<void> => {
    const answer = await asWriter(pool, (tx) => heartbeat(tx, run, { rows: progress.rows, percent: progress.percent }, config.leaseSeconds));
    if (!answer.held) controller.abort(new ExportStopped('lease-lost'));
    else if (answer.status !== 'RUNNING' && answer.status !== 'PENDING') controller.abort(new ExportStopped('cancelled'));
  };
  const timer = setInterval(() => void beat().catch((err: unknown) => log.warn({ err }, 'export heartbeat failed')), config.heartbeatMs);
  const key = exportBlobKey(job.orgId, job.id, attempt);
  try {
    const generatedAt = new Date();
    const written = await inTenantSnapshot(pool, job.orgId, async (tx) => {
      const plan = await resolvePlan(tx, job.scopeType, job.scopeId);
      const entries = exportEntries(tx, claim, plan, progress);
      const manifest = (summaries: Parameters<typeof exportManifest>[2]) => exportManifest(claim, plan, summaries, generatedAt);
      return writeArchive(blobs, key, entries, manifest, { compressionLevel: config.compressionLevel, mtime: generatedAt, signal: controller.signal });
    });
    clearInterval(timer);
    const completedAt = new Date();
    const expiresAt = new Date(completedAt.getTime() + config.retentionHours * 3_600_000);
    const completed = await exportCommands.complete(store, ctx(), job.id, attempt, exportOutcome(key, written.sizeBytes, written.entries), expiresAt, completedAt);
    if (completed.events.length === 0) {
      // Cancelled at the last moment, or a newer attempt took over: this file is nobody's.
      await deleteFiles([attempt]);
      await asWriter(pool, (tx) => endRun(tx, run, true));
      return 'stopped';
    }
    await asWriter(pool, (tx) => endRun(tx, run, true));
    log.info({ sizeBytes: written.sizeBytes, rows: progress.rows }, 'export ready');
    return 'ready';
  } catch (error) {
    clearInterval(timer);
    const reason: unknown = controller.signal.aborted ? controller.signal.reason : undefined;
    if (reason instanceof ExportStopped) {
      log.info({ why: reason.why }, 'export stopped');
      // Lost: the lease belongs to another attempt now. Shutdown: free at once for another worker.
      if (reason.why !== 'lease-lost') await asWriter(pool, (tx) => endRun(tx, run, reason.why === 'cancelled'));
      return 'stopped';
    }
    log.error({ err: error }, 'export failed');
    const message = error instanceof Error ? error.message : String(error);
    await exportCommands.fail(store, ctx(), job.id, attempt, `The export failed: ${message}`.slice(0, REASON_MAX));
    await asWriter(pool, (tx) => endRun(tx, run, true));
    return 'failed';
  } finally {
    clearInterval(timer);
    stop.removeEventListener('abort', onStop);
  }
}

/** Stops the attempts of these exports whose status left RUNNING (a cancellation seen by the worker before a heartbeat). */
export function cancelStopped(running: ReadonlyMap<string, AbortController>, statuses: ReadonlyMap<string, string>): void {
  for (const [id, controller] of running) {
    const status = statuses.get(id);
    if (status !== undefined && status !== 'RUNNING' && status !== 'PENDING') controller.abort(new ExportStopped('cancelled'));
  }
}
