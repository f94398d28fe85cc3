import type { AnnotationScopeType } from '../../commands/annotation-classes/annotation-class.decider';
import type { AnnotationFields } from '../../commands/annotations/annotation.decider';
import type { Queryable } from '../../platform/db/pool';
import { ValidationError } from '../../platform/errors';
import type { EntityQueries } from '../entity.queries';
import { decodeCursor, toPage, type Page } from '../pagination';
import { timeRange } from './readings.params';

/**
 * Reads of the annotations read model (under RLS). Lists are ordered by
 * (starts_at, id) — a timeline — with the cursor keeping starts_at to the
 * microsecond.
 */
export interface AnnotationView extends AnnotationFields {
  id: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

interface AnnotationRow {
  id: string;
  class_id: string;
  scope_type: AnnotationScopeType;
  scope_id: string;
  starts_at: Date;
  ends_at: Date;
  note: string | null;
  author: string;
  value: number | null;
  confidence: number | null;
  version: number;
  created_at: Date;
  updated_at: Date;
  starts_key: string;
}

const toAnnotation = (row: AnnotationRow): AnnotationView => ({
  id: row.id,
  classId: row.class_id,
  scopeType: row.scope_type,
  scopeId: row.scope_id,
  startsAt: row.starts_at.toISOString(),
  endsAt: row.ends_at.toISOString(),
  note: row.note,
  author: row.author,
  value: row.value,
  confidence: row.confidence,
  version: row.version,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

const SELECT = `SELECT t.id, t.class_id, t.scope_type, t.scope_id, t.starts_at, t.ends_at, t.note, t.author, t.value, t.confidence,
                       t.version, t.created_at, t.updated_at,
                       to_char(t.starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS starts_key
                  FROM annotations t`;

const CURSOR_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function annotationsCursor(cursor: unknown): [string, string] | undefined {
  const after = decodeCursor(cursor, 2);
  if (!after) return undefined;
  const [ts, id] = after;
  if (typeof ts !== 'string' || typeof id !== 'string' || !CURSOR_TS.test(ts) || !UUID.test(id)) {
    throw new ValidationError('The cursor is invalid.', [{ path: '/cursor', message: 'is not a cursor from this list' }], 'INVALID_CURSOR');
  }
  return [ts, id];
}

/** `deviceId`: the device's own annotations and those of its sensors (the sensors read model says which are its). */
const OF_DEVICE = (p: string): string =>
  `((t.scope_type = 'DEVICE' AND t.scope_id = ${p}::uuid)
     OR (t.scope_type = 'SENSOR' AND t.scope_id IN (SELECT s.id FROM sensors s WHERE s.device_id = ${p}::uuid)))`;

/**
 * One page. `from`/`to` select annotations whose closed range [startsAt,
 * endsAt] overlaps the half-open [from, to): endsAt ≥ from and startsAt < to.
 */
export async function listAnnotations(db: Queryable, query: Readonly<Record<string, unknown>>): Promise<Page<AnnotationView>> {
  const limit = Number(query.limit ?? 50);
  const after = annotationsCursor(query.cursor);
  if (query.from !== undefined && query.to !== undefined) timeRange(query);
  const values: unknown[] = [];
  const bind = (value: unknown): string => {
    values.push(value);
    return `$${values.length}`;
  };
  const where: string[] = [];
  if (query.scopeType !== undefined) where.push(`t.scope_type = ${bind(query.scopeType)}`);
  if (query.scopeId !== undefined) where.push(`t.scope_id = ${bind(query.scopeId)}::uuid`);
  if (query.classId !== undefined) where.push(`t.class_id = ${bind(query.classId)}::uuid`);
  if (query.deviceId !== undefined) where.push(OF_DEVICE(bind(query.deviceId)));
  if (query.from !== undefined) where.push(`t.ends_at >= ${bind(query.from)}::timestamptz`);
  if (query.to !== undefined) where.push(`t.starts_at < ${bind(query.to)}::timestamptz`);
  if (after) where.push(`(t.starts_at, t.id) > (${bind(after[0])}::timestamptz, ${bind(after[1])}::uuid)`);
  const { rows } = await db.query<AnnotationRow>(
    `${SELECT} ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY t.starts_at, t.id LIMIT ${bind(limit + 1)}`,
    values,
  );
  return toPage(rows, limit, toAnnotation, (row) => [row.starts_key, row.id]);
}

export const annotationQueries: EntityQueries<AnnotationView> = {
  async find(db, id) {
    const { rows } = await db.query<AnnotationRow>(`${SELECT} WHERE t.id = $1`, [id]);
    return rows[0] ? toAnnotation(rows[0]) : undefined;
  },
  list: listAnnotations,
  async existing(db, ids) {
    if (ids.length === 0) return new Set();
    const { rows } = await db.query<{ id: string }>('SELECT id FROM annotations WHERE id = ANY($1::uuid[])', [ids]);
    return new Set(rows.map((r) => r.id));
  },
};

/** Whether any annotation (of the caller's organization) has this class. */
export async function classInUse(db: Queryable, classId: string): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM annotations WHERE class_id = $1 LIMIT 1', [classId]);
  return rows.length > 0;
}

/** Scope types that annotations of this class have, besides `kept`. */
export async function scopeTypesInUse(db: Queryable, classId: string, kept: readonly string[]): Promise<AnnotationScopeType[]> {
  const { rows } = await db.query<{ scope_type: AnnotationScopeType }>(
    'SELECT DISTINCT scope_type FROM annotations WHERE class_id = $1 AND NOT (scope_type = ANY($2::text[])) ORDER BY scope_type',
    [classId, kept],
  );
  return rows.map((r) => r.scope_type);
}
