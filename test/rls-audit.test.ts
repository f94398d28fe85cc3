import { randomUUID } from 'node:crypto';
import { createPool, inTransaction, type Pool, type PoolClient, type Queryable } from '../src/platform/db/pool';
import { API_ROLE, asWriter, withTenant } from '../src/platform/db/roles';
import {
  PLATFORM_TABLES,
  apiRole,
  definerFunctionsExecutableByApi,
  ownedByApiRole,
  tablesWithoutTenant,
  tenantTableOffences,
  tenantTables,
  viewsReachableByApi,
} from './support/rls-catalog';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/**
 * The catalog audit behind "every request only sees its own tenant": it
 * reads the migrated schema, so a table, partition, view or function added
 * without tenant isolation fails the build here.
 */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase(4);
});
afterAll(async () => {
  await db.drop();
});

async function audit(q: Queryable) {
  const tenant = await tenantTables(q);
  const platform = await tablesWithoutTenant(q);
  return {
    tenant,
    offenders: tenant.flatMap((t) => tenantTableOffences(t).map((offence) => `${t.name}: ${offence}`)),
    unknownPlatformTables: platform.filter((t) => !PLATFORM_TABLES.includes(t.name)).map((t) => t.name),
    platformTablesOpenToApi: platform.filter((t) => t.apiPrivileged).map((t) => t.name),
    viewsOpenToApi: await viewsReachableByApi(q),
    definerFunctionsOpenToApi: await definerFunctionsExecutableByApi(q),
  };
}

