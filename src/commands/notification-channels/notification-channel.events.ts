import type { DomainEvent } from '../decider';

export type NotificationChannelType = 'WEBHOOK' | 'SLACK' | 'EMAIL';

/**
 * What a channel's events and read model say about where it sends. Never a
 * secret: the webhook's signing secret and the Slack incoming-webhook URL
 * (itself a credential) are kept in notification_channel_secrets, and the
 * events name only the id of the current one (`secretId`).
 */
export type ChannelConfig =
  | { readonly type: 'WEBHOOK'; readonly url: string }
  /** The incoming-webhook URL with its token path masked, e.g. `https://hooks.slack.com/services/T0…/…`. */
  | { readonly type: 'SLACK'; readonly webhookUrlMasked: string }
  | { readonly type: 'EMAIL'; readonly to: readonly string[] };

/** The config without its type, as stored in the read model and shown by the API. */
export type ChannelSettings<T extends NotificationChannelType = NotificationChannelType> = Omit<Extract<ChannelConfig, { type: T }>, 'type'>;

export type NotificationChannelCreated = DomainEvent<
  'NotificationChannelCreated',
  { id: string; name: string; enabled: boolean; config: ChannelConfig; secretId: string | null; createdAt: string }
>;
export type NotificationChannelUpdated = DomainEvent<
  'NotificationChannelUpdated',
  { id: string; changes: { name?: string; enabled?: boolean; config?: ChannelConfig; secretId?: string | null }; updatedAt: string }
>;
/** A webhook's signing secret was replaced; the new one was shown once to the caller and is named by id only. */
export type NotificationChannelSecretRotated = DomainEvent<'NotificationChannelSecretRotated', { id: string; secretId: string; rotatedAt: string }>;
export type NotificationChannelDeleted = DomainEvent<'NotificationChannelDeleted', { id: string; deletedAt: string }>;

export type NotificationChannelEvent =
  | NotificationChannelCreated
  | NotificationChannelUpdated
  | NotificationChannelSecretRotated
  | NotificationChannelDeleted;

export const NOTIFICATION_CHANNEL_EVENT_TYPES: readonly NotificationChannelEvent['type'][] = [
  'NotificationChannelCreated',
  'NotificationChannelUpdated',
  'NotificationChannelSecretRotated',
  'NotificationChannelDeleted',
];

export function notificationChannelStream(id: string): string {
  return `notificationChannel-${id}`;
}
