import type { Queryable } from '../../src/platform/db/pool';
import { API_ROLE } from '../../src/platform/db/roles';

/** Tables of the platform itself: no tenant, never readable by the API role. */
export const PLATFORM_TABLES = ['es_events', 'es_streams', 'projection_checkpoints', 'readings_retention_passes', 'readings_storage', 'schema_migrations'];

const TABLE_PRIVILEGES = 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER';
const COLUMN_PRIVILEGES = 'SELECT, INSERT, UPDATE, REFERENCES';

export interface TenantTable {
  readonly name: string;
  readonly rls: boolean;
  readonly forced: boolean;
  readonly policies: number;
}

/**
 * Every table of schema public with an org_id column, and every partition
 * (or inheritance child, in any schema) below one, at any depth: policies
 * of a parent do not apply to a partition queried directly.
 */
export async function tenantTables(db: Queryable): Promise<TenantTable[]> {
  const { rows } = await db.query<TenantTable>(`
    WITH RECURSIVE tenant(oid) AS (
      SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
         AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped)
      UNION
      SELECT i.inhrelid FROM pg_inherits i JOIN tenant t ON i.inhparent = t.oid
    )
    SELECT c.oid::regclass::text AS name, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
           (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)::int AS policies
      FROM tenant t JOIN pg_class c ON c.oid = t.oid
     ORDER BY 1`);
  return rows;
}

export function tenantTableOffences(table: TenantTable): string[] {
  return [
    ...(table.rls ? [] : ['row level security not enabled']),
    ...(table.forced ? [] : ['row level security not forced']),
    ...(table.policies > 0 ? [] : ['no policy']),
  ];
}

/** Tables and partitions of schema public without an org_id column. */
export async function tablesWithoutTenant(db: Queryable): Promise<{ name: string; apiPrivileged: boolean }[]> {
  const { rows } = await db.query<{ name: string; apiPrivileged: boolean }>(
    `SELECT c.oid::regclass::text AS name,
            has_table_privilege($1, c.oid, $2) OR has_any_column_privilege($1, c.oid, $3) AS "apiPrivileged"
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
        AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped)
      ORDER BY 1`,
    [API_ROLE, TABLE_PRIVILEGES, COLUMN_PRIVILEGES],
  );
  return rows;
}

export async function apiRole(db: Queryable): Promise<{ superuser: boolean; bypassRls: boolean; memberOf: string[] } | undefined> {
  const { rows } = await db.query<{ superuser: boolean; bypassRls: boolean; memberOf: string[] }>(
    `SELECT r.rolsuper AS superuser, r.rolbypassrls AS "bypassRls",
            ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid ORDER BY 1) AS "memberOf"
       FROM pg_roles r WHERE r.rolname = $1`,
    [API_ROLE],
  );
  return rows[0];
}

/** Everything in this database the API role owns (it must own nothing, or it bypasses RLS there). */
export async function ownedByApiRole(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ what: string }>(
    `WITH api AS (SELECT oid FROM pg_roles WHERE rolname = $1)
     SELECT 'relation ' || c.oid::regclass::text AS what FROM pg_class c, api WHERE c.relowner = api.oid
     UNION ALL SELECT 'function ' || p.oid::regprocedure::text FROM pg_proc p, api WHERE p.proowner = api.oid
     UNION ALL SELECT 'schema ' || n.nspname::text FROM pg_namespace n, api WHERE n.nspowner = api.oid
     UNION ALL SELECT 'type ' || t.oid::regtype::text FROM pg_type t, api WHERE t.typowner = api.oid
     ORDER BY 1`,
    [API_ROLE],
  );
  return rows.map((r) => r.what);
}

/** Views and materialized views of public the API role can touch: they run with their owner's rights. */
export async function viewsReachableByApi(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT c.oid::regclass::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('v', 'm')
        AND (has_table_privilege($1, c.oid, $2) OR has_any_column_privilege($1, c.oid, $3))
      ORDER BY 1`,
    [API_ROLE, TABLE_PRIVILEGES, COLUMN_PRIVILEGES],
  );
  return rows.map((r) => r.name);
}

/** SECURITY DEFINER functions of public the API role may execute (EXECUTE is granted to PUBLIC by default). */
export async function definerFunctionsExecutableByApi(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT p.oid::regprocedure::text AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'public' AND p.prosecdef AND has_function_privilege($1, p.oid, 'EXECUTE')
      ORDER BY 1`,
    [API_ROLE],
  );
  return rows.map((r) => r.name);
}
