import { qualityCode, qualityName, type Quality } from '../../ingest/readings/reading-quality';
import type { Queryable } from '../../platform/db/pool';
import { deviceNotFound } from '../../commands/devices/device.decider';
import { AppError, ValidationError } from '../../platform/errors';
import { decodeCursor, toPage, type Page } from '../pagination';
import type { AggregateFunction, TimeRange } from './readings.params';

/**
 * Reads of the readings table, always on a tenant transaction (RLS) and
 * always for an explicit list of sensors resolved first from the sensors
 * read model, so the (sensor_id, ts) index serves every query.
 */

/** The sensors a query reads, in the order the caller named them (a device's: by key). */
export interface SensorSelection {
  readonly sensorIds: readonly string[];
}

/** Caps every statement of the transaction; Postgres cancels with 57014, answered as 503 QUERY_TIMEOUT. */
export async function limitStatementTime(db: Queryable, milliseconds: number): Promise<void> {
  await db.query(`SELECT set_config('statement_timeout', $1, true)`, [String(milliseconds)]);
}

/**
 * `sensorId` (one or several) or `deviceId`, resolved under RLS: a sensor or
 * device of another organization is missing exactly like a random id.
 */
export async function selectSensors(db: Queryable, query: Readonly<Record<string, unknown>>): Promise<SensorSelection> {
  const requested = query.sensorId as string[] | undefined;
  const deviceId = query.deviceId as string | undefined;
  if ((requested === undefined) === (deviceId === undefined)) {
    throw new ValidationError('Name the sensors to read: sensorId (repeatable) or deviceId, not both.', [
      { path: requested ? '/query/deviceId' : '/query/sensorId', message: requested ? 'cannot be combined with sensorId' : 'sensorId or deviceId is required' },
    ]);
  }
  if (deviceId !== undefined) {
    const { rowCount } = await db.query('SELECT 1 FROM devices WHERE id = $1', [deviceId]);
    if (rowCount !== 1) throw deviceNotFound();
    const { rows } = await db.query<{ id: string }>('SELECT id FROM sensors WHERE device_id = $1 ORDER BY key, id', [deviceId]);
    return { sensorIds: rows.map((r) => r.id) };
  }
  const sensorIds = [...new Set((requested ?? []).map((id) => id.toLowerCase()))];
  const { rows } = await db.query<{ id: string }>('SELECT id FROM sensors WHERE id = ANY($1::uuid[])', [sensorIds]);
  const found = new Set(rows.map((r) => r.id));
  const missing = sensorIds.findIndex((id) => !found.has(id));
  if (missing >= 0) {
    throw new AppError('SENSOR_NOT_FOUND', 'No sensor with this id.', [{ path: `/query/sensorId/${missing}`, message: 'does not exist' }]);
  }
  return { sensorIds };
}

/** `AND quality = ANY($n)` when the query filters on quality (table alias `r`). */
function qualityFilter(query: Readonly<Record<string, unknown>>, values: unknown[]): string {
  const qualities = query.quality as Quality[] | undefined;
  if (!qualities) return '';
  values.push([...new Set(qualities)].map(qualityCode));
  return ` AND r.quality = ANY($${values.length}::smallint[])`;
}

export interface ReadingView {
  sensorId: string;
  deviceId: string;
  ts: string;
  value: number;
  quality: Quality;
  receivedAt: string;
  seq: number | null;
}

interface ReadingRow {
  sensor_id: string;
  device_id: string;
  ts: Date;
  value: number;
  quality: number;
  received_at: Date;
  seq: number | null;
  /** ts to the microsecond, for the cursor and the answer (a Date keeps milliseconds). */
  ts_key: string;
}

/** A stored time as RFC 3339: milliseconds, or microseconds when it has them (as a device sent them). */
const timeOf = (row: ReadingRow): string => (row.ts_key.endsWith('000Z') ? row.ts.toISOString() : row.ts_key);

