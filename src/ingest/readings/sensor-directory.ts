import { asWriter } from '../../platform/db/roles';
import type { Pool } from '../../platform/db/pool';
import type { CheckpointWatcher } from '../../platform/checkpoints/checkpoint-watcher';
import type { EventStore, Position, RecordedEvent, Subscription } from '../../platform/event-store/event-store.port';
import type { Logger } from '../../platform/logger';
import { devicesProjection } from '../../projections/devices.projection';
import { sensorProfilesProjection } from '../../projections/sensor-profiles.projection';
import { sensorsProjection } from '../../projections/sensors.projection';
import { organizationsProjection } from '../../projections/organizations.projection';

export interface SensorEntry {
  readonly sensorId: string;
  readonly orgId: string;
  readonly deviceId: string;
  readonly key: string;
  readonly validRange: { readonly min: number; readonly max: number } | null;
  /** The organization's effective readings retention: an older reading would be deleted at once. */
  readonly retentionDays: number;
}

export interface DeviceEntry {
  readonly orgId: string;
  readonly deviceId: string;
  readonly decommissioned: boolean;
  readonly sensors: ReadonlyMap<string, SensorEntry>;
  readonly loadedAt: number;
}

const WATCHED_PROJECTIONS = [devicesProjection, sensorsProjection, sensorProfilesProjection, organizationsProjection];
/** A key unknown in an entry older than this is looked up again before its reading is quarantined. */
const RELOAD_UNKNOWN_AFTER_MS = 2_000;
const RESUBSCRIBE_AFTER_MS = 1_000;

interface Row {
  org_id: string;
  device_id: string;
  status: string;
  retention_days: number | null;
  sensor_id: string | null;
  key: string | null;
  valid_range: { min: number; max: number } | null;
}

/**
 * The ingester's view of devices and their sensors: loaded from the read
 * models on first use, then kept current by the events that change them
 * (devices, sensors, sensor profiles). An entry is dropped only once the
 * projections have applied the event, so the next load sees the change.
 */
