import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { exportNotFound } from '../../commands/exports/export.decider';
import { withTenant } from '../../platform/db/roles';
import { AppError, ForbiddenError } from '../../platform/errors';
import { parseRange } from '../byte-range';
import type { RouteContext, RouteResult } from '../route';
import { ZIP_TYPE, archiveName } from './exports.links';
import { findExport } from './exports.queries';

const forbidden = (): ForbiddenError =>
  new ForbiddenError('EXPORT_DOWNLOAD_FORBIDDEN', 'The download URL is not valid: altered, expired or not for this export. GET the export for a fresh one.');

/**
 * GET /v1/exports/{id}/download?org&expires&signature — the API's own
 * download URL (local blob store). The signature is the credential: it
 * names the organization, whose tenant transaction then finds the export.
 * The body streams from the store (200, or 206 for one Range); past the
 * headers a failure can only cut the connection, which the client sees as
 * a short body.
 */
export async function downloadExport(ctx: RouteContext): Promise<RouteResult> {
  const id = ctx.params.id as string;
  const grant = ctx.deps.exportLinks.verify(id, ctx.query);
  if (!grant) throw forbidden();
  const found = await withTenant(ctx.deps.pool, grant.orgId, (tx) => findExport(tx, id));
  if (!found || found.view.status !== 'READY' || found.file.blobKey === null) throw exportNotFound();
  const { blobs } = ctx.deps;
  const key = found.file.blobKey;
  const info = await blobs.stat(key);
  if (!info) throw new AppError('EXPORT_NOT_FOUND', 'The export’s file is gone.');
  const { res, req } = ctx;
  const etag = `"${createHash('sha256').update(`${key}\n${info.sizeBytes}`).digest('base64url').slice(0, 27)}"`;
  const ifRange = req.header('if-range');
  const answer = ifRange === undefined || ifRange === etag ? parseRange(req.header('range'), info.sizeBytes) : ({ kind: 'whole' } as const);
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('ETag', etag);
  if (answer.kind === 'unsatisfiable') {
    res.setHeader('Content-Range', `bytes */${info.sizeBytes}`);
    throw new AppError('EXPORT_RANGE_NOT_SATISFIABLE', `The range lies outside the file’s ${info.sizeBytes} bytes.`);
  }
  const range = answer.kind === 'partial' ? answer.range : undefined;
  const body = await blobs.read(key, range);
  res.status(range ? 206 : 200);
  res.setHeader('Content-Type', ZIP_TYPE);
  res.setHeader('Content-Length', String(range ? range.end - range.start + 1 : info.sizeBytes));
  res.setHeader('Content-Disposition', `attachment; filename="${archiveName(id)}"`);
  res.setHeader('Cache-Control', 'private, no-store');
  if (range) res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${info.sizeBytes}`);
  pipeline(body, res).catch((err: unknown) => {
    // A client that leaves early is normal; anything else is worth a line.
    const early = (err as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE';
    ctx.deps.log[early ? 'debug' : 'warn']({ err, exportId: id }, 'export download cut short');
    res.destroy();
  });
  return { status: range ? 206 : 200, streamed: true };
}
