import { randomUUID } from 'node:crypto';
import { checkContent } from '../../commands/config-artefacts/config-artefact.content';
import { configArtefactArchived, configArtefactNotFound, type ContentSchema } from '../../commands/config-artefacts/config-artefact.decider';
import { configArtefactCommands } from '../../commands/config-artefacts/config-artefact.handler';
import { ConflictError, NotFoundError } from '../../platform/errors';
import { defineRoutes, type RouteContext, type RouteResult } from '../route';
import {
  configArtefactNameTaken,
  findConfigArtefact,
  findConfigArtefactVersion,
  listConfigArtefacts,
  listConfigArtefactVersions,
  type ConfigArtefactDetailView,
  type ListConfigArtefactsQuery,
} from './config-artefacts.queries';

const COLLECTION = '/v1/config-artefacts';
const ITEM = `${COLLECTION}/{id}`;
const TAG = 'Config';
const SCHEMA = 'config-artefacts#/$defs';

const nameTaken = (): ConflictError => new ConflictError('CONFIG_ARTEFACT_NAME_TAKEN', 'Another config artefact of the organization has this name.');
const versionNotFound = (): NotFoundError => new NotFoundError('CONFIG_ARTEFACT_VERSION_NOT_FOUND', 'The config artefact has no such version.');

/** The artefact of the path, read under RLS: another organization's id answers like a random one. */
async function artefactOf(ctx: RouteContext): Promise<ConfigArtefactDetailView> {
  const artefact = await ctx.tenant((tx) => findConfigArtefact(tx, ctx.params.id as string));
  if (!artefact) throw configArtefactNotFound();
  return artefact;
}

async function respond(ctx: RouteContext, id: string, status: number): Promise<RouteResult> {
  const artefact = await ctx.tenant((tx) => findConfigArtefact(tx, id));
  if (!artefact) throw configArtefactNotFound();
  return {
    status,
    body: artefact,
    version: artefact.version,
    ...(status === 201 ? { headers: { Location: `/api${COLLECTION}/${id}` } } : {}),
  };
}

async function assertNameFree(ctx: RouteContext, name: string, id?: string): Promise<void> {
  if (await ctx.tenant((tx) => configArtefactNameTaken(tx, name, id))) throw nameTaken();
}

