import { COMMAND_STATUSES, type CommandStatus } from '../../commands/device-commands/device-command.events';
import type { Queryable } from '../../platform/db/pool';
import { decodeCursor, toPage, type Page } from '../pagination';
import { inGroup } from './device-groups.queries';

export interface CommandBatchView {
  id: string;
  groupId: string;
  name: string;
  params: Record<string, unknown>;
  timeoutSeconds: number;
  expiresAt: string;
  createdAt: string;
  createdBy: string;
  total: number;
  counts: Record<CommandStatus, number>;
}

interface BatchRow {
  id: string;
  group_id: string;
  name: string;
  params: Record<string, unknown>;
  timeout_seconds: number;
  expires_at: Date;
  created_at: Date;
  created_by: string;
  total: number;
  counts: Partial<Record<CommandStatus, number>> | null;
}

/** The batch row with its commands counted by status (the batch_id index; RLS keeps it to the caller's organization). */
const SELECT = `SELECT b.id, b.group_id, b.name, b.params, b.timeout_seconds, b.expires_at, b.created_at, b.created_by, b.total,
    (SELECT jsonb_object_agg(s.status, s.n) FROM (SELECT c.status, count(*) AS n FROM device_commands c WHERE c.batch_id = b.id GROUP BY c.status) s) AS counts
  FROM command_batches b`;

function toView(row: BatchRow): CommandBatchView {
  return {
    id: row.id,
    groupId: row.group_id,
    name: row.name,
    params: row.params,
    timeoutSeconds: row.timeout_seconds,
    expiresAt: row.expires_at.toISOString(),
    createdAt: row.created_at.toISOString(),
    createdBy: row.created_by,
    total: row.total,
    counts: Object.fromEntries(COMMAND_STATUSES.map((status) => [status, Number(row.counts?.[status] ?? 0)])) as Record<CommandStatus, number>,
  };
}

/**
 * The devices a bulk command goes to: the group's members now (the one
 * definition of membership, static or by tags), decommissioned devices left
 * out. `limit` rows at most, so a caller can tell a group that is too large.
 */
export async function groupCommandTargets(db: Queryable, groupId: string, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT d.id FROM devices d WHERE d.status <> 'DECOMMISSIONED' AND ${inGroup('d', '$1')} ORDER BY d.id LIMIT $2`,
    [groupId, limit],
  );
  return rows.map((row) => row.id);
}

export async function findCommandBatch(db: Queryable, id: string): Promise<CommandBatchView | undefined> {
  const { rows } = await db.query<BatchRow>(`${SELECT} WHERE b.id = $1`, [id]);
  const row = rows[0];
  return row ? toView(row) : undefined;
}

export interface ListCommandBatchesQuery {
  limit: number;
  cursor?: string;
  groupId?: string;
}

/** Batches newest first: pages ordered by (created_at, id) descending. */
export async function listCommandBatches(db: Queryable, query: ListCommandBatchesQuery): Promise<Page<CommandBatchView>> {
  const after = decodeCursor(query.cursor, 2);
  const { rows } = await db.query<BatchRow>(
    `${SELECT}
      WHERE ($1::uuid IS NULL OR b.group_id = $1::uuid)
        AND ($2::timestamptz IS NULL OR (b.created_at, b.id) < ($2::timestamptz, $3::uuid))
      ORDER BY b.created_at DESC, b.id DESC LIMIT $4`,
    [query.groupId ?? null, after?.[0] ?? null, after?.[1] ?? null, query.limit + 1],
  );
  return toPage(rows, query.limit, toView, (r) => [r.created_at.toISOString(), r.id]);
}
