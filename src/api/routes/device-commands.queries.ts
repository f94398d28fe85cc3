import type { CommandError, CommandStatus } from '../../commands/device-commands/device-command.events';
import type { Queryable } from '../../platform/db/pool';
import { decodeCursor, toPage, type Page } from '../pagination';

export interface DeviceCommandView {
  id: string;
  deviceId: string;
  batchId: string | null;
  name: string;
  params: Record<string, unknown>;
  status: CommandStatus;
  timeoutSeconds: number;
  expiresAt: string;
  createdAt: string;
  createdBy: string;
  sentAt: string | null;
  acknowledgedAt: string | null;
  completedAt: string | null;
  result: Record<string, unknown> | null;
  error: CommandError | null;
  version: number;
}

interface CommandRow {
  id: string;
  device_id: string;
  batch_id: string | null;
  name: string;
  params: Record<string, unknown>;
  status: CommandStatus;
  timeout_seconds: number;
  expires_at: Date;
  created_at: Date;
  created_by: string;
  sent_at: Date | null;
  acknowledged_at: Date | null;
  completed_at: Date | null;
  result: Record<string, unknown> | null;
  error: CommandError | null;
  version: number;
}

const COLUMNS = `c.id, c.device_id, c.batch_id, c.name, c.params, c.status, c.timeout_seconds, c.expires_at, c.created_at, c.created_by,
  c.sent_at, c.acknowledged_at, c.completed_at, c.result, c.error, c.version`;

function toView(row: CommandRow): DeviceCommandView {
  return {
    id: row.id,
    deviceId: row.device_id,
    batchId: row.batch_id,
    name: row.name,
    params: row.params,
    status: row.status,
    timeoutSeconds: row.timeout_seconds,
    expiresAt: row.expires_at.toISOString(),
    createdAt: row.created_at.toISOString(),
    createdBy: row.created_by,
    sentAt: row.sent_at?.toISOString() ?? null,
    acknowledgedAt: row.acknowledged_at?.toISOString() ?? null,
    completedAt: row.completed_at?.toISOString() ?? null,
    result: row.result,
    error: row.error,
    version: row.version,
  };
}

/** Whether the device exists in the caller's organization (RLS), and whether it is decommissioned. */
export async function findCommandTarget(db: Queryable, deviceId: string): Promise<{ decommissioned: boolean } | undefined> {
  const { rows } = await db.query<{ decommissioned: boolean }>(`SELECT status = 'DECOMMISSIONED' AS decommissioned FROM devices WHERE id = $1`, [deviceId]);
  return rows[0];
}

/** One command of one device (under RLS). */
export async function findDeviceCommand(db: Queryable, deviceId: string, id: string): Promise<DeviceCommandView | undefined> {
  const { rows } = await db.query<CommandRow>(`SELECT ${COLUMNS} FROM device_commands c WHERE c.device_id = $1 AND c.id = $2`, [deviceId, id]);
  const row = rows[0];
  return row ? toView(row) : undefined;
}

export interface ListDeviceCommandsQuery {
  limit: number;
  cursor?: string;
  status?: CommandStatus;
}

/** A device's commands, newest first: pages ordered by (created_at, id) descending. */
export async function listDeviceCommands(db: Queryable, deviceId: string, query: ListDeviceCommandsQuery): Promise<Page<DeviceCommandView>> {
  const after = decodeCursor(query.cursor, 2);
  const { rows } = await db.query<CommandRow>(
    `SELECT ${COLUMNS} FROM device_commands c
      WHERE c.device_id = $1
        AND ($2::text IS NULL OR c.status = $2)
        AND ($3::timestamptz IS NULL OR (c.created_at, c.id) < ($3::timestamptz, $4::uuid))
      ORDER BY c.created_at DESC, c.id DESC LIMIT $5`,
    [deviceId, query.status ?? null, after?.[0] ?? null, after?.[1] ?? null, query.limit + 1],
  );
  return toPage(rows, query.limit, toView, (r) => [r.created_at.toISOString(), r.id]);
}
