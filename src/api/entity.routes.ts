import { randomUUID } from 'node:crypto';
import type { EntityCommands } from '../commands/entities/entity.handler';
import type { EntityEvent } from '../commands/entities/entity.decider';
import type { CommandContext } from '../commands/decider';
import type { PoolClient } from '../platform/db/pool';
import { AppError, type FieldError } from '../platform/errors';
import type { EntityQueries } from './entity.queries';
import { defineRoutes, type RouteContext, type RouteSpec } from './route';

/** What a view holds beyond its fields, id, version and timestamps (e.g. a device's decommissionedAt). */
type ViewOnly<Fields, View> = Omit<View, keyof Fields | 'id' | 'version' | 'createdAt' | 'updatedAt'>;

/**
 * The view-only values of a new entity (`{ decommissionedAt: null }`), for
 * the answer to a create when the projection has not caught up within
 * READ_YOUR_WRITES_TIMEOUT_MS and the view is built from the event; required
 * whenever the view has such fields, so that answer is never incomplete.
 */
type NewView<Fields, View> = [keyof ViewOnly<Fields, View>] extends [never] ? { readonly newView?: ViewOnly<Fields, View> } : { readonly newView: ViewOnly<Fields, View> };

export interface EntityRouteSpec<Fields, View> {
  /** e.g. `/v1/sites` */
  readonly collection: string;
  readonly tag: string;
  /** Singular name for operation ids and messages, e.g. `Site` (createSite, getSite…). */
  readonly singular: string;
  readonly plural: string;
  /** Schema file; its $defs must include <Singular>, Create<Singular>, Update<Singular>, <Singular>Page, List<Plural>Query. */
  readonly schema: string;
  readonly commands: EntityCommands<Fields>;
  readonly queries: EntityQueries<View>;
  readonly notFound: () => Error;
  /** Create body → fields, with defaults; `command` names the actor for fields the platform sets (an annotation's author). */
  readonly toFields: (body: Record<string, unknown>, command: CommandContext) => Fields;
  /** Lower-case name for summaries when it is not `singular` in lower case, e.g. `sensor profile`. */
  readonly noun?: string;
  /**
   * References to other resources that must exist in the caller's
   * organization (checked under RLS): field path → check. Another
   * organization's id is refused exactly like a missing one. `id` is the
   * entity being updated (undefined on create).
   */
  readonly references?: (tx: PoolClient, fields: Partial<Fields>, id?: string) => Promise<FieldError[]>;
  /**
   * Values that must be unique in the organization, checked in the read
   * model under RLS after the references: the error (a 409) when another
   * entity holds one of them.
   */
  readonly conflicts?: (tx: PoolClient, fields: Partial<Fields>, id?: string) => Promise<Error | undefined>;
  /** Fills create fields from other read models (e.g. a default taken from a referenced resource). */
  readonly complete?: (tx: PoolClient, fields: Fields) => Promise<Fields>;
  /** Summary of what deleting means for this resource. */
  readonly deleteSummary?: string;
}

