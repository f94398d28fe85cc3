import { randomUUID } from 'node:crypto';
import { deterministicId } from '../../commands/command-handler';
import { packInstallationNotFound, type PackTargetType } from '../../commands/packs/pack-installation.decider';
import { checkPackContent, type PackContent } from '../../commands/packs/pack.content';
import { packNotFound } from '../../commands/packs/pack.decider';
import { packCommands, packInstallationCommands } from '../../commands/packs/pack.handler';
import { AppError, NotFoundError } from '../../platform/errors';
import { unknownReferences } from '../entity.queries';
import { defineRoutes, type RouteContext } from '../route';
import { deviceGroupQueries } from './device-groups.queries';
import { installContent, planUpgrade, uninstallContent, upgradeContent, type InstallEnvironment } from './pack-installer';
import { findPack, findPackInstallation, findPackVersion, listPackInstallations, listPacks } from './packs.queries';
import { siteQueries } from './sites.routes';

const SCHEMA = 'packs#/$defs';
const TAG = 'Packs';
/** The document `export` writes and `import` reads. */
const EXPORT_FORMAT = 'iotplane-pack/1';

const packVersionNotFound = (): NotFoundError => new NotFoundError('PACK_VERSION_NOT_FOUND', 'The pack has no such version.');

/**
 * A version of a pack of the caller's organization; `version` is a number,
 * the `{version}` path text (a positive integer, anything else names no
 * version), or undefined for the latest. The pack is looked up first, so
 * another organization's pack answers like a missing one whatever the version.
 */
async function versionOf(ctx: RouteContext, packId: string, version?: number | string) {
  return ctx.tenant(async (tx) => {
    const pack = await findPack(tx, packId);
    if (!pack) throw packNotFound();
    if (typeof version === 'string' && !/^[1-9][0-9]{0,8}$/.test(version)) throw packVersionNotFound();
    const found = await findPackVersion(tx, packId, version === undefined ? pack.latestVersion : Number(version));
    if (!found) throw packVersionNotFound();
    return found;
  });
}

async function createPack(ctx: RouteContext, fields: { name: string; description: string | null; content: PackContent }) {
  checkPackContent(fields.content);
  const id = randomUUID();
  await ctx.settle(await packCommands.create(ctx.deps.store, ctx.command, id, fields));
  const pack = await ctx.tenant((tx) => findPack(tx, id));
  if (!pack) throw packNotFound();
  return { status: 201, body: pack, headers: { Location: `/api/v1/packs/${id}` } };
}

async function installation(ctx: RouteContext, id: string) {
  const found = await ctx.tenant((tx) => findPackInstallation(tx, id));
  if (!found) throw packInstallationNotFound();
  return found;
}

