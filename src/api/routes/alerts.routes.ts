import { alertNotFound } from '../../commands/alerts/alert.decider';
import { alertCommands } from '../../commands/alerts/alert.handler';
import { defineRoutes } from '../route';
import { findAlert, listAlerts, type ListAlertsQuery } from './alerts.queries';

const SCHEMA = 'alerts#/$defs';

export const alertRoutes = defineRoutes([
  {
    method: 'get',
    path: '/v1/alerts',
    operationId: 'listAlerts',
    summary: 'Alerts, newest first (filters: status, severity, rule, device, sensor, raised between from and to)',
    tag: 'Alerting',
    auth: 'viewer',
    query: `${SCHEMA}/ListAlertsQuery`,
    responses: { 200: `${SCHEMA}/AlertPage` },
    async handler(ctx) {
      const query = ctx.query as unknown as ListAlertsQuery;
      return { status: 200, body: await ctx.tenant((tx) => listAlerts(tx, query)) };
    },
  },
  {
    method: 'get',
    path: '/v1/alerts/{id}',
    operationId: 'getAlert',
    summary: 'One alert: its status, the reading that raised it, who acknowledged it and the reading that cleared it',
    tag: 'Alerting',
    auth: 'viewer',
    responses: { 200: `${SCHEMA}/Alert` },
    async handler(ctx) {
      const alert = await ctx.tenant((tx) => findAlert(tx, ctx.params.id as string));
      if (!alert) throw alertNotFound();
      return { status: 200, body: alert };
    },
  },
  {
    method: 'post',
    path: '/v1/alerts/{id}/acknowledge',
    operationId: 'acknowledgeAlert',
    summary: 'Acknowledge an open alert, with an optional note (an acknowledged alert answers as it is; a resolved one 409)',
    tag: 'Alerting',
    auth: 'member',
    body: `${SCHEMA}/AcknowledgeAlert`,
    responses: { 200: `${SCHEMA}/Alert` },
    async handler(ctx) {
      const alert = await ctx.tenant((tx) => findAlert(tx, ctx.params.id as string));
      if (!alert) throw alertNotFound();
      const note = ((ctx.body ?? {}) as { note?: string | null }).note ?? null;
      await ctx.settle(await alertCommands.acknowledge(ctx.deps.store, ctx.command, alert.ruleId, alert.sensorId, { alertId: alert.id, note, now: new Date().toISOString() }));
      const updated = await ctx.tenant((tx) => findAlert(tx, alert.id));
      if (!updated) throw alertNotFound();
      return { status: 200, body: updated };
    },
  },
]);
