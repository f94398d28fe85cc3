import type { Queryable } from '../../platform/db/pool';
import { decodeCursor, toPage, type Page } from '../pagination';

/** Reads of registration tokens, on a tenant transaction (RLS). */
export type RegistrationTokenStatus = 'PENDING' | 'EXPIRED' | 'REDEEMED' | 'REVOKED';

interface TokenRow {
  id: string;
  device_id: string;
  device_name: string;
  status: 'PENDING' | 'REDEEMED' | 'REVOKED';
  expires_at: Date;
  created_by: string;
  created_at: Date;
  redeemed_at: Date | null;
  revoked_at: Date | null;
}

export interface RegistrationTokenView {
  id: string;
  deviceId: string;
  deviceName: string;
  status: RegistrationTokenStatus;
  expiresAt: string;
  createdBy: string;
  createdAt: string;
  redeemedAt: string | null;
  revokedAt: string | null;
}

const tokenView = (now: Date) => (row: TokenRow): RegistrationTokenView => ({
  id: row.id,
  deviceId: row.device_id,
  deviceName: row.device_name,
  status: row.status === 'PENDING' && row.expires_at <= now ? 'EXPIRED' : row.status,
  expiresAt: row.expires_at.toISOString(),
  createdBy: row.created_by,
  createdAt: row.created_at.toISOString(),
  redeemedAt: row.redeemed_at?.toISOString() ?? null,
  revokedAt: row.revoked_at?.toISOString() ?? null,
});

const TOKEN_COLUMNS = 'id, device_id, device_name, status, expires_at, created_by, created_at, redeemed_at, revoked_at';
/** Status → condition; `now` binds the current time where the status depends on it. */
export type StatusCondition = (now: () => string) => string;

// EXPIRED is stored as PENDING.
const TOKEN_STATUS: Readonly<Record<RegistrationTokenStatus, StatusCondition>> = {
  PENDING: (now) => `status = 'PENDING' AND expires_at > ${now()}`,
  EXPIRED: (now) => `status = 'PENDING' AND expires_at <= ${now()}`,
  REDEEMED: () => "status = 'REDEEMED'",
  REVOKED: () => "status = 'REVOKED'",
};

/** Binds values to numbered placeholders as conditions are added. */
export function conditions(): { where: string[]; values: unknown[]; bind(value: unknown): string } {
  const values: unknown[] = [];
  return {
    where: [],
    values,
    bind(value) {
      values.push(value);
      return `$${values.length}`;
    },
  };
}

export async function listRegistrationTokens(
  db: Queryable,
  q: { limit: number; cursor?: string; deviceId?: string; status: RegistrationTokenStatus },
  now = new Date(),
): Promise<Page<RegistrationTokenView>> {
  const after = decodeCursor(q.cursor, 2);
  const c = conditions();
  c.where.push(TOKEN_STATUS[q.status](() => c.bind(now)));
  if (q.deviceId !== undefined) c.where.push(`device_id = ${c.bind(q.deviceId)}::uuid`);
  if (after) c.where.push(`(created_at, id) > (${c.bind(after[0])}::timestamptz, ${c.bind(after[1])}::uuid)`);
  const { rows } = await db.query<TokenRow>(
    `SELECT ${TOKEN_COLUMNS} FROM registration_tokens WHERE ${c.where.join(' AND ')} ORDER BY created_at, id LIMIT ${c.bind(q.limit + 1)}`,
    c.values,
  );
  return toPage(rows, q.limit, tokenView(now), (r) => [r.created_at.toISOString(), r.id]);
}

export async function findRegistrationToken(db: Queryable, id: string, now = new Date()): Promise<RegistrationTokenView | undefined> {
  const { rows } = await db.query<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM registration_tokens WHERE id = $1`, [id]);
  return rows[0] ? tokenView(now)(rows[0]) : undefined;
}

/** The device's name and whether it is decommissioned; undefined when the caller's organization has no such device. */
export async function findDeviceForToken(db: Queryable, id: string): Promise<{ name: string; decommissioned: boolean } | undefined> {
  const { rows } = await db.query<{ name: string; decommissioned: boolean }>(
    'SELECT name, decommissioned_at IS NOT NULL AS decommissioned FROM devices WHERE id = $1',
    [id],
  );
  return rows[0];
}

/** Ids of the device's tokens that are still PENDING (expired ones included). */
export async function pendingTokenIds(db: Queryable, deviceId: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(`SELECT id FROM registration_tokens WHERE device_id = $1 AND status = 'PENDING'`, [deviceId]);
  return rows.map((row) => row.id);
}
