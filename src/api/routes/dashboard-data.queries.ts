import { deviceGroupNotFound } from '../../commands/device-groups/device-group.decider';
import { deviceNotFound } from '../../commands/devices/device.decider';
import { siteNotFound } from '../../commands/sites/site.decider';
import type { Queryable } from '../../platform/db/pool';
import { AppError } from '../../platform/errors';
import { deriveHealth, type HealthRow, type HealthStatus } from './device-health.queries';
import { inGroup } from './device-groups.queries';
import type { TimeRange } from './readings.params';

/**
 * Read-model lookups of the dashboard widgets that show devices (tables, maps,
 * camera tiles), on the data call's tenant transaction (RLS).
 */

/** Which devices a widget shows: listed ones (in the order given), or the live devices of a site or group (by name). */
export type DeviceScope = { deviceIds: readonly string[]; at: string } | { siteId: string } | { groupId: string };

export interface DeviceRow {
  id: string;
  name: string;
  status: string;
  site_id: string | null;
}

async function existsIn(db: Queryable, table: 'sites' | 'device_groups', id: string): Promise<boolean> {
  const { rowCount } = await db.query(`SELECT 1 FROM ${table} WHERE id = $1`, [id]);
  return rowCount === 1;
}

/** `where` is a condition on the devices row `d` with `$1` bound to `value`. */
async function liveDevices(db: Queryable, where: string, value: string, limit: number): Promise<DeviceRow[]> {
  const { rows } = await db.query<DeviceRow>(
    `SELECT d.id, d.name, d.status, d.site_id FROM devices d WHERE d.decommissioned_at IS NULL AND ${where} ORDER BY d.name, d.id LIMIT $2`,
    [value, limit],
  );
  return rows;
}

/**
 * Up to `limit` devices of the scope. A site or group that no longer exists,
 * or a listed device that does not, fails the widget (404 code); listed
 * devices are shown even when decommissioned.
 */
export async function devicesOf(db: Queryable, scope: DeviceScope, limit: number): Promise<DeviceRow[]> {
  if ('deviceIds' in scope) {
    const { rows } = await db.query<DeviceRow>('SELECT id, name, status, site_id FROM devices WHERE id = ANY($1::uuid[])', [scope.deviceIds]);
    const byId = new Map(rows.map((row) => [row.id, row]));
    const missing = scope.deviceIds.flatMap((id, i) => (byId.has(id) ? [] : [{ path: `${scope.at}/${i}`, message: 'does not exist' }]));
    if (missing.length > 0) throw new AppError('DEVICE_NOT_FOUND', 'A device of the widget does not exist any more.', missing);
    return scope.deviceIds.flatMap((id) => byId.get(id) ?? []).slice(0, limit);
  }
  if ('siteId' in scope) {
    if (!(await existsIn(db, 'sites', scope.siteId))) throw siteNotFound();
    return liveDevices(db, 'd.site_id = $1::uuid', scope.siteId, limit);
  }
  if (!(await existsIn(db, 'device_groups', scope.groupId))) throw deviceGroupNotFound();
  return liveDevices(db, inGroup('d', '$1'), scope.groupId, limit);
}

export async function findDevice(db: Queryable, id: string): Promise<DeviceRow> {
  const { rows } = await db.query<DeviceRow>('SELECT id, name, status, site_id FROM devices WHERE id = $1', [id]);
  const row = rows[0];
  if (!row) throw deviceNotFound();
  return row;
}

export async function requireSite(db: Queryable, id: string): Promise<void> {
  if (!(await existsIn(db, 'sites', id))) throw siteNotFound();
}

export interface SensorRow {
  id: string;
  device_id: string;
  key: string;
  unit: string | null;
}

/** The sensors of these devices (only those with `key` when given), by device and key. */
export async function sensorsOfDevices(db: Queryable, deviceIds: readonly string[], key: string | undefined): Promise<SensorRow[]> {
  const { rows } = await db.query<SensorRow>(
    'SELECT id, device_id, key, unit FROM sensors WHERE device_id = ANY($1::uuid[]) AND ($2::text IS NULL OR key = $2) ORDER BY device_id, key, id',
    [deviceIds, key ?? null],
  );
  return rows;
}

/**
 * Each sensor's newest reading in the range: one index lookup per sensor
 * (the `(sensor_id, ts)` index read backwards), no aggregation.
 */
export async function latestReadings(db: Queryable, sensorIds: readonly string[], range: TimeRange): Promise<Map<string, { ts: string; value: number }>> {
  if (sensorIds.length === 0) return new Map();
  const { rows } = await db.query<{ sensor_id: string; ts: Date; value: number }>(
    `SELECT s.id AS sensor_id, l.ts, l.value
       FROM unnest($1::uuid[]) AS s(id)
      CROSS JOIN LATERAL (
        SELECT r.ts, r.value FROM readings r
         WHERE r.sensor_id = s.id AND r.ts >= $2::timestamptz AND r.ts < $3::timestamptz
         ORDER BY r.ts DESC LIMIT 1
      ) l`,
    [sensorIds, range.from, range.to],
  );
  return new Map(rows.map((row) => [row.sensor_id, { ts: row.ts.toISOString(), value: row.value }]));
}

export interface MapDevice {
  deviceId: string;
  name: string;
  status: string;
  siteId: string | null;
  location: { latitude: number; longitude: number } | null;
  health: { status: HealthStatus; lastSeenAt: string | null };
}

interface MapRow extends HealthRow {
  id: string;
  location: { latitude: number; longitude: number } | null;
  has_health: boolean;
}

/**
 * Where each device is and how it is: devices carry no coordinates, so the
 * location is their site's (null without a site or without a location), and
 * the health status is derived now from the stored facts.
 */
export async function mapDevices(db: Queryable, devices: readonly DeviceRow[], now: Date): Promise<MapDevice[]> {
  const { rows } = await db.query<MapRow>(
    `SELECT d.id, s.location, h.device_id IS NOT NULL AS has_health, COALESCE(h.connected, false) AS connected, h.connected_at, h.disconnected_at,
            h.last_seen_at, h.firmware_version, h.signal_dbm, h.battery_percent, h.uptime_seconds
       FROM devices d
       LEFT JOIN sites s ON s.id = d.site_id
       LEFT JOIN device_health h ON h.device_id = d.id
      WHERE d.id = ANY($1::uuid[])`,
    [devices.map((d) => d.id)],
  );
  const byId = new Map(rows.map((row) => [row.id, row]));
  return devices.map((device) => {
    const row = byId.get(device.id);
    const health = row?.has_health ? deriveHealth(row, now) : deriveHealth(undefined, now);
    return {
      deviceId: device.id,
      name: device.name,
      status: device.status,
      siteId: device.site_id,
      location: row?.location ?? null,
      health: { status: health.status, lastSeenAt: row?.last_seen_at?.toISOString() ?? null },
    };
  });
}
