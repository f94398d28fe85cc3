import type { NotificationChannelType } from '../commands/notification-channels/notification-channel.events';
import type { Queryable } from '../platform/db/pool';
import type { NotificationContent } from './notification-payload';

/** The SQL of the delivery side (writer role: it works across organizations with explicit org ids). */

export interface NewDelivery {
  readonly orgId: string;
  readonly id: string;
  readonly channelId: string;
  readonly alertId: string | null;
  readonly eventId: string | null;
  readonly content: NotificationContent;
}

/** Idempotent per (event, channel): a replayed event records nothing twice. Answers whether a row was added. */
export async function insertDelivery(db: Queryable, delivery: NewDelivery): Promise<boolean> {
  const result = await db.query(
    `INSERT INTO notification_deliveries (org_id, id, channel_id, alert_id, event_id, event_type, payload, status, next_attempt_at, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'PENDING', now(), date_trunc('milliseconds', now()), now())
     ON CONFLICT DO NOTHING`,
    [delivery.orgId, delivery.id, delivery.channelId, delivery.alertId, delivery.eventId, delivery.content.type, JSON.stringify(delivery.content)],
  );
  return result.rowCount === 1;
}

/** The enabled channels of the organization among `ids` (ids of another organization are simply not found). */
export async function enabledChannels(db: Queryable, orgId: string, ids: readonly string[]): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    'SELECT id FROM notification_channels WHERE org_id = $1 AND id = ANY($2::uuid[]) AND enabled ORDER BY id',
    [orgId, ids],
  );
  return rows.map((r) => r.id);
}

export interface ClaimedDelivery {
  readonly orgId: string;
  readonly id: string;
  readonly channelId: string;
  readonly content: NotificationContent;
  /** This attempt's number (1 for the first). */
  readonly attempt: number;
}

/**
 * Takes up to `limit` due deliveries: the attempt is counted and the row
 * leased (next_attempt_at pushed past the send's timeout) in one short
 * statement, so the HTTP call runs outside any transaction (an open
 * transaction would hold back every reader of the event log) and a worker
 * that dies mid-send leaves a row that is due again when its lease ends.
 * SKIP LOCKED lets several workers claim side by side.
 */
export async function claimDueDeliveries(db: Queryable, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
  const { rows } = await db.query<{ org_id: string; id: string; channel_id: string; payload: NotificationContent; attempts: number }>(
    `UPDATE notification_deliveries d
        SET attempts = d.attempts + 1, next_attempt_at = now() + $2 * interval '1 millisecond', updated_at = now()
      WHERE (d.org_id, d.id) IN (
              SELECT org_id, id FROM notification_deliveries
               WHERE status = 'PENDING' AND next_attempt_at <= now()
               ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
      RETURNING d.org_id, d.id, d.channel_id, d.payload, d.attempts`,
    [limit, leaseMs],
  );
  return rows.map((r) => ({ orgId: r.org_id, id: r.id, channelId: r.channel_id, content: r.payload, attempt: r.attempts }));
}

export interface DeliveryOutcome {
  readonly status: 'PENDING' | 'DELIVERED' | 'DEAD';
  readonly statusCode: number | null;
  readonly error: string | null;
  /** For PENDING: wait before the next attempt. */
  readonly retryInMs: number;
}

/** Records an attempt's outcome, only if the row is still this attempt's (a lease that ran out was claimed again). */
export async function recordOutcome(db: Queryable, orgId: string, id: string, attempt: number, outcome: DeliveryOutcome): Promise<boolean> {
  const result = await db.query(
    `UPDATE notification_deliveries
        SET status = $4, last_status_code = $5, last_error = $6, updated_at = now(),
            next_attempt_at = CASE WHEN $4 = 'PENDING' THEN now() + $7 * interval '1 millisecond' ELSE next_attempt_at END,
            delivered_at = CASE WHEN $4 = 'DELIVERED' THEN now() ELSE delivered_at END
      WHERE org_id = $1 AND id = $2 AND attempts = $3 AND status = 'PENDING'`,
    [orgId, id, attempt, outcome.status, outcome.statusCode, outcome.error?.slice(0, 2000) ?? null, outcome.retryInMs],
  );
  return result.rowCount === 1;
}

/** What a send needs of a channel: its type, settings, state and (writer role) its secret. */
export interface ChannelForDelivery {
  readonly id: string;
  readonly name: string;
  readonly type: NotificationChannelType;
  readonly enabled: boolean;
  readonly config: Record<string, unknown>;
  readonly secret: string | null;
}

export async function channelForDelivery(db: Queryable, orgId: string, channelId: string): Promise<ChannelForDelivery | undefined> {
  const { rows } = await db.query<{ id: string; name: string; type: NotificationChannelType; enabled: boolean; config: Record<string, unknown>; secret: string | null }>(
    `SELECT c.id, c.name, c.type, c.enabled, c.config, s.secret
       FROM notification_channels c
       LEFT JOIN notification_channel_secrets s ON s.org_id = c.org_id AND s.channel_id = c.id AND s.id = c.secret_id
      WHERE c.org_id = $1 AND c.id = $2`,
    [orgId, channelId],
  );
  return rows[0];
}

/** A delivery made and attempted at once (the test-send): recorded with its outcome, never retried. */
export async function insertAttemptedDelivery(db: Queryable, delivery: NewDelivery, outcome: DeliveryOutcome): Promise<void> {
  await db.query(
    `INSERT INTO notification_deliveries
       (org_id, id, channel_id, alert_id, event_id, event_type, payload, status, attempts, next_attempt_at, last_status_code, last_error, created_at, updated_at, delivered_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, now(), $9, $10, date_trunc('milliseconds', now()), now(), CASE WHEN $8 = 'DELIVERED' THEN now() END)`,
    [
      delivery.orgId,
      delivery.id,
      delivery.channelId,
      delivery.alertId,
      delivery.eventId,
      delivery.content.type,
      JSON.stringify(delivery.content),
      outcome.status,
      outcome.statusCode,
      outcome.error?.slice(0, 2000) ?? null,
    ],
  );
}
