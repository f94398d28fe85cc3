import { num, table, writeBenchResult } from './bench-report';
import type { CopyFigures, StoredCheck } from './ingest-database';
import type { DecodeFigures, PipelineFigures, SequenceFigures } from './ingest-diagnostics';
import { combineResults, type PublishFigures, type PublishResult } from './ingest-publishers';
import { describeWaits, type WaitProfile } from './pg-waits';
import type { CpuParts } from './proc-cpu';

/** One timed publisher run: through the ingester (rows committed) or the plain subscriber (messages delivered). */
export interface IngestRun {
  /** 1…rounds; 0 for the rounds combined. */
  readonly round: number;
  readonly scenario: string;
  readonly side: 'ingest' | 'broker';
  readonly readingsPerMessage: number;
  readonly window: number;
  readonly figures: PublishFigures;
  /** CPU seconds during the run (prime included) by process. */
  readonly cpu: CpuParts;
  /** The subscriber processes' event loops: share of the run they were busy. */
  readonly loopUtilization: number;
  /** ingest: changes of the pipeline's metrics over the run; broker: messages received. */
  readonly subscriber: Record<string, number>;
  /** ingest: what its database sessions did (average sessions per statement and wait). */
  readonly waits: WaitProfile | undefined;
  readonly check: StoredCheck | { readonly received: number; readonly expected: number; readonly ok: boolean };
}

/** A raw COPY run with the CPU it took and what its sessions waited for. */
export type CopyRun = CopyFigures & { readonly cpu: CpuParts; readonly waits: WaitProfile };

export interface RawCopyRound {
  readonly round: number;
  readonly batches: CopyRun;
  readonly single: CopyRun;
}

export interface IngestReport {
  readonly settings: Record<string, unknown>;
  /** Every round's runs. */
  readonly runs: readonly IngestRun[];
  /** Per scenario and side, the rounds as one (round 0). */
  readonly combined: readonly IngestRun[];
  readonly rawCopy: { readonly rounds: readonly RawCopyRound[]; readonly batches: CopyRun; readonly single: CopyRun; readonly checks: readonly StoredCheck[] };
  readonly diagnostics: { readonly decode: readonly DecodeFigures[]; readonly pipeline: readonly PipelineFigures[]; readonly sequences: readonly SequenceFigures[] };
}

export interface IngestRatios {
  /** Batched end to end rows/s over one raw COPY of the rows from a file: the issue's limit (goal ≥ 0.8). */
  readonly batchedVsOneCopy: number;
  /** …over raw COPY in 5k-row transactions on 2 connections: a stricter limit, the database alone on both cores. */
  readonly batchedVsCopy: number;
  /** Single-reading messages/s through the ingester over the broker's own QoS 1 rate (goal ≥ 0.9). */
  readonly singleVsBroker: number;
}

export const BATCHED = 'batched';
export const SINGLE = 'single';

function addParts(parts: readonly Record<string, number>[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const part of parts) for (const [name, value] of Object.entries(part)) total[name] = (total[name] ?? 0) + value;
  return total;
}

/** The runs of one scenario and side over all rounds as one run (round 0): figures from the pooled results, CPU and counters summed. */
export function combineRuns(runs: readonly IngestRun[], results: readonly PublishResult[]): IngestRun {
  const first = runs[0];
  if (!first) throw new Error('nothing to combine');
  const seconds = runs.reduce((sum, r) => sum + r.figures.seconds, 0);
  const weighted = (pick: (r: IngestRun) => number): number => runs.reduce((sum, r) => sum + pick(r) * r.figures.seconds, 0) / seconds;
  const waits = first.waits === undefined ? undefined : addParts(runs.map((r) => Object.fromEntries(Object.entries(r.waits ?? {}).map(([k, v]) => [k, (v * r.figures.seconds) / seconds]))));
  return {
    ...first,
    round: 0,
    figures: combineResults(results),
    cpu: addParts(runs.map((r) => r.cpu)),
    loopUtilization: weighted((r) => r.loopUtilization),
    subscriber: addParts(runs.map((r) => r.subscriber)),
    waits,
    check: { received: 0, expected: 0, ok: runs.every((r) => r.check.ok) },
  };
}

