import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { CopyRows } from '../src/ingest/readings/copy-rows';
import { READING_COLUMNS } from '../src/ingest/readings/readings-writer';
import type { Pool, PoolClient } from '../src/platform/db/pool';
import { asWriter, WRITER_ROLE } from '../src/platform/db/roles';
import type { Workload } from './ingest-workload';

export interface CopyFigures {
  readonly rows: number;
  readonly transactions: number;
  readonly seconds: number;
  readonly rowsPerSecond: number;
}

export type CopyChunk = { readonly data: CopyRows; readonly rows: number };

/** Readings, quarantine and sequence bookkeeping back to empty (the partitions stay). */
export async function truncateReadings(pool: Pool): Promise<void> {
  await pool.query('TRUNCATE readings, quarantined_readings, device_ingest_progress');
}

/** As the ingester writes: a transaction as the writer role around one binary COPY into the partitioned table. */
async function copyTransaction(client: PoolClient, data: Readable): Promise<void> {
  await client.query(`BEGIN; SET LOCAL ROLE ${WRITER_ROLE}`);
  try {
    const stream = client.query(copyFrom(`COPY readings ${READING_COLUMNS} FROM STDIN (FORMAT binary)`));
    await pipeline(data, stream);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * The database's limit for these rows: raw COPY with nothing else, either
 * one transaction per chunk on `connections` connections taking chunks in
 * turn (the ingester's shape, from memory), or every row in one COPY
 * streamed from a file written beforehand (`connections` 0, `file` its path).
 */
export async function rawCopy(pool: Pool, chunks: readonly CopyChunk[], connections: number, file: string): Promise<CopyFigures> {
  const rows = chunks.reduce((sum, chunk) => sum + chunk.rows, 0);
  if (connections === 0) {
    const all = new CopyRows();
    for (const chunk of chunks) all.appendRows(chunk.data);
    await writeFile(file, Buffer.concat(all.chunks()));
  }
  const clients = await Promise.all(Array.from({ length: Math.max(1, connections) }, () => pool.connect()));
  const started = performance.now();
  try {
    if (connections === 0) {
      await copyTransaction(clients[0] as PoolClient, createReadStream(file, { highWaterMark: 1 << 20 }));
    } else {
      let next = 0;
      await Promise.all(
        clients.map(async (client) => {
          for (let i = next++; i < chunks.length; i = next++) await copyTransaction(client, Readable.from((chunks[i] as CopyChunk).data.chunks()));
        }),
      );
    }
  } finally {
    for (const client of clients) client.release();
  }
  const seconds = (performance.now() - started) / 1000;
  return { rows, transactions: connections === 0 ? 1 : chunks.length, seconds, rowsPerSecond: rows / seconds };
}

export interface StoredCheck {
  readonly expectedRows: number;
  readonly rows: number;
  /** Rows sharing (sensor_id, ts) with another: the unique index should make this impossible. */
  readonly duplicateRows: number;
  /** Distinct (device, seq) among the rows: every message stored. */
  readonly messages: number;
  readonly quarantined: number;
  /** Devices whose committed_seq is their last seq with nothing above a hole (undefined for raw COPY). */
  readonly devicesComplete: number | undefined;
  /** Sequence numbers recorded (a message delivered twice counts twice). */
  readonly sequencesRecorded: number | undefined;
  readonly ok: boolean;
}

/** What the database holds after a run, read as the writer role (the owner is subject to the forced row-level security). */
export async function checkStored(pool: Pool, workload: Workload, expectSequences: boolean): Promise<StoredCheck> {
  return asWriter(pool, async (tx) => {
    const readings = await tx.query<{ rows: number; keys: number; messages: number }>(
      'SELECT count(*)::bigint AS rows, count(DISTINCT (sensor_id, ts))::bigint AS keys, count(DISTINCT (device_id, seq))::bigint AS messages FROM readings',
    );
    const quarantine = await tx.query<{ n: number }>('SELECT count(*)::bigint AS n FROM quarantined_readings');
    const progress = await tx.query<{ complete: number; recorded: number | null }>(
      `SELECT count(*) FILTER (WHERE committed_seq = $1 AND cardinality(ahead) = 0)::bigint AS complete, sum(messages)::bigint AS recorded
         FROM device_ingest_progress`,
      [workload.messagesPerDevice],
    );
    const r = readings.rows[0] ?? { rows: 0, keys: 0, messages: 0 };
    const p = progress.rows[0] ?? { complete: 0, recorded: null };
    const quarantined = quarantine.rows[0]?.n ?? 0;
    const devicesComplete = expectSequences ? p.complete : undefined;
    const ok =
      r.rows === workload.readings &&
      r.keys === r.rows &&
      r.messages === workload.messages &&
      quarantined === 0 &&
      (!expectSequences || devicesComplete === workload.devices.length);
    return {
      expectedRows: workload.readings,
      rows: r.rows,
      duplicateRows: r.rows - r.keys,
      messages: r.messages,
      quarantined,
      devicesComplete,
      sequencesRecorded: expectSequences ? (p.recorded ?? 0) : undefined,
      ok,
    };
  });
}

export function describeCheck(check: StoredCheck, devices: number): string {
  const progress =
    check.devicesComplete === undefined ? '' : `, devices at their last seq ${check.devicesComplete}/${devices}, sequence numbers recorded ${check.sequencesRecorded ?? 0}`;
  return `${check.ok ? 'OK' : 'FAILED'}: rows ${check.rows}/${check.expectedRows}, duplicate rows ${check.duplicateRows}, messages stored ${check.messages}, quarantined ${check.quarantined}${progress}`;
}
