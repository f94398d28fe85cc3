import type { AlertCondition, AlertRuleFields } from '../../commands/alert-rules/alert-rule.decider';

/** What streaming evaluation needs of a rule. */
export type EvaluatedRule = Pick<AlertRuleFields, 'operator' | 'conditions' | 'forSeconds' | 'hysteresis'>;

/** Per (rule, sensor), in memory: the previous reading, since when the rule holds, whether an alert is open. */
export interface RuleSensorState {
  lastTsMs: number | null;
  lastValue: number | null;
  /** Reading time from which the conditions have held without a break; null when they do not hold. */
  holdingSinceMs: number | null;
  open: boolean;
}

export const freshState = (open = false): RuleSensorState => ({ lastTsMs: null, lastValue: null, holdingSinceMs: null, open });

export type Transition = 'RAISE' | 'RESOLVE' | null;

/** A condition on one reading: does it fire, and has it cleared (beyond the hysteresis)? Unknown rates neither fire nor hold a clear back. */
function judge(condition: AlertCondition, value: number, ratePerMinute: number | null, h: number): { fires: boolean; clears: boolean } {
  switch (condition.type) {
    case 'ABOVE':
      return { fires: value > condition.threshold, clears: value <= condition.threshold - h };
    case 'BELOW':
      return { fires: value < condition.threshold, clears: value >= condition.threshold + h };
    case 'OUTSIDE_RANGE':
      return { fires: value < condition.min || value > condition.max, clears: value >= condition.min + h && value <= condition.max - h };
    case 'RATE_OF_CHANGE':
      if (ratePerMinute === null) return { fires: false, clears: true };
      return { fires: ratePerMinute > condition.perMinute, clears: ratePerMinute <= condition.perMinute - h };
    case 'NO_DATA':
      // Judged by the scheduled absence check, never by a reading.
      return { fires: false, clears: false };
  }
}

/**
 * Feeds one reading to a rule's state for one sensor and says what should
 * happen. Readings not newer than the last one are ignored (a resend or
 * back-fill cannot flap an alert). AND fires when every condition fires and
 * clears when any clears; OR fires when any fires and clears when all clear.
 * An alert opens once the rule has held for `forSeconds` of reading time.
 */
export function evaluateReading(rule: EvaluatedRule, state: RuleSensorState, tsMs: number, value: number): Transition {
  if (state.lastTsMs !== null && tsMs <= state.lastTsMs) return null;
  const rate = state.lastTsMs === null || state.lastValue === null ? null : Math.abs(value - state.lastValue) / ((tsMs - state.lastTsMs) / 60_000);
  state.lastTsMs = tsMs;
  state.lastValue = value;
  const verdicts = rule.conditions.map((c) => judge(c, value, rate, rule.hysteresis));
  const fires = rule.operator === 'AND' ? verdicts.every((v) => v.fires) : verdicts.some((v) => v.fires);
  const clears = rule.operator === 'AND' ? verdicts.some((v) => v.clears) : verdicts.every((v) => v.clears);
  if (state.open) {
    if (!clears) return null;
    state.open = false;
    state.holdingSinceMs = null;
    return 'RESOLVE';
  }
  if (!fires) {
    state.holdingSinceMs = null;
    return null;
  }
  state.holdingSinceMs ??= tsMs;
  if (tsMs - state.holdingSinceMs < rule.forSeconds * 1000) return null;
  state.open = true;
  state.holdingSinceMs = null;
  return 'RAISE';
}

/** A short sentence for the alert: the rule's conditions and the reading that tripped them. */
export function describe(rule: EvaluatedRule, value: number | null): string {
  const parts = rule.conditions.map((c) => {
    switch (c.type) {
      case 'ABOVE':
        return `above ${c.threshold}`;
      case 'BELOW':
        return `below ${c.threshold}`;
      case 'OUTSIDE_RANGE':
        return `outside ${c.min}..${c.max}`;
      case 'RATE_OF_CHANGE':
        return `changing faster than ${c.perMinute}/min`;
      case 'NO_DATA':
        return `no data for ${c.seconds} s`;
    }
  });
  const condition = parts.join(rule.operator === 'AND' ? ' and ' : ' or ');
  const held = rule.forSeconds > 0 ? ` for ${rule.forSeconds} s` : '';
  return value === null ? `${condition}` : `value ${value}: ${condition}${held}`;
}
