import { randomUUID } from 'node:crypto';
import { exportNotFound } from '../../commands/exports/export.decider';
import { exportBlobKey, type ExportFormat, type ExportInclude, type ExportRequest, type ExportScopeType } from '../../commands/exports/export.events';
import { exportCommands } from '../../commands/exports/export.handler';
import { AppError, NotFoundError } from '../../platform/errors';
import { defineRoutes, type RouteContext, type RouteResult } from '../route';
import { downloadExport } from './exports.download';
import { ZIP_TYPE } from './exports.links';
import { findExport, listExports, scopeExists, type ExportView, type ListExportsQuery } from './exports.queries';

const COLLECTION = '/v1/exports';
const ITEM = `${COLLECTION}/{id}`;
const TAG = 'Exports';
const SCHEMA = 'exports#/$defs';
const DAY_MS = 86_400_000;

interface CreateExportBody {
  scopeType: ExportScopeType;
  scopeId: string;
  from: string;
  to: string;
  includes: ExportInclude[];
  format?: ExportFormat;
}

/** The request checked against what the schema cannot say: the range, and that the scope is the caller's. */
async function checkedRequest(ctx: RouteContext, body: CreateExportBody): Promise<ExportRequest> {
  const from = new Date(body.from);
  const to = new Date(body.to);
  const maxDays = ctx.deps.config.exports.maxRangeDays;
  if (from >= to) throw new AppError('EXPORT_RANGE_INVALID', 'from must be before to.', [{ path: '/body/to', message: 'must be after from' }]);
  if (to.getTime() - from.getTime() > maxDays * DAY_MS) {
    throw new AppError('EXPORT_RANGE_INVALID', `An export covers at most ${maxDays} days.`, [{ path: '/body/to', message: `must be at most ${maxDays} days after from` }]);
  }
  if (!(await ctx.tenant((tx) => scopeExists(tx, body.scopeType, body.scopeId)))) {
    throw new NotFoundError('EXPORT_SCOPE_NOT_FOUND', 'The scope of the export does not exist.');
  }
  return {
    id: randomUUID(),
    scopeType: body.scopeType,
    scopeId: body.scopeId.toLowerCase(),
    from: from.toISOString(),
    to: to.toISOString(),
    // In a fixed order, so equal requests are equal jobs.
    includes: (['READINGS', 'ANNOTATIONS', 'ALERTS', 'EVENTS'] as const).filter((include) => body.includes.includes(include)),
    format: body.format ?? 'CSV',
  };
}

/** The export with a fresh download URL when it is ready. */
async function present(ctx: RouteContext, id: string): Promise<ExportView> {
  const found = await ctx.tenant((tx) => findExport(tx, id));
  if (!found) throw exportNotFound();
  const { view, file } = found;
  if (view.status === 'READY' && file.blobKey !== null && view.expiresAt !== undefined) {
    const downloadUrl = await ctx.deps.exportLinks.downloadUrl({ orgId: file.orgId, id, blobKey: file.blobKey, expiresAt: new Date(view.expiresAt) });
    if (downloadUrl !== undefined) return { ...view, downloadUrl };
  }
  return view;
}

/** Deletes every file the export's attempts may have written; what fails is left to the workers' sweep. */
async function deleteFiles(ctx: RouteContext, orgId: string, id: string, attempts: number): Promise<void> {
  for (let attempt = 1; attempt <= attempts; attempt++) {
    await ctx.deps.blobs.delete(exportBlobKey(orgId, id, attempt)).catch((err: unknown) => ctx.deps.log.warn({ err, exportId: id }, 'export file not deleted; the sweep retries'));
  }
}

async function remove(ctx: RouteContext): Promise<RouteResult> {
  const id = ctx.params.id as string;
  const found = await ctx.tenant((tx) => findExport(tx, id));
  if (!found) throw exportNotFound();
  const result = await exportCommands.delete(ctx.deps.store, ctx.command, id);
  await ctx.settle(result);
  const cancelled = result.events.some((e) => e.type === 'ExportCancelled');
  // A running worker notices the cancellation at its next heartbeat and removes its own file; earlier attempts' files go now.
  await deleteFiles(ctx, found.file.orgId, id, cancelled ? found.file.attempt - 1 : found.file.attempt);
  return cancelled ? { status: 200, body: await present(ctx, id) } : { status: 204 };
}

export const exportRoutes = defineRoutes([
  {
    method: 'post',
    path: COLLECTION,
    operationId: 'createExport',
    summary: 'Request an export of a device, site, group or the organization over a time range (201, PENDING; poll GET /exports/{id})',
    tag: TAG,
    auth: 'member',
    body: `${SCHEMA}/CreateExport`,
    responses: { 201: `${SCHEMA}/ExportJob` },
    async handler(ctx) {
      const request = await checkedRequest(ctx, ctx.body as CreateExportBody);
      const now = new Date();
      await ctx.settle(await exportCommands.request(ctx.deps.store, ctx.command, request, now));
      // The job as created, not as read back: a worker may already have started it.
      const body: ExportView = { ...request, status: 'PENDING', requestedBy: ctx.command.actor, createdAt: now.toISOString() };
      return { status: 201, body, headers: { Location: `/api${COLLECTION}/${request.id}` } };
    },
  },
  {
    method: 'get',
    path: COLLECTION,
    operationId: 'listExports',
    summary: 'Exports, newest first (filters: status, scopeType, scopeId); GET one for its download URL',
    tag: TAG,
    auth: 'viewer',
    query: `${SCHEMA}/ListExportsQuery`,
    responses: { 200: `${SCHEMA}/ExportPage` },
    async handler(ctx) {
      const query = ctx.query as unknown as ListExportsQuery;
      return { status: 200, body: await ctx.tenant((tx) => listExports(tx, query)) };
    },
  },
  {
    method: 'get',
    path: ITEM,
    operationId: 'getExport',
    summary: 'One export: its status and progress; when READY, the counts, expiresAt and a fresh short-lived downloadUrl',
    tag: TAG,
    auth: 'viewer',
    responses: { 200: `${SCHEMA}/ExportJob` },
    handler: async (ctx) => ({ status: 200, body: await present(ctx, ctx.params.id as string) }),
  },
  {
    method: 'delete',
    path: ITEM,
    operationId: 'deleteExport',
    summary: 'Cancel a pending or running export (200, CANCELLED), or delete a finished one and its file (204)',
    tag: TAG,
    auth: 'member',
    responses: { 200: `${SCHEMA}/ExportJob`, 204: null },
    handler: remove,
  },
  {
    method: 'get',
    path: `${ITEM}/download`,
    operationId: 'downloadExport',
    summary: 'The export’s zip, through a signed downloadUrl (no credentials; Range supported)',
    tag: TAG,
    auth: 'public',
    query: `${SCHEMA}/ExportDownloadQuery`,
    produces: ZIP_TYPE,
    responses: { 200: `${SCHEMA}/ExportArchive`, 206: `${SCHEMA}/ExportArchive` },
    problems: [403, 404, 416],
    handler: downloadExport,
  },
]);
