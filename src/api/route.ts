import type { Request, Response } from 'express';
import type { CommandContext } from '../commands/decider';
import type { CommandResult } from '../commands/command-handler';
import type { Role } from '../commands/roles';
import type { PoolClient } from '../platform/db/pool';
import type { ApiDeps } from './api-deps';
import type { Principal } from './auth/principal';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * One route, declared once: the router, the OpenAPI document and the
 * cross-tenant probe suite are all generated from these.
 */
export interface RouteSpec {
  readonly method: HttpMethod;
  /** OpenAPI-style path under /api, e.g. `/v1/sites/{id}`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly tag: string;
  /** Minimum role, or `public` for unauthenticated routes. */
  readonly auth: Role | 'public';
  /** Schema of the JSON body (`file#/$defs/Name`). */
  readonly body?: string;
  /** Schema of the query object; properties become query parameters. */
  readonly query?: string;
  /** Path parameters that are not uuids (uuids are the default). */
  readonly textParams?: readonly string[];
  /** Status → response schema; null for no body. */
  readonly responses: Readonly<Record<number, string | null>>;
  /**
   * Non-JSON success content type (e.g. text/html). With `text/event-stream`
   * the success response's schema is that of each event's data.
   */
  readonly produces?: string;
  /**
   * The response holds a secret shown once (a registration token): it must
   * never be stored, so an Idempotency-Key, whose replay would store it, is refused.
   */
  readonly showsSecretOnce?: boolean;
  /**
   * The handler answers a non-finite number (`1e400` parses as Infinity) in its
   * body itself, item by item (the readings batch door quarantines it as
   * NON_FINITE_VALUE); every other body with one is refused with 400.
   */
  readonly handlesNonFiniteNumbers?: true;
  /** Problem statuses documented besides the usual ones, e.g. 503 for a query that may time out. */
  readonly problems?: readonly number[];
  readonly handler: (ctx: RouteContext) => Promise<RouteResult>;
}

export interface RouteResult {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Version of a single resource; sent as ETag. */
  readonly version?: number | bigint;
  /** The handler took the response over (Server-Sent Events): nothing more is sent. */
  readonly streamed?: boolean;
}

export interface RouteContext {
  readonly req: Request;
  readonly res: Response;
  readonly deps: ApiDeps;
  readonly principal: Principal;
  readonly body: unknown;
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, unknown>>;
  /** The expected version from If-Match, when the client sent one. */
  readonly ifMatch: bigint | undefined;
  /** Context for commands issued by this request. */
  readonly command: CommandContext;
  /** Runs `fn` in one transaction as the API role, scoped to the caller's organization. */
  tenant<T>(fn: (tx: PoolClient) => Promise<T>): Promise<T>;
  /** Read-your-writes: waits (bounded) until the projections of these events have caught up. */
  settle(result: Pick<CommandResult<{ type: string }>, 'events' | 'position'>): Promise<void>;
}

export function defineRoutes(routes: RouteSpec[]): RouteSpec[] {
  return routes;
}
