import type { Logger } from '../../platform/logger';
import { emptyBatch, type ReadingsBatch, type WriteResult } from './readings-writer';
import { untilItSucceeds } from './retry';

export interface BatcherOptions {
  /** A batch is written once it holds this many rows (readings + quarantined items). */
  readonly batchRows: number;
  /** …or this long after its first row arrived. */
  readonly flushMs: number;
  /** Transactions in flight at once (each on its own connection). */
  readonly writers: number;
  /** Rows held (waiting and being written) above which producers are told to wait. */
  readonly maxBufferedRows: number;
}

export const DEFAULT_BATCHER_OPTIONS: BatcherOptions = { batchRows: 10_000, flushMs: 50, writers: 2, maxBufferedRows: 100_000 };

export interface BatchReport {
  readonly rows: number;
  readonly seconds: number;
  readonly result: WriteResult;
}

interface Pending {
  batch: ReadingsBatch;
  rows: number;
  waiters: ((result: WriteResult) => void)[];
  timer: NodeJS.Timeout | undefined;
  /** Old enough to go, waiting for a free writer. */
  due: boolean;
}

function rowsOf(batch: ReadingsBatch): number {
  return batch.readingRows + batch.quarantine.length;
}

/**
 * Gathers the pipeline's output into batches by size or age and hands each
 * to the writer, a few transactions at a time. A batch that is old enough
 * while every writer is busy keeps filling until one is free (or it is
 * full): fewer, larger transactions when the database is the bottleneck. A failed write (database
 * down or slow) is retried with backoff until it succeeds; meanwhile the
 * rows stay counted, so `hasRoom()` turns false and the doors stop taking
 * messages instead of dropping them.
 */
export class ReadingsBatcher {
  private current: Pending | undefined;
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  private buffered = 0;
  private stopped = false;
  private readonly roomWaiters: (() => void)[] = [];
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly write: (batch: ReadingsBatch) => Promise<WriteResult>,
    private readonly onWritten: (report: BatchReport) => void,
    private readonly log: Logger,
    private readonly options: BatcherOptions = DEFAULT_BATCHER_OPTIONS,
  ) {}

  /** Rows waiting or being written. */
  get bufferedRows(): number {
    return this.buffered;
  }

  hasRoom(): boolean {
    return this.buffered < this.options.maxBufferedRows;
  }

  /** Resolves once there is room again. */
  waitForRoom(): Promise<void> {
    if (this.hasRoom()) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /**
   * Counts rows a producer has taken but not yet submitted (a message being
   * resolved), so `hasRoom()` sees them at once; `submit(part, reserved)` or
   * `unreserve` settles them.
   */
  reserve(rows: number): void {
    this.buffered += rows;
  }

  unreserve(rows: number): void {
    this.buffered -= rows;
    this.wake();
  }

  /**
   * The open batch, for a producer to append to directly (the hot path:
   * no intermediate batch per message); `added` then accounts for it.
   */
  open(): ReadingsBatch {
    return this.pending().batch;
  }

  /** Resolves when the open batch (what was appended so far and is appended until it closes) has committed. */
  private committed(): Promise<WriteResult> {
    const pending = this.pending();
    return new Promise<WriteResult>((resolve) => pending.waiters.push(resolve));
  }

  /** Accounts for rows appended to the open batch, `reserved` of them reserved before. */
  added(rows: number, reserved = 0): void {
    const pending = this.pending();
    pending.rows += rows;
    this.buffered += rows - reserved;
    if (pending.rows >= this.options.batchRows) this.close();
  }

  /** Adds a part built elsewhere to the open batch (its rows are copied and its buffer released); resolves with the result of the transaction holding it once committed. */
  submit(part: ReadingsBatch, reserved = 0): Promise<WriteResult> {
    if (this.stopped) {
      this.unreserve(reserved);
      return Promise.reject(new Error('the readings pipeline is stopped'));
    }
    const { batch } = this.pending();
    batch.copy.appendRows(part.copy);
    part.copy.release();
    batch.readingRows += part.readingRows;
    for (const day of part.days) batch.days.add(day);
    for (const row of part.quarantine) batch.quarantine.push(row);
    batch.sequences.addAll(part.sequences);
    const committed = this.committed();
    this.added(rowsOf(part), reserved);
    return committed;
  }

  /** Writes what is open now and resolves when nothing is waiting or in flight. */
  async drain(): Promise<void> {
    this.close();
    if (this.buffered === 0 && this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    await this.drain();
    this.stopped = true;
  }

  private pending(): Pending {
    if (this.current) return this.current;
    const pending: Pending = { batch: emptyBatch(), rows: 0, waiters: [], timer: undefined, due: false };
    pending.timer = setTimeout(() => {
      if (this.current !== pending) return;
      if (this.inFlight < this.options.writers) this.close();
      else pending.due = true;
    }, this.options.flushMs);
    this.current = pending;
    return pending;
  }

  private close(): void {
    const pending = this.current;
    if (!pending) return;
    clearTimeout(pending.timer);
    this.current = undefined;
    this.queue.push(pending);
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < this.options.writers && this.queue.length > 0) {
      const pending = this.queue.shift();
      if (!pending) break;
      this.inFlight += 1;
      void this.writeWithRetry(pending).finally(() => {
        this.inFlight -= 1;
        this.buffered -= pending.rows;
        this.wake();
        if (this.current?.due) this.close();
        else this.pump();
      });
    }
  }

  private async writeWithRetry(pending: Pending): Promise<void> {
    const started = process.hrtime.bigint();
    const result = await untilItSucceeds(
      () => this.write(pending.batch),
      (error, attempt, retryInMs) => this.log.warn({ err: error, attempt, rows: pending.rows, retryInMs }, 'readings batch not written; retrying'),
    );
    // Written: nothing reads the rows again, so their buffer serves the next batch.
    pending.batch.copy.release();
    this.onWritten({ rows: pending.rows, seconds: Number(process.hrtime.bigint() - started) / 1e9, result });
    for (const resolve of pending.waiters) resolve(result);
  }

  private wake(): void {
    if (this.hasRoom()) for (const resolve of this.roomWaiters.splice(0)) resolve();
    if (this.buffered === 0 && this.inFlight === 0 && !this.current) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
