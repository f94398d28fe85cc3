import { AppError, ConflictError, NotFoundError } from '../../platform/errors';
import { assertNever, type Decider } from '../decider';
import type { ChannelConfig, NotificationChannelEvent, NotificationChannelType } from './notification-channel.events';

export interface ChannelChanges {
  name?: string;
  enabled?: boolean;
  config?: ChannelConfig;
  /** With a config of a type that keeps a secret (SLACK: the webhook URL), the new secret's id. */
  secretId?: string | null;
}

export type NotificationChannelCommand =
  | { type: 'CreateNotificationChannel'; data: { id: string; name: string; enabled: boolean; config: ChannelConfig; secretId: string | null; now: string } }
  | { type: 'UpdateNotificationChannel'; data: { changes: ChannelChanges; now: string } }
  | { type: 'RotateNotificationChannelSecret'; data: { secretId: string; now: string } }
  | { type: 'DeleteNotificationChannel'; data: { now: string } };

interface Live {
  id: string;
  name: string;
  enabled: boolean;
  config: ChannelConfig;
  secretId: string | null;
}

export type NotificationChannelState = { status: 'absent' } | ({ status: 'ACTIVE' } & Live) | { status: 'DELETED' };

export const notificationChannelNotFound = (): NotFoundError =>
  new NotFoundError('NOTIFICATION_CHANNEL_NOT_FOUND', 'No notification channel with this id.');
export const channelTypeMismatch = (type: NotificationChannelType, detail: string): AppError =>
  new AppError('NOTIFICATION_CHANNEL_TYPE_MISMATCH', `This is a ${type} channel: ${detail}`, [{ path: '/body/config', message: detail }]);

function live(state: NotificationChannelState): Live {
  if (state.status !== 'ACTIVE') throw notificationChannelNotFound();
  return state;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * Notification channels: where alert notifications go. The decider orders
 * changes; what a secret is, and where it is kept, is the handler's business
 * (the events carry only secret ids).
 */
export const notificationChannelDecider: Decider<NotificationChannelCommand, NotificationChannelEvent, NotificationChannelState> = {
  initialState: { status: 'absent' },

  decide(command, state) {
    switch (command.type) {
      case 'CreateNotificationChannel': {
        if (state.status !== 'absent') throw new ConflictError('CONFLICT', 'The notification channel already exists.');
        const { now, ...data } = command.data;
        return [{ type: 'NotificationChannelCreated', data: { ...data, createdAt: now } }];
      }
      case 'UpdateNotificationChannel': {
        const current = live(state);
        const { name, enabled, config, secretId } = command.data.changes;
        if (config !== undefined && config.type !== current.config.type) {
          throw channelTypeMismatch(current.config.type, `its config cannot become one of a ${config.type} channel; create a new channel instead`);
        }
        const changes: ChannelChanges = {
          ...(name !== undefined && name !== current.name ? { name } : {}),
          ...(enabled !== undefined && enabled !== current.enabled ? { enabled } : {}),
          ...(config !== undefined && !same(config, current.config) ? { config } : {}),
          ...(secretId !== undefined && secretId !== current.secretId ? { secretId } : {}),
        };
        if (Object.keys(changes).length === 0) return [];
        return [{ type: 'NotificationChannelUpdated', data: { id: current.id, changes, updatedAt: command.data.now } }];
      }
      case 'RotateNotificationChannelSecret': {
        const current = live(state);
        if (current.config.type !== 'WEBHOOK') throw channelTypeMismatch(current.config.type, 'only WEBHOOK channels have a signing secret');
        return [{ type: 'NotificationChannelSecretRotated', data: { id: current.id, secretId: command.data.secretId, rotatedAt: command.data.now } }];
      }
      case 'DeleteNotificationChannel': {
        const current = live(state);
        return [{ type: 'NotificationChannelDeleted', data: { id: current.id, deletedAt: command.data.now } }];
      }
      default:
        return assertNever(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'NotificationChannelCreated': {
        const { id, name, enabled, config, secretId } = event.data;
        return { status: 'ACTIVE', id, name, enabled, config, secretId };
      }
      case 'NotificationChannelUpdated':
        return state.status === 'ACTIVE' ? { ...state, ...event.data.changes } : state;
      case 'NotificationChannelSecretRotated':
        return state.status === 'ACTIVE' ? { ...state, secretId: event.data.secretId } : state;
      case 'NotificationChannelDeleted':
        return { status: 'DELETED' };
      default:
        return assertNever(event);
    }
  },
};
