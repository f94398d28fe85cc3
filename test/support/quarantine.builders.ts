import { randomUUID } from 'node:crypto';
import type { QuarantineCommand } from '../../src/commands/quarantine/quarantine.decider';
import type { QuarantineDiscarded, QuarantineReleased } from '../../src/ingest/readings/readings.events';

const AT = '2025-01-02T03:04:05.000Z';

type Target = { quarantineId: string; deviceId: string | null; now: string };

export function aReleaseQuarantineEntry(data: Partial<Target> = {}): QuarantineCommand {
  return { type: 'ReleaseQuarantineEntry', data: { quarantineId: randomUUID(), deviceId: randomUUID(), now: AT, ...data } };
}

export function aDiscardQuarantineEntry(data: Partial<Target & { note: string | null }> = {}): QuarantineCommand {
  return { type: 'DiscardQuarantineEntry', data: { quarantineId: randomUUID(), deviceId: randomUUID(), note: null, now: AT, ...data } };
}

export function aQuarantineReleased(data: Partial<QuarantineReleased['data']> = {}): QuarantineReleased {
  return { type: 'QuarantineReleased', data: { quarantineId: randomUUID(), deviceId: randomUUID(), releasedAt: AT, ...data } };
}

export function aQuarantineDiscarded(data: Partial<QuarantineDiscarded['data']> = {}): QuarantineDiscarded {
  return { type: 'QuarantineDiscarded', data: { quarantineId: randomUUID(), deviceId: randomUUID(), note: null, discardedAt: AT, ...data } };
}
