import { inGroup } from '../api/routes/device-groups.queries';
import type { ExportScopeType } from '../commands/exports/export.events';
import type { Queryable } from '../platform/db/pool';

/**
 * What an export's scope covers, resolved once at the start of the attempt
 * in its snapshot: the devices and their sensors (null: the whole
 * organization, which row-level security alone confines), and which
 * optional tables this installation has.
 */
export interface ExportPlan {
  readonly devices: readonly string[] | null;
  readonly sensors: readonly string[] | null;
  /** The site of a SITE scope (events and annotations attached to the site itself). */
  readonly siteId: string | null;
  readonly tables: { readonly annotations: boolean; readonly activityEvents: boolean };
}

async function ids(db: Queryable, sql: string, values: unknown[]): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(sql, values);
  return rows.map((r) => r.id);
}

/**
 * Devices of the scope as they are now: the device itself (decommissioned or
 * not), the site's devices, the group's members (static, or matching its
 * selector — the one membership SQL of device-groups.queries).
 */
function scopeDevices(db: Queryable, scopeType: Exclude<ExportScopeType, 'ORGANIZATION'>, scopeId: string): Promise<string[]> {
  switch (scopeType) {
    case 'DEVICE':
      return ids(db, 'SELECT id FROM devices WHERE id = $1', [scopeId]);
    case 'SITE':
      return ids(db, 'SELECT id FROM devices WHERE site_id = $1 ORDER BY id', [scopeId]);
    case 'DEVICE_GROUP':
      return ids(db, `SELECT d.id FROM devices d WHERE ${inGroup('d', '$1')} ORDER BY d.id`, [scopeId]);
  }
}

export async function resolvePlan(db: Queryable, scopeType: ExportScopeType, scopeId: string): Promise<ExportPlan> {
  const { rows } = await db.query<{ annotations: boolean; activity_events: boolean }>(
    `SELECT to_regclass('public.annotations') IS NOT NULL AS annotations, to_regclass('public.activity_events') IS NOT NULL AS activity_events`,
  );
  const tables = { annotations: rows[0]?.annotations ?? false, activityEvents: rows[0]?.activity_events ?? false };
  if (scopeType === 'ORGANIZATION') return { devices: null, sensors: null, siteId: null, tables };
  const devices = await scopeDevices(db, scopeType, scopeId);
  const sensors = await ids(db, 'SELECT id FROM sensors WHERE device_id = ANY($1::uuid[]) ORDER BY id', [devices]);
  return { devices, sensors, siteId: scopeType === 'SITE' ? scopeId : null, tables };
}

/** A uuid[] literal for a transaction-local setting (uuids hold no character that needs quoting). */
export function uuidArray(values: readonly string[] | null): string {
  return `{${(values ?? []).join(',')}}`;
}
