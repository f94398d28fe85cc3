import { createHash } from 'node:crypto';

/**
 * Why the pipeline did not store a reading. Quarantined data keeps its
 * original payload and can be released once the cause is fixed
 * (docs/readings.md lists what each means).
 */
export const QUARANTINE_REASONS = {
  INVALID_JSON: 'The message is not JSON.',
  INVALID_PAYLOAD: 'The message does not follow schemas/mqtt/readings.json or readings-compact.json.',
  INVALID_READING: 'One reading of the message is malformed.',
  NON_FINITE_VALUE: 'The value is not a finite number (NaN or ±Infinity, e.g. 1e400).',
  UNKNOWN_SENSOR: 'The device has no sensor with this key.',
  DEVICE_DECOMMISSIONED: 'The device is decommissioned.',
  OUT_OF_RANGE: 'The value is outside the valid range of the sensor’s profile.',
  TIMESTAMP_IN_FUTURE: 'The timestamp is later than the accepted clock skew allows.',
  TIMESTAMP_TOO_OLD: 'The timestamp is older than the accepted back-fill window.',
  STORAGE_REFUSED: 'The database refused to store the reading; its error is the detail.',
} as const;

export type QuarantineReason = keyof typeof QUARANTINE_REASONS;

/**
 * Why an item of the HTTP batch door was refused outright (or, UNKNOWN_DEVICE,
 * an MQTT message counted as rejected): it could not be attributed to the
 * caller's organization — malformed, or naming no sensor or device of it.
 */
export type RejectionReason = 'INVALID_READING' | 'UNKNOWN_SENSOR' | 'UNKNOWN_DEVICE';

/** A quarantine entry's id, derived from what identifies the item, so a resent message lands on the same entry. */
export function quarantineId(...parts: readonly (string | number | null)[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex.slice(16, 17), 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
