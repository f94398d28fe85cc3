import { assertNever } from '../commands/decider';
import { DEVICE_CERTIFICATE_EVENT_TYPES, type DeviceCertificateEvent } from '../commands/device-certificates/device-certificate.events';
import type { DeviceConnected } from '../commands/device-health/device-health.events';
import { listCheckpoints } from '../platform/checkpoints/checkpoints';
import type { Pool } from '../platform/db/pool';
import { WRITER_ROLE } from '../platform/db/roles';
import { START, type Position } from '../platform/event-store/event-store.port';
import { ident, orgIdOf, type Projection } from './projection';

/**
 * One row per certificate; a revocation is stamped once (a repeated one keeps
 * the first time and reason). A connect made with a certificate (the broker
 * records its serial) stamps its first use, which ends a renewal's grace.
 */
export const deviceCertificatesProjection: Projection = {
  name: 'device-certificates',
  tables: ['device_certificates'],
  eventTypes: [...DEVICE_CERTIFICATE_EVENT_TYPES, 'DeviceConnected'],
  async apply(tx, events, table) {
    const t = ident(table('device_certificates'));
    for (const recorded of events) {
      const event = { type: recorded.type, data: recorded.data } as DeviceCertificateEvent | DeviceConnected;
      const orgId = orgIdOf(recorded);
      switch (event.type) {
        case 'DeviceCertificateIssued': {
          const d = event.data;
          await tx.query(
            `INSERT INTO ${t} (org_id, device_id, serial_number, fingerprint, token_id, not_before, not_after, issued_at, replaces)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (org_id, device_id, serial_number) DO NOTHING`,
            [
              orgId, d.deviceId, d.serialNumber, d.fingerprintSha256, 'tokenId' in d ? d.tokenId : null,
              d.notBefore, d.notAfter, d.issuedAt, 'renewal' in d ? d.renewal.replaces : null,
            ],
          );
          break;
        }
        case 'DeviceConnected': {
          const d = event.data;
          if (d.serialNumber === undefined) break;
          await tx.query(
            `UPDATE ${t} SET first_used_at = $4
              WHERE org_id = $1 AND device_id = $2 AND serial_number = $3 AND (first_used_at IS NULL OR first_used_at > $4)`,
            [orgId, d.deviceId, d.serialNumber, d.at],
          );
          break;
        }
        case 'DeviceCertificateRevoked': {
          const d = event.data;
          await tx.query(
            `UPDATE ${t} SET revoked_at = $4, revocation_reason = $5
              WHERE org_id = $1 AND device_id = $2 AND serial_number = $3 AND revoked_at IS NULL`,
            [orgId, d.deviceId, d.serialNumber, d.revokedAt, d.reason],
          );
          break;
        }
        default:
          assertNever(event);
      }
    }
  },
};

/**
 * Every revoked serial, across organizations (writer role), with the
 * projection's checkpoint read in the same snapshot: the broker follows
 * later revocations from exactly there, so none falls between the two.
 */
export async function loadRevokedSerials(pool: Pool): Promise<{ serials: string[]; upTo: Position }> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const upTo = (await listCheckpoints(client)).find((c) => c.name === deviceCertificatesProjection.name)?.position ?? START;
    await client.query(`SELECT set_config('role', $1, true)`, [WRITER_ROLE]);
    const { rows } = await client.query<{ serial_number: string }>('SELECT serial_number FROM device_certificates WHERE revoked_at IS NOT NULL');
    await client.query('COMMIT');
    return { serials: rows.map((r) => r.serial_number), upTo };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
