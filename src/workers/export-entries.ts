import { to as copyTo } from 'pg-copy-streams';
import type { PoolClient } from '../platform/db/pool';
import type { ArchiveEntry, ExportProgress } from './export-archive';
import type { ExportClaim } from './export-runs.queries';
import { uuidArray, type ExportPlan } from './export-scope';
import { exportParameter as param, setExportParameters } from './export-snapshot';
import * as sql from './export-entries.sql';

/** Rows per FETCH of the cursors (alerts as JSON lines, events, annotations). */
const FETCH_ROWS = 1000;
const DAY_MS = 86_400_000;
const NEWLINE = 10;

/** [from, to) cut at UTC midnights: one COPY per day lets each statement read one readings partition. */
export function daySlices(from: Date, to: Date): [Date, Date][] {
  const slices: [Date, Date][] = [];
  for (let start = from.getTime(); start < to.getTime(); ) {
    const end = Math.min(to.getTime(), (Math.floor(start / DAY_MS) + 1) * DAY_MS);
    slices.push([new Date(start), new Date(end)]);
    start = end;
  }
  return slices;
}

function countLines(chunk: Buffer): number {
  let lines = 0;
  for (let at = chunk.indexOf(NEWLINE); at !== -1; at = chunk.indexOf(NEWLINE, at + 1)) lines++;
  return lines;
}

/** Runs a COPY … TO STDOUT on the snapshot and yields its bytes as they come; returns the row count. */
async function* copyOut(tx: PoolClient, statement: string, onChunk: (chunk: Buffer) => void): AsyncGenerator<Buffer, number> {
  const stream = tx.query(copyTo(statement));
  for await (const chunk of stream) {
    onChunk(chunk as Buffer);
    yield chunk as Buffer;
  }
  return stream.rowCount;
}

/** Yields each row's `line` through a server-side cursor, FETCH_ROWS at a time. */
async function* cursorRows(tx: PoolClient, name: string, query: string, progress: ExportProgress): AsyncGenerator<string[]> {
  await tx.query(`DECLARE ${name} NO SCROLL CURSOR FOR ${query}`);
  for (;;) {
    const { rows } = await tx.query<{ line: string }>(`FETCH ${FETCH_ROWS} FROM ${name}`);
    if (rows.length === 0) break;
    progress.rows += rows.length;
    yield rows.map((r) => r.line);
  }
  await tx.query(`CLOSE ${name}`);
}

/**
 * readings.csv (a header, then one line per reading) or readings.jsonl, one
 * COPY per UTC day of the range, straight from Postgres: the worker never
 * parses a reading. Within a day, rows come in storage order (arrival order,
 * which is time order for live data).
 */
function readingsEntry(tx: PoolClient, claim: ExportClaim, plan: ExportPlan, progress: ExportProgress): ArchiveEntry {
  let count = 0;
  const csv = claim.format === 'CSV';
  const statement = sql.readingsCopy(csv, plan.sensors !== null);
  return {
    name: csv ? 'readings.csv' : 'readings.jsonl',
    about: { source: 'readings' },
    rows: () => count,
    async *open() {
      if (csv) yield Buffer.from(`${sql.READINGS_HEADER}\n`);
      await setExportParameters(tx, { sensors: uuidArray(plan.sensors) });
      for (const [from, to] of daySlices(claim.from, claim.to)) {
        await setExportParameters(tx, { from: from.toISOString(), to: to.toISOString() });
        // Rows hold no newline of their own (uuids, numbers, timestamps), so lines count rows as they stream.
        count += yield* copyOut(tx, statement, (chunk) => (progress.rows += countLines(chunk)));
        progress.step();
      }
    },
  };
}