const toReading = (row: ReadingRow): ReadingView => ({
  sensorId: row.sensor_id,
  deviceId: row.device_id,
  ts: timeOf(row),
  value: row.value,
  quality: qualityName(row.quality),
  receivedAt: row.received_at.toISOString(),
  seq: row.seq,
});

const CURSOR_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function readingsCursor(cursor: unknown): [string, string] | undefined {
  const after = decodeCursor(cursor, 2);
  if (!after) return undefined;
  const [ts, sensorId] = after;
  if (typeof ts !== 'string' || typeof sensorId !== 'string' || !CURSOR_TS.test(ts) || !UUID.test(sensorId)) {
    throw new ValidationError('The cursor is invalid.', [{ path: '/cursor', message: 'is not a cursor from this list' }], 'INVALID_CURSOR');
  }
  return [ts, sensorId];
}

/**
 * One page ordered by (ts, sensor_id). Each sensor is read on its own through
 * the (sensor_id, ts) index up to the page size, and the pieces merged, so a
 * page costs at most sensors × (limit + 1) index rows however deep it is.
 */
export async function listReadings(
  db: Queryable,
  sensors: SensorSelection,
  range: TimeRange,
  query: Readonly<Record<string, unknown>>,
): Promise<Page<ReadingView>> {
  const limit = Number(query.limit ?? 50);
  const after = readingsCursor(query.cursor);
  const values: unknown[] = [sensors.sensorIds, range.from, range.to, limit + 1];
  let where = qualityFilter(query, values);
  if (after) {
    values.push(after[0], after[1]);
    const [ts, id] = [`$${values.length - 1}::timestamptz`, `$${values.length}::uuid`];
    where += ` AND r.ts >= ${ts} AND (r.ts > ${ts} OR r.sensor_id > ${id})`;
  }
  const { rows } = await db.query<ReadingRow>(
    `SELECT p.*, to_char(p.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts_key
       FROM unnest($1::uuid[]) AS s(id)
      CROSS JOIN LATERAL (
        SELECT r.sensor_id, r.device_id, r.ts, r.value, r.quality, r.received_at, r.seq
          FROM readings r
         WHERE r.sensor_id = s.id AND r.ts >= $2::timestamptz AND r.ts < $3::timestamptz${where}
         ORDER BY r.ts
         LIMIT $4
      ) p
      ORDER BY p.ts, p.sensor_id
      LIMIT $4`,
    values,
  );
  return toPage(rows, limit, toReading, (row) => [row.ts_key, row.sensor_id]);
}

/** SQL of each aggregate over the bucket's rows. first/last: the value at the smallest/largest ts, without sorting. */
const AGGREGATE_SQL: Record<AggregateFunction, string> = {
  avg: 'avg(r.value)',
  min: 'min(r.value)',
  max: 'max(r.value)',
  sum: 'sum(r.value)',
  count: 'count(*)',
  first: '(min(ARRAY[extract(epoch FROM r.ts)::float8, r.value]))[2]',
  last: '(max(ARRAY[extract(epoch FROM r.ts)::float8, r.value]))[2]',
};

export type AggregatedBucket = { ts: string } & Partial<Record<AggregateFunction, number>>;

export interface AggregatedSeries {
  sensorId: string;
  buckets: AggregatedBucket[];
}

/**
 * Every bucket of every sensor in one statement: buckets are `date_bin` of
 * the width from the Unix epoch, so they line up across requests and sensors.
 */
