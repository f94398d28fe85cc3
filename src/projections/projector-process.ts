import type { Logger } from '../platform/logger';
import type { Platform } from '../platform/platform';
import { PROJECTIONS } from './index';
import { ProjectionRunner, type RunnerOptions } from './projection-runner';

/** The projector role: one runner per projection; each is active in one process at a time. */
export function startProjectors(platform: Platform, log: Logger, options: RunnerOptions = {}): { stop(): Promise<void>; runners: ProjectionRunner[] } {
  const runners = PROJECTIONS.map(
    (projection) => new ProjectionRunner(platform.pool, platform.databaseUrl, platform.store, projection, log, options),
  );
  for (const runner of runners) runner.start();
  return {
    runners,
    async stop() {
      await Promise.all(runners.map((r) => r.stop()));
    },
  };
}
