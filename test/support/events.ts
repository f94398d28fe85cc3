import { randomUUID } from 'node:crypto';
import type { EventMetadata, NewEvent } from '../../src/platform/event-store/event-store.port';

export function aMetadata(overrides: Partial<EventMetadata> = {}): EventMetadata {
  return {
    orgId: randomUUID(),
    actor: 'system',
    correlationId: randomUUID(),
    causationId: null,
    schemaVersion: 1,
    ...overrides,
  };
}

export function anEvent(type = 'ThingHappened', data: unknown = { n: 1 }, overrides: Partial<NewEvent> = {}): NewEvent {
  return { id: randomUUID(), type, data, metadata: aMetadata(), ...overrides };
}

export function aStreamName(prefix = 'test'): string {
  return `${prefix}-${randomUUID()}`;
}
