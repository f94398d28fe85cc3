import type { Queryable } from '../../platform/db/pool';

export type HealthStatus = 'UNKNOWN' | 'ONLINE' | 'OFFLINE' | 'DEGRADED';

export interface DeviceHealthView {
  deviceId: string;
  status: HealthStatus;
  connected: boolean;
  lastSeenAt: string | null;
  connectedAt: string | null;
  disconnectedAt: string | null;
  firmwareVersion: string | null;
  signalDbm: number | null;
  batteryPercent: number | null;
  uptimeSeconds: number | null;
  reasons: string[];
}

/** The device_health facts the status is derived from. */
export interface HealthRow {
  connected: boolean;
  connected_at: Date | null;
  disconnected_at: Date | null;
  last_seen_at: Date | null;
  firmware_version: string | null;
  signal_dbm: number | null;
  battery_percent: number | null;
  uptime_seconds: number | null;
}

/** Devices send a heartbeat on …/health every minute by default (docs/mqtt.md). */
export const HEARTBEAT_INTERVAL_SECONDS = 60;
const LOW_BATTERY_PERCENT = 15;
const WEAK_SIGNAL_DBM = -100;

/** The status is derived at read time from stored facts, so it ages without any event. */
export function deriveHealth(row: HealthRow | undefined, now: Date, intervalSeconds = HEARTBEAT_INTERVAL_SECONDS): { status: HealthStatus; reasons: string[] } {
  if (!row || (!row.last_seen_at && !row.connected_at)) return { status: 'UNKNOWN', reasons: ['never seen'] };
  const lastSeen = Math.max(row.last_seen_at?.getTime() ?? 0, row.connected_at?.getTime() ?? 0);
  const silentSeconds = (now.getTime() - lastSeen) / 1000;
  if (!row.connected) return { status: 'OFFLINE', reasons: ['disconnected'] };
  if (silentSeconds > 3 * intervalSeconds) return { status: 'OFFLINE', reasons: [`silent for ${Math.round(silentSeconds)} s`] };
  const reasons: string[] = [];
  if (silentSeconds > 1.5 * intervalSeconds) reasons.push(`late heartbeat (${Math.round(silentSeconds)} s)`);
  if (row.battery_percent !== null && row.battery_percent < LOW_BATTERY_PERCENT) reasons.push(`battery ${row.battery_percent} %`);
  if (row.signal_dbm !== null && row.signal_dbm < WEAK_SIGNAL_DBM) reasons.push(`signal ${row.signal_dbm} dBm`);
  return { status: reasons.length > 0 ? 'DEGRADED' : 'ONLINE', reasons };
}

export async function findDeviceHealth(db: Queryable, deviceId: string, now = new Date()): Promise<DeviceHealthView> {
  const { rows } = await db.query<HealthRow>(
    `SELECT connected, connected_at, disconnected_at, last_seen_at, firmware_version, signal_dbm, battery_percent, uptime_seconds
       FROM device_health WHERE device_id = $1`,
    [deviceId],
  );
  const row = rows[0];
  const { status, reasons } = deriveHealth(row, now);
  return {
    deviceId,
    status,
    connected: row?.connected ?? false,
    lastSeenAt: row?.last_seen_at?.toISOString() ?? null,
    connectedAt: row?.connected_at?.toISOString() ?? null,
    disconnectedAt: row?.disconnected_at?.toISOString() ?? null,
    firmwareVersion: row?.firmware_version ?? null,
    signalDbm: row?.signal_dbm ?? null,
    batteryPercent: row?.battery_percent ?? null,
    uptimeSeconds: row?.uptime_seconds ?? null,
    reasons,
  };
}
