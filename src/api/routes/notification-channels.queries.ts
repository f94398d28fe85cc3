import type { NotificationChannelType } from '../../commands/notification-channels/notification-channel.events';
import type { Queryable } from '../../platform/db/pool';
import { decodeCursor, toPage, type Page } from '../pagination';

export interface NotificationChannelSummaryView {
  id: string;
  name: string;
  type: NotificationChannelType;
  enabled: boolean;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface NotificationChannelView extends NotificationChannelSummaryView {
  config: Record<string, unknown>;
}

export interface NotificationDeliveryView {
  id: string;
  channelId: string;
  alertId: string | null;
  eventId: string | null;
  eventType: string;
  status: 'PENDING' | 'DELIVERED' | 'DEAD';
  attempts: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  deliveredAt: string | null;
}

interface ChannelRow {
  id: string;
  name: string;
  type: NotificationChannelType;
  enabled: boolean;
  config: Record<string, unknown>;
  version: number;
  created_at: Date;
  updated_at: Date;
}

interface DeliveryRow {
  id: string;
  channel_id: string;
  alert_id: string | null;
  event_id: string | null;
  event_type: string;
  status: NotificationDeliveryView['status'];
  attempts: number;
  next_attempt_at: Date;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  delivered_at: Date | null;
}

const CHANNEL_COLUMNS = 'id, name, type, enabled, config, version, created_at, updated_at';
const DELIVERY_COLUMNS =
  'id, channel_id, alert_id, event_id, event_type, status, attempts, next_attempt_at, last_status_code, last_error, created_at, updated_at, delivered_at';

function toSummary(row: ChannelRow): NotificationChannelSummaryView {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    enabled: row.enabled,
    version: row.version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function toDelivery(row: DeliveryRow): NotificationDeliveryView {
  return {
    id: row.id,
    channelId: row.channel_id,
    alertId: row.alert_id,
    eventId: row.event_id,
    eventType: row.event_type,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.status === 'PENDING' ? row.next_attempt_at.toISOString() : null,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    deliveredAt: row.delivered_at?.toISOString() ?? null,
  };
}

export async function findNotificationChannel(db: Queryable, id: string): Promise<NotificationChannelView | undefined> {
  const { rows } = await db.query<ChannelRow>(`SELECT ${CHANNEL_COLUMNS} FROM notification_channels WHERE id = $1`, [id]);
  const row = rows[0];
  return row ? { ...toSummary(row), config: row.config } : undefined;
}

export interface ListNotificationChannelsQuery {
  limit: number;
  cursor?: string;
  type?: NotificationChannelType;
  enabled?: boolean;
}

/** Pages ordered by (created_at, id), without configs. */
export async function listNotificationChannels(db: Queryable, query: ListNotificationChannelsQuery): Promise<Page<NotificationChannelSummaryView>> {
  const after = decodeCursor(query.cursor, 2);
  const { rows } = await db.query<ChannelRow>(
    `SELECT ${CHANNEL_COLUMNS} FROM notification_channels
      WHERE ($1::text IS NULL OR type = $1) AND ($2::boolean IS NULL OR enabled = $2)
        AND ($3::timestamptz IS NULL OR (created_at, id) > ($3::timestamptz, $4::uuid))
      ORDER BY created_at, id LIMIT $5`,
    [query.type ?? null, query.enabled ?? null, after?.[0] ?? null, after?.[1] ?? null, query.limit + 1],
  );
  return toPage(rows, query.limit, toSummary, (r) => [r.created_at.toISOString(), r.id]);
}

export interface ListNotificationDeliveriesQuery {
  limit: number;
  cursor?: string;
  alertId?: string;
  status?: NotificationDeliveryView['status'];
}

/**
 * A channel's delivery log, newest first; with `alertId`, the log of one
 * alert on the channel. created_at is kept to the millisecond, so the
 * cursor's ISO text is exact.
 */
export async function listNotificationDeliveries(
  db: Queryable,
  channelId: string,
  query: ListNotificationDeliveriesQuery,
): Promise<Page<NotificationDeliveryView>> {
  const after = decodeCursor(query.cursor, 2);
  const { rows } = await db.query<DeliveryRow>(
    `SELECT ${DELIVERY_COLUMNS} FROM notification_deliveries
      WHERE channel_id = $1 AND ($2::uuid IS NULL OR alert_id = $2) AND ($3::text IS NULL OR status = $3)
        AND ($4::timestamptz IS NULL OR (created_at, id) < ($4::timestamptz, $5::uuid))
      ORDER BY created_at DESC, id DESC LIMIT $6`,
    [channelId, query.alertId ?? null, query.status ?? null, after?.[0] ?? null, after?.[1] ?? null, query.limit + 1],
  );
  return toPage(rows, query.limit, toDelivery, (r) => [r.created_at.toISOString(), r.id]);
}
