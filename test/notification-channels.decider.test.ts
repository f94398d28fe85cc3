import { randomUUID } from 'node:crypto';
import { notificationChannelDecider } from '../src/commands/notification-channels/notification-channel.decider';
import { notificationChannelStream, type NotificationChannelEvent } from '../src/commands/notification-channels/notification-channel.events';
import { maskUrl } from '../src/commands/notification-channels/notification-channel.handler';
import { spec } from './support/decider-spec';

const AT = '2025-01-01T00:00:00.000Z';
const LATER = '2025-01-02T00:00:00.000Z';
const channel = spec(notificationChannelDecider);
const webhook = { type: 'WEBHOOK', url: 'https://hooks.example.com/a' } as const;

const created = (id: string, secretId = randomUUID()): NotificationChannelEvent => ({
  type: 'NotificationChannelCreated',
  data: { id, name: 'ops', enabled: true, config: webhook, secretId, createdAt: AT },
});

describe('NotificationChannel', () => {
  it('lives in the stream notificationChannel-<id>', () => {
    expect(notificationChannelStream('abc')).toBe('notificationChannel-abc');
  });

  describe('when absent', () => {
    it('creates it, naming only the id of its secret', () => {
      const id = randomUUID();
      const secretId = randomUUID();
      channel
        .given([])
        .when({ type: 'CreateNotificationChannel', data: { id, name: 'ops', enabled: true, config: webhook, secretId, now: AT } })
        .then([created(id, secretId)]);
    });

    it.each([
      { type: 'UpdateNotificationChannel', data: { changes: { name: 'x' }, now: LATER } },
      { type: 'RotateNotificationChannelSecret', data: { secretId: randomUUID(), now: LATER } },
      { type: 'DeleteNotificationChannel', data: { now: LATER } },
    ] as const)('refuses $type with NOTIFICATION_CHANNEL_NOT_FOUND', (command) => {
      channel.given([]).when(command).thenThrows({ code: 'NOTIFICATION_CHANNEL_NOT_FOUND', status: 404 });
    });
  });

  describe('when live', () => {
    const id = randomUUID();
    const history = [created(id)];

    it('records only the fields that change', () => {
      channel
        .given(history)
        .when({ type: 'UpdateNotificationChannel', data: { changes: { name: 'ops', enabled: false, config: webhook }, now: LATER } })
        .then([{ type: 'NotificationChannelUpdated', data: { id, changes: { enabled: false }, updatedAt: LATER } }]);
    });

    it('records nothing when nothing changes', () => {
      channel.given(history).when({ type: 'UpdateNotificationChannel', data: { changes: { name: 'ops', config: webhook }, now: LATER } }).then([]);
    });

    it('takes a new URL of the same type and refuses a config of another type', () => {
      const config = { type: 'WEBHOOK', url: 'https://hooks.example.com/b' } as const;
      channel
        .given(history)
        .when({ type: 'UpdateNotificationChannel', data: { changes: { config }, now: LATER } })
        .then([{ type: 'NotificationChannelUpdated', data: { id, changes: { config }, updatedAt: LATER } }]);
      channel
        .given(history)
        .when({ type: 'UpdateNotificationChannel', data: { changes: { config: { type: 'EMAIL', to: ['a@example.com'] } }, now: LATER } })
        .thenThrows({ code: 'NOTIFICATION_CHANNEL_TYPE_MISMATCH', status: 422 });
    });

    it('rotates a webhook’s secret', () => {
      const secretId = randomUUID();
      channel
        .given(history)
        .when({ type: 'RotateNotificationChannelSecret', data: { secretId, now: LATER } })
        .then([{ type: 'NotificationChannelSecretRotated', data: { id, secretId, rotatedAt: LATER } }]);
    });

    it('refuses to rotate the secret of a channel that has no signing secret', () => {
      const email: NotificationChannelEvent = {
        type: 'NotificationChannelCreated',
        data: { id, name: 'mail', enabled: true, config: { type: 'EMAIL', to: ['ops@example.com'] }, secretId: null, createdAt: AT },
      };
      channel
        .given([email])
        .when({ type: 'RotateNotificationChannelSecret', data: { secretId: randomUUID(), now: LATER } })
        .thenThrows({ code: 'NOTIFICATION_CHANNEL_TYPE_MISMATCH' });
    });

    it('deletes it', () => {
      channel.given(history).when({ type: 'DeleteNotificationChannel', data: { now: LATER } }).then([{ type: 'NotificationChannelDeleted', data: { id, deletedAt: LATER } }]);
    });

    it('refuses a second create', () => {
      channel
        .given(history)
        .when({ type: 'CreateNotificationChannel', data: { id, name: 'x', enabled: true, config: webhook, secretId: null, now: LATER } })
        .thenThrows({ code: 'CONFLICT', status: 409 });
    });
  });

  describe('when deleted', () => {
    const id = randomUUID();
    const history: NotificationChannelEvent[] = [created(id), { type: 'NotificationChannelDeleted', data: { id, deletedAt: LATER } }];

    it('answers every command as for a missing channel', () => {
      channel.given(history).when({ type: 'UpdateNotificationChannel', data: { changes: { enabled: true }, now: LATER } }).thenThrows({ code: 'NOTIFICATION_CHANNEL_NOT_FOUND' });
      channel.given(history).when({ type: 'DeleteNotificationChannel', data: { now: LATER } }).thenThrows({ code: 'NOTIFICATION_CHANNEL_NOT_FOUND' });
    });
  });
});

describe('maskUrl', () => {
  it('keeps the origin and the start of the path of a Slack webhook URL, never its token', () => {
    const masked = maskUrl('https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcdefghijklmnopqrstuvwx');
    expect(masked).toBe('https://hooks.slack.com/services/T0…/…');
    expect(masked).not.toContain('abcdefgh');
    expect(masked).not.toContain('B0456');
  });
});
