import { randomUUID } from 'node:crypto';
import { channelTypeMismatch, notificationChannelNotFound } from '../../commands/notification-channels/notification-channel.decider';
import type { NotificationChannelType } from '../../commands/notification-channels/notification-channel.events';
import { notificationChannelCommands, type ChannelTarget } from '../../commands/notification-channels/notification-channel.handler';
import { dropChannelSecrets } from '../../commands/notification-channels/notification-channel.secrets';
import { AppError } from '../../platform/errors';
import { createAddressPolicy } from '../../platform/outbound/address-policy';
import { checkOutboundUrl } from '../../platform/outbound/outbound-http';
import { sendTestNotification } from '../../workers/notification-delivery';
import { defineRoutes, type RouteContext, type RouteResult } from '../route';
import {
  findNotificationChannel,
  listNotificationChannels,
  listNotificationDeliveries,
  type ListNotificationChannelsQuery,
  type ListNotificationDeliveriesQuery,
  type NotificationChannelView,
} from './notification-channels.queries';

const COLLECTION = '/v1/notification-channels';
const ITEM = `${COLLECTION}/{id}`;
const TAG = 'Alerting';
const SCHEMA = 'notification-channels#/$defs';

/** The channel of the path, read under RLS: another organization's id answers like a random one. */
async function channelOf(ctx: RouteContext): Promise<NotificationChannelView> {
  const channel = await ctx.tenant((tx) => findNotificationChannel(tx, ctx.params.id as string));
  if (!channel) throw notificationChannelNotFound();
  return channel;
}

async function respond(ctx: RouteContext, id: string, status: number, signingSecret?: string | null): Promise<RouteResult> {
  const channel = await ctx.tenant((tx) => findNotificationChannel(tx, id));
  if (!channel) throw notificationChannelNotFound();
  return {
    status,
    body: signingSecret === undefined ? channel : { ...channel, signingSecret },
    version: channel.version,
    ...(status === 201 ? { headers: { Location: `/api${COLLECTION}/${id}` } } : {}),
  };
}

/** The body's config as a target of the given type; a config of another type is refused. */
function targetOf(type: NotificationChannelType, config: Record<string, unknown>): ChannelTarget {
  if (type === 'WEBHOOK' && typeof config.url === 'string') return { type, url: config.url };
  if (type === 'SLACK' && typeof config.webhookUrl === 'string') return { type, webhookUrl: config.webhookUrl };
  if (type === 'EMAIL' && Array.isArray(config.to)) return { type, to: config.to.map(String) };
  const expected = { WEBHOOK: '{ url }', SLACK: '{ webhookUrl }', EMAIL: '{ to }' }[type];
  throw channelTypeMismatch(type, `its config is ${expected}`);
}

/** Where a channel may send: public https URLs (SSRF rules, docs/notifications.md), email only with SMTP configured. */
async function checkTarget(ctx: RouteContext, target: ChannelTarget): Promise<void> {
  const notify = ctx.deps.config.notify;
  if (target.type === 'EMAIL') {
    if (notify.smtp === undefined) {
      throw new AppError('SMTP_NOT_CONFIGURED', 'EMAIL channels need SMTP, and this platform has none configured (SMTP_URL).', [
        { path: '/body/type', message: 'EMAIL needs SMTP_URL on the platform' },
      ]);
    }
    return;
  }
  const [field, url] = target.type === 'WEBHOOK' ? ['url', target.url] : ['webhookUrl', target.webhookUrl];
  const refusal = await checkOutboundUrl(url, createAddressPolicy(notify));
  if (refusal !== undefined) {
    throw new AppError('NOTIFICATION_URL_REFUSED', `The ${field} is refused: ${refusal}.`, [{ path: `/body/config/${field}`, message: refusal }]);
  }
}

function transport(ctx: RouteContext) {
  const notify = ctx.deps.config.notify;
  return { policy: createAddressPolicy(notify), timeoutMs: notify.timeoutMs, ...(ctx.deps.email ? { email: ctx.deps.email } : {}) };
}

