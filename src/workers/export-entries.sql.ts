import { exportParameter as param } from './export-snapshot';

/**
 * The SQL of the export entries. Statements take their values from
 * transaction-local settings (export-snapshot.ts), since COPY and DECLARE
 * accept no bind parameters; every statement runs under the tenant's RLS.
 */

/** RFC 3339 in UTC with microseconds, as the readings are stored: `2024-01-01T00:00:00.000000Z`. */
const iso = (column: string): string => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
const QUALITY = `(ARRAY['GOOD', 'UNCERTAIN', 'BAD'])[r.quality + 1]`;

export const READINGS_HEADER = 'ts,deviceId,sensorId,value,quality,seq,receivedAt';

/**
 * One day of readings (the `from`/`to` settings), of the scope's sensors or,
 * for the whole organization, of every sensor. As JSON lines the text
 * format of COPY would escape backslashes, but these rows hold none.
 */
export function readingsCopy(csv: boolean, bySensor: boolean): string {
  const where = `r.ts >= ${param('from', 'timestamptz')} AND r.ts < ${param('to', 'timestamptz')}${
    bySensor ? ` AND r.sensor_id = ANY(${param('sensors', 'uuid[]')})` : ''
  }`;
  const select = csv
    ? `SELECT ${iso('r.ts')}, r.device_id, r.sensor_id, r.value, ${QUALITY}, r.seq, ${iso('r.received_at')} FROM readings r WHERE ${where}`
    : `SELECT json_build_object('ts', ${iso('r.ts')}, 'deviceId', r.device_id, 'sensorId', r.sensor_id, 'value', r.value, 'quality', ${QUALITY},
              'seq', r.seq, 'receivedAt', ${iso('r.received_at')})::text FROM readings r WHERE ${where}`;
  return `COPY (${select}) TO STDOUT${csv ? ' WITH (FORMAT csv)' : ''}`;
}

const ALERT_FIELDS: [string, string][] = [
  ['id', 'a.id'],
  ['ruleId', 'a.rule_id'],
  ['ruleName', 'a.rule_name'],
  ['severity', 'a.severity'],
  ['status', 'a.status'],
  ['deviceId', 'a.device_id'],
  ['sensorId', 'a.sensor_id'],
  ['message', 'a.message'],
  ['triggerTs', iso('a.trigger_ts')],
  ['triggerValue', 'a.trigger_value'],
  ['raisedAt', iso('a.raised_at')],
  ['acknowledgedAt', iso('a.acknowledged_at')],
  ['acknowledgedBy', 'a.acknowledged_by'],
  ['note', 'a.note'],
  ['resolvedAt', iso('a.resolved_at')],
  ['resolveReason', 'a.resolve_reason'],
  ['clearTs', iso('a.clear_ts')],
  ['clearValue', 'a.clear_value'],
];

/** Alerts raised in the range, as CSV columns (named for the header) or one JSON object per row in `line`. */
export function alertsSelect(json: boolean, filter: string): string {
  const columns = json
    ? `json_build_object(${ALERT_FIELDS.map(([name, expr]) => `'${name}', ${expr}`).join(', ')})::text AS line`
    : ALERT_FIELDS.map(([name, expr]) => `${expr} AS "${name}"`).join(', ');
  return `SELECT ${columns} FROM alerts a WHERE ${filter} ORDER BY a.raised_at, a.id`;
}

/** Activity feed entries in the range: of the scope's devices, and of the site itself for a SITE scope. */
export function eventsSelect(byDevice: boolean, bySite: boolean): string {
  const scope = byDevice
    ? `AND (x.device_id = ANY(${param('devices', 'uuid[]')})${bySite ? ` OR x.site_id = ${param('site', 'uuid')}` : ''})`
    : '';
  return `SELECT json_build_object('id', x.id, 'type', x.type, 'occurredAt', ${iso('x.occurred_at')}, 'deviceId', x.device_id, 'siteId', x.site_id,
                 'subjectType', x.subject_type, 'subjectId', x.subject_id, 'summary', x.summary, 'actor', x.actor, 'data', x.data)::text AS line
            FROM activity_events x
           WHERE x.occurred_at >= ${param('from', 'timestamptz')} AND x.occurred_at < ${param('to', 'timestamptz')} ${scope}
           ORDER BY x.occurred_at, x.commit_position, x.prepare_position`;
}

/**
 * Annotations whose closed range [starts_at, ends_at] overlaps [from, to),
 * attached to the scope's sensors or devices (or, for a SITE scope, the site).
 * Column names as migration 0023 keeps them for this reader.
 */
export function annotationsSelect(byDevice: boolean, bySite: boolean): string {
  const scope = byDevice
    ? `AND ((n.scope_type = 'DEVICE' AND n.scope_id = ANY(${param('devices', 'uuid[]')}))
         OR (n.scope_type = 'SENSOR' AND n.scope_id = ANY(${param('sensors', 'uuid[]')}))${
           bySite ? ` OR (n.scope_type = 'SITE' AND n.scope_id = ${param('site', 'uuid')})` : ''
         })`
    : '';
  return `SELECT json_build_object('id', n.id, 'classId', n.class_id, 'scopeType', n.scope_type, 'scopeId', n.scope_id,
                 'startsAt', ${iso('n.starts_at')}, 'endsAt', ${iso('n.ends_at')}, 'note', n.note, 'author', n.author,
                 'value', n.value, 'confidence', n.confidence, 'createdAt', ${iso('n.created_at')}, 'updatedAt', ${iso('n.updated_at')})::text AS line
            FROM annotations n
           WHERE n.ends_at >= ${param('from', 'timestamptz')} AND n.starts_at < ${param('to', 'timestamptz')} ${scope}
           ORDER BY n.starts_at, n.id`;
}