export class SensorDirectory {
  private readonly devices = new Map<string, DeviceEntry>();
  private readonly loading = new Map<string, Promise<DeviceEntry | undefined>>();
  private readonly deviceOfSensor = new Map<string, string>();
  private subscription: Subscription | undefined;
  private following: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly pool: Pool,
    private readonly store: EventStore,
    private readonly watcher: CheckpointWatcher,
    private readonly log: Logger,
    /** READINGS_RETENTION_DAYS: the retention of an organization that sets none. */
    private readonly defaultRetentionDays: number,
  ) {}

  async start(): Promise<void> {
    await this.watcher.start();
    this.following = this.follow(await this.store.headPosition());
  }

  /**
   * Follows the events that change entries. Should the subscription fail
   * (database restart), the cache is cleared — an event may have been
   * missed — and following starts again from the head, after a pause.
   */
  private async follow(fromPosition: Position): Promise<void> {
    let from = fromPosition;
    while (!this.stopped) {
      try {
        const subscription = this.store.subscribeToAll({ fromPosition: from, filter: { eventTypes: WATCHED_PROJECTIONS.flatMap((p) => p.eventTypes) } });
        this.subscription = subscription;
        for await (const batch of subscription) {
          if (batch.events.length === 0) continue;
          await this.watcher.waitFor(WATCHED_PROJECTIONS.map((p) => p.name), batch.checkpoint, 10_000);
          for (const event of batch.events) this.invalidate(event);
        }
        return; // closed by stop()
      } catch (err) {
        if (this.stopped) return;
        this.log.warn({ err }, 'sensor directory lost its event subscription; clearing the cache and following again');
        this.devices.clear();
        await new Promise((resolve) => setTimeout(resolve, RESUBSCRIBE_AFTER_MS));
        from = await this.store.headPosition().catch(() => from);
        this.devices.clear();
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.subscription?.close();
    await this.following;
  }

  /** The cached entry, without waiting: the hot path's way in. */
  peek(deviceId: string): DeviceEntry | undefined {
    return this.devices.get(deviceId);
  }

  /** The device's entry, loading it when absent; undefined for a device the platform does not know. */
  device(deviceId: string): Promise<DeviceEntry | undefined> {
    const cached = this.devices.get(deviceId);
    if (cached) return Promise.resolve(cached);
    return this.load(deviceId);
  }

  /** A sensor of the device by key; an unknown key in an older entry is looked up once more first. */
  async sensor(deviceId: string, key: string): Promise<SensorEntry | undefined> {
    const entry = await this.device(deviceId);
    const sensor = entry?.sensors.get(key);
    if (sensor || !entry || Date.now() - entry.loadedAt < RELOAD_UNKNOWN_AFTER_MS) return sensor;
    this.devices.delete(deviceId);
    return (await this.load(deviceId))?.sensors.get(key);
  }

  /** A sensor by id within an organization (the HTTP door names sensors by id). */
  async sensorById(orgId: string, sensorId: string): Promise<SensorEntry | undefined> {
    const known = this.deviceOfSensor.get(sensorId);
    const deviceId =
      known ??
      (
        await asWriter(this.pool, (tx) =>
          tx.query<{ device_id: string }>('SELECT device_id FROM sensors WHERE org_id = $1 AND id = $2', [orgId, sensorId]),
        )
      ).rows[0]?.device_id;
    if (deviceId === undefined) return undefined;
    const entry = await this.device(deviceId);
    if (!entry || entry.orgId !== orgId) return undefined;
    return [...entry.sensors.values()].find((s) => s.sensorId === sensorId);
  }

  private load(deviceId: string): Promise<DeviceEntry | undefined> {
    const pending = this.loading.get(deviceId);
    if (pending) return pending;
    const loading = this.query(deviceId).finally(() => this.loading.delete(deviceId));
    this.loading.set(deviceId, loading);
    return loading;
  }

  private async query(deviceId: string): Promise<DeviceEntry | undefined> {
    const { rows } = await asWriter(this.pool, (tx) =>
      tx.query<Row>(
        `SELECT d.org_id, d.id AS device_id, d.status, o.readings_retention_days AS retention_days, s.id AS sensor_id, s.key, p.valid_range
           FROM devices d
           LEFT JOIN organizations o ON o.org_id = d.org_id
           LEFT JOIN sensors s ON s.org_id = d.org_id AND s.device_id = d.id
           LEFT JOIN sensor_profiles p ON p.org_id = s.org_id AND p.id = s.sensor_profile_id
          WHERE d.id = $1`,
        [deviceId],
      ),
    );
    const first = rows[0];
    if (!first) return undefined;
    const sensors = new Map<string, SensorEntry>();
    const retentionDays = first.retention_days ?? this.defaultRetentionDays;
    for (const row of rows) {
      if (row.sensor_id === null || row.key === null) continue;
      sensors.set(row.key, { sensorId: row.sensor_id, orgId: row.org_id, deviceId, key: row.key, validRange: row.valid_range, retentionDays });
      this.deviceOfSensor.set(row.sensor_id, deviceId);
    }
    const entry: DeviceEntry = {
      orgId: first.org_id,
      deviceId,
      decommissioned: first.status === 'DECOMMISSIONED',
      sensors,
      loadedAt: Date.now(),
    };
    this.devices.set(deviceId, entry);
    return entry;
  }

  private invalidate(event: RecordedEvent): void {
    const data = event.data as { id?: string; deviceId?: string };
    if (event.type.startsWith('SensorProfile') || event.type.startsWith('Organization')) {
      this.devices.clear(); // rare: every device using the profile (or of the organization) would need reloading
      return;
    }
    const deviceId = event.type.startsWith('Device') ? data.id : data.deviceId ?? (data.id ? this.deviceOfSensor.get(data.id) : undefined);
    if (deviceId !== undefined) this.devices.delete(deviceId);
  }
}
