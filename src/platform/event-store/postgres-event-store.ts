import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { Pool } from '../db/pool';
import {
  START,
  WrongExpectedRevisionError,
  type AllFilter,
  type AppendResult,
  type EventMetadata,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type Position,
  type ReadAllOptions,
  type ReadAllResult,
  type ReadStreamOptions,
  type RecordedEvent,
  type StreamMetadata,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionBatch,
} from './event-store.port';

interface EventRow {
  commit_position: string;
  position: string;
  stream_name: string;
  revision: string;
  event_id: string;
  type: string;
  data: unknown;
  metadata: EventMetadata;
  created_at: Date;
}

const EVENT_COLUMNS = `e.transaction_id::text AS commit_position, e.position::text AS position, e.stream_name,
  e.revision::text AS revision, e.event_id, e.type, e.data, e.metadata, e.created_at`;

function toRecorded(row: EventRow): RecordedEvent {
  return {
    id: row.event_id,
    stream: row.stream_name,
    revision: BigInt(row.revision),
    position: { commit: BigInt(row.commit_position), prepare: BigInt(row.position) },
    type: row.type,
    data: row.data,
    metadata: row.metadata,
    createdAt: row.created_at,
  };
}

function expectedText(expected: ExpectedRevision): string {
  return typeof expected === 'bigint' ? expected.toString() : expected;
}

/** Quiet poll while nothing is held back; quick retries while a late commit is pending. */
const IDLE_WAIT_MS = 1000;
const HELD_WAIT_MS = 20;

/**
 * Event store on Postgres. Appends go through the `es_append` function (one
 * round trip) and are announced with a coalesced NOTIFY after they commit. Reads of the global log stop below the oldest transaction still
 * in flight (`pg_snapshot_xmin`), so nothing that commits late is skipped.
 */
export class PostgresEventStore implements EventStore {
  private readonly wake = new EventEmitter();
  private listener: pg.Client | undefined;
  private listening: Promise<void> | undefined;
  private closed = false;
  private announcing: Promise<void> | undefined;
  private announceAgain = false;
  /** Counts wake-ups, so a reader can tell that one came while it was reading. */
  private wakeups = 0;

  constructor(private readonly pool: Pool, private readonly connectionString: string) {
    this.wake.setMaxListeners(0);
  }

  async appendToStream(
    stream: string,
    events: readonly NewEvent[],
    options: { expectedRevision?: ExpectedRevision } = {},
  ): Promise<AppendResult> {
    const expected = options.expectedRevision ?? 'any';
    if (events.length === 0) throw new Error('appendToStream needs at least one event');
    const { rows } = await this.pool.query<{ ok: boolean; revision: string; commit_position: string | null; prepare_position: string | null }>(
      `SELECT ok, revision::text AS revision, commit_position, prepare_position::text AS prepare_position
         FROM es_append($1, $2, $3::uuid[], $4::text[], $5::jsonb[], $6::jsonb[])`,
      [
        stream,
        expectedText(expected),
        events.map((e) => e.id),
        events.map((e) => e.type),
        events.map((e) => JSON.stringify(e.data)),
        events.map((e) => JSON.stringify(e.metadata)),
      ],
    );
    const row = rows[0];
    if (!row) throw new Error('es_append returned nothing');
    const revision = BigInt(row.revision);
    if (!row.ok || row.commit_position === null || row.prepare_position === null) {
      throw new WrongExpectedRevisionError(stream, expected, revision < 0n ? 'no_stream' : revision);
    }
    this.announce();
    this.wakeUp();
    return {
      nextExpectedRevision: revision,
      position: { commit: BigInt(row.commit_position), prepare: BigInt(row.prepare_position) },
    };
  }

