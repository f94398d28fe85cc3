import { randomBytes, randomUUID } from 'node:crypto';
import type { Pool, Queryable } from '../../platform/db/pool';
import { asWriter } from '../../platform/db/roles';

/**
 * Channel secrets: a webhook's signing secret (HMAC needs the secret itself,
 * so it cannot be kept as a hash) and a Slack incoming-webhook URL. Kept in
 * notification_channel_secrets, which only the writer role can read; the
 * events and the read model hold the secret's id, never the secret, so the
 * event log, its backups and every projection stay free of them.
 */
export const SIGNING_SECRET_PREFIX = 'whsec_';

/** 256 random bits; the whole string (prefix included) is the HMAC key. */
export function newSigningSecret(): string {
  return `${SIGNING_SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** Stores a new secret of the channel and returns its id (which the channel's next event names). */
export async function storeChannelSecret(pool: Pool, orgId: string, channelId: string, secret: string, now: Date): Promise<string> {
  const id = randomUUID();
  await asWriter(pool, (tx) =>
    tx.query('INSERT INTO notification_channel_secrets (org_id, channel_id, id, secret, created_at) VALUES ($1, $2, $3, $4, $5)', [
      orgId,
      channelId,
      id,
      secret,
      now,
    ]),
  );
  return id;
}

/** The secret the channel's events name; `db` must be the writer role (the API role cannot read the table). */
export async function readChannelSecret(db: Queryable, orgId: string, channelId: string, secretId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ secret: string }>(
    'SELECT secret FROM notification_channel_secrets WHERE org_id = $1 AND channel_id = $2 AND id = $3',
    [orgId, channelId, secretId],
  );
  return rows[0]?.secret;
}

/** Every secret of the channel but `keepId` (older ones after a rotation or a new Slack URL, all of them after a delete). */
export async function dropChannelSecrets(pool: Pool, orgId: string, channelId: string, keepId: string | null = null): Promise<void> {
  await asWriter(pool, (tx) =>
    tx.query('DELETE FROM notification_channel_secrets WHERE org_id = $1 AND channel_id = $2 AND ($3::uuid IS NULL OR id <> $3::uuid)', [
      orgId,
      channelId,
      keepId,
    ]),
  );
}
