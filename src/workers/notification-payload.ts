import type { AlertEvent, AlertStatus } from '../commands/alerts/alert.events';
import { assertNever } from '../commands/decider';

export const TEST_NOTIFICATION = 'NotificationTest';
export type NotificationType = AlertEvent['type'] | typeof TEST_NOTIFICATION;

/** The alert as a notification shows it: its facts (not the channel list), its status and what the event adds. */
export type AlertPayload = Omit<AlertEvent['data'], 'channelIds'> & { status: AlertStatus } & Record<string, unknown>;

/** A notification's content, kept with its delivery so that every attempt sends the same; the body adds the delivery id. */
export interface NotificationContent {
  readonly type: NotificationType;
  /** When the event happened (for a test: when it was asked for). */
  readonly createdAt: string;
  readonly alert: AlertPayload | null;
}

const STATUS: Record<AlertEvent['type'], AlertStatus> = { AlertRaised: 'OPEN', AlertAcknowledged: 'ACKNOWLEDGED', AlertResolved: 'RESOLVED' };

export function alertContent(event: AlertEvent, createdAt: string): NotificationContent {
  const { channelIds: _channels, ...facts } = event.data;
  return { type: event.type, createdAt, alert: { ...facts, status: STATUS[event.type] } };
}

export function testContent(createdAt: string): NotificationContent {
  return { type: TEST_NOTIFICATION, createdAt, alert: null };
}

/** The webhook body: exactly these bytes are signed. */
export function webhookBody(deliveryId: string, content: NotificationContent): string {
  return JSON.stringify({ id: deliveryId, type: content.type, createdAt: content.createdAt, alert: content.alert });
}

/** Slack's mrkdwn gives &, < and > a meaning: user text (rule names, messages, notes) is escaped. */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

interface Summary {
  readonly headline: string;
  readonly lines: readonly string[];
}

function readingLine(reading: unknown): string[] {
  const r = reading as { ts: string; value: number } | null | undefined;
  return r ? [`Reading: ${r.value} at ${r.ts}`] : [];
}

function summarize(content: NotificationContent, escape: (text: string) => string): Summary {
  const alert = content.alert;
  if (content.type === TEST_NOTIFICATION || alert === null) {
    return { headline: 'Test notification from iotplane', lines: ['This channel is set up to receive alert notifications.'] };
  }
  const rule = escape(alert.ruleName);
  const subject = `Sensor ${alert.sensorId} on device ${alert.deviceId}`;
  switch (content.type) {
    case 'AlertRaised':
      return { headline: `${alert.severity} alert raised: ${rule}`, lines: [escape(String(alert.message ?? '')), subject, ...readingLine(alert.reading)] };
    case 'AlertAcknowledged':
      return {
        headline: `${alert.severity} alert acknowledged: ${rule}`,
        lines: [subject, ...(typeof alert.note === 'string' ? [`Note: ${escape(alert.note)}`] : [])],
      };
    case 'AlertResolved':
      return { headline: `${alert.severity} alert resolved: ${rule}`, lines: [`Reason: ${String(alert.reason)}`, subject, ...readingLine(alert.reading)] };
    default:
      return assertNever(content.type);
  }
}

/** Slack incoming webhooks take `{ text }`. */
export function slackBody(content: NotificationContent): string {
  const { headline, lines } = summarize(content, slackEscape);
  return JSON.stringify({ text: [`*${headline}*`, ...lines].join('\n') });
}

export function emailMessage(deliveryId: string, content: NotificationContent): { subject: string; text: string } {
  const { headline, lines } = summarize(content, (text) => text);
  const alertId = content.alert ? [`Alert: ${content.alert.id}`] : [];
  return { subject: `[iotplane] ${headline}`, text: [headline, '', ...lines, ...alertId, `Delivery: ${deliveryId}`, ''].join('\n') };
}
