import express from 'express';
import { comparePositions } from '../../platform/event-store/event-store.port';
import type { ApiDeps } from '../api-deps';

/** How old an unprojected event may be before the API reports itself not ready. */
const MAX_PROJECTION_LAG_MS = 10_000;

/**
 * Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the
 * database and event store answer, and every projection has applied all
 * events older than a few seconds). Not under /api: for load balancers.
 */
export function healthRouter(deps: ApiDeps, projections: readonly { name: string; eventTypes: readonly string[] }[]): express.Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // Prometheus text format; like the probes, for the operator's network, not under /api.
  router.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', deps.metrics.contentType);
    res.send(await deps.metrics.metrics());
  });
  router.get('/readyz', async (_req, res) => {
    const checks: Record<string, boolean> = {};
    checks.database = await deps.pool.query('SELECT 1').then(() => true, () => false);
    checks.eventStore = await deps.store.headPosition().then(() => true, () => false);
    checks.projections = await projectionsCaughtUp(deps, projections).catch(() => false);
    Object.assign(checks, (await deps.readiness?.().catch(() => ({ extra: false }))) ?? {});
    const ok = Object.values(checks).every(Boolean);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', checks });
  });
  return router;
}

async function projectionsCaughtUp(deps: ApiDeps, projections: readonly { name: string; eventTypes: readonly string[] }[]): Promise<boolean> {
  for (const projection of projections) {
    if ((await projectionLagMs(deps, projection)) > MAX_PROJECTION_LAG_MS) return false;
  }
  return true;
}

/** How long the oldest event a projection handles and has not applied has been waiting (0 when caught up). */
export async function projectionLagMs(
  deps: Pick<ApiDeps, 'store' | 'watcher'>,
  projection: { readonly name: string; readonly eventTypes: readonly string[] },
): Promise<number> {
  await deps.watcher.start();
  const at = deps.watcher.position(projection.name);
  const pending = await deps.store.readAll({
    ...(at ? { fromPosition: at } : {}),
    maxCount: 1,
    filter: { eventTypes: projection.eventTypes },
  });
  const oldest = pending.events[0];
  if (!oldest || (at && comparePositions(oldest.position, at) <= 0)) return 0;
  return Math.max(0, Date.now() - oldest.createdAt.getTime());
}
