import type { Queryable } from '../../platform/db/pool';
import { decodeCursor, toPage, type Page } from '../pagination';
import { conditions, type StatusCondition } from './provisioning.queries';

/** Reads of device certificates, on a tenant transaction (RLS); the status is derived at read time. */
export type CertificateStatus = 'ACTIVE' | 'EXPIRED' | 'REVOKED';

interface CertificateRow {
  device_id: string;
  serial_number: string;
  fingerprint: string;
  not_before: Date;
  not_after: Date;
  issued_at: Date;
  revoked_at: Date | null;
  revocation_reason: string | null;
}

export interface DeviceCertificateView {
  deviceId: string;
  serialNumber: string;
  fingerprintSha256: string;
  status: CertificateStatus;
  notBefore: string;
  notAfter: string;
  issuedAt: string;
  revokedAt: string | null;
  revocationReason: string | null;
}

const certificateView = (now: Date) => (row: CertificateRow): DeviceCertificateView => ({
  deviceId: row.device_id,
  serialNumber: row.serial_number,
  fingerprintSha256: row.fingerprint,
  status: row.revoked_at ? 'REVOKED' : row.not_after <= now ? 'EXPIRED' : 'ACTIVE',
  notBefore: row.not_before.toISOString(),
  notAfter: row.not_after.toISOString(),
  issuedAt: row.issued_at.toISOString(),
  revokedAt: row.revoked_at?.toISOString() ?? null,
  revocationReason: row.revocation_reason,
});

const CERTIFICATE_COLUMNS = 'device_id, serial_number, fingerprint, not_before, not_after, issued_at, revoked_at, revocation_reason';
const CERTIFICATE_STATUS: Readonly<Record<CertificateStatus, StatusCondition>> = {
  ACTIVE: (now) => `revoked_at IS NULL AND not_after > ${now()}`,
  EXPIRED: (now) => `revoked_at IS NULL AND not_after <= ${now()}`,
  REVOKED: () => 'revoked_at IS NOT NULL',
};

export async function listDeviceCertificates(
  db: Queryable,
  deviceId: string,
  q: { limit: number; cursor?: string; status?: CertificateStatus },
  now = new Date(),
): Promise<Page<DeviceCertificateView>> {
  const after = decodeCursor(q.cursor, 2);
  const c = conditions();
  c.where.push(`device_id = ${c.bind(deviceId)}`);
  if (q.status) c.where.push(CERTIFICATE_STATUS[q.status](() => c.bind(now)));
  if (after) c.where.push(`(issued_at, serial_number) > (${c.bind(after[0])}::timestamptz, ${c.bind(after[1])}::text)`);
  const { rows } = await db.query<CertificateRow>(
    `SELECT ${CERTIFICATE_COLUMNS} FROM device_certificates WHERE ${c.where.join(' AND ')}
      ORDER BY issued_at, serial_number LIMIT ${c.bind(q.limit + 1)}`,
    c.values,
  );
  return toPage(rows, q.limit, certificateView(now), (r) => [r.issued_at.toISOString(), r.serial_number]);
}

export async function findDeviceCertificate(db: Queryable, deviceId: string, serialNumber: string, now = new Date()): Promise<DeviceCertificateView | undefined> {
  const { rows } = await db.query<CertificateRow>(
    `SELECT ${CERTIFICATE_COLUMNS} FROM device_certificates WHERE device_id = $1 AND serial_number = $2`,
    [deviceId, serialNumber],
  );
  return rows[0] ? certificateView(now)(rows[0]) : undefined;
}

/** Whether the caller's organization has this device, decommissioned or not. */
export async function deviceExists(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM devices WHERE id = $1', [id]);
  return rowCount === 1;
}
