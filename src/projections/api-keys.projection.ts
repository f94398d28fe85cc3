import { API_KEY_EVENT_TYPES, type ApiKeyEvent } from '../commands/api-keys/api-key.events';
import { ident, orgIdOf, type Projection } from './projection';

export const apiKeysProjection: Projection = {
  name: 'api-keys',
  tables: ['api_keys'],
  eventTypes: API_KEY_EVENT_TYPES,
  async apply(tx, events, table) {
    const t = ident(table('api_keys'));
    for (const recorded of events) {
      const event = { type: recorded.type, data: recorded.data } as ApiKeyEvent;
      const orgId = orgIdOf(recorded);
      if (event.type === 'ApiKeyCreated') {
        const d = event.data;
        await tx.query(
          `INSERT INTO ${t} (org_id, id, name, role, prefix, secret_hash, created_by, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (org_id, id) DO NOTHING`,
          [orgId, d.keyId, d.name, d.role, d.prefix, d.secretHash, recorded.metadata.actor, d.createdAt, d.expiresAt],
        );
      } else {
        await tx.query(`UPDATE ${t} SET revoked_at = $3 WHERE org_id = $1 AND id = $2`, [orgId, event.data.keyId, event.data.revokedAt]);
      }
    }
  },
};