export const packRoutes = defineRoutes([
  {
    method: 'post',
    path: '/v1/packs',
    operationId: 'createPack',
    summary: 'Create a pack (version 1): sensor profiles, device profiles, alert rule templates and config artefacts to install together',
    tag: TAG,
    auth: 'member',
    body: `${SCHEMA}/CreatePack`,
    responses: { 201: `${SCHEMA}/Pack` },
    handler: (ctx) => {
      const body = ctx.body as { name: string; description?: string | null; content: PackContent };
      return createPack(ctx, { name: body.name, description: body.description ?? null, content: body.content });
    },
  },
  {
    method: 'get',
    path: '/v1/packs',
    operationId: 'listPacks',
    summary: 'List packs',
    tag: TAG,
    auth: 'viewer',
    query: `${SCHEMA}/ListPacksQuery`,
    responses: { 200: `${SCHEMA}/PackPage` },
    async handler(ctx) {
      const query = ctx.query as unknown as { limit: number; cursor?: string };
      return { status: 200, body: await ctx.tenant((tx) => listPacks(tx, query)) };
    },
  },
  {
    method: 'get',
    path: '/v1/packs/{id}',
    operationId: 'getPack',
    summary: 'One pack',
    tag: TAG,
    auth: 'viewer',
    responses: { 200: `${SCHEMA}/Pack` },
    async handler(ctx) {
      const pack = await ctx.tenant((tx) => findPack(tx, ctx.params.id as string));
      if (!pack) throw packNotFound();
      return { status: 200, body: pack };
    },
  },
  {
    method: 'post',
    path: '/v1/packs/{id}/versions',
    operationId: 'addPackVersion',
    summary: 'Add a version (immutable once added); content equal to the latest version adds none and answers the latest',
    tag: TAG,
    auth: 'member',
    body: `${SCHEMA}/AddPackVersion`,
    responses: { 201: `${SCHEMA}/PackVersion` },
    async handler(ctx) {
      const id = ctx.params.id as string;
      const { content } = ctx.body as { content: PackContent };
      if (!(await ctx.tenant((tx) => findPack(tx, id)))) throw packNotFound();
      checkPackContent(content);
      await ctx.settle(await packCommands.addVersion(ctx.deps.store, ctx.command, id, content));
      const latest = await versionOf(ctx, id);
      return { status: 201, body: latest, headers: { Location: `/api/v1/packs/${id}/versions/${latest.version}` } };
    },
  },
  {
    method: 'get',
    path: '/v1/packs/{id}/versions/{version}',
    operationId: 'getPackVersion',
    summary: 'One version of a pack with its content',
    tag: TAG,
    auth: 'viewer',
    textParams: ['version'],
    responses: { 200: `${SCHEMA}/PackVersion` },
    async handler(ctx) {
      return { status: 200, body: await versionOf(ctx, ctx.params.id as string, ctx.params.version) };
    },
  },
  {
    method: 'get',
    path: '/v1/packs/{id}/versions/{version}/export',
    operationId: 'exportPack',
    summary: 'A pack version as a JSON document that `POST /packs/import` takes in any organization',
    tag: TAG,
    auth: 'viewer',
    textParams: ['version'],
    responses: { 200: `${SCHEMA}/PackDocument` },
    async handler(ctx) {
      const id = ctx.params.id as string;
      const version = await versionOf(ctx, id, ctx.params.version);
      const pack = await ctx.tenant((tx) => findPack(tx, id));
      if (!pack) throw packNotFound();
      return { status: 200, body: { format: EXPORT_FORMAT, name: pack.name, description: pack.description, version: version.version, content: version.content } };
    },
  },
  {
    method: 'post',
    path: '/v1/packs/import',
    operationId: 'importPack',
    summary: 'Create a pack from an exported document (a new pack of the caller’s organization, version 1)',
    tag: TAG,
    auth: 'member',
    body: `${SCHEMA}/PackDocument`,
    responses: { 201: `${SCHEMA}/Pack` },
    handler: (ctx) => {
      const doc = ctx.body as { name: string; description?: string | null; content: PackContent };
      return createPack(ctx, { name: doc.name, description: doc.description ?? null, content: doc.content });
    },
  },
  {
    method: 'post',
    path: '/v1/packs/{id}/installations',
    operationId: 'installPack',
    summary: 'Install a pack version (default: the latest) on a site or device group; installing it again answers the same installation (200)',
    tag: TAG,
    auth: 'member',
    body: `${SCHEMA}/InstallPack`,
    responses: { 200: `${SCHEMA}/PackInstallation`, 201: `${SCHEMA}/PackInstallation` },
    async handler(ctx) {
      const packId = ctx.params.id as string;
      const body = ctx.body as { version?: number; targetType: PackTargetType; targetId: string };
      const targetId = body.targetId.toLowerCase();
      const version = await versionOf(ctx, packId, body.version);
      const missing = await ctx.tenant((tx) => unknownReferences(tx, body.targetType === 'SITE' ? siteQueries : deviceGroupQueries, [{ path: '/body/targetId', id: targetId }]));
      if (missing.length > 0) throw new AppError('UNPROCESSABLE', 'The target does not exist.', missing);
      const id = deterministicId(ctx.command.orgId, packId, body.targetType, targetId);
      const existing = await ctx.tenant((tx) => findPackInstallation(tx, id));
      if (existing?.status === 'INSTALLED' && existing.version === version.version) return { status: 200, body: existing };
      const env: InstallEnvironment = { installationId: id, generation: await packInstallationCommands.generation(ctx.deps.store, id), targetType: body.targetType, targetId };
      if (existing?.status === 'INSTALLED') {
        throw new AppError('PACK_ALREADY_INSTALLED', `Version ${existing.version} of the pack is installed on this target; upgrade it instead.`);
      }
      const resources = await installContent(ctx, env, version.content);
      const now = new Date().toISOString();
      await ctx.settle(
        await packInstallationCommands.record(ctx.deps.store, ctx.command, id, {
          type: 'RecordInstall',
          data: { id, packId, version: version.version, targetType: body.targetType, targetId, resources, now },
        }),
      );
      return { status: 201, body: await installation(ctx, id), headers: { Location: `/api/v1/pack-installations/${id}` } };
    },
  },
  {
    method: 'get',
    path: '/v1/pack-installations',
    operationId: 'listPackInstallations',
    summary: 'Pack installations (filters: packId, targetId, status)',
    tag: TAG,
    auth: 'viewer',
    query: `${SCHEMA}/ListPackInstallationsQuery`,
    responses: { 200: `${SCHEMA}/PackInstallationPage` },
    async handler(ctx) {
      const query = ctx.query as unknown as Parameters<typeof listPackInstallations>[1];
      return { status: 200, body: await ctx.tenant((tx) => listPackInstallations(tx, query)) };
    },
  },
  {
    method: 'get',
    path: '/v1/pack-installations/{id}',
    operationId: 'getPackInstallation',
    summary: 'One pack installation with the resources it made',
    tag: TAG,
    auth: 'viewer',
    responses: { 200: `${SCHEMA}/PackInstallation` },
    async handler(ctx) {
      return { status: 200, body: await installation(ctx, ctx.params.id as string) };
    },
  },
  {
    method: 'post',
    path: '/v1/pack-installations/{id}/upgrade',
    operationId: 'upgradePackInstallation',
    summary: 'Move an installation to another version of its pack; `?dryRun=true` only shows what would be added, changed and removed',
    tag: TAG,
    auth: 'member',
    query: `${SCHEMA}/UpgradePackQuery`,
    body: `${SCHEMA}/UpgradePack`,
    responses: { 200: `${SCHEMA}/PackUpgrade` },
    async handler(ctx) {
      const current = await installation(ctx, ctx.params.id as string);
      if (current.status !== 'INSTALLED') throw packInstallationNotFound();
      const { version: wanted } = ctx.body as { version: number };
      const dryRun = (ctx.query as { dryRun?: boolean }).dryRun === true;
      const target = await versionOf(ctx, current.packId, wanted);
      const plan = planUpgrade(current.resources, target.content);
      if (dryRun || target.version === current.version) return { status: 200, body: { dryRun, fromVersion: current.version, toVersion: target.version, plan, installation: current } };
      const env: InstallEnvironment = { installationId: current.id, generation: (await packInstallationCommands.generation(ctx.deps.store, current.id)) - 1, targetType: current.targetType, targetId: current.targetId };
      const resources = await upgradeContent(ctx, env, current.resources, target.content);
      await ctx.settle(await packInstallationCommands.record(ctx.deps.store, ctx.command, current.id, { type: 'RecordUpgrade', data: { toVersion: target.version, resources, now: new Date().toISOString() } }));
      return { status: 200, body: { dryRun, fromVersion: current.version, toVersion: target.version, plan, installation: await installation(ctx, current.id) } };
    },
  },
  {
    method: 'delete',
    path: '/v1/pack-installations/{id}',
    operationId: 'uninstallPack',
    summary: 'Uninstall: removes what the installation made (profiles still in use are kept and listed in `kept`)',
    tag: TAG,
    auth: 'member',
    responses: { 200: `${SCHEMA}/PackInstallation` },
    async handler(ctx) {
      const current = await installation(ctx, ctx.params.id as string);
      if (current.status !== 'INSTALLED') throw packInstallationNotFound();
      const kept = await uninstallContent(ctx, current.resources);
      await ctx.settle(await packInstallationCommands.record(ctx.deps.store, ctx.command, current.id, { type: 'RecordUninstall', data: { kept, now: new Date().toISOString() } }));
      return { status: 200, body: await installation(ctx, current.id) };
    },
  },
]);