/** Raw COPY runs as one: all rows over all the time, CPU summed, waits weighted by time. */
export function combineCopies(copies: readonly CopyRun[]): CopyRun {
  const rows = copies.reduce((sum, c) => sum + c.rows, 0);
  const seconds = copies.reduce((sum, c) => sum + c.seconds, 0);
  return {
    rows,
    transactions: copies.reduce((sum, c) => sum + c.transactions, 0),
    seconds,
    rowsPerSecond: rows / seconds,
    cpu: addParts(copies.map((c) => c.cpu)),
    waits: addParts(copies.map((c) => Object.fromEntries(Object.entries(c.waits).map(([k, v]) => [k, (v * c.seconds) / seconds])))),
  };
}

function ratiosOf(runs: readonly IngestRun[], batches: CopyRun, single: CopyRun): IngestRatios {
  const find = (scenario: string, side: IngestRun['side']) => runs.find((r) => r.scenario === scenario && r.side === side)?.figures;
  const batched = find(BATCHED, 'ingest')?.readingsPerSecond ?? Number.NaN;
  return {
    batchedVsCopy: batched / batches.rowsPerSecond,
    batchedVsOneCopy: batched / single.rowsPerSecond,
    singleVsBroker: (find(SINGLE, 'ingest')?.messagesPerSecond ?? Number.NaN) / (find(SINGLE, 'broker')?.messagesPerSecond ?? Number.NaN),
  };
}

/** The rounds combined. */
export function ratios(report: IngestReport): IngestRatios {
  return ratiosOf(report.combined, report.rawCopy.batches, report.rawCopy.single);
}

/** Each round on its own, to show the spread. */
export function roundRatios(report: IngestReport): (IngestRatios & { readonly round: number })[] {
  return report.rawCopy.rounds.map((copy) => ({ round: copy.round, ...ratiosOf(report.runs.filter((r) => r.round === copy.round), copy.batches, copy.single) }));
}

const metric = (run: IngestRun, name: string): number => run.subscriber[name] ?? 0;

