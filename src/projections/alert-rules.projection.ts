import { alertRuleDecider } from '../commands/alert-rules/alert-rule.decider';
import { entityProjection } from './entity.projection';

/** Read-model columns of each field; the API's queries read the same map. */
export const alertRuleColumns = {
  name: 'name',
  description: 'description',
  enabled: 'enabled',
  severity: 'severity',
  scopeType: 'scope_type',
  scopeId: 'scope_id',
  sensorKey: 'sensor_key',
  operator: 'operator',
  conditions: 'conditions',
  forSeconds: 'for_seconds',
  hysteresis: 'hysteresis',
  channelIds: 'channel_ids',
} as const;

export const alertRulesProjection = entityProjection({
  name: 'alert-rules',
  table: 'alert_rules',
  decider: alertRuleDecider,
  columns: alertRuleColumns,
});
