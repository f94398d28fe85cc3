import { mqttSchema, readDevicePayload } from './mqtt-schemas';
import { randomUUID } from 'node:crypto';
import { deviceHealthStream, type DeviceHealthEvent, type DeviceHealthReported } from '../../commands/device-health/device-health.events';
import type { EventStore } from '../event-store/event-store.port';
import type { Logger } from '../logger';
import type { DeviceIdentity } from './broker-identity';

type Health = Omit<DeviceHealthReported['data'], 'deviceId' | 'at'>;
/** A valid heartbeat payload (schemas/mqtt/health.json). */
export type Heartbeat = { readonly [K in keyof Health]?: Exclude<Health[K], null> } & { readonly session?: string };

export interface HealthFeedOptions {
  readonly now: () => Date;
  /** Identical heartbeats become at most one event per this interval. */
  readonly intervalMs: number;
}

/** Devices beat every 60 s with some jitter; without slack every other beat would be dropped and the device look late. */
const JITTER_MS = 5000;
const MAX_HEARTBEAT_BYTES = 4096;

/**
 * Turns broker connects, disconnects and heartbeats into device-health
 * events. Appends run one after another per device, so the stream keeps the
 * order the broker saw; a failed append is logged and never reaches the
 * broker.
 */
export class DeviceHealthFeed {
  private readonly validate = mqttSchema<Heartbeat>('health');
  private readonly pending = new Map<string, Promise<void>>();
  private readonly lastReported = new Map<string, { health: Health; at: number }>();
  invalidHeartbeats = 0;
  throttledHeartbeats = 0;

  constructor(
    private readonly store: EventStore,
    private readonly log: Logger,
    private readonly options: HealthFeedOptions,
  ) {}

  connected(device: DeviceIdentity, clientId: string): void {
    // The serial tells which certificate is in use: a renewal's first use supersedes what it replaces.
    const data = { deviceId: device.deviceId, at: this.at(), clientId, serialNumber: device.serialNumber };
    this.record(device, { type: 'DeviceConnected', data });
  }

  disconnected(device: DeviceIdentity, reason: string): void {
    this.lastReported.delete(device.deviceId);
    this.record(device, { type: 'DeviceDisconnected', data: { deviceId: device.deviceId, at: this.at(), reason } });
  }

  heartbeat(device: DeviceIdentity, payload: Buffer | string): void {
    const heartbeat = this.check(device.deviceId, payload);
    if (heartbeat !== undefined) this.report(device, heartbeat);
  }

  /** The payload as a heartbeat, or undefined when invalid (counted and logged). */
  check(deviceId: string, payload: Buffer | string): Heartbeat | undefined {
    const parsed = readDevicePayload(payload, this.validate, MAX_HEARTBEAT_BYTES);
    if (!('error' in parsed)) return parsed.value;
    this.invalidHeartbeats += 1;
    this.log.warn({ deviceId, error: parsed.error }, 'invalid heartbeat ignored');
    return undefined;
  }

  /** A new session began without a disconnect being seen: its first heartbeat is recorded, not throttled. */
  sessionStarted(deviceId: string): void {
    this.lastReported.delete(deviceId);
  }

  /** A valid heartbeat, recorded unless it repeats the last report within the interval. */
  report(device: DeviceIdentity, heartbeat: Heartbeat): void {
    const health: Health = {
      firmwareVersion: heartbeat.firmwareVersion ?? null,
      signalDbm: heartbeat.signalDbm ?? null,
      batteryPercent: heartbeat.batteryPercent ?? null,
      uptimeSeconds: heartbeat.uptimeSeconds ?? null,
    };
    const now = this.options.now();
    const last = this.lastReported.get(device.deviceId);
    if (last && !changed(last.health, health) && now.getTime() - last.at < this.options.intervalMs - JITTER_MS) {
      this.throttledHeartbeats += 1;
      return;
    }
    this.lastReported.set(device.deviceId, { health, at: now.getTime() });
    const event: DeviceHealthEvent = { type: 'DeviceHealthReported', data: { deviceId: device.deviceId, at: now.toISOString(), ...health } };
    // Forget a report that was not stored, so the next heartbeat is not throttled against it.
    this.record(device, event, () => this.lastReported.delete(device.deviceId));
  }

  /** Resolves when the device's appends started so far have finished (an event stored by others goes after them). */
  async settled(deviceId: string): Promise<void> {
    await this.pending.get(deviceId);
  }

  /** Resolves when every append started so far has finished. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending.values());
  }

  private record(device: DeviceIdentity, event: DeviceHealthEvent, onFailure?: () => void): void {
    const id = device.deviceId;
    const metadata = { orgId: device.orgId, actor: `device:${id}` as const, correlationId: randomUUID(), causationId: null, schemaVersion: 1 };
    const append = async (): Promise<void> => {
      try {
        await this.store.appendToStream(deviceHealthStream(id), [{ id: randomUUID(), type: event.type, data: event.data, metadata }]);
      } catch (err) {
        onFailure?.();
        this.log.error({ err, deviceId: id, type: event.type }, 'device health event not stored');
      }
    };
    const next = (this.pending.get(id) ?? Promise.resolve()).then(append);
    this.pending.set(id, next);
    void next.then(() => {
      if (this.pending.get(id) === next) this.pending.delete(id);
    });
  }

  private at(): string {
    return this.options.now().toISOString();
  }
}

/** Uptime grows with every beat, so only a restart (uptime going back) counts as a change. */
function changed(before: Health, after: Health): boolean {
  if (before.firmwareVersion !== after.firmwareVersion || before.signalDbm !== after.signalDbm || before.batteryPercent !== after.batteryPercent) return true;
  if (before.uptimeSeconds === null || after.uptimeSeconds === null) return before.uptimeSeconds !== after.uptimeSeconds;
  return after.uptimeSeconds < before.uptimeSeconds;
}