export const notificationChannelRoutes = defineRoutes([
  {
    method: 'post',
    path: COLLECTION,
    operationId: 'createNotificationChannel',
    summary: 'Create a notification channel (a WEBHOOK’s signing secret is answered once)',
    tag: TAG,
    auth: 'admin',
    body: `${SCHEMA}/CreateNotificationChannel`,
    responses: { 201: `${SCHEMA}/NotificationChannelWithSecret` },
    showsSecretOnce: true,
    async handler(ctx) {
      const body = ctx.body as { name: string; type: NotificationChannelType; enabled?: boolean; config: Record<string, unknown> };
      const target = targetOf(body.type, body.config);
      await checkTarget(ctx, target);
      const id = randomUUID();
      const fields = { name: body.name, enabled: body.enabled ?? true };
      const created = await notificationChannelCommands.create(ctx.deps.store, ctx.deps.pool, ctx.command, id, fields, target);
      await ctx.settle(created.result);
      return respond(ctx, id, 201, created.signingSecret);
    },
  },
  {
    method: 'get',
    path: COLLECTION,
    operationId: 'listNotificationChannels',
    summary: 'List notification channels without their config (members pick them for alert rules)',
    tag: TAG,
    auth: 'member',
    query: `${SCHEMA}/ListNotificationChannelsQuery`,
    responses: { 200: `${SCHEMA}/NotificationChannelPage` },
    async handler(ctx) {
      const query = ctx.query as unknown as ListNotificationChannelsQuery;
      return { status: 200, body: await ctx.tenant((tx) => listNotificationChannels(tx, query)) };
    },
  },
  {
    method: 'get',
    path: ITEM,
    operationId: 'getNotificationChannel',
    summary: 'One notification channel with its config (never its secret)',
    tag: TAG,
    auth: 'admin',
    responses: { 200: `${SCHEMA}/NotificationChannel` },
    handler: (ctx) => respond(ctx, ctx.params.id as string, 200),
  },
  {
    method: 'patch',
    path: ITEM,
    operationId: 'updateNotificationChannel',
    summary: 'Rename, enable or disable a channel, or replace its config (If-Match supported)',
    tag: TAG,
    auth: 'admin',
    body: `${SCHEMA}/UpdateNotificationChannel`,
    responses: { 200: `${SCHEMA}/NotificationChannel` },
    async handler(ctx) {
      const channel = await channelOf(ctx);
      const body = ctx.body as { name?: string; enabled?: boolean; config?: Record<string, unknown> };
      const target = body.config === undefined ? undefined : targetOf(channel.type, body.config);
      if (target) await checkTarget(ctx, target);
      const { config: _config, ...plain } = body;
      const updated = await notificationChannelCommands.update(ctx.deps.store, ctx.deps.pool, ctx.command, channel.id, { ...plain, ...(target ? { target } : {}) }, ctx.ifMatch);
      await ctx.settle(updated.result);
      // A new Slack URL replaces the old one, which is then forgotten.
      if (updated.secretId !== null && updated.result.events.length > 0) await dropChannelSecrets(ctx.deps.pool, ctx.principal.orgId, channel.id, updated.secretId);
      return respond(ctx, channel.id, 200);
    },
  },
  {
    method: 'delete',
    path: ITEM,
    operationId: 'deleteNotificationChannel',
    summary: 'Delete a channel: it gets no more deliveries, its pending ones end DEAD, its secrets are erased (If-Match supported)',
    tag: TAG,
    auth: 'admin',
    responses: { 204: null },
    async handler(ctx) {
      const { id } = await channelOf(ctx);
      await ctx.settle(await notificationChannelCommands.remove(ctx.deps.store, ctx.command, id, ctx.ifMatch));
      await dropChannelSecrets(ctx.deps.pool, ctx.principal.orgId, id);
      return { status: 204 };
    },
  },
  {
    method: 'post',
    path: `${ITEM}/rotate-secret`,
    operationId: 'rotateNotificationChannelSecret',
    summary: 'Replace a WEBHOOK channel’s signing secret; the new one is answered once and the old one stops at once',
    tag: TAG,
    auth: 'admin',
    responses: { 200: `${SCHEMA}/NotificationChannelWithSecret` },
    showsSecretOnce: true,
    async handler(ctx) {
      const channel = await channelOf(ctx);
      if (channel.type !== 'WEBHOOK') throw channelTypeMismatch(channel.type, 'only WEBHOOK channels have a signing secret');
      const rotated = await notificationChannelCommands.rotateSecret(ctx.deps.store, ctx.deps.pool, ctx.command, channel.id, ctx.ifMatch);
      await ctx.settle(rotated.result);
      await dropChannelSecrets(ctx.deps.pool, ctx.principal.orgId, channel.id, rotated.secretId);
      return respond(ctx, channel.id, 200, rotated.secret);
    },
  },
  {
    method: 'post',
    path: `${ITEM}/test`,
    operationId: 'testNotificationChannel',
    summary: 'Send a test notification now; answers the outcome, which the delivery log records (never retried)',
    tag: TAG,
    auth: 'admin',
    responses: { 200: `${SCHEMA}/TestDelivery` },
    async handler(ctx) {
      const { id } = await channelOf(ctx);
      const result = await sendTestNotification(ctx.deps.pool, ctx.principal.orgId, id, transport(ctx));
      if (!result) throw notificationChannelNotFound();
      return { status: 200, body: result };
    },
  },
  {
    method: 'get',
    path: `${ITEM}/deliveries`,
    operationId: 'listNotificationDeliveries',
    summary: 'The channel’s delivery log, newest first; with alertId, the delivery log of one alert',
    tag: TAG,
    auth: 'admin',
    query: `${SCHEMA}/ListNotificationDeliveriesQuery`,
    responses: { 200: `${SCHEMA}/NotificationDeliveryPage` },
    async handler(ctx) {
      const { id } = await channelOf(ctx);
      const query = ctx.query as unknown as ListNotificationDeliveriesQuery;
      return { status: 200, body: await ctx.tenant((tx) => listNotificationDeliveries(tx, id, query)) };
    },
  },
]);
