import type { Queryable } from '../platform/db/pool';
import type { FieldError } from '../platform/errors';
import { decodeCursor, toPage, type Page } from './pagination';

/** A list filter: query parameter → SQL condition on the bound value `$n`. */
export interface ListFilter {
  readonly param: string;
  readonly sql: (placeholder: string) => string;
}

/** Soft-deleted rows: the column set on deletion, and whether a list query asks to see them. */
export interface SoftDeleteFilter {
  readonly column: string;
  readonly shown: (query: Readonly<Record<string, unknown>>) => boolean;
}

export interface EntityQuerySpec<View> {
  readonly table: string;
  /** View field → column, for every field besides id, version, createdAt, updatedAt. */
  readonly fields: Readonly<Record<string, string>>;
  /** View field → SQL expression over the row (the table is aliased `t`), e.g. counts. */
  readonly computed?: Readonly<Record<string, string>>;
  readonly filters?: readonly ListFilter[];
  /** Rows with deleted_at set are hidden unless the query asks for them (`includeDeleted=true`). */
  readonly softDelete?: boolean | SoftDeleteFilter;
  /** Last touch on the mapped view (derived fields). */
  readonly finish?: (view: Record<string, unknown>) => View;
}

export interface EntityQueries<View> {
  find(db: Queryable, id: string): Promise<View | undefined>;
  list(db: Queryable, query: Readonly<Record<string, unknown>>): Promise<Page<View>>;
  /** Which of these ids exist (in the caller's organization, under RLS). */
  existing(db: Queryable, ids: readonly string[]): Promise<Set<string>>;
}

type Row = Record<string, unknown> & { id: string; version: number; created_at: Date; updated_at: Date };

function iso(value: unknown): unknown {
  return value instanceof Date ? value.toISOString() : value;
}

/**
 * Reads of an entity's read model, run on a tenant transaction: row → view
 * mapping in one place (snake_case columns to camelCase fields), cursor
 * pages ordered by (created_at, id), and the resource's filters.
 */
export function entityQueries<View>(spec: EntityQuerySpec<View>): EntityQueries<View> {
  const entries = [...Object.entries(spec.fields), ...Object.keys(spec.computed ?? {}).map((field) => [field, `computed_${field}`] as const)];
  const select = [
    't.id',
    't.version',
    't.created_at',
    't.updated_at',
    ...Object.values(spec.fields).map((column) => `t.${column}`),
    ...Object.entries(spec.computed ?? {}).map(([field, sql]) => `(${sql}) AS "computed_${field}"`),
  ].join(', ');
  const softDelete: SoftDeleteFilter | undefined =
    spec.softDelete === true ? { column: 'deleted_at', shown: (query) => query.includeDeleted === true } : spec.softDelete || undefined;
  const toView = (row: Row): View => {
    const view: Record<string, unknown> = { id: row.id };
    for (const [field, column] of entries) view[field] = iso(row[column]);
    view.version = row.version;
    view.createdAt = row.created_at.toISOString();
    view.updatedAt = row.updated_at.toISOString();
    return spec.finish ? spec.finish(view) : (view as View);
  };
  return {
    async find(db, id) {
      const { rows } = await db.query<Row>(`SELECT ${select} FROM ${spec.table} t WHERE t.id = $1`, [id]);
      return rows[0] ? toView(rows[0]) : undefined;
    },
    async list(db, query) {
      const limit = Number(query.limit ?? 50);
      const after = decodeCursor(query.cursor, 2);
      const values: unknown[] = [];
      const where: string[] = [];
      if (softDelete && !softDelete.shown(query)) where.push(`t.${softDelete.column} IS NULL`);
      for (const filter of spec.filters ?? []) {
        const value = query[filter.param];
        if (value === undefined) continue;
        values.push(value);
        where.push(filter.sql(`$${values.length}`));
      }
      if (after) {
        values.push(after[0], after[1]);
        where.push(`(t.created_at, t.id) > ($${values.length - 1}::timestamptz, $${values.length}::uuid)`);
      }
      values.push(limit + 1);
      const { rows } = await db.query<Row>(
        `SELECT ${select} FROM ${spec.table} t ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
          ORDER BY t.created_at, t.id LIMIT $${values.length}`,
        values,
      );
      return toPage(rows, limit, toView, (r) => [r.created_at.toISOString(), r.id]);
    },
    async existing(db, ids) {
      if (ids.length === 0) return new Set();
      const { rows } = await db.query<{ id: string }>(
        `SELECT id FROM ${spec.table} WHERE id = ANY($1::uuid[])${softDelete ? ` AND ${softDelete.column} IS NULL` : ''}`,
        [ids],
      );
      return new Set(rows.map((r) => r.id));
    },
  };
}

/** Common filters (the listed table is aliased `t`). */
export const textSearch = (column = 'name'): ListFilter => ({ param: 'q', sql: (p) => `strpos(lower(t.${column}), lower(${p})) > 0` });
export const equals = (param: string, column: string): ListFilter => ({ param, sql: (p) => `t.${column} = ${p}` });
export const hasTag = (column = 'tags'): ListFilter => ({ param: 'tag', sql: (p) => `t.${column} ? ${p}` });

/**
 * References to other resources that must exist in the caller's organization
 * (run under RLS, so another organization's id is missing like a random one):
 * one field error per path whose id is not among `queries`' existing rows.
 */
export async function unknownReferences(
  db: Queryable,
  queries: Pick<EntityQueries<unknown>, 'existing'>,
  refs: readonly { readonly path: string; readonly id: string | null | undefined }[],
): Promise<FieldError[]> {
  // Postgres answers uuids in lower case; a client may send upper case.
  const given = refs.flatMap((r) => (typeof r.id === 'string' ? [{ path: r.path, id: r.id.toLowerCase() }] : []));
  const found = await queries.existing(db, [...new Set(given.map((r) => r.id))]);
  return given.filter((r) => !found.has(r.id)).map((r) => ({ path: r.path, message: 'does not exist' }));
}