function alertsEntry(tx: PoolClient, claim: ExportClaim, plan: ExportPlan, progress: ExportProgress): ArchiveEntry {
  let count = 0;
  const csv = claim.format === 'CSV';
  const filter = `a.raised_at >= ${param('from', 'timestamptz')} AND a.raised_at < ${param('to', 'timestamptz')}
    ${plan.devices === null ? '' : `AND a.device_id = ANY(${param('devices', 'uuid[]')})`}`;
  return {
    name: csv ? 'alerts.csv' : 'alerts.jsonl',
    about: { source: 'alerts' },
    rows: () => count,
    async *open() {
      await setExportParameters(tx, { from: claim.from.toISOString(), to: claim.to.toISOString(), devices: uuidArray(plan.devices) });
      if (csv) {
        // COPY's CSV quotes messages and notes that hold commas, quotes or newlines.
        count = yield* copyOut(tx, `COPY (${sql.alertsSelect(false, filter)}) TO STDOUT WITH (FORMAT csv, HEADER true)`, () => undefined);
        progress.rows += count;
      } else {
        for await (const lines of cursorRows(tx, 'export_alerts', sql.alertsSelect(true, filter), progress)) {
          count += lines.length;
          yield `${lines.join('\n')}\n`;
        }
      }
      progress.step();
    },
  };
}

const ABSENT = (table: string) => ({
  source: table,
  available: false,
  note: `This installation has no ${table} table yet, so nothing could be exported from it; the entry is empty.`,
});

/** events.jsonl: the organization's activity feed entries in the range that concern the scope. */
function eventsEntry(tx: PoolClient, claim: ExportClaim, plan: ExportPlan, progress: ExportProgress): ArchiveEntry {
  let count = 0;
  return {
    name: 'events.jsonl',
    about: plan.tables.activityEvents ? { source: 'activity_events', available: true } : ABSENT('activity_events'),
    rows: () => count,
    async *open() {
      if (plan.tables.activityEvents) {
        await setExportParameters(tx, { from: claim.from.toISOString(), to: claim.to.toISOString(), devices: uuidArray(plan.devices), site: plan.siteId ?? '' });
        for await (const lines of cursorRows(tx, 'export_events', sql.eventsSelect(plan.devices !== null, plan.siteId !== null), progress)) {
          count += lines.length;
          yield `${lines.join('\n')}\n`;
        }
      }
      progress.step();
    },
  };
}

/** annotations.json: one JSON array of the annotations overlapping the range, on the scope, its devices or their sensors. */
function annotationsEntry(tx: PoolClient, claim: ExportClaim, plan: ExportPlan, progress: ExportProgress): ArchiveEntry {
  let count = 0;
  return {
    name: 'annotations.json',
    about: plan.tables.annotations ? { source: 'annotations', available: true } : ABSENT('annotations'),
    rows: () => count,
    async *open() {
      yield '[';
      if (plan.tables.annotations) {
        await setExportParameters(tx, {
          from: claim.from.toISOString(),
          to: claim.to.toISOString(),
          devices: uuidArray(plan.devices),
          sensors: uuidArray(plan.sensors),
          site: plan.siteId ?? '',
        });
        for await (const lines of cursorRows(tx, 'export_annotations', sql.annotationsSelect(plan.devices !== null, plan.siteId !== null), progress)) {
          yield `${count === 0 ? '\n' : ',\n'}${lines.join(',\n')}`;
          count += lines.length;
        }
      }
      yield count === 0 ? ']\n' : '\n]\n';
      progress.step();
    },
  };
}

/** The entries the export includes, in the zip's order; manifest.json comes after them. */
export function exportEntries(tx: PoolClient, claim: ExportClaim, plan: ExportPlan, progress: ExportProgress): ArchiveEntry[] {
  const entries: ArchiveEntry[] = [];
  if (claim.includes.includes('READINGS')) entries.push(readingsEntry(tx, claim, plan, progress));
  if (claim.includes.includes('ANNOTATIONS')) entries.push(annotationsEntry(tx, claim, plan, progress));
  if (claim.includes.includes('ALERTS')) entries.push(alertsEntry(tx, claim, plan, progress));
  if (claim.includes.includes('EVENTS')) entries.push(eventsEntry(tx, claim, plan, progress));
  return entries;
}

/** Units of work for the percentage: a day of readings, or one other entry. */
export function workUnits(claim: ExportClaim): number {
  const others = claim.includes.filter((include) => include !== 'READINGS').length;
  return (claim.includes.includes('READINGS') ? daySlices(claim.from, claim.to).length : 0) + others;
}
