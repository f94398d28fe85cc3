import type { ContentSchema } from '../../commands/config-artefacts/config-artefact.decider';
import type { Queryable } from '../../platform/db/pool';
import { decodeCursor, toPage, type Page } from '../pagination';

export interface ConfigArtefactView {
  id: string;
  name: string;
  description: string | null;
  status: 'ACTIVE' | 'ARCHIVED';
  latestVersion: number;
  contentHash: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface ConfigArtefactDetailView extends ConfigArtefactView {
  content: Record<string, unknown>;
  schema: ContentSchema;
}

export interface ConfigArtefactVersionSummary {
  version: number;
  contentHash: string;
  createdAt: string;
  createdBy: string;
}

export interface ConfigArtefactVersionView extends ConfigArtefactVersionSummary {
  content: Record<string, unknown>;
  schema: ContentSchema;
}

interface ArtefactRow {
  id: string;
  name: string;
  description: string | null;
  status: 'ACTIVE' | 'ARCHIVED';
  latest_version: number;
  content_hash: string;
  version: number;
  created_at: Date;
  updated_at: Date;
}

interface VersionRow {
  version: number;
  content_hash: string;
  created_at: Date;
  created_by: string;
  content?: Record<string, unknown>;
  schema?: ContentSchema;
}

const ARTEFACT_COLUMNS = 'a.id, a.name, a.description, a.status, a.latest_version, a.content_hash, a.version, a.created_at, a.updated_at';

function toView(row: ArtefactRow): ConfigArtefactView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    status: row.status,
    latestVersion: row.latest_version,
    contentHash: row.content_hash,
    version: row.version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function toVersionSummary(row: VersionRow): ConfigArtefactVersionSummary {
  return { version: row.version, contentHash: row.content_hash, createdAt: row.created_at.toISOString(), createdBy: row.created_by };
}

/** The artefact with its latest version's content and schema. */
export async function findConfigArtefact(db: Queryable, id: string): Promise<ConfigArtefactDetailView | undefined> {
  const { rows } = await db.query<ArtefactRow & { content: Record<string, unknown>; schema: ContentSchema }>(
    `SELECT ${ARTEFACT_COLUMNS}, v.content, v.schema
       FROM config_artefacts a JOIN config_artefact_versions v ON v.artefact_id = a.id AND v.version = a.latest_version
      WHERE a.id = $1`,
    [id],
  );
  const row = rows[0];
  return row ? { ...toView(row), content: row.content, schema: row.schema } : undefined;
}

/** Whether another artefact of the organization (under RLS) already has this name, case-insensitively. */
export async function configArtefactNameTaken(db: Queryable, name: string, exceptId?: string): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM config_artefacts WHERE lower(name) = lower($1) AND ($2::uuid IS NULL OR id <> $2::uuid) LIMIT 1`, [
    name,
    exceptId ?? null,
  ]);
  return rows.length > 0;
}

export interface ListConfigArtefactsQuery {
  limit: number;
  cursor?: string;
  status?: 'ACTIVE' | 'ARCHIVED';
  q?: string;
}

/** Pages ordered by (created_at, id); `q` matches a part of the name, case-insensitively. */
export async function listConfigArtefacts(db: Queryable, query: ListConfigArtefactsQuery): Promise<Page<ConfigArtefactView>> {
  const after = decodeCursor(query.cursor, 2);
  const { rows } = await db.query<ArtefactRow>(
    `SELECT ${ARTEFACT_COLUMNS} FROM config_artefacts a
      WHERE ($1::text IS NULL OR a.status = $1)
        AND ($2::text IS NULL OR strpos(lower(a.name), lower($2)) > 0)
        AND ($3::timestamptz IS NULL OR (a.created_at, a.id) > ($3::timestamptz, $4::uuid))
      ORDER BY a.created_at, a.id LIMIT $5`,
    [query.status ?? null, query.q ?? null, after?.[0] ?? null, after?.[1] ?? null, query.limit + 1],
  );
  return toPage(rows, query.limit, toView, (r) => [r.created_at.toISOString(), r.id]);
}

/** Versions of one artefact, oldest first. */
export async function listConfigArtefactVersions(
  db: Queryable,
  artefactId: string,
  query: { limit: number; cursor?: string },
): Promise<Page<ConfigArtefactVersionSummary>> {
  const after = decodeCursor(query.cursor, 1);
  const { rows } = await db.query<VersionRow>(
    `SELECT version, content_hash, created_at, created_by FROM config_artefact_versions
      WHERE artefact_id = $1 AND ($2::int IS NULL OR version > $2::int) ORDER BY version LIMIT $3`,
    [artefactId, after?.[0] ?? null, query.limit + 1],
  );
  return toPage(rows, query.limit, toVersionSummary, (r) => [r.version]);
}

export async function findConfigArtefactVersion(db: Queryable, artefactId: string, version: number): Promise<ConfigArtefactVersionView | undefined> {
  const { rows } = await db.query<VersionRow & { content: Record<string, unknown>; schema: ContentSchema }>(
    `SELECT version, content_hash, created_at, created_by, content, schema FROM config_artefact_versions WHERE artefact_id = $1 AND version = $2`,
    [artefactId, version],
  );
  const row = rows[0];
  return row ? { ...toVersionSummary(row), content: row.content, schema: row.schema } : undefined;
}
