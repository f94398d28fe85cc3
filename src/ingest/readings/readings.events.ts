import type { DomainEvent } from '../../commands/decider';

/** A hole in a device's message sequence numbers that was never filled: those messages are lost. */
export type ReadingsSequenceGap = DomainEvent<
  'ReadingsSequenceGap',
  { deviceId: string; fromSeq: number; toSeq: number; missing: number; detectedAt: string }
>;

/** An admin's decisions on quarantined readings (src/api/routes/quarantine.routes.ts). */
export type QuarantineReleased = DomainEvent<'QuarantineReleased', { quarantineId: string; deviceId: string | null; releasedAt: string }>;
export type QuarantineDiscarded = DomainEvent<'QuarantineDiscarded', { quarantineId: string; deviceId: string | null; note: string | null; discardedAt: string }>;

export type ReadingsEvent = ReadingsSequenceGap | QuarantineReleased | QuarantineDiscarded;

export function readingsStream(deviceId: string): string {
  return `readings-${deviceId}`;
}

export function quarantineStream(quarantineId: string): string {
  return `quarantine-${quarantineId}`;
}
