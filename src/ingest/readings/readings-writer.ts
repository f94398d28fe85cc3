import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import type { Pool, PoolClient } from '../../platform/db/pool';
import { asWriter, WRITER_ROLE } from '../../platform/db/roles';
import type { Logger } from '../../platform/logger';
import { isRefusedData, writeRefusedBatch, type RefusedBatchDeps } from './refused-batch';
import { storableText } from '../../platform/db/storable-values';
import { CopyRows } from './copy-rows';
import { MessageSequences } from './message-sequences';
import type { QuarantineReason } from './quarantine-reasons';

export const READING_COLUMNS = '(org_id, device_id, sensor_id, ts, value, received_at, seq, quality)';
const DAY_MS = 86_400_000;

export interface QuarantineRow {
  readonly id: string;
  readonly orgId: string;
  readonly deviceId: string | null;
  readonly sensorKey: string | null;
  readonly sensorId: string | null;
  readonly reason: QuarantineReason;
  readonly detail: string;
  readonly source: 'MQTT' | 'HTTP';
  readonly seq: number | null;
  readonly payload: string;
  readonly receivedAt: string;
}

/** What one transaction stores: reading rows as COPY data, quarantined items, and the device messages they complete. */
export interface ReadingsBatch {
  /** The reading rows, in binary COPY format. */
  readonly copy: CopyRows;
  /** Reading rows in `copy`. */
  readingRows: number;
  /** UTC day numbers (days since 1970-01-01) the rows fall in, for their partitions. */
  readonly days: Set<number>;
  readonly quarantine: QuarantineRow[];
  readonly sequences: MessageSequences;
}

export interface WriteResult {
  readonly inserted: number;
  readonly duplicates: number;
  /** Devices whose confirmed sequence number moved, with the new value. */
  readonly committed: readonly { readonly deviceId: string; readonly seq: number }[];
  /** Readings Postgres refused, quarantined as STORAGE_REFUSED instead (src/ingest/readings/refused-batch.ts). */
  readonly refused: readonly QuarantineRow[];
  /** Quarantine entries Postgres refused too: logged in full and dropped. */
  readonly dropped: number;
}

export function emptyBatch(): ReadingsBatch {
  return { copy: new CopyRows(), readingRows: 0, days: new Set(), quarantine: [], sequences: new MessageSequences() };
}

/** The UTC day a reading's time (microseconds since 1970) falls in: its partition. */
export function dayOf(tsMicros: number): number {
  return Math.floor(tsMicros / (DAY_MS * 1000));
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string }).code === '23505';
}

function isNoPartition(error: unknown): boolean {
  return (error as { code?: string }).code === '23514' && /no partition/i.test((error as Error).message);
}

/**
 * Writes a batch in one transaction as the trusted writer role. Readings go
 * in with one COPY straight into the table — the fast path, since a batch
 * rarely holds a reading already stored; when the unique (sensor_id, ts)
 * index refuses one (a resent message), the batch is written again through
 * a temporary table and `INSERT … ON CONFLICT DO NOTHING`. Quarantined items
 * and the sequence numbers of the messages are written in the same
 * transaction, so a confirmation never gets ahead of the data.
 */
export class ReadingsWriter {
  private readonly partitions = new Set<number>();

  private readonly refusals: RefusedBatchDeps;

  constructor(
    private readonly pool: Pool,
    log: Logger,
  ) {
    this.refusals = {
      log,
      transaction: (batch, deduplicate) => this.transaction(batch, deduplicate),
      sensorKeys: async (ids) => {
        const { rows } = await asWriter(pool, (tx) => tx.query<{ id: string; key: string }>('SELECT id, key FROM sensors WHERE id = ANY($1::uuid[])', [ids]));
        return new Map(rows.map((row) => [row.id, row.key]));
      },
    };
  }

  /**
   * The batch in one transaction; when Postgres refuses its data (not the
   * connection), row by row as far as needed (`writeRefusedBatch`). Other
   * errors are the caller's to retry.
   */
  async write(batch: ReadingsBatch): Promise<WriteResult> {
    await this.ensurePartitions(batch.days);
    try {
      return await this.writeWhole(batch);
    } catch (error) {
      if (isRefusedData(error)) return writeRefusedBatch(this.refusals, batch);
      throw error;
    }
  }

