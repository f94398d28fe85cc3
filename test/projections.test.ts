import { randomUUID } from 'node:crypto';
import { CheckpointWatcher } from '../src/platform/checkpoints/checkpoint-watcher';
import { listCheckpoints, resetCheckpoint, type Checkpoint } from '../src/platform/checkpoints/checkpoints';
import { withTenant } from '../src/platform/db/roles';
import { START, comparePositions, type Position } from '../src/platform/event-store/event-store.port';
import { PostgresEventStore } from '../src/platform/event-store/postgres-event-store';
import { ident } from '../src/projections/projection';
import { rebuildProjection } from '../src/projections/projection-rebuild';
import { ProjectionRunner, type RunnerOptions } from '../src/projections/projection-runner';
import { capturedLogger, type CapturedLog } from './support/captured-logger';
import { appendEntries, createLedgerTable, ledgerProjection, ledgerRows, loggedEntries, type LedgerProjection } from './support/ledger-projection';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { waitUntil } from './support/wait-until';

let db: TestDatabase;
let store: PostgresEventStore;
let logs: CapturedLog;
let projection: LedgerProjection;
let table: string;
let orgId: string;
const runners: ProjectionRunner[] = [];

beforeEach(async () => {
  db = await createTestDatabase(30);
  store = new PostgresEventStore(db.pool, db.url);
  logs = capturedLogger();
  ({ projection, table } = ledgerProjection());
  orgId = randomUUID();
  await createLedgerTable(db.pool, table);
});
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
  await store.close();
  await db.drop();
});

function aRunner(options: RunnerOptions = {}): ProjectionRunner {
  const runner = new ProjectionRunner(db.pool, db.url, store, projection, logs.log, { standbyRetryMs: 100, idleCheckpointMs: 50, ...options });
  runners.push(runner);
  return runner;
}

async function checkpoint(): Promise<Checkpoint | undefined> {
  return (await listCheckpoints(db.pool)).find((c) => c.name === projection.name);
}

async function positionOf(eventId: string | undefined): Promise<Position> {
  const { rows } = await db.pool.query<{ commit: string; prepare: string }>(
    'SELECT transaction_id::text AS commit, position::text AS prepare FROM es_events WHERE event_id = $1',
    [eventId],
  );
  const row = rows[0];
  if (!row) throw new Error(`no event ${String(eventId)}`);
  return { commit: BigInt(row.commit), prepare: BigInt(row.prepare) };
}

async function passed(position: Position): Promise<boolean> {
  const at = await checkpoint();
  return at !== undefined && comparePositions(at.position, position) >= 0;
}

/** The table holds every ledger event of the log, each applied exactly once. */
async function expectExactlyTheLog(): Promise<void> {
  const rows = await ledgerRows(db.pool, table);
  expect(rows.filter((r) => r.applied !== 1)).toEqual([]);
  expect(rows.map((r) => ({ event_id: r.event_id, seq: r.seq }))).toEqual(await loggedEntries(db.pool));
}

/**
 * Caught up with every committed event. The store's head lags while any
 * transaction in the cluster is in flight (the snapshot rule), so the newest
 * committed event is read from the table itself.
 */
async function caughtUp(): Promise<void> {
  const { rows } = await db.pool.query<{ commit: string; prepare: string }>(
    'SELECT transaction_id::text AS commit, position::text AS prepare FROM es_events ORDER BY transaction_id DESC, position DESC LIMIT 1',
  );
  const newest = rows[0] ? { commit: BigInt(rows[0].commit), prepare: BigInt(rows[0].prepare) } : START;
  await waitUntil('the projection passes the newest committed event', () => passed(newest));
}

