import type { DeviceFields, DeviceStatus } from '../../commands/devices/device.decider';
import type { Queryable } from '../../platform/db/pool';
import type { FieldError } from '../../platform/errors';
import { entityQueries, equals, hasTag, type ListFilter } from '../entity.queries';
import { inGroup } from './device-groups.queries';
import { deviceColumns } from '../../projections/devices.projection';

export interface DeviceView extends Omit<DeviceFields, 'status'> {
  id: string;
  status: DeviceStatus;
  decommissionedAt: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

const nameOrSerial: ListFilter = {
  param: 'q',
  sql: (p) => `(strpos(lower(t.name), lower(${p})) > 0 OR strpos(lower(coalesce(t.serial_number, '')), lower(${p})) > 0)`,
};

/** Decommissioned devices stay readable by id but leave lists unless asked for. */
export const deviceQueries = entityQueries<DeviceView>({
  table: 'devices',
  fields: { ...deviceColumns, decommissionedAt: 'decommissioned_at' },
  filters: [nameOrSerial, equals('siteId', 'site_id'), equals('deviceProfileId', 'device_profile_id'), equals('status', 'status'), hasTag(),
    { param: 'groupId', sql: (p) => inGroup('t', p) }],
  softDelete: {
    column: 'decommissioned_at',
    shown: (query) => query.includeDecommissioned === true || query.status === 'DECOMMISSIONED',
  },
});

/** Whether another device of the caller's organization (RLS) has this serial number, decommissioned ones included. */
export async function serialTaken(db: Queryable, serialNumber: string, exceptId: string | undefined): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM devices WHERE serial_number = $1 AND id IS DISTINCT FROM $2::uuid', [
    serialNumber,
    exceptId ?? null,
  ]);
  return rows.length > 0;
}

/**
 * The check for a reference to a device that things are still attached to:
 * it must exist in the caller's organization (RLS) and not be decommissioned.
 */
export async function liveDeviceErrors(db: Queryable, path: string, deviceId: string | undefined): Promise<FieldError[]> {
  if (deviceId === undefined) return [];
  const { rows } = await db.query<{ decommissioned: boolean }>(
    'SELECT decommissioned_at IS NOT NULL AS decommissioned FROM devices WHERE id = $1::uuid',
    [deviceId],
  );
  const row = rows[0];
  if (!row) return [{ path, message: 'does not exist' }];
  return row.decommissioned ? [{ path, message: 'is decommissioned' }] : [];
}