/** The five routes of an entity (create, list, get, update, delete), all through commands and read models. */
export function entityRoutes<Fields, View extends { id: string; version: number }>(spec: EntityRouteSpec<Fields, View> & NewView<Fields, View>): RouteSpec[] {
  const { collection, singular, plural, schema } = spec;
  const item = `${collection}/{id}`;
  const noun = spec.noun ?? singular.toLowerCase();

  const precheck = async (ctx: RouteContext, fields: Partial<Fields>, id?: string): Promise<void> => {
    if (!spec.references && !spec.conflicts) return;
    await ctx.tenant(async (tx) => {
      const errors = (await spec.references?.(tx, fields, id)) ?? [];
      if (errors.length > 0) throw new AppError('UNPROCESSABLE', 'A referenced resource does not exist.', errors);
      const conflict = await spec.conflicts?.(tx, fields, id);
      if (conflict) throw conflict;
    });
  };

  /**
   * Two creates can race past `conflicts`; the projection then keeps the
   * first and skips the other. The loser finds no row of its own but the
   * winner's: it undoes its create and answers the conflict, as if the
   * check had seen the winner.
   */
  const undoLostRace = async (ctx: RouteContext, id: string, fields: Fields): Promise<void> => {
    const conflicts = spec.conflicts;
    if (!conflicts) return;
    const conflict = await ctx.tenant(async (tx) => ((await spec.queries.find(tx, id)) ? undefined : conflicts(tx, fields)));
    if (!conflict) return;
    await spec.commands.remove(ctx.deps.store, ctx.command, id);
    throw conflict;
  };

  const respond = async (ctx: RouteContext, id: string, status: number, fallback?: View) => {
    const view = (await ctx.tenant((tx) => spec.queries.find(tx, id))) ?? fallback;
    if (!view) throw spec.notFound();
    return {
      status,
      body: view,
      version: view.version,
      ...(status === 201 ? { headers: { Location: `/api${collection}/${id}` } } : {}),
    };
  };

  return defineRoutes([
    {
      method: 'post',
      path: collection,
      operationId: `create${singular}`,
      summary: `Create a ${noun}`,
      tag: spec.tag,
      auth: 'member',
      body: `${schema}#/$defs/Create${singular}`,
      responses: { 201: `${schema}#/$defs/${singular}` },
      async handler(ctx) {
        const given = spec.toFields(ctx.body as Record<string, unknown>, ctx.command);
        await precheck(ctx, given);
        const complete = spec.complete;
        const fields = complete ? await ctx.tenant((tx) => complete(tx, given)) : given;
        const id = randomUUID();
        const result = await spec.commands.create(ctx.deps.store, ctx.command, id, fields);
        await ctx.settle(result);
        await undoLostRace(ctx, id, fields);
        const created = result.events[0] as EntityEvent<string, Fields> | undefined;
        const at = created && 'createdAt' in created.data ? created.data.createdAt : new Date().toISOString();
        const fallback = { ...fields, ...spec.newView, id, version: 0, createdAt: at, updatedAt: at } as unknown as View;
        return respond(ctx, id, 201, fallback);
      },
    },
    {
      method: 'get',
      path: collection,
      operationId: `list${plural}`,
      summary: `List ${spec.noun ? `${spec.noun}s` : plural.toLowerCase()}`,
      tag: spec.tag,
      auth: 'viewer',
      query: `${schema}#/$defs/List${plural}Query`,
      responses: { 200: `${schema}#/$defs/${singular}Page` },
      async handler(ctx) {
        return { status: 200, body: await ctx.tenant((tx) => spec.queries.list(tx, ctx.query)) };
      },
    },
    {
      method: 'get',
      path: item,
      operationId: `get${singular}`,
      summary: `One ${noun}`,
      tag: spec.tag,
      auth: 'viewer',
      responses: { 200: `${schema}#/$defs/${singular}` },
      async handler(ctx) {
        return respond(ctx, ctx.params.id as string, 200);
      },
    },
    {
      method: 'patch',
      path: item,
      operationId: `update${singular}`,
      summary: `Change fields of a ${noun} (If-Match supported)`,
      tag: spec.tag,
      auth: 'member',
      body: `${schema}#/$defs/Update${singular}`,
      responses: { 200: `${schema}#/$defs/${singular}` },
      async handler(ctx) {
        const id = ctx.params.id as string;
        const changes = ctx.body as Partial<Fields>;
        await precheck(ctx, changes, id);
        const result = await spec.commands.update(ctx.deps.store, ctx.command, id, changes, ctx.ifMatch);
        await ctx.settle(result);
        return respond(ctx, id, 200);
      },
    },
    {
      method: 'delete',
      path: item,
      operationId: `delete${singular}`,
      summary: spec.deleteSummary ?? `Delete a ${noun} (If-Match supported)`,
      tag: spec.tag,
      auth: 'member',
      responses: { 204: null },
      async handler(ctx) {
        const result = await spec.commands.remove(ctx.deps.store, ctx.command, ctx.params.id as string, ctx.ifMatch);
        await ctx.settle(result);
        return { status: 204 };
      },
    },
  ]);
}
