import type { DomainEvent } from '../decider';

/**
 * Connectivity facts about a device, appended by the broker side (MQTT issue):
 * a session opened or closed, and health reports (heartbeats are reported as
 * an event only when something changed or at most once per interval, so the
 * log does not fill with identical heartbeats).
 */
export type DeviceConnected = DomainEvent<
  'DeviceConnected',
  {
    deviceId: string;
    at: string;
    clientId: string;
    /** The certificate the session authenticated with (lowercase hex); absent in events recorded before it was kept. */
    serialNumber?: string;
  }
>;
export type DeviceDisconnected = DomainEvent<'DeviceDisconnected', { deviceId: string; at: string; reason: string }>;
export type DeviceHealthReported = DomainEvent<
  'DeviceHealthReported',
  {
    deviceId: string;
    at: string;
    firmwareVersion: string | null;
    signalDbm: number | null;
    batteryPercent: number | null;
    uptimeSeconds: number | null;
  }
>;
export type DeviceHealthEvent = DeviceConnected | DeviceDisconnected | DeviceHealthReported;

export const DEVICE_HEALTH_EVENT_TYPES: DeviceHealthEvent['type'][] = ['DeviceConnected', 'DeviceDisconnected', 'DeviceHealthReported'];

export function deviceHealthStream(deviceId: string): string {
  return `deviceHealth-${deviceId}`;
}
