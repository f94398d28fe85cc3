import { num, table, writeBenchResult } from './bench-report';
import type { AppendFigures } from './eventstore-appends';
import type { CatchUpFigures } from './eventstore-catch-up';

export interface AppendComparison {
  readonly scenario: string;
  readonly eventStore: AppendFigures;
  readonly raw: AppendFigures;
}

export interface EventStoreReport {
  readonly settings: Record<string, unknown>;
  readonly appends: readonly AppendComparison[];
  readonly seed: { readonly events: number; readonly seconds: number };
  readonly catchUp: readonly CatchUpFigures[];
}

/** Appends: both sides and the ratio event store / raw INSERT; then catch-up rates. */
export function formatReport(report: EventStoreReport): string {
  const appendRows = report.appends.flatMap(({ scenario, eventStore: es, raw }) => [
    [scenario, 'event store', num(es.appends), num(es.perSecond), num(es.p50, 2), num(es.p99, 2)],
    ['', 'raw INSERT', num(raw.appends), num(raw.perSecond), num(raw.p50, 2), num(raw.p99, 2)],
    ['', 'ratio es/raw', '', num(es.perSecond / raw.perSecond, 2), num(es.p50 / raw.p50, 2), num(es.p99 / raw.p99, 2)],
  ]);
  const catchUpRows = report.catchUp.map((c) => [c.projection, `batch ${c.batchSize}`, num(c.events), num(c.seconds, 1), num(c.perSecond)]);
  return [
    table(['appends', 'side', 'appends', 'appends/s', 'p50 ms', 'p99 ms'], appendRows),
    '',
    `seed: ${num(report.seed.events)} events by INSERT … SELECT generate_series in ${num(report.seed.seconds, 1)} s (${num(report.seed.events / report.seed.seconds)} rows/s)`,
    '',
    table(['catch-up from START', 'runner', 'events', 'seconds', 'events/s'], catchUpRows),
  ].join('\n');
}

/** Writes bench-results/eventstore-<timestamp>.json; returns its path relative to the project. */
export function writeReport(report: EventStoreReport): Promise<string> {
  const ratios = report.appends.map((a) => ({ scenario: a.scenario, appendsPerSecond: a.eventStore.perSecond / a.raw.perSecond }));
  return writeBenchResult('eventstore', { ...report, ratios });
}
