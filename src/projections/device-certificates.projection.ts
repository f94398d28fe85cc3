import { assertNever } from '../commands/decider';
import { DEVICE_CERTIFICATE_EVENT_TYPES, type DeviceCertificateEvent } from '../commands/device-certificates/device-certificate.events';
import { ident, orgIdOf, type Projection } from './projection';

/** One row per certificate; a revocation is stamped once (a repeated one keeps the first time and reason). */
export const deviceCertificatesProjection: Projection = {
  name: 'device-certificates',
  tables: ['device_certificates'],
  eventTypes: DEVICE_CERTIFICATE_EVENT_TYPES,
  async apply(tx, events, table) {
    const t = ident(table('device_certificates'));
    for (const recorded of events) {
      const event = { type: recorded.type, data: recorded.data } as DeviceCertificateEvent;
      const orgId = orgIdOf(recorded);
      switch (event.type) {
        case 'DeviceCertificateIssued': {
          const d = event.data;
          await tx.query(
            `INSERT INTO ${t} (org_id, device_id, serial_number, fingerprint, token_id, not_before, not_after, issued_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (org_id, device_id, serial_number) DO NOTHING`,
            [orgId, d.deviceId, d.serialNumber, d.fingerprintSha256, d.tokenId, d.notBefore, d.notAfter, d.issuedAt],
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
