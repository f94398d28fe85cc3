import type { QuarantineReason } from './quarantine-reasons';
import type { DeviceReading } from './readings-message';
import type { SensorEntry } from './sensor-directory';

export interface TimeWindow {
  /** How far ahead of the platform's clock a timestamp may be (device clock skew). */
  readonly maxFutureMs: number;
  /** How far back a timestamp may be. */
  readonly maxAgeMs: number;
}

export interface CheckFailure {
  readonly reason: QuarantineReason;
  readonly detail: string;
}

/** The checks of a decoded reading against its sensor and the clock; undefined when it may be stored. */
export function checkReading(reading: DeviceReading, sensor: SensorEntry, now: number, window: TimeWindow): CheckFailure | undefined {
  if (!Number.isFinite(reading.tsMs)) return { reason: 'INVALID_READING', detail: `ts ${reading.ts} is not a representable time` };
  if (!Number.isFinite(reading.value)) return { reason: 'NON_FINITE_VALUE', detail: `value ${String(reading.value)} is not finite` };
  if (reading.tsMs > now + window.maxFutureMs) {
    return { reason: 'TIMESTAMP_IN_FUTURE', detail: `ts ${reading.ts} is more than ${window.maxFutureMs / 1000} s ahead of the platform clock` };
  }
  if (reading.tsMs < now - window.maxAgeMs) {
    return { reason: 'TIMESTAMP_TOO_OLD', detail: `ts ${reading.ts} is older than the accepted ${window.maxAgeMs / 3_600_000} h` };
  }
  const range = sensor.validRange;
  if (range && (reading.value < range.min || reading.value > range.max)) {
    return { reason: 'OUT_OF_RANGE', detail: `value ${reading.value} is outside [${range.min}, ${range.max}] of the sensor profile` };
  }
  return undefined;
}
