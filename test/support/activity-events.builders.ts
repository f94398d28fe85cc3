import { randomUUID } from 'node:crypto';
import type { AlertFacts, AlertRaised, AlertAcknowledged, AlertResolved } from '../../src/commands/alerts/alert.events';
import { alertStream } from '../../src/commands/alerts/alert.events';
import type { DomainEvent } from '../../src/commands/decider';
import type { CommandQueued } from '../../src/commands/device-commands/device-command.events';
import { deviceCommandStream } from '../../src/commands/device-commands/device-command.events';
import type { EventStore } from '../../src/platform/event-store/event-store.port';
import { aMetadata } from './events';

/** Events the feed reads but the API cannot make yet (alerts, commands), appended as their writers do. */
export async function appendAs(store: EventStore, orgId: string, stream: string, events: readonly DomainEvent[]): Promise<string[]> {
  const recorded = events.map((e) => ({ id: randomUUID(), type: e.type, data: e.data, metadata: aMetadata({ orgId, actor: 'system' }) }));
  await store.appendToStream(stream, recorded);
  return recorded.map((e) => e.id);
}

export function anAlert(facts: Pick<AlertFacts, 'sensorId' | 'deviceId'> & Partial<AlertFacts>): AlertFacts {
  return { id: randomUUID(), ruleId: randomUUID(), ruleName: 'Freezer too warm', severity: 'CRITICAL', channelIds: [], ...facts };
}

export const alertStreamOf = (alert: AlertFacts): string => alertStream(alert.ruleId, alert.sensorId);

export const anAlertRaised = (alert: AlertFacts, raisedAt = new Date().toISOString()): AlertRaised => ({
  type: 'AlertRaised',
  data: { ...alert, message: '12.4 > 8', reading: { ts: raisedAt, value: 12.4 }, raisedAt },
});

export const anAlertAcknowledged = (alert: AlertFacts, note: string | null = 'door was open'): AlertAcknowledged => ({
  type: 'AlertAcknowledged',
  data: { ...alert, note, acknowledgedAt: new Date().toISOString() },
});

export const anAlertResolved = (alert: AlertFacts): AlertResolved => ({
  type: 'AlertResolved',
  data: { ...alert, reason: 'CLEARED', reading: { ts: new Date().toISOString(), value: 7.9 }, resolvedAt: new Date().toISOString() },
});

export function aCommandQueued(deviceId: string, overrides: Partial<CommandQueued['data']> = {}): CommandQueued {
  const now = new Date();
  return {
    type: 'CommandQueued',
    data: {
      id: randomUUID(),
      deviceId,
      name: 'reboot',
      params: {},
      timeoutSeconds: 30,
      expiresAt: new Date(now.getTime() + 3_600_000).toISOString(),
      queuedAt: now.toISOString(),
      batchId: null,
      ...overrides,
    },
  };
}

export const commandStreamOf = (queued: CommandQueued): string => deviceCommandStream(queued.data.id);
