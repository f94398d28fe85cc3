import type { ExportFormat, ExportInclude, ExportScopeType, ExportStatus } from '../../commands/exports/export.events';
import type { Queryable } from '../../platform/db/pool';
import { decodeCursor, toPage, type Page } from '../pagination';

/** An export as the API shows it; which optional fields are present depends on the status. */
export interface ExportView {
  id: string;
  scopeType: ExportScopeType;
  scopeId: string;
  from: string;
  to: string;
  includes: ExportInclude[];
  format: ExportFormat;
  status: ExportStatus;
  requestedBy: string;
  createdAt: string;
  startedAt?: string;
  progress?: { rowsSoFar: number; percent: number | null };
  sizeBytes?: number;
  readingCount?: number;
  annotationCount?: number;
  alertCount?: number;
  eventCount?: number;
  completedAt?: string;
  expiresAt?: string;
  downloadUrl?: string;
  reason?: string;
  failedAt?: string;
  cancelledAt?: string;
  expiredAt?: string;
}

/** What serving the file needs besides the view. */
export interface ExportFile {
  readonly orgId: string;
  readonly blobKey: string | null;
  /** Attempts started so far: each wrote (or may have begun) its own file. */
  readonly attempt: number;
}

interface ExportRow {
  org_id: string;
  id: string;
  scope_type: ExportScopeType;
  scope_id: string;
  from_ts: Date;
  to_ts: Date;
  includes: ExportInclude[];
  format: ExportFormat;
  status: ExportStatus;
  requested_by: string;
  created_at: Date;
  attempt: number;
  started_at: Date | null;
  completed_at: Date | null;
  expires_at: Date | null;
  blob_key: string | null;
  size_bytes: number | null;
  reading_count: number | null;
  annotation_count: number | null;
  alert_count: number | null;
  event_count: number | null;
  failure_reason: string | null;
  failed_at: Date | null;
  cancelled_at: Date | null;
  expired_at: Date | null;
  rows_so_far: number | null;
  percent: number | null;
}

const SELECT = `SELECT e.org_id, e.id, e.scope_type, e.scope_id, e.from_ts, e.to_ts, e.includes, e.format, e.status, e.requested_by, e.created_at,
       e.attempt, e.started_at, e.completed_at, e.expires_at, e.blob_key, e.size_bytes, e.reading_count, e.annotation_count, e.alert_count,
       e.event_count, e.failure_reason, e.failed_at, e.cancelled_at, e.expired_at, r.rows_so_far, r.percent
  FROM exports e LEFT JOIN export_runs r ON r.org_id = e.org_id AND r.export_id = e.id`;

const iso = (value: Date | null): string | undefined => value?.toISOString();

/**
 * A READY export whose expiresAt has passed answers EXPIRED at once, before
 * the expiry job has deleted its file and recorded ExportExpired.
 */
function toView(row: ExportRow, now: Date): ExportView {
  const expired = row.status === 'READY' && row.expires_at !== null && row.expires_at <= now;
  const status: ExportStatus = expired ? 'EXPIRED' : row.status;
  const view: ExportView = {
    id: row.id,
    scopeType: row.scope_type,
    scopeId: row.scope_id,
    from: row.from_ts.toISOString(),
    to: row.to_ts.toISOString(),
    includes: row.includes,
    format: row.format,
    status,
    requestedBy: row.requested_by,
    createdAt: row.created_at.toISOString(),
  };
  const optional: Partial<ExportView> = {
    startedAt: iso(row.started_at),
    progress: status === 'RUNNING' ? { rowsSoFar: row.rows_so_far ?? 0, percent: row.percent } : undefined,
    sizeBytes: row.size_bytes ?? undefined,
    readingCount: row.reading_count ?? undefined,
    annotationCount: row.annotation_count ?? undefined,
    alertCount: row.alert_count ?? undefined,
    eventCount: row.event_count ?? undefined,
    completedAt: iso(row.completed_at),
    expiresAt: iso(row.expires_at),
    reason: row.failure_reason ?? undefined,
    failedAt: iso(row.failed_at),
    cancelledAt: iso(row.cancelled_at),
    expiredAt: iso(row.expired_at),
  };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) Object.assign(view, { [key]: value });
  return view;
}

export async function findExport(db: Queryable, id: string, now = new Date()): Promise<{ view: ExportView; file: ExportFile } | undefined> {
  const { rows } = await db.query<ExportRow>(`${SELECT} WHERE e.id = $1`, [id]);
  const row = rows[0];
  return row ? { view: toView(row, now), file: { orgId: row.org_id, blobKey: row.blob_key, attempt: row.attempt } } : undefined;
}

export interface ListExportsQuery {
  limit: number;
  cursor?: string;
  status?: ExportStatus[];
  scopeType?: ExportScopeType;
  scopeId?: string;
}

/**
 * Newest first, in pages ordered by (created_at, id) descending. The status
 * filter sees a READY export past its expiresAt as EXPIRED, as the items do.
 */
export async function listExports(db: Queryable, query: ListExportsQuery, now = new Date()): Promise<Page<ExportView>> {
  const after = decodeCursor(query.cursor, 2);
  const { rows } = await db.query<ExportRow>(
    `${SELECT}
      WHERE ($1::text[] IS NULL OR (CASE WHEN e.status = 'READY' AND e.expires_at <= $7 THEN 'EXPIRED' ELSE e.status END) = ANY($1))
        AND ($2::text IS NULL OR e.scope_type = $2)
        AND ($3::uuid IS NULL OR e.scope_id = $3)
        AND ($4::timestamptz IS NULL OR (e.created_at, e.id) < ($4::timestamptz, $5::uuid))
      ORDER BY e.created_at DESC, e.id DESC LIMIT $6`,
    [query.status ?? null, query.scopeType ?? null, query.scopeId ?? null, after?.[0] ?? null, after?.[1] ?? null, query.limit + 1, now],
  );
  return toPage(
    rows,
    query.limit,
    (row) => toView(row, now),
    (row) => [row.created_at.toISOString(), row.id],
  );
}

/**
 * Whether the scope exists in the caller's organization (under RLS: another
 * organization's id is missing exactly like a random one). A decommissioned
 * device still counts: its history can be exported.
 */
export async function scopeExists(db: Queryable, scopeType: ExportScopeType, scopeId: string): Promise<boolean> {
  const table = { DEVICE: 'devices', SITE: 'sites', DEVICE_GROUP: 'device_groups', ORGANIZATION: 'organizations' }[scopeType];
  const column = scopeType === 'ORGANIZATION' ? 'org_id' : 'id';
  const { rowCount } = await db.query(`SELECT 1 FROM ${table} WHERE ${column} = $1`, [scopeId]);
  return rowCount === 1;
}
