import type { DomainEvent } from '../decider';

export type AlertSeverity = 'INFO' | 'WARNING' | 'CRITICAL';
export type AlertStatus = 'OPEN' | 'ACKNOWLEDGED' | 'RESOLVED';

/** What every alert event repeats, so that a reader (notifier, activity feed) needs no lookup. */
export interface AlertFacts {
  /** The alert (one episode of the rule firing for the subject). */
  id: string;
  ruleId: string;
  ruleName: string;
  severity: AlertSeverity;
  /** The subject: alerts are per (rule, sensor). */
  sensorId: string;
  deviceId: string;
  /** Notification channels of the rule when the alert was raised. */
  channelIds: string[];
}

/** A reading that raised or cleared an alert. */
export interface AlertReading {
  ts: string;
  value: number;
}

export type AlertRaised = DomainEvent<'AlertRaised', AlertFacts & { message: string; reading: AlertReading | null; raisedAt: string }>;
export type AlertAcknowledged = DomainEvent<'AlertAcknowledged', AlertFacts & { note: string | null; acknowledgedAt: string }>;
export type AlertResolved = DomainEvent<
  'AlertResolved',
  AlertFacts & {
    /** CLEARED: a reading ended the condition (beyond the hysteresis); DATA_RECEIVED: data arrived again after a no-data alert; RULE_CHANGED: the rule was disabled, changed or deleted. */
    reason: 'CLEARED' | 'DATA_RECEIVED' | 'RULE_CHANGED';
    reading: AlertReading | null;
    resolvedAt: string;
  }
>;

export type AlertEvent = AlertRaised | AlertAcknowledged | AlertResolved;

export const ALERT_EVENT_TYPES: readonly AlertEvent['type'][] = ['AlertRaised', 'AlertAcknowledged', 'AlertResolved'];

/**
 * One stream per (rule, sensor) holds its alerts one after another, so at
 * most one is open: creation appends with the expected revision, and an
 * evaluator that loses the race re-reads and finds the open alert.
 */
export function alertStream(ruleId: string, sensorId: string): string {
  return `alert-${ruleId}_${sensorId}`;
}
