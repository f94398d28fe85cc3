import type { Pool } from '../platform/db/pool';
import { asWriter } from '../platform/db/roles';

export interface DueRenewal {
  readonly orgId: string;
  readonly deviceId: string;
  /** The renewal certificate whose replaced certificates are to be revoked. */
  readonly serialNumber: string;
}

interface DueRenewalRow {
  org_id: string;
  device_id: string;
  serial_number: string;
}

/**
 * Valid renewal certificates, in every organization (writer role), that were
 * used to connect or whose grace period began before `graceStart`, and that
 * still replace a valid certificate.
 */
export async function findDueRenewals(pool: Pool, now: Date, graceStart: Date, limit = 500): Promise<DueRenewal[]> {
  const rows = await asWriter(pool, async (tx) => {
    const { rows: found } = await tx.query<DueRenewalRow>(
      `SELECT n.org_id, n.device_id, n.serial_number
         FROM device_certificates n
        WHERE n.replaces IS NOT NULL AND n.not_after > $1 AND n.revoked_at IS NULL
          AND (n.first_used_at IS NOT NULL OR n.issued_at <= $2)
          AND EXISTS (SELECT 1 FROM device_certificates o
                       WHERE o.org_id = n.org_id AND o.device_id = n.device_id AND o.serial_number = ANY (n.replaces)
                         AND o.revoked_at IS NULL AND o.not_after > $1)
        ORDER BY n.issued_at
        LIMIT $3`,
      [now, graceStart, limit],
    );
    return found;
  });
  return rows.map((row) => ({ orgId: row.org_id, deviceId: row.device_id, serialNumber: row.serial_number }));
}
