import { randomUUID } from 'node:crypto';
import type { QueuedCommandFields } from '../../src/commands/device-commands/device-command.decider';
import type { CommandQueued, DeviceCommandEvent } from '../../src/commands/device-commands/device-command.events';

export const QUEUED_AT = '2025-03-01T10:00:00.000Z';
export const SENT_AT = '2025-03-01T10:00:05.000Z';
/** QUEUED_AT + 1 h. */
export const EXPIRES_AT = '2025-03-01T11:00:00.000Z';

export function someCommandFields(overrides: Partial<QueuedCommandFields> = {}): QueuedCommandFields {
  return {
    id: randomUUID(),
    deviceId: randomUUID(),
    name: 'reboot',
    params: { delaySeconds: 5 },
    timeoutSeconds: 60,
    expiresAt: EXPIRES_AT,
    batchId: null,
    ...overrides,
  };
}

export function aCommandQueued(fields: QueuedCommandFields = someCommandFields()): CommandQueued {
  return { type: 'CommandQueued', data: { ...fields, queuedAt: QUEUED_AT } };
}

/** The history of a command up to a status, from its queued event. */
export function aHistory(queued: CommandQueued, upTo: 'QUEUED' | 'SENT' | 'ACKNOWLEDGED' | 'SUCCEEDED' | 'TIMED_OUT' | 'CANCELLED'): DeviceCommandEvent[] {
  const { id } = queued.data;
  const sent: DeviceCommandEvent = { type: 'CommandSent', data: { id, at: SENT_AT } };
  const acknowledged: DeviceCommandEvent = { type: 'CommandAcknowledged', data: { id, at: '2025-03-01T10:00:06.000Z' } };
  switch (upTo) {
    case 'QUEUED':
      return [queued];
    case 'SENT':
      return [queued, sent];
    case 'ACKNOWLEDGED':
      return [queued, sent, acknowledged];
    case 'SUCCEEDED':
      return [queued, sent, acknowledged, { type: 'CommandSucceeded', data: { id, at: '2025-03-01T10:00:07.000Z', result: null } }];
    case 'TIMED_OUT':
      return [queued, sent, { type: 'CommandTimedOut', data: { id, at: '2025-03-01T10:01:05.000Z' } }];
    case 'CANCELLED':
      return [queued, { type: 'CommandCancelled', data: { id, at: '2025-03-01T10:00:01.000Z' } }];
    default:
      throw new Error(`no history for ${String(upTo)}`);
  }
}
