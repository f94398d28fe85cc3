import { dateTimeMicros } from '../../platform/mqtt/date-time-format';
import { mqttSchema } from '../../platform/mqtt/mqtt-schemas';
import type { QuarantineReason } from './quarantine-reasons';
import { qualityCode, type Quality } from './reading-quality';
import { acceptedReading } from './accepted-reading';
import { scanReadingsMessage } from './readings-scanner';

/** One reading as a device names it: by its sensor key. */
export interface DeviceReading {
  readonly sensor: string;
  /** As sent (RFC 3339), for events and quarantine entries. */
  readonly ts: string;
  /** The time stored: microseconds since 1970-01-01 UTC (dateTimeMicros). */
  readonly tsMicros: number;
  /** The same time in whole milliseconds, for the checks and alert rules. */
  readonly tsMs: number;
  readonly value: number;
  readonly quality: number;
}

export type ItemOutcome =
  | { readonly ok: true; readonly reading: DeviceReading }
  | { readonly ok: false; readonly reason: QuarantineReason; readonly detail: string; readonly payload: string };

export type DecodedMessage =
  | { readonly ok: true; readonly seq: number; readonly items: readonly ItemOutcome[] }
  | { readonly ok: false; readonly seq: number | undefined; readonly reason: QuarantineReason; readonly detail: string };

interface ReadingItem {
  sensor: string;
  ts: string;
  value: number;
  quality?: Quality;
}
interface FullMessage {
  seq: number;
  readings: ReadingItem[];
}
interface CompactMessage {
  seq: number;
  sensor: string;
  t0: string;
  dtMs: number;
  values: number[];
  quality?: Quality;
}

const fullMessage = mqttSchema<FullMessage>('readings');
const readingItem = mqttSchema<ReadingItem>('readings', '/properties/readings/items');
const compactMessage = mqttSchema<CompactMessage>('readings-compact');

const MAX_READINGS = 1000;

function firstError(validate: { errors?: { instancePath: string; message?: string }[] | null }): string {
  const error = validate.errors?.[0];
  return error ? `${error.instancePath || '/'} ${error.message ?? 'is invalid'}` : 'is invalid';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Checks one reading of the full form; an invalid one is quarantined alone,
 * so one bad value does not hold back the rest of its message.
 */
export function decodeReadingItem(item: unknown): ItemOutcome {
  if (readingItem(item)) return accepted(item);
  // JSON has no Infinity: keep it readable ("Infinity") rather than the null JSON.stringify would write.
  const payload = JSON.stringify(item, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? String(value) : value)) ?? 'null';
  if (isRecord(item) && typeof item.value === 'number' && !Number.isFinite(item.value)) {
    return { ok: false, reason: 'NON_FINITE_VALUE', detail: `value ${String(item.value)} is not finite`, payload };
  }
  return { ok: false, reason: 'INVALID_READING', detail: firstError(readingItem), payload };
}

/** The schema checked `ts` (format date-time), so it is read without checking again. */
function accepted(item: ReadingItem): ItemOutcome {
  const tsMicros = dateTimeMicros(item.ts);
  return acceptedReading(item.sensor, item.ts, tsMicros, item.value, qualityCode(item.quality));
}

function decodeCompact(message: CompactMessage): ItemOutcome[] {
  const t0Micros = dateTimeMicros(message.t0);
  const quality = qualityCode(message.quality);
  return message.values.map((value, i): ItemOutcome => {
    const tsMicros = t0Micros + i * message.dtMs * 1000;
    const ts = i === 0 ? message.t0 : new Date(Math.floor(tsMicros / 1000)).toISOString();
    return acceptedReading(message.sensor, ts, tsMicros, value, quality);
  });
}

/**
 * A readings message (schemas/mqtt/readings.json, or the compact form of
 * readings-compact.json, told apart by its `values` field) decoded into
 * readings. A valid message of the full form is read by the scanner
 * (readings-scanner.ts); anything it does not take goes the general way:
 * JSON.parse, then the whole schema, and only when that fails is the
 * message taken apart, so a valid envelope keeps its good readings and
 * quarantines the bad ones one by one.
 */
export function decodeReadingsMessage(payload: Buffer | string): DecodedMessage {
  const text = typeof payload === 'string' ? payload : payload.toString('utf8');
  return scanReadingsMessage(text) ?? parseReadingsMessage(text);
}

/** The general way of decodeReadingsMessage, which gives the same answer for whatever the scanner takes (exported for the test that says so). */
export function parseReadingsMessage(text: string): DecodedMessage {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch (error) {
    return { ok: false, seq: undefined, reason: 'INVALID_JSON', detail: (error as Error).message };
  }
  const seq = isRecord(message) && isSeq(message.seq) ? message.seq : undefined;
  if (isRecord(message) && 'values' in message) {
    if (compactMessage(message)) return { ok: true, seq: message.seq, items: decodeCompact(message) };
    return { ok: false, seq, reason: 'INVALID_PAYLOAD', detail: firstError(compactMessage) };
  }
  if (fullMessage(message)) {
    return { ok: true, seq: message.seq, items: message.readings.map(accepted) };
  }
  const detail = firstError(fullMessage);
  const readings = isRecord(message) ? message.readings : undefined;
  const envelopeOk =
    isRecord(message) &&
    seq !== undefined &&
    Array.isArray(readings) &&
    readings.length >= 1 &&
    readings.length <= MAX_READINGS &&
    Object.keys(message).every((key) => key === 'seq' || key === 'readings');
  if (!envelopeOk || !Array.isArray(readings) || seq === undefined) return { ok: false, seq, reason: 'INVALID_PAYLOAD', detail };
  return { ok: true, seq, items: readings.map(decodeReadingItem) };
}
