import type { InstalledResource, PackTargetType } from '../../commands/packs/pack-installation.decider';
import type { PackContent } from '../../commands/packs/pack.content';
import type { Queryable } from '../../platform/db/pool';
import { decodeCursor, toPage, type Page } from '../pagination';

export interface PackView {
  id: string;
  name: string;
  description: string | null;
  latestVersion: number;
  createdAt: string;
  updatedAt: string;
}

export interface PackVersionView {
  packId: string;
  version: number;
  content: PackContent;
  contentHash: string;
  createdAt: string;
}

export interface PackInstallationView {
  id: string;
  packId: string;
  version: number;
  targetType: PackTargetType;
  targetId: string;
  status: 'INSTALLED' | 'UNINSTALLED';
  resources: InstalledResource[];
  kept: InstalledResource[];
  installedAt: string;
  updatedAt: string;
}

interface PackRow {
  id: string;
  name: string;
  description: string | null;
  latest_version: number;
  created_at: Date;
  updated_at: Date;
}

const toPack = (r: PackRow): PackView => ({
  id: r.id,
  name: r.name,
  description: r.description,
  latestVersion: r.latest_version,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

export async function findPack(db: Queryable, id: string): Promise<PackView | undefined> {
  const { rows } = await db.query<PackRow>('SELECT id, name, description, latest_version, created_at, updated_at FROM packs WHERE id = $1', [id]);
  const row = rows[0];
  return row ? toPack(row) : undefined;
}

export async function listPacks(db: Queryable, query: { limit: number; cursor?: string }): Promise<Page<PackView>> {
  const after = decodeCursor(query.cursor, 2);
  const { rows } = await db.query<PackRow>(
    `SELECT id, name, description, latest_version, created_at, updated_at FROM packs
      WHERE ($1::timestamptz IS NULL OR (created_at, id) > ($1::timestamptz, $2::uuid)) ORDER BY created_at, id LIMIT $3`,
    [after?.[0] ?? null, after?.[1] ?? null, query.limit + 1],
  );
  return toPage(rows, query.limit, toPack, (r) => [r.created_at.toISOString(), r.id]);
}

export async function findPackVersion(db: Queryable, packId: string, version: number): Promise<PackVersionView | undefined> {
  const { rows } = await db.query<{ version: number; content: PackContent; content_hash: string; created_at: Date }>(
    'SELECT version, content, content_hash, created_at FROM pack_versions WHERE pack_id = $1 AND version = $2',
    [packId, version],
  );
  const row = rows[0];
  return row ? { packId, version: row.version, content: row.content, contentHash: row.content_hash, createdAt: row.created_at.toISOString() } : undefined;
}

interface InstallationRow {
  id: string;
  pack_id: string;
  version: number;
  target_type: PackTargetType;
  target_id: string;
  status: 'INSTALLED' | 'UNINSTALLED';
  resources: InstalledResource[];
  kept: InstalledResource[];
  installed_at: Date;
  updated_at: Date;
}

const INSTALLATION_COLUMNS = 'id, pack_id, version, target_type, target_id, status, resources, kept, installed_at, updated_at';

const toInstallation = (r: InstallationRow): PackInstallationView => ({
  id: r.id,
  packId: r.pack_id,
  version: r.version,
  targetType: r.target_type,
  targetId: r.target_id,
  status: r.status,
  resources: r.resources,
  kept: r.kept,
  installedAt: r.installed_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

export async function findPackInstallation(db: Queryable, id: string): Promise<PackInstallationView | undefined> {
  const { rows } = await db.query<InstallationRow>(`SELECT ${INSTALLATION_COLUMNS} FROM pack_installations WHERE id = $1`, [id]);
  const row = rows[0];
  return row ? toInstallation(row) : undefined;
}

export async function listPackInstallations(
  db: Queryable,
  query: { limit: number; cursor?: string; packId?: string; targetId?: string; status?: string },
): Promise<Page<PackInstallationView>> {
  const after = decodeCursor(query.cursor, 2);
  const { rows } = await db.query<InstallationRow>(
    `SELECT ${INSTALLATION_COLUMNS} FROM pack_installations
      WHERE ($1::uuid IS NULL OR pack_id = $1) AND ($2::uuid IS NULL OR target_id = $2) AND ($3::text IS NULL OR status = $3)
        AND ($4::timestamptz IS NULL OR (installed_at, id) > ($4::timestamptz, $5::uuid))
      ORDER BY installed_at, id LIMIT $6`,
    [query.packId ?? null, query.targetId ?? null, query.status ?? null, after?.[0] ?? null, after?.[1] ?? null, query.limit + 1],
  );
  return toPage(rows, query.limit, toInstallation, (r) => [r.installed_at.toISOString(), r.id]);
}
