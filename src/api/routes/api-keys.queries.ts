import type { Queryable } from '../../platform/db/pool';
import { decodeCursor, toPage, type Page } from '../pagination';

interface ApiKeyRow {
  id: string;
  name: string;
  role: string;
  prefix: string;
  created_at: Date;
  created_by: string;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

export interface ApiKeyView {
  id: string;
  name: string;
  role: string;
  prefix: string;
  createdAt: string;
  createdBy: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

function toView(row: ApiKeyRow): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    prefix: row.prefix,
    createdAt: row.created_at.toISOString(),
    createdBy: row.created_by,
    expiresAt: row.expires_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null,
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
  };
}

const COLUMNS = 'id, name, role, prefix, created_at, created_by, expires_at, revoked_at, last_used_at';

export async function listApiKeys(db: Queryable, q: { limit: number; cursor?: string; includeRevoked: boolean }): Promise<Page<ApiKeyView>> {
  const after = decodeCursor(q.cursor, 2);
  const { rows } = await db.query<ApiKeyRow>(
    `SELECT ${COLUMNS} FROM api_keys
      WHERE ($1 OR revoked_at IS NULL)
        AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::uuid))
      ORDER BY created_at, id LIMIT $4`,
    [q.includeRevoked, after?.[0] ?? null, after?.[1] ?? null, q.limit + 1],
  );
  return toPage(rows, q.limit, toView, (r) => [r.created_at.toISOString(), r.id]);
}

export async function findApiKey(db: Queryable, id: string): Promise<ApiKeyView | undefined> {
  const { rows } = await db.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE id = $1`, [id]);
  return rows[0] ? toView(rows[0]) : undefined;
}

interface OrganizationRow {
  org_id: string;
  name: string;
  readings_retention_days: number | null;
  version: number;
  created_at: Date;
}

export interface OrganizationView {
  id: string;
  name: string;
  readingsRetentionDays: number | null;
  effectiveReadingsRetentionDays: number;
  version: number;
  createdAt: string;
}

/** The caller's organization (RLS shows only it); `defaultRetentionDays` fills an unset retention. */
export async function findOrganization(db: Queryable, defaultRetentionDays: number): Promise<OrganizationView | undefined> {
  const { rows } = await db.query<OrganizationRow>('SELECT org_id, name, readings_retention_days, version, created_at FROM organizations');
  const row = rows[0];
  return row
    ? {
        id: row.org_id,
        name: row.name,
        readingsRetentionDays: row.readings_retention_days,
        effectiveReadingsRetentionDays: row.readings_retention_days ?? defaultRetentionDays,
        version: row.version,
        createdAt: row.created_at.toISOString(),
      }
    : undefined;
}
