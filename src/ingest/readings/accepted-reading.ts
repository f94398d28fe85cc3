import type { ItemOutcome } from './readings-message';

/** A reading that passed the schema, as the pipeline takes it: the time stored (µs since 1970) and the same in whole milliseconds. */
export function acceptedReading(sensor: string, ts: string, tsMicros: number, value: number, quality: number): ItemOutcome {
  return { ok: true, reading: { sensor, ts, tsMicros, tsMs: Math.floor(tsMicros / 1000), value, quality } };
}
