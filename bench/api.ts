import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { SchemaRegistry } from '../src/api/schema-registry';
import { createOrganization } from '../src/commands/organizations/organization.handler';
import { freePort, startEmbeddedPostgres } from '../src/platform/db/embedded-postgres';
import { migrate } from '../src/platform/db/migrate';
import { createPool, type Pool } from '../src/platform/db/pool';
import { asWriter } from '../src/platform/db/roles';
import type { EventStore } from '../src/platform/event-store/event-store.port';
import { PostgresEventStore } from '../src/platform/event-store/postgres-event-store';
import { formatTable, writeReport, type ScenarioResult } from './bench-report';
import { BENCH_RESOURCES } from './bench-resources';
import { startApiProcess, viaApi, waitForApiKey } from './api-process';
import { rawSqlLoop } from './raw-sql';

/** The resource loaded and read: devices, since src/api/routes/devices.routes.ts exists (else 'sites'). */
const RESOURCE: keyof typeof BENCH_RESOURCES = 'devices';
const ROWS = 10_000;
const LOAD_CONCURRENCY = 32;
const WARMUP_SECONDS = 1;

const say = (line: string): void => void process.stdout.write(`${line}\n`);

function setting(name: string, fallback: number, max: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1 || value > max) throw new Error(`${name} must be an integer from 1 to ${max}`);
  return value;
}

/** The bench creates and drops a database: it only ever talks to a Postgres on this machine. */
function localOnly(url: string): string {
  const host = new URL(url).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]', ''].includes(host)) throw new Error(`DATABASE_URL must point at 127.0.0.1, not ${host}`);
  return url;
}