export const configArtefactRoutes = defineRoutes([
  {
    method: 'post',
    path: COLLECTION,
    operationId: 'createConfigArtefact',
    summary: 'Create a config artefact with its first version',
    tag: TAG,
    auth: 'member',
    body: `${SCHEMA}/CreateConfigArtefact`,
    responses: { 201: `${SCHEMA}/ConfigArtefactDetail` },
    async handler(ctx) {
      const body = ctx.body as { name: string; description?: string | null; content: unknown; schema?: ContentSchema };
      const checked = checkContent(body.content, body.schema ?? null);
      await assertNameFree(ctx, body.name);
      const id = randomUUID();
      const fields = { name: body.name, description: body.description ?? null };
      await ctx.settle(await configArtefactCommands.create(ctx.deps.store, ctx.command, id, fields, checked));
      return respond(ctx, id, 201);
    },
  },
  {
    method: 'get',
    path: COLLECTION,
    operationId: 'listConfigArtefacts',
    summary: 'List config artefacts (without content)',
    tag: TAG,
    auth: 'viewer',
    query: `${SCHEMA}/ListConfigArtefactsQuery`,
    responses: { 200: `${SCHEMA}/ConfigArtefactPage` },
    async handler(ctx) {
      const query = ctx.query as unknown as ListConfigArtefactsQuery;
      return { status: 200, body: await ctx.tenant((tx) => listConfigArtefacts(tx, query)) };
    },
  },
  {
    method: 'get',
    path: ITEM,
    operationId: 'getConfigArtefact',
    summary: 'One config artefact with its latest version’s content',
    tag: TAG,
    auth: 'viewer',
    responses: { 200: `${SCHEMA}/ConfigArtefactDetail` },
    handler: (ctx) => respond(ctx, ctx.params.id as string, 200),
  },
  {
    method: 'patch',
    path: ITEM,
    operationId: 'updateConfigArtefact',
    summary: 'Rename or describe a config artefact (If-Match supported)',
    tag: TAG,
    auth: 'member',
    body: `${SCHEMA}/UpdateConfigArtefact`,
    responses: { 200: `${SCHEMA}/ConfigArtefactDetail` },
    async handler(ctx) {
      const id = (await artefactOf(ctx)).id;
      const changes = ctx.body as { name?: string; description?: string | null };
      if (changes.name !== undefined) await assertNameFree(ctx, changes.name, id);
      await ctx.settle(await configArtefactCommands.update(ctx.deps.store, ctx.command, id, changes, ctx.ifMatch));
      return respond(ctx, id, 200);
    },
  },
  {
    method: 'post',
    path: `${ITEM}/archive`,
    operationId: 'archiveConfigArtefact',
    summary: 'Archive a config artefact: its versions stay readable, it takes no new ones (replaces delete)',
    tag: TAG,
    auth: 'member',
    responses: { 200: `${SCHEMA}/ConfigArtefactDetail` },
    async handler(ctx) {
      const id = (await artefactOf(ctx)).id;
      await ctx.settle(await configArtefactCommands.archive(ctx.deps.store, ctx.command, id, ctx.ifMatch));
      return respond(ctx, id, 200);
    },
  },
  {
    method: 'post',
    path: `${ITEM}/versions`,
    operationId: 'addConfigArtefactVersion',
    summary: 'Add a version (the same content as the latest answers the latest, 200)',
    tag: TAG,
    auth: 'member',
    body: `${SCHEMA}/AddConfigArtefactVersion`,
    responses: { 200: `${SCHEMA}/ConfigArtefactVersion`, 201: `${SCHEMA}/ConfigArtefactVersion` },
    async handler(ctx) {
      const artefact = await artefactOf(ctx);
      if (artefact.status === 'ARCHIVED') throw configArtefactArchived();
      const body = ctx.body as { content: unknown; schema?: ContentSchema };
      // Without a schema of its own, a version is held to the latest version's schema.
      const checked = checkContent(body.content, body.schema === undefined ? artefact.schema : body.schema);
      const result = await configArtefactCommands.addVersion(ctx.deps.store, ctx.command, artefact.id, checked);
      await ctx.settle(result);
      const added = result.events[0];
      const number = added?.type === 'ConfigArtefactVersionAdded' ? added.data.version : artefact.latestVersion;
      const version = await ctx.tenant((tx) => findConfigArtefactVersion(tx, artefact.id, number));
      if (!version) throw versionNotFound();
      return {
        status: added ? 201 : 200,
        body: version,
        ...(added ? { headers: { Location: `/api${COLLECTION}/${artefact.id}/versions/${number}` } } : {}),
      };
    },
  },
  {
    method: 'get',
    path: `${ITEM}/versions`,
    operationId: 'listConfigArtefactVersions',
    summary: 'Versions of a config artefact, oldest first',
    tag: TAG,
    auth: 'viewer',
    query: `${SCHEMA}/ListConfigArtefactVersionsQuery`,
    responses: { 200: `${SCHEMA}/ConfigArtefactVersionPage` },
    async handler(ctx) {
      const { id } = await artefactOf(ctx);
      const query = ctx.query as { limit: number; cursor?: string };
      return { status: 200, body: await ctx.tenant((tx) => listConfigArtefactVersions(tx, id, query)) };
    },
  },
  {
    method: 'get',
    path: `${ITEM}/versions/{version}`,
    operationId: 'getConfigArtefactVersion',
    summary: 'One version of a config artefact, with its content',
    tag: TAG,
    auth: 'viewer',
    textParams: ['version'],
    responses: { 200: `${SCHEMA}/ConfigArtefactVersion` },
    async handler(ctx) {
      const { id } = await artefactOf(ctx);
      const raw = ctx.params.version as string;
      if (!/^[1-9][0-9]{0,8}$/.test(raw)) throw versionNotFound();
      const version = await ctx.tenant((tx) => findConfigArtefactVersion(tx, id, Number(raw)));
      if (!version) throw versionNotFound();
      return { status: 200, body: version };
    },
  },
]);