/** Appends small batches until stopped. */
function keepAppending(from: number): { stop(): Promise<number> } {
  let running = true;
  let next = from;
  const loop = (async () => {
    while (running) {
      await appendEntries(store, orgId, next, 3, 3);
      next += 3;
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return next;
    },
  };
}

describe('ProjectionRunner', () => {
  describe('batches', () => {
    it('commits a batch and its checkpoint together: a failing event holds back both; once fixed it resumes without loss or duplicates', async () => {
      // One append: the whole history becomes visible at once, so pages hold exactly 10 events.
      const { events } = await appendEntries(store, orgId, 0, 25, 25);
      const poisoned = events[14];
      if (!poisoned) throw new Error('no 15th event');
      projection.faults.add(poisoned.id);
      aRunner({ batchSize: 10 }).start();

      await waitUntil('the runner has failed on the poisoned batch twice', () => logs.count('projection failed; retrying') >= 2);
      const held = await checkpoint();
      expect(held?.position).toEqual(await positionOf(events[9]?.id));
      expect(held?.eventsApplied).toBe(10);
      // Events 10–13 were applied before the failure in the same transaction: none of them stayed.
      expect((await ledgerRows(db.pool, table)).map((r) => r.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

      projection.faults.clear();
      await caughtUp();
      await waitUntil('all 25 rows are there', async () => (await ledgerRows(db.pool, table)).length === 25);
      await expectExactlyTheLog();
      expect((await checkpoint())?.eventsApplied).toBe(25);
    });

    it('rolls a batch back when its checkpoint was moved under it, and resumes from the moved checkpoint', async () => {
      const { events } = await appendEntries(store, orgId, 0, 30, 30);
      let moved: Position = START;
      let gate = 0;
      projection.beforeBatch = async () => {
        gate += 1;
        if (gate !== 2) return;
        // Another instance (or a rebuild) takes the checkpoint past event 19 while this batch is in flight.
        moved = await positionOf(events[19]?.id);
        await resetCheckpoint(db.pool, projection.name, moved, 20);
      };
      aRunner({ batchSize: 10 }).start();
      await caughtUp();
      await waitUntil('rows of the last batch are there', async () => (await ledgerRows(db.pool, table)).length === 20);

      const seqs = (await ledgerRows(db.pool, table)).map((r) => r.seq);
      expect(seqs).toEqual([...Array.from({ length: 10 }, (_, i) => i), ...Array.from({ length: 10 }, (_, i) => 20 + i)]);
      expect(logs.count('projection failed; retrying')).toBe(0);
      expect(comparePositions((await checkpoint())?.position ?? START, moved)).toBeGreaterThan(0);
    });
  });

  describe('leadership', () => {
    it('keeps one leader of two; when the leader stops the standby takes over and the model ends complete, each event once', async () => {
      await appendEntries(store, orgId, 0, 200, 20);
      const first = aRunner();
      const second = aRunner();
      first.start();
      await waitUntil('the first runner leads', () => first.isLeader);
      second.start();

      let bothLed = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          if (first.isLeader && second.isLeader) bothLed += 1;
          await new Promise((r) => setTimeout(r, 2));
        }
      })();

      const writer = keepAppending(200);
      await waitUntil('the leader applies the backlog and new events', async () => (await ledgerRows(db.pool, table)).length > 200);
      // Several standby retries (every 100 ms) while the first one leads.
      await new Promise((r) => setTimeout(r, 500));
      expect(first.isLeader).toBe(true);
      expect(second.isLeader).toBe(false);
      expect((await ledgerRows(db.pool, table)).length).toBeGreaterThan(200);

      await first.stop();
      await waitUntil('the standby takes over', () => second.isLeader);
      await new Promise((r) => setTimeout(r, 300));
      await writer.stop();
      await caughtUp();
      sampling = false;
      await sampler;

      expect(bothLed).toBe(0);
      expect(second.isLeader).toBe(true);
      await expectExactlyTheLog();
      expect(logs.count('projection active')).toBe(2);
    });

    it('hands over when the leader’s lock connection is killed, without losing or duplicating events', async () => {
      await appendEntries(store, orgId, 0, 200, 20);
      const first = aRunner({ standbyRetryMs: 2000 });
      const second = aRunner({ standbyRetryMs: 100 });
      first.start();
      await waitUntil('the first runner leads', () => first.isLeader);
      second.start();
      const writer = keepAppending(200);
      await waitUntil('the first runner applied the backlog', async () => (await ledgerRows(db.pool, table)).length > 200);
      expect(second.isLeader).toBe(false);

      const { rows } = await db.pool.query<{ pid: number }>(
        `SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database() AND a.application_name = $1`,
        [`projector:${projection.name}`],
      );
      expect(rows).toHaveLength(1);
      await db.pool.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);

      await waitUntil('the standby leads and the old leader stands down', () => second.isLeader && !first.isLeader);
      await new Promise((r) => setTimeout(r, 300));
      await writer.stop();
      await caughtUp();
      expect(second.isLeader).toBe(true);
      expect(first.isLeader).toBe(false);
      await expectExactlyTheLog();
    });
  });

  describe('rebuild', () => {
    async function counted(): Promise<number> {
      return withTenant(db.pool, orgId, async (tx) => (await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${ident(table)}`)).rows[0]?.n ?? -1);
    }

    it('swaps a corrected model in atomically while readers read, writers write and the live runner runs', async () => {
      await appendEntries(store, orgId, 0, 3000, 100);
      const runner = aRunner({ batchSize: 200 });
      runner.start();
      await caughtUp();
      await waitUntil('3000 rows', async () => (await ledgerRows(db.pool, table)).length === 3000);

      // Corrupt the live model: rows lost, rows altered, rows invented.
      await db.pool.query(`SET ROLE iotplane_writer; DELETE FROM ${ident(table)} WHERE seq % 75 = 0;
        UPDATE ${ident(table)} SET seq = -1 WHERE seq % 75 = 1;
        INSERT INTO ${ident(table)} (org_id, event_id, seq) SELECT $$${orgId}$$, gen_random_uuid(), -2 FROM generate_series(1, 10);
        RESET ROLE`);
      const before = await counted();
      expect(before).toBe(3000 - 40 + 10);
      const checkpointBefore = await checkpoint();

      // Four readers, each checking that its counts never go down and never fall below `before`.
      const samples: { at: number; n: number }[][] = [[], [], [], []];
      const readerErrors: string[] = [];
      let reading = true;
      const readers = Promise.all(
        samples.map(async (mine) => {
          while (reading) {
            try {
              mine.push({ at: Date.now(), n: await counted() });
            } catch (error) {
              readerErrors.push(String(error));
            }
          }
        }),
      );
      const writer = keepAppending(3000);

      const started = Date.now();
      const result = await rebuildProjection(db.pool, store, projection, { batchSize: 100 });
      const finished = Date.now();
      const checkpointAfter = await checkpoint();

      const written = await writer.stop();
      const { last } = await appendEntries(store, orgId, written, 5, 5);
      if (!last) throw new Error('nothing appended');
      await waitUntil('the live runner applies events appended after the swap', () => passed(last.position));
      reading = false;
      await readers;

      expect(readerErrors).toEqual([]);
      const all = samples.flat();
      expect(all.filter((s) => s.at >= started && s.at <= finished).length).toBeGreaterThan(40);
      expect(Math.min(...all.map((s) => s.n))).toBeGreaterThanOrEqual(before);
      const wentDown = samples.filter((mine) => mine.some((s, i) => i > 0 && s.n < (mine[i - 1]?.n ?? 0)));
      expect(wentDown).toEqual([]);

      expect(result.eventsApplied).toBeGreaterThanOrEqual(3000);
      expect(comparePositions(checkpointAfter?.position ?? START, checkpointBefore?.position ?? START)).toBeGreaterThan(0);
      expect(comparePositions(checkpointAfter?.position ?? START, result.position)).toBeGreaterThanOrEqual(0);
      await expectExactlyTheLog();
      expect(await counted()).toBe(written + 5);

      const leftovers = await db.pool.query(`SELECT to_regclass($1) AS shadow, to_regclass($2) AS old`, [`${table}__rebuild`, `${table}__old`]);
      expect(leftovers.rows[0]).toEqual({ shadow: null, old: null });
      const rls = await db.pool.query(`SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = $1::regclass`, [table]);
      expect(rls.rows[0]).toEqual({ relrowsecurity: true, relforcerowsecurity: true });
    });

    it('rebuilds again after a rebuild (the swapped-in table can be shadowed in turn)', async () => {
      await appendEntries(store, orgId, 0, 300, 50);
      aRunner().start();
      await caughtUp();
      await rebuildProjection(db.pool, store, projection, { batchSize: 70 });
      await db.pool.query(`SET ROLE iotplane_writer; DELETE FROM ${ident(table)} WHERE seq < 100; RESET ROLE`);
      const second = await rebuildProjection(db.pool, store, projection, { batchSize: 70 });
      expect(second.eventsApplied).toBe(300);
      await appendEntries(store, orgId, 300, 3, 3);
      await caughtUp();
      await waitUntil('303 rows', async () => (await ledgerRows(db.pool, table)).length === 303);
      await expectExactlyTheLog();
    });
  });
});

describe('CheckpointWatcher', () => {
  let watcher: CheckpointWatcher;
  beforeEach(() => {
    watcher = new CheckpointWatcher(db.pool, db.url, [projection]);
  });
  afterEach(async () => {
    await watcher.stop();
  });

  it('knows which projections handle an event type', () => {
    expect(watcher.projectionsFor(['LedgerEntryRecorded', 'Other'])).toEqual([projection.name]);
    expect(watcher.projectionsFor(['Other'])).toEqual([]);
  });

  it('resolves once the projection passes the position, with the write then readable', async () => {
    const { last, events } = await appendEntries(store, orgId, 0, 3, 3);
    if (!last) throw new Error('nothing appended');
    let settled = false;
    const waiting = watcher.waitFor([projection.name], last.position, 15_000).then((reached) => {
      settled = true;
      return reached;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(settled).toBe(false);

    const started = Date.now();
    aRunner().start();
    expect(await waiting).toBe(true);
    expect(Date.now() - started).toBeLessThan(10_000);
    const rows = await ledgerRows(db.pool, table);
    expect(rows.map((r) => r.event_id).sort()).toEqual(events.map((e) => e.id).sort());
    expect(await watcher.waitFor([projection.name], last.position, 10)).toBe(true);
  });

  it('returns false after its timeout when no projector runs', async () => {
    const { last } = await appendEntries(store, orgId, 0, 1);
    if (!last) throw new Error('nothing appended');
    const started = Date.now();
    expect(await watcher.waitFor([projection.name], last.position, 400)).toBe(false);
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(380);
    expect(waited).toBeLessThan(3000);
    expect(await ledgerRows(db.pool, table)).toEqual([]);
  });
});
