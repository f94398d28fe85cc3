import type { QuarantineReason } from '../../ingest/readings/quarantine-reasons';
import type { Queryable } from '../../platform/db/pool';
import { decodeCursor, toPage, type Page } from '../pagination';
import { conditions } from './provisioning.queries';

/**
 * Reads of quarantined readings on a tenant transaction (RLS), and the one
 * write the API makes to the table: recording a decision, as the writer
 * role. The table belongs to the ingest path (migrations/0013_readings.sql),
 * not to a projection: nothing could rebuild it from events.
 */
export type QuarantineEntryStatus = 'QUARANTINED' | 'RELEASED' | 'DISCARDED';

export interface QuarantineListQuery {
  readonly limit: number;
  readonly cursor?: string;
  readonly deviceId?: string;
  readonly reason?: QuarantineReason;
  readonly status: QuarantineEntryStatus | 'ALL';
  readonly source?: 'MQTT' | 'HTTP';
  readonly from?: string;
  readonly to?: string;
}

interface QuarantineRow {
  id: string;
  device_id: string | null;
  sensor_id: string | null;
  sensor_key: string | null;
  reason: QuarantineReason;
  detail: string;
  source: 'MQTT' | 'HTTP';
  seq: number | null;
  received_at: Date;
  status: QuarantineEntryStatus;
  resolved_at: Date | null;
  resolved_by: string | null;
}

export interface QuarantineEntryView {
  id: string;
  deviceId: string | null;
  sensorId: string | null;
  sensorKey: string | null;
  reason: QuarantineReason;
  detail: string;
  source: 'MQTT' | 'HTTP';
  seq: number | null;
  receivedAt: string;
  status: QuarantineEntryStatus;
  resolvedAt: string | null;
  resolvedBy: string | null;
}

export interface QuarantineEntryDetailView extends QuarantineEntryView {
  payload: string;
}

const COLUMNS = 'id, device_id, sensor_id, sensor_key, reason, detail, source, seq, received_at, status, resolved_at, resolved_by';

function entryView(row: QuarantineRow): QuarantineEntryView {
  return {
    id: row.id,
    deviceId: row.device_id,
    sensorId: row.sensor_id,
    sensorKey: row.sensor_key,
    reason: row.reason,
    detail: row.detail,
    source: row.source,
    seq: row.seq,
    receivedAt: row.received_at.toISOString(),
    status: row.status,
    resolvedAt: row.resolved_at?.toISOString() ?? null,
    resolvedBy: row.resolved_by,
  };
}

/** Newest first: what an admin triages is what just arrived. */
export async function listQuarantineEntries(db: Queryable, q: QuarantineListQuery): Promise<Page<QuarantineEntryView>> {
  const before = decodeCursor(q.cursor, 2);
  const c = conditions();
  if (q.status !== 'ALL') c.where.push(`status = ${c.bind(q.status)}`);
  if (q.deviceId !== undefined) c.where.push(`device_id = ${c.bind(q.deviceId)}::uuid`);
  if (q.reason !== undefined) c.where.push(`reason = ${c.bind(q.reason)}`);
  if (q.source !== undefined) c.where.push(`source = ${c.bind(q.source)}`);
  if (q.from !== undefined) c.where.push(`received_at >= ${c.bind(q.from)}::timestamptz`);
  if (q.to !== undefined) c.where.push(`received_at < ${c.bind(q.to)}::timestamptz`);
  if (before) c.where.push(`(received_at, id) < (${c.bind(before[0])}::timestamptz, ${c.bind(before[1])}::uuid)`);
  const { rows } = await db.query<QuarantineRow>(
    `SELECT ${COLUMNS} FROM quarantined_readings ${c.where.length > 0 ? `WHERE ${c.where.join(' AND ')}` : ''}
      ORDER BY received_at DESC, id DESC LIMIT ${c.bind(q.limit + 1)}`,
    c.values,
  );
  return toPage(rows, q.limit, entryView, (r) => [r.received_at.toISOString(), r.id]);
}

export async function findQuarantineEntry(db: Queryable, id: string): Promise<QuarantineEntryDetailView | undefined> {
  const { rows } = await db.query<QuarantineRow & { payload: string }>(`SELECT ${COLUMNS}, payload FROM quarantined_readings WHERE id = $1`, [id]);
  const row = rows[0];
  return row ? { ...entryView(row), payload: row.payload } : undefined;
}

/**
 * Serialises decisions on one entry until the transaction ends. An advisory
 * lock rather than SELECT … FOR UPDATE: a row lock takes a transaction id,
 * and an open one holds back every reader of the Postgres event store for
 * as long as the release runs (docs/architecture.md, Event store).
 */
export async function lockQuarantineEntry(tx: Queryable, id: string): Promise<void> {
  await tx.query("SELECT pg_advisory_xact_lock(hashtextextended('quarantine:' || $1, 0))", [id]);
}

/** As the writer role (RLS bypassed): the organization is explicit. Changes only a still-quarantined row. */
export async function markQuarantineResolved(
  tx: Queryable,
  orgId: string,
  id: string,
  decision: { status: 'RELEASED' | 'DISCARDED'; at: string; by: string },
): Promise<void> {
  await tx.query(
    `UPDATE quarantined_readings SET status = $3, resolved_at = $4, resolved_by = $5
      WHERE org_id = $1 AND id = $2 AND status = 'QUARANTINED'`,
    [orgId, id, decision.status, decision.at, decision.by],
  );
}
