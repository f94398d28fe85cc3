import type { Logger } from '../../platform/logger';
import { CopyRows, decodeRow } from './copy-rows';
import { MessageSequences } from './message-sequences';
import { quarantineId } from './quarantine-reasons';
import { qualityName } from './reading-quality';
import type { QuarantineRow, ReadingsBatch, WriteResult } from './readings-writer';

/**
 * SQLSTATE classes 22 (data exception) and 23 (integrity constraint) other
 * than a unique violation (a resent reading, which the writer answers
 * itself): errors the batch's data causes, not the connection, so writing
 * the same batch again fails the same way.
 */
export function isRefusedData(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23')) && code !== '23505';
}

/** What a STORAGE_REFUSED entry or release failure says: the SQLSTATE and Postgres' message. */
export function refusalDetail(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return `${typeof code === 'string' ? code : ''} ${(error as Error).message}`.trim();
}

export interface RefusedBatchDeps {
  /** One transaction of the writer (readings through the de-duplicating path when asked, quarantine, sequence numbers). */
  transaction(batch: ReadingsBatch, deduplicate: boolean): Promise<WriteResult>;
  /** Sensor keys by sensor id, for the quarantine entries of refused rows. */
  sensorKeys(sensorIds: readonly string[]): Promise<ReadonlyMap<string, string>>;
  readonly log: Logger;
}

function part(copy: CopyRows, readingRows: number, quarantine: QuarantineRow[], sequences = new MessageSequences()): ReadingsBatch {
  return { copy, readingRows, days: new Set(), quarantine, sequences };
}

/** Unix microseconds as RFC 3339 text with all six fraction digits (a refused reading's `ts` in its entry). */
export function microsText(micros: number): string {
  const ms = Math.floor(micros / 1000);
  return `${new Date(ms).toISOString().slice(0, -1)}${String(micros - ms * 1000).padStart(3, '0')}Z`;
}

/**
 * Writes a batch Postgres refused for its data, so that one bad row cannot
 * hold up every device behind it (a batch retried as a whole would fail
 * forever). The rows go in halves, down to the rows that fail alone; each of
 * those is quarantined as STORAGE_REFUSED with Postgres' error and the
 * reading as JSON (release it once the cause is fixed). Then the batch's
 * quarantine entries and sequence numbers are written together, last, so a
 * confirmation still never gets ahead of the data; an entry that Postgres
 * refuses too is logged in full as an error and counted as dropped.
 * Halves go through the de-duplicating path, since an earlier half may
 * already be stored when a later step fails and the batch is retried.
 */
export async function writeRefusedBatch(deps: RefusedBatchDeps, batch: ReadingsBatch): Promise<WriteResult> {
  const refusedRows: { row: Buffer; error: Error }[] = [];
  let inserted = 0;
  const writeRows = async (rows: readonly Buffer[]): Promise<void> => {
    try {
      inserted += (await deps.transaction(part(CopyRows.of(rows), rows.length, []), true)).inserted;
    } catch (error) {
      if (!isRefusedData(error)) throw error;
      const [only] = rows;
      if (rows.length === 1 && only) refusedRows.push({ row: only, error: error as Error });
      else {
        const half = Math.ceil(rows.length / 2);
        await writeRows(rows.slice(0, half));
        await writeRows(rows.slice(half));
      }
    }
  };
  const rows = batch.copy.rows();
  if (rows.length > 0) await writeRows(rows);

  const refused = await quarantineEntries(deps, refusedRows);
  const entries = [...batch.quarantine, ...refused];
  let dropped = 0;
  const writeEntries = async (some: QuarantineRow[], sequences?: MessageSequences): Promise<WriteResult['committed']> => {
    try {
      return (await deps.transaction(part(new CopyRows(), 0, some, sequences), false)).committed;
    } catch (error) {
      if (!isRefusedData(error)) throw error;
      if (some.length > 1) {
        const half = Math.ceil(some.length / 2);
        await writeEntries(some.slice(0, half));
        await writeEntries(some.slice(half));
      } else if (some.length === 1) {
        dropped += 1;
        deps.log.error({ err: error, entry: some[0] }, 'quarantine entry refused by the database; dropped (the entry is this log line)');
      }
      // The sequence numbers alone, once the entries are settled one way or the other.
      return sequences ? (await deps.transaction(part(new CopyRows(), 0, [], sequences), false)).committed : [];
    }
  };
  const committed = await writeEntries(entries, batch.sequences);
  for (const { row, error } of refusedRows) deps.log.warn({ err: error, row: decodeRow(row) }, 'reading refused by the database; quarantined as STORAGE_REFUSED');
  return { inserted, duplicates: rows.length - inserted - refusedRows.length, committed, refused, dropped };
}

async function quarantineEntries(deps: RefusedBatchDeps, refused: readonly { row: Buffer; error: Error }[]): Promise<QuarantineRow[]> {
  if (refused.length === 0) return [];
  const decoded = refused.map(({ row, error }) => ({ reading: decodeRow(row), error }));
  const keys = await deps.sensorKeys([...new Set(decoded.map((d) => d.reading.sensorId))]);
  return decoded.map(({ reading, error }) => {
    const sensor = keys.get(reading.sensorId) ?? null;
    const ts = microsText(reading.tsMicros);
    const payload = JSON.stringify({ sensor, ts, value: reading.value, ...(reading.quality === 0 ? {} : { quality: qualityName(reading.quality) }) });
    return {
      id: quarantineId(reading.deviceId, reading.seq, reading.sensorId, ts),
      orgId: reading.orgId,
      deviceId: reading.deviceId,
      sensorKey: sensor,
      sensorId: reading.sensorId,
      reason: 'STORAGE_REFUSED',
      detail: refusalDetail(error),
      source: reading.seq === null ? 'HTTP' : 'MQTT',
      seq: reading.seq,
      payload,
      receivedAt: microsText(reading.receivedMicros),
    };
  });
}
