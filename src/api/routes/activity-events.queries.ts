import type { Queryable } from '../../platform/db/pool';
import { ValidationError } from '../../platform/errors';
import type { ActivityType, SubjectType } from '../../projections/activity-events.entry';
import { decodeCursor, encodeCursor, type Page } from '../pagination';

export interface ActivityEventView {
  id: string;
  cursor: string;
  type: ActivityType;
  occurredAt: string;
  summary: string;
  deviceId: string | null;
  siteId: string | null;
  subject: { type: SubjectType; id: string };
  actor: string;
  data: Record<string, unknown>;
}

export interface ActivityFilters {
  type?: ActivityType[];
  deviceId?: string;
  siteId?: string;
  from?: string;
  to?: string;
}

/** An entry's place in the feed: its event's position in the log, as digit strings (bigint columns). */
export interface FeedPosition {
  readonly commit: string;
  readonly prepare: string;
}

export const FEED_START: FeedPosition = { commit: '0', prepare: '0' };

interface Row {
  id: string;
  /** The position as text (aliased: ORDER BY the bigint columns, not their text). */
  at_commit: string;
  at_prepare: string;
  type: ActivityType;
  occurred_at: Date;
  summary: string;
  device_id: string | null;
  site_id: string | null;
  subject_type: SubjectType;
  subject_id: string;
  actor: string;
  data: Record<string, unknown>;
}

const COLUMNS = 'id, commit_position::text AS at_commit, prepare_position::text AS at_prepare, type, occurred_at, summary, device_id, site_id, subject_type, subject_id, actor, data';

/** The filters as $1…$5; the statements below add the position as $6, $7 and the limit as $8. */
const FILTERS = `($1::text[] IS NULL OR type = ANY ($1::text[]))
  AND ($2::uuid IS NULL OR device_id = $2::uuid)
  AND ($3::uuid IS NULL OR site_id = $3::uuid)
  AND ($4::timestamptz IS NULL OR occurred_at >= $4::timestamptz)
  AND ($5::timestamptz IS NULL OR occurred_at < $5::timestamptz)`;

const filterValues = (f: ActivityFilters): unknown[] => [f.type ?? null, f.deviceId ?? null, f.siteId ?? null, f.from ?? null, f.to ?? null];

export function cursorOf(position: FeedPosition): string {
  return encodeCursor([position.commit, position.prepare]);
}

/** The position in a cursor, or undefined when it is not one of this feed's cursors. */
export function positionOf(cursor: string): FeedPosition | undefined {
  try {
    const [commit, prepare] = decodeCursor(cursor, 2) ?? [];
    const digits = (v: unknown): v is string => typeof v === 'string' && /^\d{1,18}$/.test(v);
    return digits(commit) && digits(prepare) ? { commit, prepare } : undefined;
  } catch (error) {
    if (error instanceof ValidationError) return undefined;
    throw error;
  }
}

const rowPosition = (row: Pick<Row, 'at_commit' | 'at_prepare'>): FeedPosition => ({ commit: row.at_commit, prepare: row.at_prepare });

function toView(row: Row): ActivityEventView {
  return {
    id: row.id,
    cursor: cursorOf(rowPosition(row)),
    type: row.type,
    occurredAt: row.occurred_at.toISOString(),
    summary: row.summary,
    deviceId: row.device_id,
    siteId: row.site_id,
    subject: { type: row.subject_type, id: row.subject_id },
    actor: row.actor,
    data: row.data,
  };
}

/** Newest first; the cursor is the position of the last entry of the previous page. */
export async function listActivityEvents(db: Queryable, query: ActivityFilters & { limit: number; cursor?: string }): Promise<Page<ActivityEventView>> {
  const before = query.cursor === undefined ? undefined : positionOf(query.cursor);
  if (query.cursor !== undefined && !before) {
    throw new ValidationError('The cursor is invalid.', [{ path: '/query/cursor', message: 'is not a cursor from this list' }], 'INVALID_CURSOR');
  }
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM activity_events
      WHERE ${FILTERS} AND ($6::bigint IS NULL OR (commit_position, prepare_position) < ($6::bigint, $7::bigint))
      ORDER BY commit_position DESC, prepare_position DESC LIMIT $8`,
    [...filterValues(query), before?.commit ?? null, before?.prepare ?? null, query.limit + 1],
  );
  const items = rows.slice(0, query.limit).map(toView);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > query.limit && last ? last.cursor : null };
}

/** Oldest first: the entries after `after` that match, at most `limit` (what a stream sends next), with their positions. */
export async function activityEventsAfter(
  db: Queryable,
  filters: ActivityFilters,
  after: FeedPosition,
  limit: number,
): Promise<{ entry: ActivityEventView; position: FeedPosition }[]> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM activity_events
      WHERE ${FILTERS} AND (commit_position, prepare_position) > ($6::bigint, $7::bigint)
      ORDER BY commit_position, prepare_position LIMIT $8`,
    [...filterValues(filters), after.commit, after.prepare, limit],
  );
  return rows.map((row) => ({ entry: toView(row), position: rowPosition(row) }));
}

/** The position of the organization's newest entry, whatever the filters: where a stream without Last-Event-ID begins. */
export async function newestActivityPosition(db: Queryable): Promise<FeedPosition> {
  const { rows } = await db.query<Pick<Row, 'at_commit' | 'at_prepare'>>(
    `SELECT commit_position::text AS at_commit, prepare_position::text AS at_prepare FROM activity_events
      ORDER BY commit_position DESC, prepare_position DESC LIMIT 1`,
  );
  const row = rows[0];
  return row ? rowPosition(row) : FEED_START;
}
