import type { IngestMetrics } from './ingest-metrics';
import { quarantineId, type QuarantineReason, type RejectionReason } from './quarantine-reasons';
import { qualityName } from './reading-quality';
import { checkReading, type CheckFailure, type TimeWindow } from './reading-checks';
import type { ReadingsBatcher } from './readings-batcher';
import { decodeReadingItem, decodeReadingsMessage, type DecodedMessage, type DeviceReading, type ItemOutcome } from './readings-message';
import { isRefusedData, microsText, refusalDetail } from './refused-batch';
import { untilItSucceeds } from './retry';
import type { Logger } from '../../platform/logger';
import { dayOf, emptyBatch, type QuarantineRow, type ReadingsBatch } from './readings-writer';
import type { DeviceEntry, SensorDirectory, SensorEntry } from './sensor-directory';

export interface PipelineWindows {
  /** Readings arriving over MQTT (live data, or what a device kept while offline). */
  readonly live: TimeWindow;
  /** The HTTP batch door and releases from quarantine: back-fill of history. */
  readonly backfill: TimeWindow;
}

/** An item of the HTTP batch door after its shape was checked by the API. */
export interface HttpItem {
  readonly sensorId?: string;
  readonly deviceId?: string;
  readonly sensor?: string;
  readonly ts: string;
  readonly value: number;
  readonly quality?: 'GOOD' | 'UNCERTAIN' | 'BAD';
}

export type HttpItemOutcome =
  | { readonly index: number; readonly outcome: 'accepted' }
  | { readonly index: number; readonly outcome: 'quarantined'; readonly reason: QuarantineReason; readonly detail: string; readonly quarantineId: string }
  | { readonly index: number; readonly outcome: 'rejected'; readonly reason: RejectionReason; readonly detail: string };

/** A quarantined entry as stored, for a release. */
export interface QuarantinedEntry {
  readonly orgId: string;
  readonly deviceId: string | null;
  readonly sensorKey: string | null;
  readonly reason: string;
  readonly payload: string;
}

/** Sees each reading the pipeline stores, synchronously, as it is taken (alert evaluation). */
export type ReadingObserver = (sensor: SensorEntry, reading: DeviceReading) => void;

/** Reasons whose entry holds a whole message rather than one reading. */
const WHOLE_MESSAGE_REASONS: readonly string[] = ['INVALID_JSON', 'INVALID_PAYLOAD'] satisfies QuarantineReason[];

/** Deterministic, so a message delivered twice is quarantined once. */

/** A decoded reading as its message carried it (the compact form's readings get their own ts). */
function readingJson(reading: DeviceReading): string {
  const { sensor, ts, value, quality } = reading;
  return JSON.stringify(quality === 0 ? { sensor, ts, value } : { sensor, ts, value, quality: qualityName(quality) });
}

/** When the platform got a message: ms since the epoch (stored) and ISO text (quarantine entries). */
interface Received {
  readonly ms: number;
  readonly text: string;
}

function receivedAt(date: Date): Received {
  return { ms: date.getTime(), text: date.toISOString() };
}

function store(part: ReadingsBatch, sensor: SensorEntry, reading: DeviceReading, received: Received, seq: number | null): void {
  part.copy.append(sensor, reading, received.ms, seq);
  part.readingRows += 1;
  part.days.add(dayOf(reading.tsMicros));
}

/** The time a message arrived; made at most once per millisecond. */
function receivedClock(): () => Received {
  let received: Received = { ms: 0, text: '' };
  return () => {
    const now = Date.now();
    if (now !== received.ms) received = receivedAt(new Date(now));
    return received;
  };
}

/**
 * The one pipeline behind both doors: decode and validate, resolve the
 * sensor, check the reading against its profile and the clock, then hand
 * readings and quarantined items to the batcher. Every item ends stored,
 * quarantined (with its reason and original payload) or rejected (counted;
 * only what cannot be attributed to an organization).
 */
