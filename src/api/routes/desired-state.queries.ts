import { contentVersion } from '../../commands/config-artefacts/config-artefact.content';
import type { DesiredStateTargetType, DesiredStateVersion } from '../../commands/desired-state/desired-state-binding.decider';
import type { DesiredStateSourceData } from '../../commands/desired-state/device-state.events';
import type { Queryable } from '../../platform/db/pool';
import { decodeCursor, toPage, type Page } from '../pagination';
import { inGroup } from './device-groups.queries';

export interface DesiredStateBindingView {
  id: string;
  artefactId: string;
  version: DesiredStateVersion;
  targetType: DesiredStateTargetType;
  targetId: string;
  priority: number;
  createdAt: string;
  createdBy: string;
}

interface BindingRow {
  id: string;
  artefact_id: string;
  artefact_version: number | null;
  target_type: DesiredStateTargetType;
  target_id: string;
  priority: number;
  created_at: Date;
  created_by: string;
}

const COLUMNS = 'b.id, b.artefact_id, b.artefact_version, b.target_type, b.target_id, b.priority, b.created_at, b.created_by';

function toView(row: BindingRow): DesiredStateBindingView {
  return {
    id: row.id,
    artefactId: row.artefact_id,
    version: row.artefact_version ?? 'latest',
    targetType: row.target_type,
    targetId: row.target_id,
    priority: row.priority,
    createdAt: row.created_at.toISOString(),
    createdBy: row.created_by,
  };
}

/** A binding that is still bound (under RLS). */
export async function findDesiredStateBinding(db: Queryable, id: string): Promise<DesiredStateBindingView | undefined> {
  const { rows } = await db.query<BindingRow>(`SELECT ${COLUMNS} FROM desired_state_bindings b WHERE b.id = $1 AND b.unbound_at IS NULL`, [id]);
  const row = rows[0];
  return row ? toView(row) : undefined;
}

export interface ListDesiredStateBindingsQuery {
  limit: number;
  cursor?: string;
  targetType?: DesiredStateTargetType;
  targetId?: string;
  artefactId?: string;
}

/** Bound bindings in pages ordered by (created_at, id). */
export async function listDesiredStateBindings(db: Queryable, query: ListDesiredStateBindingsQuery): Promise<Page<DesiredStateBindingView>> {
  const after = decodeCursor(query.cursor, 2);
  const { rows } = await db.query<BindingRow>(
    `SELECT ${COLUMNS} FROM desired_state_bindings b
      WHERE b.unbound_at IS NULL
        AND ($1::text IS NULL OR b.target_type = $1)
        AND ($2::uuid IS NULL OR b.target_id = $2::uuid)
        AND ($3::uuid IS NULL OR b.artefact_id = $3::uuid)
        AND ($4::timestamptz IS NULL OR (b.created_at, b.id) > ($4::timestamptz, $5::uuid))
      ORDER BY b.created_at, b.id LIMIT $6`,
    [query.targetType ?? null, query.targetId ?? null, query.artefactId ?? null, after?.[0] ?? null, after?.[1] ?? null, query.limit + 1],
  );
  return toPage(rows, query.limit, toView, (r) => [r.created_at.toISOString(), r.id]);
}

export type DesiredStateSource = DesiredStateSourceData;

export interface DesiredStateView {
  deviceId: string;
  desired: Record<string, unknown>;
  sources: DesiredStateSource[];
  version: string;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** `over` merged into `base`: objects merge key by key, anything else (arrays too) replaces. */
export function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isObject(current) && isObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

/** SQL: binding `b` applies to device `d` (its site, one of its groups by the one membership SQL, or itself). */
export function bindingApplies(b: string, d: string): string {
  return `((${b}.target_type = 'DEVICE' AND ${b}.target_id = ${d}.id)
           OR (${b}.target_type = 'SITE' AND ${b}.target_id = ${d}.site_id)
           OR (${b}.target_type = 'DEVICE_GROUP' AND ${inGroup(d, `${b}.target_id`)}))`;
}

/**
 * The device's desired state (under RLS), or undefined when there is no such
 * device. Sources: the bindings of its site, of its groups (the one membership
 * SQL), and its own; merged site < group < device, then by ascending priority,
 * then by binding creation. `latest` resolves to the artefact's latest version.
 */
export async function findDesiredState(db: Queryable, deviceId: string): Promise<DesiredStateView | undefined> {
  const device = await db.query('SELECT 1 FROM devices WHERE id = $1', [deviceId]);
  if (device.rowCount !== 1) return undefined;
  const { rows } = await db.query<{
    id: string;
    artefact_id: string;
    resolved: number;
    target_type: DesiredStateTargetType;
    target_id: string;
    priority: number;
    content: Json;
  }>(
    `SELECT b.id, b.artefact_id, v.version AS resolved, b.target_type, b.target_id, b.priority, v.content
       FROM devices d
       JOIN desired_state_bindings b ON b.unbound_at IS NULL AND ${bindingApplies('b', 'd')}
       JOIN config_artefacts a ON a.id = b.artefact_id
       JOIN config_artefact_versions v ON v.artefact_id = b.artefact_id AND v.version = COALESCE(b.artefact_version, a.latest_version)
      WHERE d.id = $1
      ORDER BY CASE b.target_type WHEN 'SITE' THEN 0 WHEN 'DEVICE_GROUP' THEN 1 ELSE 2 END, b.priority, b.created_at, b.id`,
    [deviceId],
  );
  const desired = rows.reduce<Json>((merged, row) => deepMerge(merged, row.content), {});
  return {
    deviceId,
    desired,
    sources: rows.map((r) => ({ bindingId: r.id, artefactId: r.artefact_id, version: r.resolved, targetType: r.target_type, targetId: r.target_id, priority: r.priority })),
    version: contentVersion(desired),
  };
}
