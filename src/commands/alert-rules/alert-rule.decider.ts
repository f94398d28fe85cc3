import { AppError, NotFoundError, type FieldError } from '../../platform/errors';
import type { AlertSeverity } from '../alerts/alert.events';
import { entityDecider } from '../entities/entity.decider';

export type AlertScopeType = 'SENSOR' | 'DEVICE' | 'DEVICE_GROUP' | 'SITE' | 'SENSOR_PROFILE';

/** One condition on a sensor's readings (docs/alerting.md). */
export type AlertCondition =
  | { type: 'ABOVE'; threshold: number }
  | { type: 'BELOW'; threshold: number }
  | { type: 'OUTSIDE_RANGE'; min: number; max: number }
  /** |Δvalue| per minute between consecutive readings above `perMinute`. */
  | { type: 'RATE_OF_CHANGE'; perMinute: number }
  /** No reading for `seconds`; evaluated by a scheduled job, alone in its rule. */
  | { type: 'NO_DATA'; seconds: number };

export interface AlertRuleFields {
  name: string;
  description: string | null;
  enabled: boolean;
  severity: AlertSeverity;
  scopeType: AlertScopeType;
  scopeId: string;
  /** Within a device, group, site or profile scope: only sensors with this key (null: every sensor). */
  sensorKey: string | null;
  /** How the conditions combine. */
  operator: 'AND' | 'OR';
  conditions: AlertCondition[];
  /** The combination must hold this long (by reading time) before an alert opens. */
  forSeconds: number;
  /** A value must move this far back past a threshold before the alert clears. */
  hysteresis: number;
  channelIds: string[];
}

export const alertRuleNotFound = (): NotFoundError => new NotFoundError('ALERT_RULE_NOT_FOUND', 'No alert rule with this id.');

function ruleErrors({ conditions, scopeType, sensorKey }: AlertRuleFields): FieldError[] {
  const errors: FieldError[] = [];
  conditions.forEach((condition, index) => {
    if (condition.type === 'OUTSIDE_RANGE' && !(condition.min < condition.max)) {
      errors.push({ path: `/body/conditions/${index}`, message: 'min must be below max' });
    }
    if (condition.type === 'NO_DATA' && conditions.length > 1) {
      errors.push({ path: `/body/conditions/${index}`, message: 'NO_DATA cannot be combined with other conditions' });
    }
  });
  if (scopeType === 'SENSOR' && sensorKey !== null) errors.push({ path: '/body/sensorKey', message: 'must be null when the scope is one sensor' });
  return errors;
}

export const alertRuleDecider = entityDecider<'AlertRule', AlertRuleFields>('AlertRule', alertRuleNotFound, {
  // Checked on the merged fields, so an update cannot leave a rule inconsistent.
  check(fields) {
    const errors = ruleErrors(fields);
    if (errors.length > 0) throw new AppError('UNPROCESSABLE', 'The alert rule is inconsistent.', errors);
  },
});

export function alertRuleStream(id: string): string {
  return `alertRule-${id}`;
}
