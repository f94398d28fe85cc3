import { randomUUID } from 'node:crypto';
import { alertRuleDecider } from '../src/commands/alert-rules/alert-rule.decider';
import { alertDecider } from '../src/commands/alerts/alert.decider';
import { alertStream, type AlertEvent, type AlertFacts } from '../src/commands/alerts/alert.events';
import { spec } from './support/decider-spec';

const AT = '2025-01-01T00:00:00.000Z';
const LATER = '2025-01-01T00:05:00.000Z';
const alert = spec(alertDecider);
const facts = (id = randomUUID()): AlertFacts => ({ id, ruleId: 'r1', ruleName: 'too warm', severity: 'WARNING', sensorId: 's1', deviceId: 'd1', channelIds: [] });
const raised = (f: AlertFacts): AlertEvent => ({ type: 'AlertRaised', data: { ...f, message: 'value 9: above 8', reading: { ts: AT, value: 9 }, raisedAt: AT } });
const resolved = (f: AlertFacts): AlertEvent => ({ type: 'AlertResolved', data: { ...f, reason: 'CLEARED', reading: { ts: LATER, value: 6 }, resolvedAt: LATER } });

describe('Alert (one stream per rule and sensor)', () => {
  it('lives in alert-<rule>_<sensor>', () => {
    expect(alertStream('r1', 's1')).toBe('alert-r1_s1');
  });

  it('raises when none is open, and not again while one is', () => {
    const f = facts();
    alert.given([]).when({ type: 'RaiseAlert', data: { facts: f, message: 'value 9: above 8', reading: { ts: AT, value: 9 }, now: AT } }).then([raised(f)]);
    alert.given([raised(f)]).when({ type: 'RaiseAlert', data: { facts: facts(), message: 'x', reading: null, now: LATER } }).then([]);
  });

  it('raises a new alert after the last one resolved', () => {
    const first = facts();
    const second = facts();
    alert
      .given([raised(first), resolved(first)])
      .when({ type: 'RaiseAlert', data: { facts: second, message: 'value 9: above 8', reading: { ts: AT, value: 9 }, now: AT } })
      .then([raised(second)]);
  });

  it('acknowledges the open alert once, with a note', () => {
    const f = facts();
    alert.given([raised(f)]).when({ type: 'AcknowledgeAlert', data: { alertId: f.id, note: 'on it', now: LATER } }).then([
      { type: 'AlertAcknowledged', data: { ...f, note: 'on it', acknowledgedAt: LATER } },
    ]);
    const acknowledged: AlertEvent = { type: 'AlertAcknowledged', data: { ...f, note: null, acknowledgedAt: LATER } };
    alert.given([raised(f), acknowledged]).when({ type: 'AcknowledgeAlert', data: { alertId: f.id, note: 'again', now: LATER } }).then([]);
  });

  it('refuses to acknowledge a resolved alert (409) or one the stream never held (404)', () => {
    const f = facts();
    alert.given([raised(f), resolved(f)]).when({ type: 'AcknowledgeAlert', data: { alertId: f.id, note: null, now: LATER } }).thenThrows({ code: 'ALERT_RESOLVED', status: 409 });
    alert.given([raised(f)]).when({ type: 'AcknowledgeAlert', data: { alertId: randomUUID(), note: null, now: LATER } }).thenThrows({ code: 'ALERT_NOT_FOUND', status: 404 });
  });

  it('resolves an open or acknowledged alert, and does nothing when none is open', () => {
    const f = facts();
    const acknowledged: AlertEvent = { type: 'AlertAcknowledged', data: { ...f, note: null, acknowledgedAt: AT } };
    alert.given([raised(f), acknowledged]).when({ type: 'ResolveAlert', data: { reason: 'CLEARED', reading: { ts: LATER, value: 6 }, now: LATER } }).then([resolved(f)]);
    alert.given([raised(f), resolved(f)]).when({ type: 'ResolveAlert', data: { reason: 'CLEARED', reading: null, now: LATER } }).then([]);
  });
});

describe('AlertRule', () => {
  const rule = spec(alertRuleDecider);
  const fields = {
    name: 'too warm',
    description: null,
    enabled: true,
    severity: 'WARNING' as const,
    scopeType: 'DEVICE' as const,
    scopeId: 'd1',
    sensorKey: 'temp',
    operator: 'AND' as const,
    conditions: [{ type: 'ABOVE' as const, threshold: 8 }],
    forSeconds: 0,
    hysteresis: 0.5,
    channelIds: [],
  };

  it('creates a consistent rule', () => {
    rule.given([]).when({ type: 'Create', data: { id: 'r1', fields, now: AT } }).then([{ type: 'AlertRuleCreated', data: { id: 'r1', ...fields, createdAt: AT } }]);
  });

  it('refuses NO_DATA combined with another condition, an empty range, and a sensor key on a one-sensor scope', () => {
    const bad = (changes: Partial<typeof fields> | Record<string, unknown>) =>
      rule.given([]).when({ type: 'Create', data: { id: 'r1', fields: { ...fields, ...changes } as typeof fields, now: AT } });
    bad({ conditions: [{ type: 'NO_DATA', seconds: 300 }, { type: 'ABOVE', threshold: 1 }] }).thenThrows({ code: 'UNPROCESSABLE', status: 422 });
    bad({ conditions: [{ type: 'OUTSIDE_RANGE', min: 5, max: 5 }] }).thenThrows({ code: 'UNPROCESSABLE', status: 422 });
    bad({ scopeType: 'SENSOR' }).thenThrows({ code: 'UNPROCESSABLE', status: 422 });
  });
});
