import { ALERT_EVENT_TYPES, type AlertEvent } from '../commands/alerts/alert.events';
import { assertNever } from '../commands/decider';
import { ident, orgIdOf, type Projection } from './projection';

/** Alerts, one row each; every change is guarded by the stream revision, so a replay changes nothing. */
export const alertsProjection: Projection = {
  name: 'alerts',
  tables: ['alerts'],
  eventTypes: ALERT_EVENT_TYPES,
  async apply(tx, events, table) {
    const alerts = ident(table('alerts'));
    for (const recorded of events) {
      const event = { type: recorded.type, data: recorded.data } as AlertEvent;
      const orgId = orgIdOf(recorded);
      const revision = Number(recorded.revision);
      switch (event.type) {
        case 'AlertRaised': {
          const d = event.data;
          await tx.query(
            `INSERT INTO ${alerts} (org_id, id, rule_id, rule_name, sensor_id, device_id, severity, status, message, channel_ids,
                                    trigger_ts, trigger_value, raised_at, revision)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'OPEN', $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING`,
            [orgId, d.id, d.ruleId, d.ruleName, d.sensorId, d.deviceId, d.severity, d.message, JSON.stringify(d.channelIds), d.reading?.ts ?? null, d.reading?.value ?? null, d.raisedAt, revision],
          );
          break;
        }
        case 'AlertAcknowledged':
          await tx.query(
            `UPDATE ${alerts} SET status = 'ACKNOWLEDGED', acknowledged_at = $3, acknowledged_by = $4, note = $5, revision = $6
              WHERE org_id = $1 AND id = $2 AND revision < $6`,
            [orgId, event.data.id, event.data.acknowledgedAt, recorded.metadata.actor, event.data.note, revision],
          );
          break;
        case 'AlertResolved':
          await tx.query(
            `UPDATE ${alerts} SET status = 'RESOLVED', resolved_at = $3, resolve_reason = $4, clear_ts = $5, clear_value = $6, revision = $7
              WHERE org_id = $1 AND id = $2 AND revision < $7`,
            [orgId, event.data.id, event.data.resolvedAt, event.data.reason, event.data.reading?.ts ?? null, event.data.reading?.value ?? null, revision],
          );
          break;
        default:
          assertNever(event);
      }
    }
  },
};
