import type { Pool } from '../../platform/db/pool';
import type { EventStore } from '../../platform/event-store/event-store.port';
import { handleCommand } from '../command-handler';
import { assertNever, type CommandContext } from '../decider';
import { notificationChannelDecider, notificationChannelNotFound, type NotificationChannelCommand } from './notification-channel.decider';
import { notificationChannelStream, type ChannelConfig } from './notification-channel.events';
import { newSigningSecret, storeChannelSecret } from './notification-channel.secrets';

/** Where a channel sends, as a client gives it (checked at the edge: URLs are public, https…). */
export type ChannelTarget =
  | { readonly type: 'WEBHOOK'; readonly url: string }
  | { readonly type: 'SLACK'; readonly webhookUrl: string }
  | { readonly type: 'EMAIL'; readonly to: readonly string[] };

/** A Slack incoming-webhook URL is a credential: only its origin and the first characters of its path are shown. */
export function maskUrl(raw: string): string {
  const url = new URL(raw);
  const path = url.pathname.split('/').filter(Boolean);
  const shown = path.slice(0, -2).map((p, i) => (i === 0 ? p : `${p.slice(0, 2)}…`));
  return `${url.origin}/${[...shown, '…'].join('/')}`;
}

/** The config the events carry, and the secret to keep aside (none for EMAIL; a WEBHOOK's is generated). */
function prepare(target: ChannelTarget): { config: ChannelConfig; secret: string | null } {
  switch (target.type) {
    case 'WEBHOOK':
      return { config: { type: 'WEBHOOK', url: target.url }, secret: newSigningSecret() };
    case 'SLACK':
      return { config: { type: 'SLACK', webhookUrlMasked: maskUrl(target.webhookUrl) }, secret: target.webhookUrl };
    case 'EMAIL':
      return { config: { type: 'EMAIL', to: [...target.to] }, secret: null };
    default:
      return assertNever(target);
  }
}

function run(store: EventStore, ctx: CommandContext, id: string, command: NotificationChannelCommand, expectedRevision?: bigint) {
  return handleCommand(store, notificationChannelDecider, notificationChannelStream(id), command, ctx, {
    notFound: notificationChannelNotFound,
    ...(expectedRevision !== undefined ? { expectedRevision } : { retries: 3 }),
  });
}

/**
 * Commands of notification channels. A secret is stored (writer role,
 * explicit org) before the event that names it is appended: a failed append
 * leaves a row nobody names, never an event naming a missing secret.
 */
export const notificationChannelCommands = {
  /** Also answers the signing secret of a WEBHOOK channel, to be shown once. */
  async create(store: EventStore, pool: Pool, ctx: CommandContext, id: string, fields: { name: string; enabled: boolean }, target: ChannelTarget, now = new Date()) {
    const { config, secret } = prepare(target);
    const secretId = secret === null ? null : await storeChannelSecret(pool, ctx.orgId, id, secret, now);
    const result = await run(store, ctx, id, { type: 'CreateNotificationChannel', data: { id, ...fields, config, secretId, now: now.toISOString() } });
    return { result, signingSecret: target.type === 'WEBHOOK' ? secret : null };
  },

  /** A new WEBHOOK url keeps the signing secret; a new SLACK URL is a new secret. */
  async update(
    store: EventStore,
    pool: Pool,
    ctx: CommandContext,
    id: string,
    changes: { name?: string; enabled?: boolean; target?: ChannelTarget },
    expectedRevision?: bigint,
    now = new Date(),
  ) {
    const { target, ...plain } = changes;
    let config: ChannelConfig | undefined;
    let secretId: string | undefined;
    if (target !== undefined) {
      config = prepare(target).config;
      if (target.type === 'SLACK') secretId = await storeChannelSecret(pool, ctx.orgId, id, target.webhookUrl, now);
    }
    const data = { changes: { ...plain, ...(config ? { config } : {}), ...(secretId ? { secretId } : {}) }, now: now.toISOString() };
    return { result: await run(store, ctx, id, { type: 'UpdateNotificationChannel', data }, expectedRevision), secretId: secretId ?? null };
  },

  /** A new signing secret for a WEBHOOK channel, answered to be shown once. */
  async rotateSecret(store: EventStore, pool: Pool, ctx: CommandContext, id: string, expectedRevision?: bigint, now = new Date()) {
    const secret = newSigningSecret();
    const secretId = await storeChannelSecret(pool, ctx.orgId, id, secret, now);
    const result = await run(store, ctx, id, { type: 'RotateNotificationChannelSecret', data: { secretId, now: now.toISOString() } }, expectedRevision);
    return { result, secret, secretId };
  },

  remove: (store: EventStore, ctx: CommandContext, id: string, expectedRevision?: bigint, now = new Date()) =>
    run(store, ctx, id, { type: 'DeleteNotificationChannel', data: { now: now.toISOString() } }, expectedRevision),
};
