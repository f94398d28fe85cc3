import type { Pool } from '../../src/platform/db/pool';
import { asWriter } from '../../src/platform/db/roles';

/** Where a reading belongs: the ids of a sensor created through the API, and its organization. */
export interface ReadingTarget {
  readonly orgId: string;
  readonly deviceId: string;
  readonly sensorId: string;
}

export interface SeedReading {
  /** RFC 3339. */
  readonly ts: string;
  readonly value: number;
  /** 0 GOOD, 1 UNCERTAIN, 2 BAD. */
  readonly quality?: number;
}

/**
 * Stores readings directly, as the ingester would: the day partitions they
 * need first (as the owner, who runs readings_ensure_partition), then one
 * INSERT as the writer role. received_at is ts + 1 s, seq the position.
 */
export async function insertReadings(pool: Pool, target: ReadingTarget, readings: readonly SeedReading[]): Promise<void> {
  const days = [...new Set(readings.map((r) => new Date(r.ts).toISOString().slice(0, 10)))];
  for (const day of days) await pool.query('SELECT readings_ensure_partition($1::date)', [day]);
  await asWriter(pool, (tx) =>
    tx.query(
      `INSERT INTO readings (org_id, device_id, sensor_id, ts, value, received_at, seq, quality)
       SELECT $1, $2, $3, r.ts, r.value, r.ts + interval '1 second', r.n - 1, r.quality
         FROM unnest($4::timestamptz[], $5::float8[], $6::smallint[]) WITH ORDINALITY AS r(ts, value, quality, n)`,
      [target.orgId, target.deviceId, target.sensorId, readings.map((r) => r.ts), readings.map((r) => r.value), readings.map((r) => r.quality ?? 0)],
    ),
  );
}

/** `count` readings `stepMs` apart from `start`, values from `value(i)`. */
export function readingSeries(start: string, count: number, stepMs: number, value: (i: number) => number, quality: (i: number) => number = () => 0): SeedReading[] {
  const t0 = Date.parse(start);
  return Array.from({ length: count }, (_, i) => ({ ts: new Date(t0 + i * stepMs).toISOString(), value: value(i), quality: quality(i) }));
}
