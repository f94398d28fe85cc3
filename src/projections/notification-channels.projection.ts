import { assertNever } from '../commands/decider';
import { NOTIFICATION_CHANNEL_EVENT_TYPES, type NotificationChannelEvent } from '../commands/notification-channels/notification-channel.events';
import { ident, orgIdOf, type Projection } from './projection';

/** The config as stored: the event's config without its type (the type has a column). */
function settings(config: { type: string }): string {
  const { type: _type, ...rest } = config;
  return JSON.stringify(rest);
}

/**
 * One row per live channel. Every statement is guarded by the stream
 * revision (`version < $n`) or a conflict clause, so a replay changes
 * nothing; a delete removes the row (its deliveries stay in the log).
 */
export const notificationChannelsProjection: Projection = {
  name: 'notification-channels',
  tables: ['notification_channels'],
  eventTypes: NOTIFICATION_CHANNEL_EVENT_TYPES,
  async apply(tx, events, table) {
    const channels = ident(table('notification_channels'));
    for (const recorded of events) {
      const event = { type: recorded.type, data: recorded.data } as NotificationChannelEvent;
      const orgId = orgIdOf(recorded);
      const revision = Number(recorded.revision);
      switch (event.type) {
        case 'NotificationChannelCreated': {
          const d = event.data;
          await tx.query(
            `INSERT INTO ${channels} (org_id, id, name, type, enabled, config, secret_id, version, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) ON CONFLICT DO NOTHING`,
            [orgId, d.id, d.name, d.config.type, d.enabled, settings(d.config), d.secretId, revision, d.createdAt],
          );
          break;
        }
        case 'NotificationChannelUpdated': {
          const { changes } = event.data;
          await tx.query(
            `UPDATE ${channels}
                SET name = COALESCE($3, name), enabled = COALESCE($4, enabled), config = COALESCE($5::jsonb, config),
                    secret_id = CASE WHEN $6 THEN $7::uuid ELSE secret_id END, version = $8, updated_at = $9
              WHERE org_id = $1 AND id = $2 AND version < $8`,
            [
              orgId,
              event.data.id,
              changes.name ?? null,
              changes.enabled ?? null,
              changes.config ? settings(changes.config) : null,
              'secretId' in changes,
              changes.secretId ?? null,
              revision,
              event.data.updatedAt,
            ],
          );
          break;
        }
        case 'NotificationChannelSecretRotated':
          await tx.query(`UPDATE ${channels} SET secret_id = $3, version = $4, updated_at = $5 WHERE org_id = $1 AND id = $2 AND version < $4`, [
            orgId,
            event.data.id,
            event.data.secretId,
            revision,
            event.data.rotatedAt,
          ]);
          break;
        case 'NotificationChannelDeleted':
          await tx.query(`DELETE FROM ${channels} WHERE org_id = $1 AND id = $2`, [orgId, event.data.id]);
          break;
        default:
          assertNever(event);
      }
    }
  },
};
