import { ValidationError } from '../platform/errors';

/**
 * Opaque cursors: the sort key of the last item of a page, base64url JSON.
 * Lists sort on a unique key (usually created_at, id) so pages are stable.
 */
export function encodeCursor(values: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(values), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: unknown, arity: number): (string | number)[] | undefined {
  if (cursor === undefined) return undefined;
  const invalid = new ValidationError('The cursor is invalid.', [{ path: '/cursor', message: 'is not a cursor from this list' }], 'INVALID_CURSOR');
  if (typeof cursor !== 'string') throw invalid;
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  if (!Array.isArray(values) || values.length !== arity || !values.every((v) => typeof v === 'string' || typeof v === 'number')) {
    throw invalid;
  }
  return values as (string | number)[];
}

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

/** Rows fetched with `limit + 1`: the extra row only tells that another page exists. */
export function toPage<Row, T>(rows: Row[], limit: number, map: (row: Row) => T, key: (row: Row) => (string | number)[]): Page<T> {
  const more = rows.length > limit;
  const pageRows = more ? rows.slice(0, limit) : rows;
  const last = pageRows[pageRows.length - 1];
  return { items: pageRows.map(map), nextCursor: more && last ? encodeCursor(key(last)) : null };
}
