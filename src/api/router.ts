import { randomUUID } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import { roleAtLeast } from '../commands/roles';
import { withTenant } from '../platform/db/roles';
import { unstorableValue } from '../platform/db/storable-values';
import { AppError, ForbiddenError, ValidationError, type FieldError } from '../platform/errors';
import type { ApiDeps } from './api-deps';
import { ANONYMOUS, type Principal } from './auth/principal';
import { IdempotencyStore } from './idempotency';
import { problemBody, sendProblem } from './problem';
import type { RouteContext, RouteResult, RouteSpec } from './route';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function expressPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}

export function pathParams(path: string): string[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
}

/** Literal segments before parameters, so `/devices/registration` wins over `/devices/{id}`. */
function specificity(route: RouteSpec): string {
  return route.path
    .split('/')
    .map((segment) => (segment.startsWith('{') ? '1' : '0'))
    .join('');
}

export function buildRouter(routes: readonly RouteSpec[], deps: ApiDeps): express.Router {
  const router = express.Router();
  const idempotency = new IdempotencyStore(deps.pool);
  const ordered = [...routes].sort((a, b) => specificity(a).localeCompare(specificity(b)));
  for (const route of ordered) {
    router[route.method](expressPath(route.path), (req, res) => runRoute(route, deps, idempotency, req, res));
  }
  // A known path with another method: 405 with Allow.
  const byPath = new Map<string, Set<string>>();
  for (const route of routes) byPath.set(route.path, (byPath.get(route.path) ?? new Set()).add(route.method.toUpperCase()));
  for (const [path, methods] of byPath) {
    router.all(expressPath(path), (_req, res) => {
      res.setHeader('Allow', [...methods].join(', '));
      sendProblem(res, problemBody('METHOD_NOT_ALLOWED', `Allowed methods: ${[...methods].join(', ')}.`));
    });
  }
  return router;
}

async function runRoute(route: RouteSpec, deps: ApiDeps, idempotency: IdempotencyStore, req: Request, res: Response): Promise<void> {
  const principal = route.auth === 'public' ? ANONYMOUS : await deps.authenticator.authenticate(req.header('authorization'));
  if (route.auth !== 'public') {
    applyRateLimit(deps, principal, res);
    if (!roleAtLeast(principal.role, route.auth)) {
      throw new ForbiddenError('INSUFFICIENT_ROLE', `This operation needs the ${route.auth} role; you have ${principal.role}.`);
    }
  }
  const params = validateParams(route, req.params as Record<string, string>);
  const query = validateQuery(route, deps, req);
  const body = validateBody(route, deps, req);
  const ctx = createContext(deps, req, res, principal, params, query, body);

  const key = req.header('idempotency-key');
  if (key !== undefined && route.showsSecretOnce) {
    throw new ValidationError('Idempotency-Key is not accepted here: the response holds a secret that is never stored.', [
      { path: '/headers/idempotency-key', message: 'is not accepted on this operation' },
    ]);
  }
  if (route.method !== 'post' || key === undefined || principal.kind === 'anonymous') {
    send(res, await route.handler(ctx), route.produces);
    return;
  }
  const hash = IdempotencyStore.requestHash(route.method, req.originalUrl, body);
  const replay = await idempotency.begin(principal.orgId, principal.subject, key, hash);
  if (replay) {
    res.setHeader('Idempotent-Replayed', 'true');
    send(res, replay);
    return;
  }
  let result: RouteResult;
  try {
    result = await route.handler(ctx);
  } catch (error) {
    if (error instanceof AppError && error.status < 500) {
      const problem = problemBody(error.code, error.message, error.errors, error.extra);
      await idempotency.complete(principal.orgId, principal.subject, key, { status: problem.status, headers: {}, body: problem });
    } else {
      await idempotency.abandon(principal.orgId, principal.subject, key).catch(() => undefined);
    }
    throw error;
  }
  const headers = { ...(result.headers ?? {}), ...(result.version !== undefined ? { ETag: etag(result.version) } : {}) };
  await idempotency.complete(principal.orgId, principal.subject, key, { status: result.status, headers, body: result.body ?? null });
  send(res, result, route.produces);
}

