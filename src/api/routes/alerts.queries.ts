import type { AlertSeverity, AlertStatus } from '../../commands/alerts/alert.events';
import type { Queryable } from '../../platform/db/pool';
import { decodeCursor, toPage, type Page } from '../pagination';

export interface AlertView {
  id: string;
  ruleId: string;
  ruleName: string;
  sensorId: string;
  deviceId: string;
  severity: AlertSeverity;
  status: AlertStatus;
  message: string;
  channelIds: string[];
  triggeringReading: { ts: string; value: number } | null;
  raisedAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  note: string | null;
  resolvedAt: string | null;
  resolveReason: string | null;
  clearingReading: { ts: string; value: number } | null;
}

interface AlertRow {
  id: string;
  rule_id: string;
  rule_name: string;
  sensor_id: string;
  device_id: string;
  severity: AlertSeverity;
  status: AlertStatus;
  message: string;
  channel_ids: string[];
  trigger_ts: Date | null;
  trigger_value: number | null;
  raised_at: Date;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  note: string | null;
  resolved_at: Date | null;
  resolve_reason: string | null;
  clear_ts: Date | null;
  clear_value: number | null;
}

const COLUMNS = `id, rule_id, rule_name, sensor_id, device_id, severity, status, message, channel_ids, trigger_ts, trigger_value, raised_at,
  acknowledged_at, acknowledged_by, note, resolved_at, resolve_reason, clear_ts, clear_value`;

const reading = (ts: Date | null, value: number | null) => (ts === null || value === null ? null : { ts: ts.toISOString(), value });

function toView(row: AlertRow): AlertView {
  return {
    id: row.id,
    ruleId: row.rule_id,
    ruleName: row.rule_name,
    sensorId: row.sensor_id,
    deviceId: row.device_id,
    severity: row.severity,
    status: row.status,
    message: row.message,
    channelIds: row.channel_ids,
    triggeringReading: reading(row.trigger_ts, row.trigger_value),
    raisedAt: row.raised_at.toISOString(),
    acknowledgedAt: row.acknowledged_at?.toISOString() ?? null,
    acknowledgedBy: row.acknowledged_by,
    note: row.note,
    resolvedAt: row.resolved_at?.toISOString() ?? null,
    resolveReason: row.resolve_reason,
    clearingReading: reading(row.clear_ts, row.clear_value),
  };
}

export async function findAlert(db: Queryable, id: string): Promise<AlertView | undefined> {
  const { rows } = await db.query<AlertRow>(`SELECT ${COLUMNS} FROM alerts WHERE id = $1`, [id]);
  const row = rows[0];
  return row ? toView(row) : undefined;
}

export interface ListAlertsQuery {
  limit: number;
  cursor?: string;
  status?: AlertStatus[];
  severity?: AlertSeverity;
  ruleId?: string;
  deviceId?: string;
  sensorId?: string;
  /** Alerts of the site's devices (dashboards' alert lists; not a parameter of GET /alerts). */
  siteId?: string;
  from?: string;
  to?: string;
}

/** Alerts newest first, in pages ordered by (raised_at, id) descending. */
export async function listAlerts(db: Queryable, query: ListAlertsQuery): Promise<Page<AlertView>> {
  const after = decodeCursor(query.cursor, 2);
  const { rows } = await db.query<AlertRow>(
    `SELECT ${COLUMNS} FROM alerts
      WHERE ($1::text[] IS NULL OR status = ANY($1))
        AND ($2::text IS NULL OR severity = $2)
        AND ($3::uuid IS NULL OR rule_id = $3)
        AND ($4::uuid IS NULL OR device_id = $4)
        AND ($5::uuid IS NULL OR sensor_id = $5)
        AND ($6::timestamptz IS NULL OR raised_at >= $6)
        AND ($7::timestamptz IS NULL OR raised_at < $7)
        AND ($8::timestamptz IS NULL OR (raised_at, id) < ($8::timestamptz, $9::uuid))
        AND ($11::uuid IS NULL OR device_id IN (SELECT d.id FROM devices d WHERE d.site_id = $11))
      ORDER BY raised_at DESC, id DESC LIMIT $10`,
    [
      query.status ?? null,
      query.severity ?? null,
      query.ruleId ?? null,
      query.deviceId ?? null,
      query.sensorId ?? null,
      query.from ?? null,
      query.to ?? null,
      after?.[0] ?? null,
      after?.[1] ?? null,
      query.limit + 1,
      query.siteId ?? null,
    ],
  );
  return toPage(rows, query.limit, toView, (r) => [r.raised_at.toISOString(), r.id]);
}

/** The rule's alerts that are not resolved, by sensor. */
export async function openAlertsOfRule(db: Queryable, ruleId: string): Promise<{ id: string; sensorId: string }[]> {
  const { rows } = await db.query<{ id: string; sensor_id: string }>(`SELECT id, sensor_id FROM alerts WHERE rule_id = $1 AND status <> 'RESOLVED'`, [ruleId]);
  return rows.map((r) => ({ id: r.id, sensorId: r.sensor_id }));
}
