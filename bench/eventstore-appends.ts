import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Pool } from '../src/platform/db/pool';
import type { EventStore, NewEvent } from '../src/platform/event-store/event-store.port';

export interface AppendFigures {
  readonly appends: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** Milliseconds per append. */
  readonly p50: number;
  readonly p99: number;
}

/** Appends one event at `revision` of `stream` (0 = a new stream). */
export type AppendOne = (stream: string, revision: bigint, event: NewEvent) => Promise<unknown>;

export function throughEventStore(store: EventStore): AppendOne {
  return (stream, revision, event) => store.appendToStream(stream, [event], { expectedRevision: revision === 0n ? 'no_stream' : revision - 1n });
}

/** The same row, written by a plain INSERT: no stream lock, no revision check, no idempotency, no NOTIFY. */
export function throughRawInsert(pool: Pool): AppendOne {
  return (stream, revision, event) =>
    pool.query('INSERT INTO es_events (stream_name, revision, event_id, type, data, metadata) VALUES ($1, $2, $3, $4, $5, $6)', [
      stream,
      revision.toString(),
      event.id,
      event.type,
      JSON.stringify(event.data),
      JSON.stringify(event.metadata),
    ]);
}

/** A site update as the API appends it (its own type, so the catch-up projections skip it). */
function aSiteUpdated(orgId: string, siteId: string, n: number): NewEvent {
  return {
    id: randomUUID(),
    type: 'BenchSiteUpdated',
    data: { id: siteId, changes: { name: `Site ${n}`, labels: { region: 'eu', floor: String(n % 7) } }, updatedAt: new Date().toISOString() },
    metadata: { orgId, actor: `apiKey:${orgId}`, correlationId: randomUUID(), causationId: null, schemaVersion: 1 },
  };
}

/** One measured run: its latencies (ms) and how long it took. */
export interface AppendRun {
  readonly latencies: readonly number[];
  readonly seconds: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? Number.NaN;
}

/** Several runs of one side as one figure: appends over total time, percentiles over every append. */
export function combineRuns(runs: readonly AppendRun[]): AppendFigures {
  const latencies = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const seconds = runs.reduce((sum, r) => sum + r.seconds, 0);
  return { appends: latencies.length, seconds, perSecond: latencies.length / seconds, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
}

/**
 * `total` appends by `writers` concurrent loops. Writer w owns streams w,
 * w + writers, … and appends to them in turn, each at its next revision, so
 * writers never conflict and every append carries an exact expected revision.
 */
export async function appendLoad(append: AppendOne, prefix: string, total: number, streams: number, writers: number): Promise<AppendRun> {
  const orgId = randomUUID();
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const mine = Array.from({ length: Math.ceil((streams - w) / writers) }, (_, j) => ({ name: `${prefix}-${w + j * writers}`, id: randomUUID(), next: 0n }));
      const count = Math.floor(total / writers) + (w < total % writers ? 1 : 0);
      for (let k = 0; k < count; k += 1) {
        const stream = mine[k % mine.length];
        if (!stream) break;
        const t0 = performance.now();
        await append(stream.name, stream.next, aSiteUpdated(orgId, stream.id, k));
        latencies.push(performance.now() - t0);
        stream.next += 1n;
      }
    }),
  );
  return { latencies, seconds: (performance.now() - started) / 1000 };
}
