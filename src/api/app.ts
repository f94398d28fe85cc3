import { randomUUID } from 'node:crypto';
import express from 'express';
import type { ApiDeps } from './api-deps';
import { problemBody, problemHandler, sendProblem } from './problem';
import type { RouteSpec } from './route';
import { buildRouter } from './router';
import { healthRouter } from './routes/health';

export const MAX_BODY_BYTES = 1024 * 1024;

/** The Express app: request ids, JSON bodies (1 MiB), /healthz, /readyz, /api/*, problem+json errors. */
export function createApp(deps: ApiDeps, routes: readonly RouteSpec[], projections: readonly { name: string; eventTypes: readonly string[] }[]): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((req, res, next) => {
    const incoming = req.header('x-request-id');
    const requestId = incoming && /^[\w.:-]{1,128}$/.test(incoming) ? incoming : randomUUID();
    req.headers['x-request-id'] = requestId;
    res.setHeader('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      deps.log.info({ requestId, method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
    });
    next();
  });
  app.use(express.json({ limit: MAX_BODY_BYTES, strict: true, type: ['application/json', 'application/*+json'] }));
  app.use(healthRouter(deps, projections));
  app.use('/api', buildRouter(routes, deps));
  app.use((_req, res) => sendProblem(res, problemBody('ROUTE_NOT_FOUND', 'No such route.')));
  app.use(problemHandler(deps.log));
  return app;
}