export function formatReport(report: IngestReport): string {
  const runRows = report.combined.map((run) => {
    const f = run.figures;
    const label = `${run.scenario} (${run.readingsPerMessage} per message, window ${run.window})`;
    return [label, run.side === 'ingest' ? 'end to end' : 'broker only', num(f.messages), num(f.readings), num(f.seconds, 1), num(f.messagesPerSecond), num(f.readingsPerSecond), num(f.p50, 1), num(f.p99, 1), run.check.ok ? 'ok' : 'FAILED'];
  });
  const copy = report.rawCopy;
  const copyRows = [
    ['raw COPY, 5k-row transactions', '2 connections', num(copy.batches.rows), num(copy.batches.transactions), num(copy.batches.seconds, 1), num(copy.batches.rowsPerSecond)],
    ['raw COPY, one transaction', '1 connection', num(copy.single.rows), num(copy.single.transactions), num(copy.single.seconds, 1), num(copy.single.rowsPerSecond)],
  ];
  const cpuRow = (name: string, side: string, wall: number, rows: number, cpu: CpuParts, loop: number): string[] => {
    const ours = ['subscriber', 'bench', 'broker', 'postgres'].reduce((sum, k) => sum + (Number.isFinite(cpu[k]) ? (cpu[k] ?? 0) : 0), 0);
    return [name, side, num(wall, 1), num(cpu.subscriber ?? Number.NaN, 1), num(loop, 2), num(cpu.bench ?? Number.NaN, 1), num(cpu.broker ?? Number.NaN, 1), num(cpu.postgres ?? Number.NaN, 1), num(cpu.other ?? Number.NaN, 1), num((ours * 1e6) / rows, 1)];
  };
  const cpuRows = [
    ...report.combined.map((run) => cpuRow(run.scenario, run.side, run.figures.seconds + run.figures.primeSeconds, run.figures.readings, run.cpu, run.loopUtilization)),
    cpuRow('raw COPY 5k×2', 'copy', copy.batches.seconds, copy.batches.rows, copy.batches.cpu, Number.NaN),
    cpuRow('raw COPY one', 'copy', copy.single.seconds, copy.single.rows, copy.single.cpu, Number.NaN),
  ];
  const waitLines = [
    ...report.combined.filter((run) => run.waits).map((run) => `  ${run.scenario} end to end: ${describeWaits(run.waits ?? {})}`),
    `  raw COPY 5k×2: ${describeWaits(copy.batches.waits)}`,
    `  raw COPY one: ${describeWaits(copy.single.waits)}`,
  ];
  const pipelineRows = report.combined
    .filter((run) => run.side === 'ingest')
    .map((run) => {
      const batches = metric(run, 'iotplane_ingest_batch_seconds_count');
      const writeSeconds = metric(run, 'iotplane_ingest_batch_seconds_sum');
      const rows = metric(run, 'iotplane_ingest_batch_rows_sum');
      return [
        run.scenario,
        num(batches),
        num(rows / batches),
        num((writeSeconds / batches) * 1000, 1),
        num(writeSeconds / run.figures.seconds, 2),
        num(((run.cpu.subscriber ?? Number.NaN) * 1e6) / run.figures.messages, 1),
        num(metric(run, 'iotplane_ingest_readings_total{outcome=duplicate,source=ALL}')),
      ];
    });
  const roundRows = report.rawCopy.rounds.map((copyRound) => {
    const of = (scenario: string, side: IngestRun['side']) => report.runs.find((x) => x.round === copyRound.round && x.scenario === scenario && x.side === side)?.figures;
    return [
      String(copyRound.round),
      '',
      num(of(SINGLE, 'broker')?.messagesPerSecond ?? Number.NaN),
      num(of(SINGLE, 'ingest')?.messagesPerSecond ?? Number.NaN),
      num(of(BATCHED, 'broker')?.readingsPerSecond ?? Number.NaN),
      num(of(BATCHED, 'ingest')?.readingsPerSecond ?? Number.NaN),
      num(copyRound.batches.rowsPerSecond),
      num(copyRound.single.rowsPerSecond),
    ];
  });
  const d = report.diagnostics;
  const r = ratios(report);
  return [
    table(['scenario', 'side', 'messages', 'readings', 'seconds', 'messages/s', 'readings/s', 'p50 ms', 'p99 ms', 'check'], runRows),
    '',
    table(['limit', 'shape', 'rows', 'transactions', 'seconds', 'rows/s'], copyRows),
    '',
    table(['round', '', 'broker msg/s', 'single e2e msg/s', 'broker readings/s', 'batched e2e rows/s', 'COPY 5k×2 rows/s', 'one COPY rows/s'], roundRows),
    '',
    `ratio batched end to end / raw COPY of the rows from a file: ${num(r.batchedVsOneCopy, 2)} (goal ≥ 0.8); / raw COPY 5k×2 (stricter): ${num(r.batchedVsCopy, 2)}`,
    `ratio single-reading messages/s / broker QoS 1 messages/s: ${num(r.singleVsBroker, 2)} (goal ≥ 0.9)`,
    `each round alone (batched / single / batched vs 5k×2): ${roundRatios(report)
      .map((x) => `round ${x.round}: ${num(x.batchedVsOneCopy, 2)} / ${num(x.singleVsBroker, 2)} / ${num(x.batchedVsCopy, 2)}`)
      .join('; ')}`,
    '',
    'CPU seconds by process during each run (2 cores: at most 2 × wall; "other" is the rest of the machine):',
    table(['run', 'side', 'wall s', 'subscriber', 'its loop busy', 'publishers', 'broker', 'postgres', 'other', 'ours µs/reading'], cpuRows),
    '',
    "Database sessions (pg_stat_activity sampled every 20 ms; average sessions per statement and wait; CPU = active, no wait):",
    ...waitLines,
    '',
    'Ingester internals (its own metrics over the run):',
    table(['run', 'batches', 'rows/batch', 'write ms/batch', `writers busy (of ${String(report.settings.writers ?? '?')})`, 'ingest CPU µs/message', 'duplicates'], pipelineRows),
    '',
    'Pieces measured alone (this process, one core):',
    ...d.decode.map((x) => `  decode + COPY row, ${x.workload}: ${num(x.microsPerMessage, 1)} µs/message, ${num(x.microsPerReading, 2)} µs/reading`),
    ...d.pipeline.map((x) => `  pipeline + batcher without MQTT or database, ${x.workload}: ${num(x.microsPerMessage, 1)} µs/message, ${num(x.microsPerReading, 2)} µs/reading (${num(x.messages)} messages, ${num(x.batches)} batches)`),
    ...d.sequences.map((x) => `  ingest_record_sequence_runs, ${x.shape} over ${x.devices} devices: ${num(x.msPerCall, 1)} ms per batch (${x.calls} calls)`),
    `  raw COPY of one 5k-row transaction: ${num((copy.batches.seconds / copy.batches.transactions) * 2000, 1)} ms (2 connections in parallel)`,
  ].join('\n');
}

export function writeReport(report: IngestReport): Promise<string> {
  return writeBenchResult('ingest', { ...report, ratios: ratios(report), roundRatios: roundRatios(report) });
}