/** Runs `fn` in a transaction that is always rolled back, so catalog experiments leave nothing behind. */
async function rolledBack<T>(pool: Pool, fn: (tx: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    return await fn(client);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

describe('the catalog', () => {
  it('forces row-level security with a policy on every table with org_id and on every partition of one', async () => {
    const result = await audit(db.pool);
    expect(result.tenant.map((t) => t.name)).toEqual(expect.arrayContaining(['api_keys', 'organizations', 'sites']));
    expect(result.offenders).toEqual([]);
  });

  it('has no table without org_id besides the platform’s own, and the API role has no privilege on those', async () => {
    const result = await audit(db.pool);
    expect(result.unknownPlatformTables).toEqual([]);
    expect(result.platformTablesOpenToApi).toEqual([]);
  });

  it(`makes ${API_ROLE} NOSUPERUSER and NOBYPASSRLS, a member of no role, and the owner of nothing`, async () => {
    expect(await apiRole(db.pool)).toEqual({ superuser: false, bypassRls: false, memberOf: [] });
    expect(await ownedByApiRole(db.pool)).toEqual([]);
  });

  it(`gives ${API_ROLE} no view, materialized view or SECURITY DEFINER function of public`, async () => {
    const result = await audit(db.pool);
    expect(result.viewsOpenToApi).toEqual([]);
    expect(result.definerFunctionsOpenToApi).toEqual([]);
  });

  it('notices each kind of hole it looks for (the audit itself is not vacuous)', async () => {
    const result = await rolledBack(db.pool, async (tx) => {
      await tx.query('CREATE TABLE audit_probe (org_id uuid NOT NULL, day date NOT NULL) PARTITION BY RANGE (day)');
      await tx.query(`CALL iotplane_make_tenant_table('audit_probe')`);
      await tx.query(`CREATE TABLE audit_probe_2024 PARTITION OF audit_probe FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')`);
      await tx.query('CREATE TABLE audit_loose (org_id uuid)');
      await tx.query(`CREATE TABLE audit_platform (x int); GRANT SELECT ON audit_platform TO ${API_ROLE}`);
      await tx.query(`CREATE VIEW audit_view AS SELECT * FROM sites; GRANT SELECT ON audit_view TO ${API_ROLE}`);
      await tx.query(`CREATE FUNCTION audit_definer() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT 1'`);
      return audit(tx);
    });
    expect(result.offenders).toEqual([
      'audit_loose: row level security not enabled',
      'audit_loose: row level security not forced',
      'audit_loose: no policy',
      'audit_probe_2024: row level security not enabled',
      'audit_probe_2024: row level security not forced',
      'audit_probe_2024: no policy',
    ]);
    expect(result.unknownPlatformTables).toEqual(['audit_platform']);
    expect(result.platformTablesOpenToApi).toEqual(['audit_platform']);
    expect(result.viewsOpenToApi).toEqual(['audit_view']);
    expect(result.definerFunctionsOpenToApi).toEqual(['audit_definer()']);
  });
});

describe('row-level security at work on sites', () => {
  const orgA = randomUUID();
  const orgB = randomUUID();
  const idsOf: Record<string, string[]> = { [orgA]: [randomUUID(), randomUUID()], [orgB]: [randomUUID()] };
  const visibleRows = (tx: Queryable) =>
    tx.query<{ org_id: string; id: string }>('SELECT org_id, id FROM sites ORDER BY id').then((r) => r.rows);

  beforeAll(async () => {
    await asWriter(db.pool, async (tx) => {
      for (const [orgId, ids] of Object.entries(idsOf)) {
        for (const id of ids) {
          await tx.query(
            `INSERT INTO sites (org_id, id, name, timezone, version, created_at, updated_at) VALUES ($1, $2, 'rls probe', 'UTC', 0, now(), now())`,
            [orgId, id],
          );
        }
      }
    });
  });

  it('shows the API role only the rows of the organization in app.org_id', async () => {
    const rows = await withTenant(db.pool, orgA, visibleRows);
    expect(rows.map((r) => r.id)).toEqual([...(idsOf[orgA] ?? [])].sort());
    expect(new Set(rows.map((r) => r.org_id))).toEqual(new Set([orgA]));
  });

  it('shows no rows, without an error, when app.org_id was never set, has ended, or is empty', async () => {
    const single = createPool(db.url, 1);
    const asApi = (setting?: string) =>
      inTransaction(single, async (tx) => {
        await tx.query(`SET LOCAL ROLE ${API_ROLE}`);
        if (setting !== undefined) await tx.query(`SELECT set_config('app.org_id', $1, true)`, [setting]);
        const { rows } = await tx.query<{ org: string | null }>(`SELECT current_setting('app.org_id', true) AS org`);
        return { setting: rows[0]?.org, rows: await visibleRows(tx) };
      });
    try {
      // A new connection has no such setting at all (NULL) ...
      expect(await asApi()).toEqual({ setting: null, rows: [] });
      await withTenant(single, orgA, visibleRows);
      // ... after a transaction-local one has ended, it reads '' (and ''::uuid would throw).
      expect(await asApi()).toEqual({ setting: '', rows: [] });
      expect(await asApi('')).toEqual({ setting: '', rows: [] });
    } finally {
      await single.end();
    }
  });

  it('refuses to write, and even with INSERT granted refuses a row of another organization (WITH CHECK)', async () => {
    await expect(
      withTenant(db.pool, orgA, (tx) =>
        tx.query(`INSERT INTO sites (org_id, id, name, timezone, version, created_at, updated_at) VALUES ($1, $2, 'x', 'UTC', 0, now(), now())`, [
          orgA,
          randomUUID(),
        ]),
      ),
    ).rejects.toThrow(/permission denied/);

    const outcome = await rolledBack(db.pool, async (tx) => {
      await tx.query(`GRANT INSERT, UPDATE ON sites TO ${API_ROLE}`);
      await tx.query(`SET LOCAL ROLE ${API_ROLE}`);
      await tx.query(`SELECT set_config('app.org_id', $1, true)`, [orgA]);
      const attempt = async (sql: string, values: unknown[]): Promise<string> => {
        await tx.query('SAVEPOINT attempt');
        try {
          const { rowCount } = await tx.query(sql, values);
          return `${rowCount ?? 0} row(s)`;
        } catch (error) {
          await tx.query('ROLLBACK TO SAVEPOINT attempt');
          return (error as Error).message;
        }
      };
      const insert = `INSERT INTO sites (org_id, id, name, timezone, version, created_at, updated_at) VALUES ($1, $2, 'x', 'UTC', 0, now(), now())`;
      return {
        insertForOther: await attempt(insert, [orgB, randomUUID()]),
        insertForOwn: await attempt(insert, [orgA, randomUUID()]),
        moveOwnToOther: await attempt('UPDATE sites SET org_id = $1 WHERE id = $2', [orgB, idsOf[orgA]?.[0]]),
        updateOther: await attempt(`UPDATE sites SET name = 'taken' WHERE id = $1`, [idsOf[orgB]?.[0]]),
      };
    });
    expect(outcome).toEqual({
      insertForOther: expect.stringMatching(/row-level security/),
      insertForOwn: '1 row(s)',
      moveOwnToOther: expect.stringMatching(/row-level security/),
      updateOther: '0 row(s)',
    });
    const { rows } = await db.pool.query<{ granted: boolean }>(`SELECT has_table_privilege($1, 'sites', 'INSERT, UPDATE') AS granted`, [API_ROLE]);
    expect(rows[0]?.granted).toBe(false);
  });

  it('does not carry the tenant over to the next transaction on a pooled connection', async () => {
    const single = createPool(db.url, 1);
    try {
      const seen: { expected: string; orgs: string[]; ids: string[]; pid: number }[] = [];
      for (let i = 0; i < 50; i += 1) {
        const orgId = i % 2 === 0 ? orgA : orgB;
        seen.push(
          await withTenant(single, orgId, async (tx) => {
            const rows = await visibleRows(tx);
            const { rows: pid } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
            return { expected: orgId, orgs: [...new Set(rows.map((r) => r.org_id))], ids: rows.map((r) => r.id), pid: pid[0]?.pid ?? -1 };
          }),
        );
      }
      expect(new Set(seen.map((s) => s.pid)).size).toBe(1);
      expect(seen.filter((s) => s.orgs.length !== 1 || s.orgs[0] !== s.expected)).toEqual([]);
      expect(seen.filter((s) => s.ids.join() !== [...(idsOf[s.expected] ?? [])].sort().join())).toEqual([]);

      // Nothing survives on the connection: not the role, not the tenant.
      const after = await single.query<{ user: string; org: string | null }>(`SELECT current_user AS user, current_setting('app.org_id', true) AS org`);
      expect(after.rows[0]?.user).not.toBe(API_ROLE);
      expect(after.rows[0]?.org ?? '').toBe('');
    } finally {
      await single.end();
    }
  });
});
