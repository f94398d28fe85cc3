import { createHmac, randomUUID } from 'node:crypto';
import { alertStream, type AlertEvent, type AlertFacts } from '../../src/commands/alerts/alert.events';
import type { EventStore } from '../../src/platform/event-store/event-store.port';
import type { ReceivedRequest } from './webhook-receiver';

export function anAlert(overrides: Partial<AlertFacts> = {}): AlertFacts {
  return {
    id: randomUUID(),
    ruleId: randomUUID(),
    ruleName: 'Cold room too warm',
    severity: 'CRITICAL',
    sensorId: randomUUID(),
    deviceId: randomUUID(),
    channelIds: [],
    ...overrides,
  };
}

export const anAlertRaised = (facts: AlertFacts, at = new Date().toISOString()): AlertEvent => ({
  type: 'AlertRaised',
  data: { ...facts, message: 'temperature above 8 °C for 5 min', reading: { ts: at, value: 9.5 }, raisedAt: at },
});
export const anAlertAcknowledged = (facts: AlertFacts, note: string | null = 'on it'): AlertEvent => ({
  type: 'AlertAcknowledged',
  data: { ...facts, note, acknowledgedAt: new Date().toISOString() },
});
export const anAlertResolved = (facts: AlertFacts): AlertEvent => ({
  type: 'AlertResolved',
  data: { ...facts, reason: 'CLEARED', reading: { ts: new Date().toISOString(), value: 6.1 }, resolvedAt: new Date().toISOString() },
});

/** Appends alert events as the alerting side does: the alert's stream, the organization in the metadata. Answers the event ids. */
export async function appendAlertEvents(store: EventStore, orgId: string, events: readonly AlertEvent[]): Promise<string[]> {
  const ids: string[] = [];
  for (const event of events) {
    const id = randomUUID();
    ids.push(id);
    await store.appendToStream(
      alertStream(event.data.ruleId, event.data.sensorId),
      [{ id, type: event.type, data: event.data, metadata: { orgId, actor: 'system', correlationId: randomUUID(), causationId: null, schemaVersion: 1 } }],
      { expectedRevision: 'any' },
    );
  }
  return ids;
}

/** The receiver's side of X-Iotplane-Signature, written out independently of the platform's code. */
export function signatureValid(request: ReceivedRequest, secret: string, toleranceSeconds = 300): boolean {
  const header = String(request.headers['x-iotplane-signature'] ?? '');
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!match) return false;
  const t = Number(match[1]);
  if (Math.abs(Date.now() / 1000 - t) > toleranceSeconds) return false;
  return createHmac('sha256', secret).update(`${t}.${request.body}`).digest('hex') === match[2];
}