async function admin(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function loadRows(store: EventStore, orgId: string): Promise<{ ids: string[]; prepared: string[] }> {
  const resource = BENCH_RESOURCES[RESOURCE];
  const ctx = () => ({ orgId, actor: 'system' as const, correlationId: randomUUID() });
  const prepared = await resource.prepare(store, ctx);
  const ids = Array.from({ length: ROWS }, () => randomUUID());
  let next = 0;
  const started = Date.now();
  // Commands in bulk: each goes through its handler (load, decide, append), many at a time.
  await Promise.all(
    Array.from({ length: LOAD_CONCURRENCY }, async () => {
      for (let i = next++; i < ids.length; i = next++) {
        await resource.create(store, ctx(), ids[i] as string, i, prepared);
        if ((i + 1) % 2000 === 0) say(`  appended ${i + 1}/${ROWS} ${RESOURCE} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      }
    }),
  );
  return { ids, prepared };
}

async function waitForProjection(pool: Pool, orgId: string): Promise<void> {
  const started = Date.now();
  let last = -1;
  for (;;) {
    // As the writer role: the table owner is subject to the forced RLS and would count nothing.
    const count = await asWriter(pool, async (tx) => {
      const { rows } = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${RESOURCE} WHERE org_id = $1`, [orgId]);
      return rows[0]?.n ?? 0;
    });
    if (count !== last) say(`  projected ${count}/${ROWS} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    last = count;
    if (count >= ROWS) return;
    if (Date.now() - started > 90_000) throw new Error(`projection did not catch up within 90 s (${count}/${ROWS})`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function main(): Promise<void> {
  const seconds = setting('BENCH_SECONDS', 10, 30);
  const connections = setting('BENCH_CONNECTIONS', 16, 128);
  const resource = BENCH_RESOURCES[RESOURCE];
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'iotplane-bench-'));
  // As root, embedded-postgres runs the server as an unprivileged user, who must be able to reach its data folder.
  await chmod(tmp, 0o711);
  const cleanup: (() => Promise<unknown>)[] = [() => rm(tmp, { recursive: true, force: true })];
  try {
    say(process.env.DATABASE_URL ? 'Postgres: DATABASE_URL' : 'Postgres: starting an embedded server');
    const server = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres(path.join(tmp, 'postgres'), { persistent: false });
    if (server) cleanup.push(() => server.stop());
    const adminUrl = localOnly(process.env.DATABASE_URL ?? server?.url ?? '');
    // A generated identifier: CREATE DATABASE takes no parameters.
    const database = `iotplane_bench_${randomBytes(4).toString('hex')}`;
    await admin(adminUrl, `CREATE DATABASE ${database}`);
    cleanup.push(() => admin(adminUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
    const url = new URL(adminUrl);
    url.pathname = `/${database}`;
    const pool = createPool(url.toString(), connections + 2, 'iotplane-bench');
    cleanup.push(() => pool.end());
    say(`database ${database}: migrating`);
    await migrate(pool);
    const version = (await pool.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? '?';

    // The loader commits without waiting for the WAL flush: every append NOTIFYs, and
    // Postgres serialises NOTIFYing commits, so 10,000 synchronous ones take half a minute.
    // Only the bulk load is affected; both measured sides read with the defaults.
    const loaderUrl = new URL(url);
    loaderUrl.searchParams.set('options', '-c synchronous_commit=off');
    const loaderPool = createPool(loaderUrl.toString(), LOAD_CONCURRENCY, 'iotplane-bench-loader');
    cleanup.push(() => loaderPool.end());
    const store = new PostgresEventStore(loaderPool, url.toString());
    cleanup.push(() => store.close());
    const org = await createOrganization(store, { name: 'Bench org' });
    const port = await freePort();
    say(`API: starting on 127.0.0.1:${port}`);
    const api = await startApiProcess(url.toString(), port, path.join(tmp, 'data'));
    cleanup.push(() => api.stop());

    say(`loading ${ROWS} ${RESOURCE} through the command handlers (${LOAD_CONCURRENCY} at a time)`);
    const { ids, prepared } = await loadRows(store, org.orgId);
    await waitForProjection(pool, org.orgId);
    await waitForApiKey(port, org.apiKey);

    // The raw loop gets the list query the API's validation produces (defaults filled in, types coerced).
    const schemas = new SchemaRegistry();
    const listQuery = (params: Record<string, string>): Record<string, unknown> => {
      const query: Record<string, unknown> = { ...params };
      const errors = schemas.validateQuery(resource.listQuerySchema, query);
      if (errors.length > 0) throw new Error(`bench list query is invalid: ${JSON.stringify(errors)}`);
      return query;
    };
    const pick = (): string => ids[Math.floor(Math.random() * ids.length)] as string;
    const scenarios = [
      {
        name: `GET ${resource.path}/{id}`,
        apiPath: () => `${resource.path}/${pick()}`,
        select: (tx: pg.PoolClient) => resource.find(tx, pick()),
      },
      {
        name: `GET ${resource.path}${resource.filterLabel}`,
        apiPath: () => `${resource.path}?${new URLSearchParams(resource.filter(prepared)).toString()}`,
        select: (tx: pg.PoolClient) => resource.list(tx, listQuery(resource.filter(prepared))),
      },
    ];

    const results: ScenarioResult[] = [];
    for (const scenario of scenarios) {
      say(`${scenario.name}: ${connections} connections, ${seconds} s each side after a ${WARMUP_SECONDS} s warm-up`);
      await viaApi(port, org.apiKey, connections, WARMUP_SECONDS, scenario.apiPath);
      const viaHttp = await viaApi(port, org.apiKey, connections, seconds, scenario.apiPath);
      await rawSqlLoop(pool, org.orgId, connections, WARMUP_SECONDS, scenario.select);
      const raw = await rawSqlLoop(pool, org.orgId, connections, seconds, scenario.select);
      results.push({ scenario: scenario.name, api: viaHttp, raw });
    }

    say(`\n${formatTable(results)}\n`);
    const file = await writeReport({ resource: RESOURCE, rows: ROWS, connections, seconds, postgres: version }, results);
    say(`written ${file}`);
  } finally {
    for (const step of cleanup.reverse()) await step().catch((error: unknown) => say(`cleanup: ${String(error)}`));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:api failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