export async function aggregateReadings(
  db: Queryable,
  sensors: SensorSelection,
  range: TimeRange,
  bucketSeconds: number,
  functions: readonly AggregateFunction[],
  query: Readonly<Record<string, unknown>>,
): Promise<AggregatedSeries[]> {
  const values: unknown[] = [sensors.sensorIds, range.from, range.to, bucketSeconds];
  const where = qualityFilter(query, values);
  const columns = functions.map((fn) => `${AGGREGATE_SQL[fn]} AS "${fn}"`).join(', ');
  const { rows } = await db.query<Record<string, unknown> & { sensor_id: string; bucket: Date }>(
    `SELECT r.sensor_id, date_bin(make_interval(secs => $4), r.ts, timestamptz '1970-01-01T00:00:00Z') AS bucket, ${columns}
       FROM readings r
      WHERE r.sensor_id = ANY($1::uuid[]) AND r.ts >= $2::timestamptz AND r.ts < $3::timestamptz${where}
      GROUP BY r.sensor_id, bucket
      ORDER BY r.sensor_id, bucket`,
    values,
  );
  const series = new Map(sensors.sensorIds.map((sensorId) => [sensorId, { sensorId, buckets: [] as AggregatedBucket[] }]));
  for (const row of rows) {
    const bucket: AggregatedBucket = { ts: row.bucket.toISOString() };
    for (const fn of functions) bucket[fn] = row[fn] as number;
    series.get(row.sensor_id)?.buckets.push(bucket);
  }
  return [...series.values()];
}

export interface StatsPoint {
  ts: string;
  value: number;
}

export interface SensorStats {
  sensorId: string;
  count: number;
  min: number | null;
  max: number | null;
  avg: number | null;
  stddev: number | null;
  first: StatsPoint | null;
  last: StatsPoint | null;
  percentiles: Record<string, number | null>;
}

interface StatsRow {
  sensor_id: string;
  count: number | null;
  min: number | null;
  max: number | null;
  avg: number | null;
  stddev: number | null;
  first_ts: Date | null;
  first_value: number | null;
  last_ts: Date | null;
  last_value: number | null;
  percentiles: number[] | null;
}

const point = (ts: Date | null, value: number | null): StatsPoint | null => (ts && value !== null ? { ts: ts.toISOString(), value } : null);

/**
 * Per sensor, in one statement: the aggregates and percentile_cont over the
 * range, and the first and last readings from the index (two lookups each).
 */
export async function readingStats(
  db: Queryable,
  sensors: SensorSelection,
  range: TimeRange,
  percentiles: readonly number[],
  query: Readonly<Record<string, unknown>>,
): Promise<SensorStats[]> {
  const values: unknown[] = [sensors.sensorIds, range.from, range.to, percentiles.map((p) => p / 100)];
  const where = qualityFilter(query, values);
  const inRange = `r.sensor_id = s.id AND r.ts >= $2::timestamptz AND r.ts < $3::timestamptz${where}`;
  const { rows } = await db.query<StatsRow>(
    `WITH agg AS (
       SELECT r.sensor_id, count(*) AS count, min(r.value) AS min, max(r.value) AS max, avg(r.value) AS avg,
              stddev_samp(r.value) AS stddev, percentile_cont($4::float8[]) WITHIN GROUP (ORDER BY r.value) AS percentiles
         FROM readings r
        WHERE r.sensor_id = ANY($1::uuid[]) AND r.ts >= $2::timestamptz AND r.ts < $3::timestamptz${where}
        GROUP BY r.sensor_id
     )
     SELECT s.id AS sensor_id, agg.count, agg.min, agg.max, agg.avg, agg.stddev, agg.percentiles,
            f.ts AS first_ts, f.value AS first_value, l.ts AS last_ts, l.value AS last_value
       FROM unnest($1::uuid[]) WITH ORDINALITY AS s(id, n)
       LEFT JOIN agg ON agg.sensor_id = s.id
       LEFT JOIN LATERAL (SELECT r.ts, r.value FROM readings r WHERE ${inRange} ORDER BY r.ts LIMIT 1) f ON true
       LEFT JOIN LATERAL (SELECT r.ts, r.value FROM readings r WHERE ${inRange} ORDER BY r.ts DESC LIMIT 1) l ON true
      ORDER BY s.n`,
    values,
  );
  return rows.map((row) => ({
    sensorId: row.sensor_id,
    count: row.count ?? 0,
    min: row.min,
    max: row.max,
    avg: row.avg,
    stddev: row.stddev,
    first: point(row.first_ts, row.first_value),
    last: point(row.last_ts, row.last_value),
    percentiles: Object.fromEntries(percentiles.map((p, i) => [String(p), row.percentiles?.[i] ?? null])),
  }));
}
