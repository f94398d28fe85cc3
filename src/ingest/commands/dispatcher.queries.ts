import type { Pool } from '../../platform/db/pool';
import { asWriter } from '../../platform/db/roles';
import { deriveHealth } from '../../api/routes/device-health.queries';

/** A command's row as the dispatcher needs it (every organization, writer role). */
export interface CommandRef {
  readonly orgId: string;
  readonly id: string;
}

/** An open command of a device that the read model shows connected. */
export interface DeliverableCommand extends CommandRef {
  readonly deviceId: string;
  readonly status: 'QUEUED' | 'SENT' | 'ACKNOWLEDGED';
  readonly name: string;
  readonly params: Record<string, unknown>;
  readonly expiresAt: Date;
  readonly createdAt: Date;
  readonly sentAt: Date | null;
  /** The device's current session (its connected_at): a new one means undelivered messages were lost. */
  readonly session: string;
  /**
   * ONLINE or DEGRADED by the one health rule (device-health.queries.ts), and
   * its session has settled: a heartbeat arrived in it (docs/mqtt.md: a device
   * subscribes before its first heartbeat) or it is SESSION_SETTLE_MS old.
   * A command published between a connect and the device's SUBSCRIBE is lost.
   */
  readonly reachable: boolean;
}

/** How long after a connect without a heartbeat a device is taken to have subscribed. */
export const SESSION_SETTLE_MS = 2000;

type HealthRow = NonNullable<Parameters<typeof deriveHealth>[0]>;

interface DeliverableRow extends HealthRow {
  org_id: string;
  id: string;
  device_id: string;
  status: DeliverableCommand['status'];
  name: string;
  params: Record<string, unknown>;
  expires_at: Date;
  created_at: Date;
  sent_at: Date | null;
}

const DELIVERABLE = `SELECT c.org_id, c.id, c.device_id, c.status, c.name, c.params, c.expires_at, c.created_at, c.sent_at,
    h.connected, h.connected_at, h.disconnected_at, h.last_seen_at, h.firmware_version, h.signal_dbm, h.battery_percent, h.uptime_seconds
  FROM device_commands c JOIN device_health h ON h.org_id = c.org_id AND h.device_id = c.device_id`;

function toDeliverable(row: DeliverableRow, now: Date): DeliverableCommand {
  const { status } = deriveHealth(row, now);
  const connectedAt = row.connected_at?.getTime() ?? 0;
  const settled = (row.last_seen_at?.getTime() ?? 0) > connectedAt || now.getTime() - connectedAt >= SESSION_SETTLE_MS;
  return {
    orgId: row.org_id,
    id: row.id,
    deviceId: row.device_id,
    status: row.status,
    name: row.name,
    params: row.params,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
    sentAt: row.sent_at,
    session: row.connected_at?.toISOString() ?? '',
    reachable: (status === 'ONLINE' || status === 'DEGRADED') && settled,
  };
}

/** QUEUED commands whose expiresAt has passed, oldest deadline first. */
export async function expiredCommands(pool: Pool, now: Date, limit: number): Promise<CommandRef[]> {
  const { rows } = await asWriter(pool, (tx) =>
    tx.query<{ org_id: string; id: string }>(
      `SELECT org_id, id FROM device_commands WHERE status = 'QUEUED' AND expires_at <= $1 ORDER BY expires_at LIMIT $2`,
      [now, limit],
    ),
  );
  return rows.map((row) => ({ orgId: row.org_id, id: row.id }));
}

/** SENT or ACKNOWLEDGED commands without a final answer timeoutSeconds after they were sent. */
export async function timedOutCommands(pool: Pool, now: Date, limit: number): Promise<CommandRef[]> {
  const { rows } = await asWriter(pool, (tx) =>
    tx.query<{ org_id: string; id: string }>(
      `SELECT org_id, id FROM device_commands
        WHERE status IN ('SENT', 'ACKNOWLEDGED') AND sent_at + make_interval(secs => timeout_seconds) <= $1
        ORDER BY sent_at LIMIT $2`,
      [now, limit],
    ),
  );
  return rows.map((row) => ({ orgId: row.org_id, id: row.id }));
}

/** A page of QUEUED, unexpired commands of connected devices in the order they were queued, after `after`. */
export async function queuedForConnectedDevices(pool: Pool, now: Date, after: DeliverableCommand | undefined, limit: number): Promise<DeliverableCommand[]> {
  const { rows } = await asWriter(pool, (tx) =>
    tx.query<DeliverableRow>(
      `${DELIVERABLE}
        WHERE c.status = 'QUEUED' AND c.expires_at > $1 AND h.connected
          AND ($2::timestamptz IS NULL OR (c.created_at, c.id) > ($2::timestamptz, $3::uuid))
        ORDER BY c.created_at, c.id LIMIT $4`,
      [now, after?.createdAt ?? null, after?.id ?? null, limit],
    ),
  );
  return rows.map((row) => toDeliverable(row, now));
}

/**
 * A page of SENT or ACKNOWLEDGED commands of connected devices, after
 * `after` in (sent_at, id) order. `all` false keeps only those that may
 * need a repeat: the device connected again since the command was first
 * sent, or it is SENT (unacknowledged) since before `unackedBefore`.
 */
export async function inFlightForConnectedDevices(
  pool: Pool,
  options: { now: Date; all: boolean; unackedBefore: Date },
  after: DeliverableCommand | undefined,
  limit: number,
): Promise<DeliverableCommand[]> {
  const { rows } = await asWriter(pool, (tx) =>
    tx.query<DeliverableRow>(
      `${DELIVERABLE}
        WHERE c.status IN ('SENT', 'ACKNOWLEDGED') AND h.connected
          AND ($1 OR h.connected_at > c.sent_at OR (c.status = 'SENT' AND c.sent_at <= $2))
          AND ($3::timestamptz IS NULL OR (c.sent_at, c.id) > ($3::timestamptz, $4::uuid))
        ORDER BY c.sent_at, c.id LIMIT $5`,
      [options.all, options.unackedBefore, after?.sentAt ?? null, after?.id ?? null, limit],
    ),
  );
  return rows.map((row) => toDeliverable(row, options.now));
}
