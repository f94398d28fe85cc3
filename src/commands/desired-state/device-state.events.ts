import type { DomainEvent } from '../decider';
import type { DesiredStateTargetType } from './desired-state-binding.decider';

/** One binding's part in a published desired state (the API's DesiredStateSource). */
export interface DesiredStateSourceData {
  bindingId: string;
  artefactId: string;
  version: number;
  targetType: DesiredStateTargetType;
  targetId: string;
  priority: number;
}

/**
 * The platform published this desired state, retained, on
 * devices/{id}/desired. Appended by the desired-state publisher after the
 * broker took the message, only when the version differs from the last one.
 */
export type DesiredStatePublished = DomainEvent<
  'DesiredStatePublished',
  { deviceId: string; version: string; desired: Record<string, unknown>; sources: DesiredStateSourceData[]; publishedAt: string }
>;

/**
 * The device reported this state on devices/{id}/reported. Recorded only
 * when it differs from the last report, so a chatty device does not fill
 * the log. `appliedVersion` is the desired version the device says it applied.
 */
export type DeviceStateReported = DomainEvent<
  'DeviceStateReported',
  { deviceId: string; version: string; reported: Record<string, unknown>; appliedVersion: string | null; reportedAt: string }
>;

export type DeviceStateEvent = DesiredStatePublished | DeviceStateReported;

export const DEVICE_STATE_EVENT_TYPES: readonly DeviceStateEvent['type'][] = ['DesiredStatePublished', 'DeviceStateReported'];

export function desiredStateStream(deviceId: string): string {
  return `desired-state-${deviceId}`;
}

export function reportedStateStream(deviceId: string): string {
  return `reported-state-${deviceId}`;
}
