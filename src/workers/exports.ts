import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { CheckpointWatcher } from '../platform/checkpoints/checkpoint-watcher';
import { asWriter } from '../platform/db/roles';
import { exportsProjection } from '../projections/exports.projection';
import { ExportStopped, cancelStopped, runExportJob, type ExportJobDeps } from './export-job';
import { exportStatuses, runnableExports } from './export-runs.queries';

export interface ExportWorkerOptions extends Omit<ExportJobDeps, 'workerId'> {
  /** For the LISTEN connection that wakes the worker when the exports read model moves. */
  readonly databaseUrl: string;
  readonly workerId?: string;
}

export interface ExportWorker {
  readonly workerId: string;
  /** Exports running in this worker now. */
  readonly running: number;
  /** Resolves once no export is runnable and none runs here (tests). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs export jobs (docs/exports.md): up to `concurrency` at once, taken
 * from the exports read model by a lease in export_runs, so any number of
 * worker processes share the jobs and each runs on exactly one. It wakes
 * when the exports projection's checkpoint moves (a new job, a
 * cancellation) and polls every `pollMs` besides, which is also how a job
 * whose worker died is found once its lease has run out.
 */
export async function startExportWorker(options: ExportWorkerOptions): Promise<ExportWorker> {
  const workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const deps: ExportJobDeps = { ...options, workerId };
  const { pool, config, log } = options;
  const running = new Map<string, AbortController>();
  const jobs = new Set<Promise<void>>();
  let stopped = false;
  let filling: Promise<void> | undefined;
  let again = false;

  const checkCancellations = async (): Promise<void> => {
    if (running.size === 0) return;
    cancelStopped(running, await asWriter(pool, (tx) => exportStatuses(tx, [...running.keys()])));
  };

  const launch = (job: Awaited<ReturnType<typeof runnableExports>>[number]): void => {
    const controller = new AbortController();
    running.set(job.id, controller);
    const done: Promise<void> = runExportJob(deps, job, controller.signal)
      .then(() => undefined, (err: unknown) => log.error({ err, exportId: job.id }, 'export job failed unexpectedly'))
      .finally(() => {
        running.delete(job.id);
        jobs.delete(done);
        wake();
      });
    jobs.add(done);
  };

  /** Claims runnable jobs into the free slots; repeated while woken meanwhile. */
  const fill = async (): Promise<void> => {
    do {
      again = false;
      await checkCancellations();
      const free = config.concurrency - running.size;
      if (stopped || free <= 0) continue;
      const candidates = await asWriter(pool, (tx) => runnableExports(tx, free));
      for (const job of candidates) {
        if (stopped || running.size >= config.concurrency) break;
        if (!running.has(job.id)) launch(job);
      }
    } while (again && !stopped);
  };

  function wake(): void {
    if (stopped) return;
    if (filling) {
      again = true;
      return;
    }
    filling = fill()
      .catch((err: unknown) => log.error({ err }, 'export worker round failed'))
      .finally(() => {
        filling = undefined;
      });
  }

  const watcher = new CheckpointWatcher(pool, options.databaseUrl, [exportsProjection]);
  await watcher.start();
  const unsubscribe = watcher.onAdvance(exportsProjection.name, wake);
  const timer = setInterval(wake, config.pollMs);
  wake();
  log.info({ workerId, concurrency: config.concurrency }, 'export worker started');

  return {
    workerId,
    get running() {
      return running.size;
    },
    async idle() {
      for (;;) {
        await filling;
        await Promise.all(jobs);
        const left = await asWriter(pool, (tx) => runnableExports(tx, 1));
        if (left.length === 0 && jobs.size === 0 && !filling) return;
        wake();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      unsubscribe();
      // Running attempts give their lease back at once: another worker starts them again from scratch.
      for (const controller of running.values()) controller.abort(new ExportStopped('shutdown'));
      await filling;
      await Promise.all(jobs);
      await watcher.stop();
    },
  };
}
