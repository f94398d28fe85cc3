import { REGISTRATION_TOKEN_EVENT_TYPES, type RegistrationTokenEvent } from '../commands/registration-tokens/registration-token.events';
import { assertNever } from '../commands/decider';
import { ident, orgIdOf, type Projection } from './projection';

/** Tokens as listed by the API; the secret hash stays in the events only. */
export const registrationTokensProjection: Projection = {
  name: 'registration-tokens',
  tables: ['registration_tokens'],
  eventTypes: REGISTRATION_TOKEN_EVENT_TYPES,
  async apply(tx, events, table) {
    const t = ident(table('registration_tokens'));
    for (const recorded of events) {
      const event = { type: recorded.type, data: recorded.data } as RegistrationTokenEvent;
      const orgId = orgIdOf(recorded);
      switch (event.type) {
        case 'RegistrationTokenIssued': {
          const d = event.data;
          await tx.query(
            `INSERT INTO ${t} (org_id, id, device_id, device_name, status, expires_at, created_by, created_at)
             VALUES ($1, $2, $3, $4, 'PENDING', $5, $6, $7) ON CONFLICT (org_id, id) DO NOTHING`,
            [orgId, d.tokenId, d.deviceId, d.deviceName, d.expiresAt, recorded.metadata.actor, d.issuedAt],
          );
          break;
        }
        case 'RegistrationTokenRedeemed':
          await tx.query(`UPDATE ${t} SET status = 'REDEEMED', redeemed_at = $3 WHERE org_id = $1 AND id = $2`, [
            orgId,
            event.data.tokenId,
            event.data.redeemedAt,
          ]);
          break;
        case 'RegistrationTokenRevoked':
          await tx.query(`UPDATE ${t} SET status = 'REVOKED', revoked_at = $3 WHERE org_id = $1 AND id = $2`, [
            orgId,
            event.data.tokenId,
            event.data.revokedAt,
          ]);
          break;
        default:
          assertNever(event);
      }
    }
  },
};
