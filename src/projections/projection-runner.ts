import pg from 'pg';
import type { Logger } from '../platform/logger';
import type { Pool } from '../platform/db/pool';
import { WRITER_ROLE } from '../platform/db/roles';
import { comparePositions, type EventStore, type Position, type Subscription } from '../platform/event-store/event-store.port';
import { advanceCheckpoint, readCheckpoint } from '../platform/checkpoints/checkpoints';
import { liveTables, type Projection } from './projection';

export interface RunnerOptions {
  readonly batchSize?: number;
  /** How often a standby instance tries to become the active one. */
  readonly standbyRetryMs?: number;
  /** Position-only advances (no matching events) are persisted at most this often. */
  readonly idleCheckpointMs?: number;
}

class CheckpointMovedError extends Error {}

/**
 * Runs one projection: one active instance per projection across all
 * processes (a session advisory lock), the others stand by and take over
 * when its connection dies. Each batch of events is applied in one
 * transaction that also advances the checkpoint, conditionally on the
 * checkpoint still being where this instance left it.
 */
export class ProjectionRunner {
  private stopped = false;
  private subscription: Subscription | undefined;
  private lockClient: pg.Client | undefined;
  private loop: Promise<void> | undefined;
  private leader = false;

  constructor(
    private readonly pool: Pool,
    private readonly connectionString: string,
    private readonly store: EventStore,
    readonly projection: Projection,
    private readonly log: Logger,
    private readonly options: RunnerOptions = {},
  ) {}

  get isLeader(): boolean {
    return this.leader;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.subscription?.close();
    await this.loop?.catch(() => undefined);
    await this.releaseLock();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (await this.acquireLock()) {
          this.leader = true;
          this.log.info({ projection: this.projection.name }, 'projection active');
          await this.follow();
        }
      } catch (error) {
        if (!(error instanceof CheckpointMovedError)) {
          this.log.error({ projection: this.projection.name, err: error }, 'projection failed; retrying');
        }
      } finally {
        this.leader = false;
      }
      if (!this.stopped) await sleep(this.options.standbyRetryMs ?? 2000);
    }
  }

  private async follow(): Promise<void> {
    let checkpoint = await readCheckpoint(this.pool, this.projection.name);
    let lastPersisted = Date.now();
    let skipped = checkpoint;
    this.subscription = this.store.subscribeToAll({
      fromPosition: checkpoint,
      filter: { eventTypes: this.projection.eventTypes },
      maxBatchSize: this.options.batchSize ?? 500,
    });
    for await (const batch of this.subscription) {
      if (this.stopped || !this.lockClient) break;
      if (batch.events.length === 0) {
        // Nothing to apply; persist the position now and then so a restart
        // does not rescan, and so read-your-writes waits end.
        if (comparePositions(batch.checkpoint, skipped) > 0) skipped = batch.checkpoint;
        if (comparePositions(skipped, checkpoint) === 0) continue;
        if (Date.now() - lastPersisted < (this.options.idleCheckpointMs ?? 1000)) continue;
      }
      const to = comparePositions(batch.checkpoint, skipped) > 0 ? batch.checkpoint : skipped;
      await this.commit(checkpoint, to, batch.events);
      checkpoint = to;
      skipped = to;
      lastPersisted = Date.now();
    }
  }

  private async commit(from: Position, to: Position, events: Parameters<Projection['apply']>[1]): Promise<void> {
    const tx = await this.pool.connect();
    try {
      await tx.query('BEGIN');
      await tx.query(`SET LOCAL ROLE ${WRITER_ROLE}`);
      if (events.length > 0) await this.projection.apply(tx, events, liveTables);
      await tx.query('RESET ROLE');
      if (!(await advanceCheckpoint(tx, this.projection.name, from, to, events.length))) {
        throw new CheckpointMovedError(`checkpoint of ${this.projection.name} moved`);
      }
      await tx.query('COMMIT');
    } catch (error) {
      await tx.query('ROLLBACK').catch(() => undefined);
      await this.subscription?.close();
      throw error;
    } finally {
      tx.release();
    }
  }

  private async acquireLock(): Promise<boolean> {
    if (!this.lockClient) {
      const client = new pg.Client({ connectionString: this.connectionString, application_name: `projector:${this.projection.name}` });
      client.on('error', () => {
        // Leadership is gone with the connection; the loop stops at the next batch.
        this.lockClient = undefined;
        void this.subscription?.close();
      });
      await client.connect();
      this.lockClient = client;
    }
    const { rows } = await this.lockClient.query<{ locked: boolean }>(
      `SELECT pg_try_advisory_lock(hashtextextended('projection:' || $1, 0)) AS locked`,
      [this.projection.name],
    );
    return rows[0]?.locked === true;
  }

  private async releaseLock(): Promise<void> {
    const client = this.lockClient;
    this.lockClient = undefined;
    if (client) await client.end().catch(() => undefined);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
