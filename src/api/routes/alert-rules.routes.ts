import { alertRuleNotFound, type AlertRuleFields, type AlertScopeType } from '../../commands/alert-rules/alert-rule.decider';
import { alertRuleCommands } from '../../commands/alert-rules/alert-rule.handler';
import { alertCommands } from '../../commands/alerts/alert.handler';
import type { Queryable } from '../../platform/db/pool';
import type { FieldError } from '../../platform/errors';
import { alertRuleColumns } from '../../projections/alert-rules.projection';
import { entityQueries, equals, textSearch, unknownReferences, type EntityQueries } from '../entity.queries';
import { entityRoutes } from '../entity.routes';
import type { RouteContext, RouteResult, RouteSpec } from '../route';
import { openAlertsOfRule } from './alerts.queries';
import { deviceGroupQueries } from './device-groups.queries';
import { deviceQueries } from './devices.queries';
import { sensorProfileQueries } from './sensor-profiles.routes';
import { sensorQueries } from './sensors.routes';
import { siteQueries } from './sites.routes';

export interface AlertRuleView extends AlertRuleFields {
  id: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export const alertRuleQueries = entityQueries<AlertRuleView>({
  table: 'alert_rules',
  fields: alertRuleColumns,
  filters: [textSearch(), equals('enabled', 'enabled'), equals('severity', 'severity'), equals('scopeType', 'scope_type'), equals('scopeId', 'scope_id')],
});

const SCOPES: Record<AlertScopeType, Pick<EntityQueries<unknown>, 'existing'>> = {
  SENSOR: sensorQueries,
  DEVICE: deviceQueries,
  DEVICE_GROUP: deviceGroupQueries,
  SITE: siteQueries,
  SENSOR_PROFILE: sensorProfileQueries,
};

/** Notification channels of the caller's organization among `ids` (under RLS). */
async function unknownChannels(db: Queryable, ids: readonly string[]): Promise<FieldError[]> {
  const given = ids.map((id) => id.toLowerCase());
  const { rows } = await db.query<{ id: string }>('SELECT id FROM notification_channels WHERE id = ANY($1::uuid[])', [given]);
  const found = new Set(rows.map((r) => r.id));
  return given.flatMap((id, index) => (found.has(id) ? [] : [{ path: `/body/channelIds/${index}`, message: 'does not exist' }]));
}

/** Fields whose change makes an open alert's reason stale: its alerts resolve (RULE_CHANGED). */
const CONDITION_FIELDS: readonly (keyof AlertRuleFields)[] = ['scopeType', 'scopeId', 'sensorKey', 'operator', 'conditions', 'forSeconds', 'hysteresis'];

/** Resolves the rule's open alerts (RULE_CHANGED); also used when a pack removes a rule it installed. */
export async function resolveOpenAlerts(ctx: RouteContext, ruleId: string): Promise<void> {
  const open = await ctx.tenant((tx) => openAlertsOfRule(tx, ruleId));
  for (const alert of open) {
    await ctx.settle(await alertCommands.resolve(ctx.deps.store, ctx.command, ruleId, alert.sensorId, { reason: 'RULE_CHANGED', reading: null, now: new Date().toISOString() }));
  }
}

/**
 * Deleting a rule, disabling it or changing what it watches resolves its
 * open alerts (reason RULE_CHANGED) in the same request, so no alert stays
 * open that nothing would ever resolve.
 */
function resolvingOnRuleChange(routes: readonly RouteSpec[]): RouteSpec[] {
  return routes.map((route) => {
    if (route.operationId !== 'deleteAlertRule' && route.operationId !== 'updateAlertRule') return route;
    return {
      ...route,
      async handler(ctx: RouteContext): Promise<RouteResult> {
        const answer = await route.handler(ctx);
        const body = (ctx.body ?? {}) as Partial<AlertRuleFields>;
        const changed = route.operationId === 'deleteAlertRule' || body.enabled === false || CONDITION_FIELDS.some((field) => field in body);
        if (changed) await resolveOpenAlerts(ctx, ctx.params.id as string);
        return answer;
      },
    };
  });
}

export const alertRuleRoutes = resolvingOnRuleChange(
  entityRoutes<AlertRuleFields, AlertRuleView>({
    collection: '/v1/alert-rules',
    tag: 'Alerting',
    singular: 'AlertRule',
    plural: 'AlertRules',
    noun: 'alert rule',
    schema: 'alert-rules',
    commands: alertRuleCommands,
    queries: alertRuleQueries,
    notFound: alertRuleNotFound,
    deleteSummary: 'Delete an alert rule; its open alerts resolve (If-Match supported)',
    toFields: (body) => ({
      name: body.name as string,
      description: (body.description as string | null | undefined) ?? null,
      enabled: (body.enabled as boolean | undefined) ?? true,
      severity: (body.severity as AlertRuleFields['severity'] | undefined) ?? 'WARNING',
      scopeType: body.scopeType as AlertScopeType,
      scopeId: (body.scopeId as string).toLowerCase(),
      sensorKey: (body.sensorKey as string | null | undefined) ?? null,
      operator: (body.operator as AlertRuleFields['operator'] | undefined) ?? 'AND',
      conditions: body.conditions as AlertRuleFields['conditions'],
      forSeconds: (body.forSeconds as number | undefined) ?? 0,
      hysteresis: (body.hysteresis as number | undefined) ?? 0,
      channelIds: ((body.channelIds as string[] | undefined) ?? []).map((id) => id.toLowerCase()),
    }),
    // The scope's kind comes from the body or, on an update that changes only the id, from the stored rule.
    async references(tx, fields, id) {
      const errors: FieldError[] = [];
      if (fields.scopeId !== undefined || fields.scopeType !== undefined) {
        const stored = id === undefined ? undefined : await alertRuleQueries.find(tx, id);
        const scopeType = fields.scopeType ?? stored?.scopeType;
        const scopeId = fields.scopeId ?? stored?.scopeId;
        if (scopeType !== undefined && scopeId !== undefined) errors.push(...(await unknownReferences(tx, SCOPES[scopeType], [{ path: '/body/scopeId', id: scopeId }])));
      }
      if (fields.channelIds !== undefined) errors.push(...(await unknownChannels(tx, fields.channelIds)));
      return errors;
    },
  }),
);