  /**
   * Wakes readers (in every process) after an append committed. At most one
   * notification is in flight per store; appends meanwhile are covered by one
   * more afterwards. Readers also poll, so a lost notification only delays.
   * The notifying transaction holds an xid for a moment, which holds back
   * readers of later events; this store's own reads wait for it (readPage),
   * so a process always reads its own appends.
   */
  private announce(): void {
    if (this.announcing) {
      this.announceAgain = true;
      return;
    }
    this.announcing = this.pool
      .query(`SELECT pg_notify('es_appended', '')`)
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        this.announcing = undefined;
        if (this.announceAgain && !this.closed) {
          this.announceAgain = false;
          this.announce();
        }
      });
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const backwards = options.direction === 'backwards';
    const from = options.fromRevision ?? (backwards ? 'end' : 'start');
    const bound = from === 'start' ? null : from === 'end' ? null : from.toString();
    const { rows } = await this.pool.query<EventRow>(
      `SELECT ${EVENT_COLUMNS}
         FROM es_events e JOIN es_streams s ON s.stream_name = e.stream_name
        WHERE e.stream_name = $1 AND NOT s.deleted AND e.revision >= s.truncate_before
          AND ($2::bigint IS NULL OR (CASE WHEN $3 THEN e.revision <= $2::bigint ELSE e.revision >= $2::bigint END))
        ORDER BY CASE WHEN $3 THEN -e.revision ELSE e.revision END
        LIMIT $4`,
      [stream, bound, backwards, options.maxCount ?? null],
    );
    return rows.map(toRecorded);
  }

  async readAll(options: ReadAllOptions = {}): Promise<ReadAllResult> {
    const page = await this.readPage(options.fromPosition ?? START, options.maxCount ?? 1000, options.filter);
    return { events: page.events, checkpoint: page.checkpoint };
  }

  subscribeToAll(options: SubscribeOptions): Subscription {
    return new PostgresSubscription(this, options);
  }

  async getStreamMetadata(stream: string): Promise<StreamMetadata> {
    const { rows } = await this.pool.query<{ metadata: StreamMetadata }>(
      'SELECT metadata FROM es_streams WHERE stream_name = $1',
      [stream],
    );
    return rows[0]?.metadata ?? {};
  }

  async setStreamMetadata(stream: string, metadata: StreamMetadata): Promise<void> {
    await this.pool.query(
      `INSERT INTO es_streams (stream_name, metadata) VALUES ($1, $2)
       ON CONFLICT (stream_name) DO UPDATE SET metadata = EXCLUDED.metadata`,
      [stream, JSON.stringify(metadata)],
    );
  }

  async deleteStream(stream: string, options: { expectedRevision?: ExpectedRevision } = {}): Promise<void> {
    const expected = options.expectedRevision ?? 'any';
    if (expected === 'no_stream') {
      // Nothing to delete when the stream is absent; an existing one conflicts.
      const existing = await this.readStream(stream, { direction: 'backwards', maxCount: 1 });
      const last = existing[0];
      if (last) throw new WrongExpectedRevisionError(stream, expected, last.revision);
      return;
    }
    const { rows } = await this.pool.query<{ revision: string }>(
      `UPDATE es_streams SET deleted = true, truncate_before = revision + 1
        WHERE stream_name = $1 AND NOT deleted AND revision >= 0
          AND ($2::text IN ('any', 'stream_exists') OR revision = $2::text::bigint)
        RETURNING revision::text AS revision`,
      [stream, expectedText(expected)],
    );
    if (rows.length === 0 && expected !== 'any') {
      const current = await this.pool.query<{ revision: string; deleted: boolean }>(
        'SELECT revision::text AS revision, deleted FROM es_streams WHERE stream_name = $1',
        [stream],
      );
      const row = current.rows[0];
      const actual = !row || row.deleted || BigInt(row.revision) < 0n ? 'no_stream' : BigInt(row.revision);
      throw new WrongExpectedRevisionError(stream, expected, actual);
    }
  }

  async headPosition(): Promise<Position> {
    const page = await this.readPage(START, 0, undefined);
    return page.head;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wakeUp();
    const listener = this.listener;
    this.listener = undefined;
    if (listener) await listener.end().catch(() => undefined);
  }

  /**
   * One statement, one snapshot: the page of visible events after `from`, the
   * newest visible position, and whether committed events are held back by an
   * older transaction still in flight.
   *
   * xmin is read through a scalar subquery so that it bounds the primary-key
   * index scans, and "held" is one probe of the newest row: joined to the CTE
   * or written as EXISTS (… >= xmin), Postgres scanned the whole table on
   * every page when nothing was held.
   */
  async readPage(from: Position, limit: number, filter: AllFilter | undefined): Promise<{
    events: RecordedEvent[];
    checkpoint: Position;
    head: Position;
    held: boolean;
  }> {
    // An announcement started while we waited holds an xid too: wait until none is in flight.
    while (this.announcing) await this.announcing;
    const { rows } = await this.pool.query<EventRow & { head: string | null; held: boolean }>(
      `WITH snap AS MATERIALIZED (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin),
       meta AS (
         SELECT (SELECT h.transaction_id::text || ':' || h.position FROM es_events h
                  WHERE h.transaction_id < (SELECT s.xmin FROM snap s) ORDER BY h.transaction_id DESC, h.position DESC LIMIT 1) AS head,
                coalesce((SELECT x.transaction_id FROM es_events x ORDER BY x.transaction_id DESC, x.position DESC LIMIT 1)
                         >= (SELECT s.xmin FROM snap s), false) AS held)
       SELECT meta.head, meta.held, p.* FROM meta LEFT JOIN LATERAL (
         SELECT ${EVENT_COLUMNS} FROM es_events e
          WHERE e.transaction_id < (SELECT s.xmin FROM snap s)
            AND (e.transaction_id, e.position) > ($1::text::xid8, $2::bigint)
            AND ($4::text[] IS NULL OR EXISTS (SELECT 1 FROM unnest($4::text[]) pre WHERE starts_with(e.stream_name, pre)))
            AND ($5::text[] IS NULL OR e.type = ANY ($5::text[]))
          ORDER BY e.transaction_id, e.position
          LIMIT $3) p ON true`,
      [
        from.commit.toString(),
        from.prepare.toString(),
        limit,
        filter?.streamPrefixes ? [...filter.streamPrefixes] : null,
        filter?.eventTypes ? [...filter.eventTypes] : null,
      ],
    );
    const first = rows[0];
    const head = first?.head ? parseHead(first.head) : START;
    const events = rows.filter((r) => r.event_id !== null).map(toRecorded);
    const last = events[events.length - 1];
    // A short page covered everything visible, so the reader may jump to the head.
    const checkpoint = events.length < limit ? maxPosition(head, from) : (last?.position ?? from);
    return { events, checkpoint, head, held: first?.held ?? false };
  }

  get wakeupCount(): number {
    return this.wakeups;
  }

  private wakeUp(): void {
    this.wakeups += 1;
    this.wake.emit('wake');
  }

  /**
   * Resolves on the next append (notified, or made by this process), or after
   * `ms`; at once if one came since the reader took `seen` (no lost wake-up
   * between a read and the wait).
   */
  async waitForAppend(ms: number, seen = this.wakeups): Promise<void> {
    if (this.closed || this.wakeups !== seen) return;
    await this.ensureListening().catch(() => undefined);
    if (this.wakeups !== seen) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake.off('wake', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake.on('wake', done);
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private ensureListening(): Promise<void> {
    if (!this.listening) {
      const client = new pg.Client({ connectionString: this.connectionString, application_name: 'iotplane-es-listener' });
      client.on('notification', () => this.wakeUp());
      client.on('error', () => {
        // Lost connection: fall back to polling and reconnect on the next wait.
        this.listening = undefined;
        this.listener = undefined;
      });
      this.listening = client
        .connect()
        .then(() => client.query('LISTEN es_appended'))
        .then(() => {
          this.listener = client;
          if (this.closed) void client.end();
        })
        .catch((error: unknown) => {
          this.listening = undefined;
          throw error;
        });
    }
    return this.listening;
  }
}

function parseHead(text: string): Position {
  const [commit, prepare] = text.split(':');
  return { commit: BigInt(commit ?? '0'), prepare: BigInt(prepare ?? '0') };
}

function maxPosition(a: Position, b: Position): Position {
  return a.commit > b.commit || (a.commit === b.commit && a.prepare > b.prepare) ? a : b;
}

class PostgresSubscription implements Subscription {
  private closed = false;

  constructor(private readonly store: PostgresEventStore, private readonly options: SubscribeOptions) {}

  async close(): Promise<void> {
    this.closed = true;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<SubscriptionBatch> {
    let cursor = this.options.fromPosition;
    let idle = false;
    const limit = this.options.maxBatchSize ?? 500;
    while (!this.closed && !this.store.isClosed) {
      const seen = this.store.wakeupCount;
      const page = await this.store.readPage(cursor, limit, this.options.filter);
      const moved = page.checkpoint.commit !== cursor.commit || page.checkpoint.prepare !== cursor.prepare;
      cursor = page.checkpoint;
      // An unchanged position is still yielded after a quiet wait, as a
      // heartbeat: a consumer that throttles its checkpoint writes gets its
      // chance to persist a position it skipped earlier.
      if (page.events.length > 0 || moved || idle) {
        yield { events: page.events, checkpoint: cursor };
        if (page.events.length === limit) continue;
      }
      if (this.closed) break;
      const started = Date.now();
      await this.store.waitForAppend(page.held ? HELD_WAIT_MS : IDLE_WAIT_MS, seen);
      idle = Date.now() - started >= IDLE_WAIT_MS;
    }
  }
}