export class ReadingsPipeline {
  constructor(
    private readonly directory: SensorDirectory,
    private readonly batcher: ReadingsBatcher,
    /** Writes a released entry in a transaction of its own, throwing what Postgres refuses (`ReadingsWriter.writeOrThrow`). */
    private readonly writeReleased: (part: ReadingsBatch) => Promise<unknown>,
    private readonly metrics: IngestMetrics,
    private readonly windows: PipelineWindows,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  private readonly received = receivedClock();

  /** Set once by the readings service; must stay cheap, it runs for every reading. */
  observer: ReadingObserver | undefined;

  hasRoom(): boolean {
    return this.batcher.hasRoom();
  }

  waitForRoom(): Promise<void> {
    return this.batcher.waitForRoom();
  }

  /**
   * A readings message a device published (the broker vouches for the
   * device id: it is the certificate's CN), taken into the open batch. The
   * hot path — device and sensors cached — is synchronous and allocates no
   * promise; otherwise the message counts against the buffer at once and the
   * returned promise settles when it is taken (false: unknown device,
   * rejected). A database that is down delays a lookup, never drops the message.
   */
  takeDeviceMessage(deviceId: string, payload: Buffer): true | Promise<boolean> {
    this.metrics.hot.mqttMessages += 1;
    const decoded = decodeReadingsMessage(payload);
    const received = this.received();
    const entry = this.directory.peek(deviceId);
    if (entry && (!decoded.ok || decoded.items.every((item) => !item.ok || entry.sensors.has(item.reading.sensor)))) {
      this.appendDeviceMessage(entry, entry.sensors, payload, decoded, received, 0);
      return true;
    }
    const rows = decoded.ok ? decoded.items.length : 1;
    this.batcher.reserve(rows);
    return this.completeDeviceMessage(deviceId, payload, decoded, rows, received);
  }

  /** As `takeDeviceMessage`, resolving once the message is committed (for callers that wait: tests, tools). */
  async ingestDeviceMessage(deviceId: string, payload: Buffer): Promise<boolean> {
    const taken = await this.takeDeviceMessage(deviceId, payload);
    if (taken) await this.batcher.drain();
    return taken;
  }

  private async completeDeviceMessage(deviceId: string, payload: Buffer, decoded: DecodedMessage, reserved: number, received: Received): Promise<boolean> {
    try {
      const entry = this.directory.peek(deviceId) ?? (await this.retrying(() => this.directory.device(deviceId), deviceId));
      if (!entry) {
        this.metrics.rejected.inc({ reason: 'UNKNOWN_DEVICE', source: 'MQTT' });
        this.batcher.unreserve(reserved);
        return false;
      }
      const sensors = decoded.ok ? await this.retrying(() => this.sensorsOf(entry, decoded.items), deviceId) : entry.sensors;
      this.appendDeviceMessage(entry, sensors, payload, decoded, received, reserved);
      return true;
    } catch (error) {
      this.batcher.unreserve(reserved);
      throw error;
    }
  }

  /** Appends a message's readings, quarantined items and sequence number to the open batch. */
  private appendDeviceMessage(entry: DeviceEntry, sensors: ReadonlyMap<string, SensorEntry>, payload: Buffer, decoded: DecodedMessage, received: Received, reserved: number): void {
    const { deviceId, orgId } = entry;
    const batch = this.batcher.open();
    const seq = decoded.seq ?? null;
    const quarantinedBefore = batch.quarantine.length;
    let stored = 0;
    if (!decoded.ok) {
      const raw = payload.toString('utf8');
      this.quarantine(batch, orgId, { deviceId, sensorKey: null, sensorId: null, source: 'MQTT', seq, payload: raw, receivedAt: received.text }, decoded, quarantineId(deviceId, seq, raw));
    } else {
      decoded.items.forEach((item, index) => {
        if (this.deviceItem(batch, entry, sensors, item, { seq, index, received, source: 'MQTT', window: this.windows.live })) stored += 1;
      });
      batch.readingRows += stored;
    }
    if (seq !== null) batch.sequences.add(orgId, deviceId, seq);
    this.metrics.hot.mqttAccepted += stored;
    const quarantined = batch.quarantine.length - quarantinedBefore;
    if (quarantined > 0) this.metrics.readings.inc({ outcome: 'quarantined', source: 'MQTT' }, quarantined);
    this.batcher.added(stored + quarantined, reserved);
  }

  private retrying<T>(fn: () => Promise<T>, deviceId: string): Promise<T> {
    return untilItSucceeds(fn, (error, attempt, retryInMs) => this.log.warn({ err: error, deviceId, attempt, retryInMs }, 'device lookup failed; retrying'));
  }

  /** The HTTP batch door: items of the caller's organization; resolves with each item's outcome once committed. */
  async ingestHttpItems(orgId: string, items: readonly HttpItem[], at: Date): Promise<HttpItemOutcome[]> {
    this.metrics.messages.inc({ source: 'HTTP' });
    const received = receivedAt(at);
    const part = emptyBatch();
    const outcomes: HttpItemOutcome[] = [];
    /** Each stored item's outcome, sensor and time: how a reading Postgres refused is found again. */
    const stored: { at: number; sensorId: string; tsMicros: number }[] = [];
    for (const [index, item] of items.entries()) {
      const raw = JSON.stringify(item);
      const resolved = await this.resolveHttpItem(orgId, item);
      if ('reason' in resolved) {
        this.metrics.rejected.inc({ reason: resolved.reason, source: 'HTTP' });
        outcomes.push({ index, outcome: 'rejected', ...resolved });
        continue;
      }
      const decoded = decodeReadingItem({ sensor: resolved.key, ts: item.ts, value: item.value, ...(item.quality ? { quality: item.quality } : {}) });
      const failure = this.failureOf(decoded, resolved.sensor, this.windows.backfill);
      if (failure) {
        const id = quarantineId(orgId, raw);
        const where = { deviceId: resolved.deviceId, sensorKey: resolved.key, sensorId: resolved.sensor?.sensorId ?? null, source: 'HTTP' as const, seq: null, payload: raw, receivedAt: received.text };
        this.quarantine(part, orgId, where, failure, id);
        outcomes.push({ index, outcome: 'quarantined', reason: failure.reason, detail: failure.detail, quarantineId: id });
      } else if (decoded.ok && resolved.sensor) {
        store(part, resolved.sensor, decoded.reading, received, null);
        this.observer?.(resolved.sensor, decoded.reading);
        stored.push({ at: outcomes.length, sensorId: resolved.sensor.sensorId, tsMicros: decoded.reading.tsMicros });
        outcomes.push({ index, outcome: 'accepted' });
      }
    }
    this.count(part, 'HTTP');
    const { refused } = await this.batcher.submit(part);
    if (refused.length === 0) return outcomes;
    // Refused by Postgres after the checks passed (refused-batch.ts): quarantined, and said so.
    const entries = new Map(refused.map((entry) => [`${entry.sensorId ?? ''} ${(JSON.parse(entry.payload) as { ts: string }).ts}`, entry]));
    for (const { at, sensorId, tsMicros } of stored) {
      const entry = entries.get(`${sensorId} ${microsText(tsMicros)}`);
      const outcome = outcomes[at];
      if (entry && outcome) outcomes[at] = { index: outcome.index, outcome: 'quarantined', reason: entry.reason, detail: entry.detail, quarantineId: entry.id };
    }
    return outcomes;
  }

  /**
   * Runs a quarantined entry through the checks again (with the back-fill
   * window). Stores it and resolves undefined when it now passes — a whole
   * message only when every reading of it does; else the failure, storing nothing.
   */
  async release(entry: QuarantinedEntry, at: Date): Promise<CheckFailure | undefined> {
    const device = entry.deviceId === null ? undefined : await this.directory.device(entry.deviceId);
    if (!device || device.orgId !== entry.orgId) return { reason: 'UNKNOWN_SENSOR', detail: 'the device no longer exists' };
    let items: readonly ItemOutcome[];
    if (WHOLE_MESSAGE_REASONS.includes(entry.reason)) {
      const decoded = decodeReadingsMessage(entry.payload);
      if (!decoded.ok) return decoded;
      items = decoded.items;
    } else {
      const original = JSON.parse(entry.payload) as { sensor?: unknown; ts?: unknown; value?: unknown; quality?: unknown };
      const sensor = entry.sensorKey ?? original.sensor;
      items = [decodeReadingItem({ sensor, ts: original.ts, value: original.value, ...(original.quality === undefined ? {} : { quality: original.quality }) })];
    }
    const part = emptyBatch();
    const received = receivedAt(at);
    for (const item of items) {
      const sensor = item.ok ? await this.directory.sensor(device.deviceId, item.reading.sensor) : undefined;
      const failure = this.failureOf(item, sensor, this.windows.backfill);
      if (failure) return failure;
      if (item.ok && sensor) store(part, sensor, item.reading, received, null);
    }
    // Alone, not through the batcher: what Postgres refuses goes back to whoever released it, not into a new entry.
    try {
      await this.writeReleased(part);
    } catch (error) {
      if (!isRefusedData(error)) throw error;
      return { reason: 'STORAGE_REFUSED', detail: refusalDetail(error) };
    }
    this.count(part, 'HTTP');
    return undefined;
  }

  /**
   * The device's sensors by key, looking up keys the cached entry does not
   * know (rare: a sensor created a moment ago) without an await per reading.
   */
  private async sensorsOf(entry: DeviceEntry, items: readonly ItemOutcome[]): Promise<ReadonlyMap<string, SensorEntry>> {
    const unknown = new Set(items.flatMap((item) => (item.ok && !entry.sensors.has(item.reading.sensor) ? [item.reading.sensor] : [])));
    if (unknown.size === 0) return entry.sensors;
    const sensors = new Map(entry.sensors);
    for (const key of unknown) {
      const sensor = await this.directory.sensor(entry.deviceId, key);
      if (sensor) sensors.set(key, sensor);
    }
    return sensors;
  }

  /** One reading of a device message into the batch: true when stored, false when it went to quarantine. */
  private deviceItem(
    batch: ReadingsBatch,
    entry: DeviceEntry,
    sensors: ReadonlyMap<string, SensorEntry>,
    item: ItemOutcome,
    at: { seq: number | null; index: number; received: Received; source: 'MQTT'; window: TimeWindow },
  ): boolean {
    const key = item.ok ? item.reading.sensor : null;
    const sensor = key === null ? undefined : sensors.get(key);
    const failure = entry.decommissioned ? { reason: 'DEVICE_DECOMMISSIONED' as const, detail: 'the device is decommissioned' } : this.failureOf(item, sensor, at.window);
    if (failure || !item.ok || !sensor) {
      const payload = item.ok ? readingJson(item.reading) : item.payload;
      const where = { deviceId: entry.deviceId, sensorKey: key, sensorId: sensor?.sensorId ?? null, source: at.source, seq: at.seq, payload, receivedAt: at.received.text };
      this.quarantine(batch, entry.orgId, where, failure ?? { reason: 'UNKNOWN_SENSOR', detail: 'unknown sensor' }, quarantineId(entry.deviceId, at.seq, at.index, payload));
      return false;
    }
    batch.days.add(dayOf(item.reading.tsMicros));
    this.observer?.(sensor, item.reading);
    batch.copy.append(sensor, item.reading, at.received.ms, at.seq);
    return true;
  }

  private failureOf(item: ItemOutcome, sensor: SensorEntry | undefined, window: TimeWindow): CheckFailure | undefined {
    if (!item.ok) return item;
    if (!sensor) return { reason: 'UNKNOWN_SENSOR', detail: `the device has no sensor with key "${item.reading.sensor}"` };
    // Older than the organization keeps readings: retention would delete it at once.
    const maxAgeMs = Math.min(window.maxAgeMs, sensor.retentionDays * 86_400_000);
    return checkReading(item.reading, sensor, this.now(), maxAgeMs === window.maxAgeMs ? window : { ...window, maxAgeMs });
  }

  private async resolveHttpItem(
    orgId: string,
    item: HttpItem,
  ): Promise<{ sensor: SensorEntry | undefined; key: string; deviceId: string } | { reason: RejectionReason; detail: string }> {
    if (item.sensorId !== undefined) {
      const sensor = await this.directory.sensorById(orgId, item.sensorId);
      if (!sensor) return { reason: 'UNKNOWN_SENSOR', detail: `no sensor ${item.sensorId} in this organization` };
      return { sensor, key: sensor.key, deviceId: sensor.deviceId };
    }
    const deviceId = item.deviceId ?? '';
    const device = await this.directory.device(deviceId);
    if (!device || device.orgId !== orgId) return { reason: 'UNKNOWN_DEVICE', detail: `no device ${deviceId} in this organization` };
    const key = item.sensor ?? '';
    return { sensor: await this.directory.sensor(deviceId, key), key, deviceId };
  }

  private quarantine(
    part: ReadingsBatch,
    orgId: string,
    where: Omit<QuarantineRow, 'id' | 'orgId' | 'reason' | 'detail'>,
    failure: CheckFailure,
    id: string,
  ): void {
    part.quarantine.push({ id, orgId, ...where, reason: failure.reason, detail: failure.detail });
    this.metrics.quarantined.inc({ reason: failure.reason, source: where.source });
  }

  private count(part: ReadingsBatch, source: 'MQTT' | 'HTTP'): void {
    if (part.readingRows > 0) this.metrics.readings.inc({ outcome: 'accepted', source }, part.readingRows);
    if (part.quarantine.length > 0) this.metrics.readings.inc({ outcome: 'quarantined', source }, part.quarantine.length);
  }
}
