import type { ReferencePairFields } from '../../commands/reference-pairs/reference-pair.decider';
import type { Queryable } from '../../platform/db/pool';
import { ValidationError } from '../../platform/errors';
import { referencePairColumns } from '../../projections/reference-pairs.projection';
import { entityQueries, equals, textSearch } from '../entity.queries';
import { decodeCursor, toPage, type Page } from '../pagination';

export interface ReferencePairView extends ReferencePairFields {
  id: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export const referencePairQueries = entityQueries<ReferencePairView>({
  table: 'reference_pairs',
  fields: referencePairColumns,
  filters: [textSearch(), equals('sensorId', 'sensor_id'), equals('referenceSensorId', 'reference_sensor_id'), equals('referenceType', 'reference_type')],
});

const CURSOR_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** A cursor holding one timestamp to the microsecond (`to_char(… 'US')`), as the reference readings and the comparison page by ts. */
export function tsCursor(cursor: unknown): string | undefined {
  const after = decodeCursor(cursor, 1);
  if (!after) return undefined;
  const [ts] = after;
  if (typeof ts !== 'string' || !CURSOR_TS.test(ts)) {
    throw new ValidationError('The cursor is invalid.', [{ path: '/cursor', message: 'is not a cursor from this list' }], 'INVALID_CURSOR');
  }
  return ts;
}

/** The SQL of a microsecond cursor key of a timestamptz column. */
export const tsKey = (column: string): string => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export interface ReferenceReadingView {
  ts: string;
  value: number;
  recordedAt: string;
}

interface ReferenceReadingRow {
  ts: Date;
  value: number;
  recorded_at: Date;
  ts_key: string;
}

/** A MANUAL pair's reference readings in [from, to), by ts. */
export async function listReferenceReadings(
  db: Queryable,
  pairId: string,
  query: Readonly<{ from?: string; to?: string; limit?: number; cursor?: string }>,
): Promise<Page<ReferenceReadingView>> {
  const limit = query.limit ?? 100;
  const after = tsCursor(query.cursor);
  const { rows } = await db.query<ReferenceReadingRow>(
    `SELECT r.ts, r.value, r.recorded_at, ${tsKey('r.ts')} AS ts_key
       FROM reference_readings r
      WHERE r.pair_id = $1
        AND ($2::timestamptz IS NULL OR r.ts >= $2::timestamptz)
        AND ($3::timestamptz IS NULL OR r.ts < $3::timestamptz)
        AND ($4::timestamptz IS NULL OR r.ts > $4::timestamptz)
      ORDER BY r.ts
      LIMIT $5`,
    [pairId, query.from ?? null, query.to ?? null, after ?? null, limit + 1],
  );
  return toPage(
    rows,
    limit,
    (row) => ({ ts: row.ts.toISOString(), value: row.value, recordedAt: row.recorded_at.toISOString() }),
    (row) => [row.ts_key],
  );
}
