import type { AlertEvent, AlertFacts, AlertReading } from '../commands/alerts/alert.events';
import { sensorLabel, type ActivityEntry, type ActivityHandlers, type HandlerContext } from './activity-events.entry';

const RESOLUTIONS: Readonly<Record<'CLEARED' | 'DATA_RECEIVED' | 'RULE_CHANGED', string>> = {
  CLEARED: 'the condition cleared',
  DATA_RECEIVED: 'data arrived again',
  RULE_CHANGED: 'its rule was changed',
};

/**
 * Alert events repeat the alert's facts (rule name, severity, sensor,
 * device), so the sentence needs the directory only for the sensor's key
 * and the device's name and site.
 */
async function aboutAlert(facts: AlertFacts, { directory }: HandlerContext) {
  const sensor = await directory.find('SENSOR', facts.sensorId);
  const device = await directory.find('DEVICE', facts.deviceId);
  return {
    entry: {
      deviceId: facts.deviceId,
      siteId: device?.siteId ?? null,
      subject: { type: 'ALERT', id: facts.id },
    } satisfies Pick<ActivityEntry, 'deviceId' | 'siteId' | 'subject'>,
    on: sensorLabel(sensor, facts.sensorId, device, facts.deviceId),
    data: { ruleId: facts.ruleId, ruleName: facts.ruleName, severity: facts.severity, sensorId: facts.sensorId },
  };
}

const value = (reading: AlertReading | null): string => (reading ? ` (${reading.value})` : '');

export const alertHandlers: ActivityHandlers<AlertEvent> = {
  async AlertRaised({ data }, ctx) {
    const alert = await aboutAlert(data, ctx);
    return {
      ...alert.entry,
      type: 'ALERT_RAISED',
      occurredAt: data.raisedAt,
      summary: `Alert '${data.ruleName}' (${data.severity}) raised on ${alert.on}${data.message ? `: ${data.message}` : ''}`,
      data: { ...alert.data, message: data.message, reading: data.reading },
    };
  },

  async AlertAcknowledged({ data }, ctx) {
    const alert = await aboutAlert(data, ctx);
    return {
      ...alert.entry,
      type: 'ALERT_ACKNOWLEDGED',
      occurredAt: data.acknowledgedAt,
      summary: `Alert '${data.ruleName}' on ${alert.on} acknowledged${data.note ? `: ${data.note}` : ''}`,
      data: { ...alert.data, note: data.note },
    };
  },

  async AlertResolved({ data }, ctx) {
    const alert = await aboutAlert(data, ctx);
    const why = RESOLUTIONS[data.reason] + (data.reason === 'CLEARED' ? value(data.reading) : '');
    return {
      ...alert.entry,
      type: 'ALERT_RESOLVED',
      occurredAt: data.resolvedAt,
      summary: `Alert '${data.ruleName}' on ${alert.on} resolved: ${why}`,
      data: { ...alert.data, reason: data.reason, reading: data.reading },
    };
  },
};