function createContext(
  deps: ApiDeps,
  req: Request,
  res: Response,
  principal: Principal,
  params: Record<string, string>,
  query: Record<string, unknown>,
  body: unknown,
): RouteContext {
  const correlationId = req.header('x-request-id') ?? randomUUID();
  return {
    req,
    res,
    deps,
    principal,
    body,
    params,
    query,
    ifMatch: parseIfMatch(req.header('if-match')),
    command: { orgId: principal.orgId, actor: principal.actor, correlationId },
    tenant: (fn) => withTenant(deps.pool, principal.orgId, fn),
    async settle(result) {
      if (!result.position || result.events.length === 0) return;
      const names = deps.watcher.projectionsFor(result.events.map((e) => e.type));
      await deps.watcher.waitFor(names, result.position, deps.config.readYourWritesTimeoutMs);
    },
  };
}

function applyRateLimit(deps: ApiDeps, principal: Principal, res: Response): void {
  const kind = principal.kind === 'user' ? 'user' : 'apiKey';
  const decision = deps.rateLimiter.take(kind, principal.subject, principal.orgId);
  res.setHeader('RateLimit-Limit', String(decision.limit));
  res.setHeader('RateLimit-Remaining', String(decision.remaining));
  res.setHeader('RateLimit-Reset', String(decision.resetSeconds));
  res.setHeader('RateLimit-Policy', `${decision.limit};w=60;name="${decision.limitName}"`);
  if (!decision.allowed) {
    res.setHeader('Retry-After', String(decision.resetSeconds));
    throw new AppError('RATE_LIMITED', `The ${decision.limitName} rate limit of ${decision.limit} requests per minute was exceeded.`, [], {
      limit: decision.limitName,
    });
  }
}

function validateParams(route: RouteSpec, raw: Record<string, string>): Record<string, string> {
  const errors: FieldError[] = [];
  const params: Record<string, string> = {};
  for (const name of pathParams(route.path)) {
    const value = raw[name] ?? '';
    if (!route.textParams?.includes(name) && !UUID.test(value)) errors.push({ path: `/params/${name}`, message: 'must be a UUID' });
    params[name] = route.textParams?.includes(name) ? value : value.toLowerCase();
  }
  if (errors.length > 0) throw new ValidationError('A path parameter is malformed.', errors);
  return params;
}

/** Field errors of a part of the request, with their paths under it (`/body/name`). */
function under(part: string, errors: readonly FieldError[]): FieldError[] {
  return errors.map((e) => ({ ...e, path: `${part}${e.path === '/' ? '' : e.path}` }));
}

function validateQuery(route: RouteSpec, deps: ApiDeps, req: Request): Record<string, unknown> {
  const query: Record<string, unknown> = { ...(req.query as Record<string, unknown>) };
  if (!route.query) return query;
  // After the schema: its coercion turns `1e400` into Infinity, which no bound refuses.
  const errors = deps.schemas.validateQuery(route.query, query);
  const unstorable = errors.length === 0 ? unstorableValue(query) : undefined;
  if (unstorable) errors.push(unstorable);
  if (errors.length > 0) throw new ValidationError('The query string is invalid.', under('/query', errors));
  return query;
}

function validateBody(route: RouteSpec, deps: ApiDeps, req: Request): unknown {
  if (!route.body) return undefined;
  if (!req.is(['application/json', 'application/*+json'])) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.');
  }
  const body: unknown = req.body;
  // U+0000 and nesting first, whatever the schema says; non-finite numbers after it, which names the field's type where it has one.
  const nul = unstorableValue(body, { nonFinite: 'allowed' });
  const errors = nul ? [nul] : deps.schemas.validateBody(route.body, body);
  const nonFinite = errors.length === 0 && !route.handlesNonFiniteNumbers ? unstorableValue(body) : undefined;
  if (nonFinite) errors.push(nonFinite);
  if (errors.length > 0) throw new ValidationError('The request body is invalid.', under('/body', errors));
  return body;
}

export function etag(version: number | bigint): string {
  return `"${version.toString()}"`;
}

function parseIfMatch(header: string | undefined): bigint | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*(?:W\/)?"(\d{1,18})"\s*$/.exec(header);
  if (!match) throw new AppError('PRECONDITION_FAILED', 'If-Match must be an ETag from this API, e.g. "3".');
  return BigInt(match[1] as string);
}

function send(
  res: Response,
  result: { status: number; body?: unknown; headers?: Readonly<Record<string, string>>; version?: number | bigint; streamed?: boolean },
  produces?: string,
): void {
  if (result.streamed) return;
  for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, value);
  if (result.version !== undefined) res.setHeader('ETag', etag(result.version));
  if (result.body === undefined || result.body === null || result.status === 204) {
    res.status(result.status).end();
    return;
  }
  if (produces && typeof result.body === 'string') {
    res.status(result.status).type(produces).send(result.body);
    return;
  }
  res.status(result.status).json(result.body);
}
