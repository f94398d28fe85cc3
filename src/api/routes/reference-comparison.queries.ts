import type { Queryable } from '../../platform/db/pool';
import { encodeCursor } from '../pagination';
import type { ReferencePairView } from './reference-pairs.queries';
import { tsKey } from './reference-pairs.queries';

export interface AlignedPairView {
  ts: string;
  sensorValue: number;
  referenceTs: string;
  referenceValue: number;
  difference: number;
}

export interface ComparisonView {
  pairId: string;
  from: string;
  to: string;
  toleranceSeconds: number;
  sensorReadings: number;
  count: number;
  unmatched: number;
  bias: number | null;
  mae: number | null;
  rmse: number | null;
  fit: { slope: number | null; intercept: number | null; r2: number | null };
  pairs: AlignedPairView[];
  nextCursor: string | null;
}

interface ComparisonRow {
  sensor_readings: number;
  count: number;
  bias: number | null;
  mae: number | null;
  rmse: number | null;
  slope: number | null;
  intercept: number | null;
  r2: number | null;
  ts: Date | null;
  ts_key: string | null;
  sensor_value: number | null;
  reference_ts: Date | null;
  reference_value: number | null;
}

/**
 * Where the reference readings come from (`$2` names the reference): the
 * reference sensor's readings, or the pair's manual readings. Both are read
 * through an index on (reference, ts). Constants, never input.
 */
const SOURCES = {
  SENSOR: { table: 'readings', key: 'sensor_id' },
  MANUAL: { table: 'reference_readings', key: 'pair_id' },
} as const;

/**
 * The nearest reference reading to `s.ts` within the tolerance ($5 seconds):
 * the first at or after and the last before, two index probes, and the nearer
 * of the two (the earlier on a tie).
 */
function nearest(source: (typeof SOURCES)[keyof typeof SOURCES]): string {
  const probe = (condition: string, order: 'ASC' | 'DESC') =>
    `(SELECT x.ts, x.value FROM ${source.table} x
       WHERE x.${source.key} = $2::uuid AND ${condition}
       ORDER BY x.ts ${order} LIMIT 1)`;
  return `SELECT c.ts, c.value
            FROM (${probe(`x.ts >= s.ts AND x.ts <= s.ts + $5::float8 * interval '1 second'`, 'ASC')}
                  UNION ALL
                  ${probe(`x.ts < s.ts AND x.ts >= s.ts - $5::float8 * interval '1 second'`, 'DESC')}) c
           ORDER BY abs(extract(epoch FROM c.ts - s.ts)), c.ts
           LIMIT 1`;
}

/**
 * One statement: every sensor reading in [from, to) with its nearest
 * reference reading (LATERAL, so each lookup is two index probes), the
 * statistics over all aligned pairs, and one page of them after the cursor
 * (`limit` + 1 rows tell whether another page exists). The statistics row
 * comes back on every page row, and alone when the page is empty.
 */
export async function compareWithReference(
  db: Queryable,
  pair: ReferencePairView,
  range: { from: string; to: string },
  page: { limit: number; after: string | undefined },
): Promise<ComparisonView> {
  const reference = pair.referenceType === 'SENSOR' ? pair.referenceSensorId : pair.id;
  const { rows } = await db.query<ComparisonRow>(
    `WITH aligned AS MATERIALIZED (
       SELECT s.ts, s.value AS sensor_value, n.ts AS reference_ts, n.value AS reference_value
         FROM readings s
         LEFT JOIN LATERAL (${nearest(SOURCES[pair.referenceType])}) n ON true
        WHERE s.sensor_id = $1::uuid AND s.ts >= $3::timestamptz AND s.ts < $4::timestamptz
     ),
     stats AS (
       SELECT count(*) AS sensor_readings,
              count(reference_ts) AS count,
              avg(sensor_value - reference_value) AS bias,
              avg(abs(sensor_value - reference_value)) AS mae,
              sqrt(avg((sensor_value - reference_value) ^ 2)) AS rmse,
              regr_slope(sensor_value, reference_value) AS slope,
              regr_intercept(sensor_value, reference_value) AS intercept,
              regr_r2(sensor_value, reference_value) AS r2
         FROM aligned
     ),
     page AS (
       SELECT a.* FROM aligned a
        WHERE a.reference_ts IS NOT NULL AND ($6::timestamptz IS NULL OR a.ts > $6::timestamptz)
        ORDER BY a.ts
        LIMIT $7
     )
     SELECT st.*, p.ts, ${tsKey('p.ts')} AS ts_key, p.sensor_value, p.reference_ts, p.reference_value
       FROM stats st LEFT JOIN page p ON true
      ORDER BY p.ts`,
    [pair.sensorId, reference, range.from, range.to, pair.toleranceSeconds, page.after ?? null, page.limit === 0 ? 0 : page.limit + 1],
  );
  const [stats] = rows;
  const aligned = rows.filter((row) => row.ts !== null);
  const more = page.limit > 0 && aligned.length > page.limit;
  const shown = more ? aligned.slice(0, page.limit) : aligned;
  const last = shown[shown.length - 1];
  return {
    pairId: pair.id,
    from: range.from,
    to: range.to,
    toleranceSeconds: pair.toleranceSeconds,
    sensorReadings: stats?.sensor_readings ?? 0,
    count: stats?.count ?? 0,
    unmatched: (stats?.sensor_readings ?? 0) - (stats?.count ?? 0),
    bias: stats?.bias ?? null,
    mae: stats?.mae ?? null,
    rmse: stats?.rmse ?? null,
    fit: { slope: stats?.slope ?? null, intercept: stats?.intercept ?? null, r2: stats?.r2 ?? null },
    pairs: shown.flatMap((row) =>
      row.ts && row.reference_ts && row.sensor_value !== null && row.reference_value !== null
        ? [
            {
              ts: row.ts.toISOString(),
              sensorValue: row.sensor_value,
              referenceTs: row.reference_ts.toISOString(),
              referenceValue: row.reference_value,
              difference: row.sensor_value - row.reference_value,
            },
          ]
        : [],
    ),
    nextCursor: more && last?.ts_key ? encodeCursor([last.ts_key]) : null,
  };
}