  /** The batch in one transaction, or the error: for a released quarantine entry, whose refusal goes back to the caller. */
  async writeOrThrow(batch: ReadingsBatch): Promise<WriteResult> {
    await this.ensurePartitions(batch.days);
    return this.writeWhole(batch);
  }

  private async writeWhole(batch: ReadingsBatch): Promise<WriteResult> {
    try {
      return await this.transaction(batch, false);
    } catch (error) {
      if (isUniqueViolation(error)) return this.transaction(batch, true);
      if (isNoPartition(error)) {
        // A partition was dropped by retention after we last saw it: look again.
        this.partitions.clear();
        await this.ensurePartitions(batch.days);
        return this.transaction(batch, true);
      }
      throw error;
    }
  }

  private async ensurePartitions(days: Set<number>): Promise<void> {
    for (const day of days) {
      if (this.partitions.has(day)) continue;
      await this.pool.query('SELECT readings_ensure_partition($1::date)', [new Date(day * DAY_MS).toISOString().slice(0, 10)]);
      this.partitions.add(day);
    }
  }

  private async transaction(batch: ReadingsBatch, deduplicate: boolean): Promise<WriteResult> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query(`BEGIN; SET LOCAL ROLE ${WRITER_ROLE}`);
      let inserted = 0;
      if (batch.readingRows > 0) inserted = deduplicate ? await copyDeduplicated(client, batch) : await copy(client, 'readings', batch);
      if (batch.quarantine.length > 0) await insertQuarantine(client, batch.quarantine);
      let committed: WriteResult['committed'] = [];
      if (batch.sequences.size > 0) {
        const runs = batch.sequences.runs();
        const { rows } = await client.query<{ device_id: string; committed_seq: number }>(
          'SELECT device_id, committed_seq FROM ingest_record_sequence_runs($1::uuid[], $2::uuid[], $3::bigint[], $4::bigint[], $5::int[])',
          [runs.orgIds, runs.deviceIds, runs.froms, runs.tos, runs.counts],
        );
        committed = rows.map((row) => ({ deviceId: row.device_id, seq: row.committed_seq }));
      }
      await client.query('COMMIT');
      return { inserted, duplicates: batch.readingRows - inserted, committed, refused: [], dropped: 0 };
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken = rollbackError as Error;
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }
}

async function copy(client: PoolClient, table: string, batch: ReadingsBatch): Promise<number> {
  const stream = client.query(copyFrom(`COPY ${table} ${READING_COLUMNS} FROM STDIN (FORMAT binary)`));
  await pipeline(Readable.from(batch.copy.chunks()), stream);
  return stream.rowCount ?? batch.readingRows;
}

async function copyDeduplicated(client: PoolClient, batch: ReadingsBatch): Promise<number> {
  await client.query('CREATE TEMP TABLE readings_staging (LIKE readings INCLUDING DEFAULTS) ON COMMIT DROP');
  await copy(client, 'readings_staging', batch);
  const { rowCount } = await client.query(`INSERT INTO readings ${READING_COLUMNS} SELECT ${READING_COLUMNS.slice(1, -1)} FROM readings_staging ON CONFLICT DO NOTHING`);
  return rowCount ?? 0;
}

async function insertQuarantine(client: PoolClient, rows: readonly QuarantineRow[]): Promise<void> {
  const column = <K extends keyof QuarantineRow>(key: K): QuarantineRow[K][] => rows.map((row) => row[key]);
  // A device's bytes (and an error message quoting them) may hold NUL, which text cannot.
  const text = (key: 'payload' | 'detail'): string[] => rows.map((row) => storableText(row[key]));
  await client.query(
    `INSERT INTO quarantined_readings (id, org_id, device_id, sensor_key, sensor_id, reason, detail, source, seq, payload, received_at)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::uuid[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::text[], $11::timestamptz[])
     ON CONFLICT DO NOTHING`,
    [
      column('id'), column('orgId'), column('deviceId'), column('sensorKey'), column('sensorId'), column('reason'),
      text('detail'), column('source'), column('seq'), text('payload'), column('receivedAt'),
    ],
  );
}
