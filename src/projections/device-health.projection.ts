import { DEVICE_HEALTH_EVENT_TYPES, type DeviceHealthEvent } from '../commands/device-health/device-health.events';
import { ident, orgIdOf, type Projection } from './projection';

/** Keeps the newest fact of each kind; events older than what is stored never overwrite it. */
export const deviceHealthProjection: Projection = {
  name: 'device-health',
  tables: ['device_health'],
  eventTypes: DEVICE_HEALTH_EVENT_TYPES,
  async apply(tx, events, table) {
    const t = ident(table('device_health'));
    for (const recorded of events) {
      const event = { type: recorded.type, data: recorded.data } as DeviceHealthEvent;
      const orgId = orgIdOf(recorded);
      const { deviceId, at } = event.data;
      await tx.query(`INSERT INTO ${t} (org_id, device_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [orgId, deviceId]);
      switch (event.type) {
        case 'DeviceConnected':
          await tx.query(
            `UPDATE ${t} SET connected = true, connected_at = $3, last_seen_at = GREATEST(last_seen_at, $3)
              WHERE org_id = $1 AND device_id = $2 AND (connected_at IS NULL OR connected_at <= $3)
                AND (disconnected_at IS NULL OR disconnected_at <= $3)`,
            [orgId, deviceId, at],
          );
          break;
        case 'DeviceDisconnected':
          await tx.query(
            `UPDATE ${t} SET connected = false, disconnected_at = $3, disconnect_reason = $4
              WHERE org_id = $1 AND device_id = $2 AND (connected_at IS NULL OR connected_at <= $3)`,
            [orgId, deviceId, at, event.data.reason],
          );
          break;
        case 'DeviceHealthReported':
          await tx.query(
            `UPDATE ${t} SET last_seen_at = $3, firmware_version = COALESCE($4, firmware_version), signal_dbm = $5,
                    battery_percent = $6, uptime_seconds = $7
              WHERE org_id = $1 AND device_id = $2 AND (last_seen_at IS NULL OR last_seen_at <= $3)`,
            [orgId, deviceId, at, event.data.firmwareVersion, event.data.signalDbm, event.data.batteryPercent, event.data.uptimeSeconds],
          );
          break;
        default:
          break;
      }
    }
  },
};
