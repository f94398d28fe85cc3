import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../src/platform/project-root';
import type { RunFigures } from './raw-sql';

export interface ScenarioResult {
  readonly scenario: string;
  readonly api: RunFigures;
  readonly raw: RunFigures;
}

const fmt = (n: number, digits: number): string => (Number.isFinite(n) ? n.toFixed(digits) : '–');

function ratio(result: ScenarioResult) {
  return {
    requestsPerSecond: result.api.requestsPerSecond / result.raw.requestsPerSecond,
    p50: result.api.p50 / result.raw.p50,
    p99: result.api.p99 / result.raw.p99,
  };
}

/** Requests/s, p50 and p99 of both sides and their ratio API/raw, one block per scenario. */
export function formatTable(results: readonly ScenarioResult[]): string {
  const rows = results.flatMap((result) => {
    const { api, raw } = result;
    const r = ratio(result);
    return [
      [result.scenario, 'API', fmt(api.requestsPerSecond, 0), fmt(api.p50, 2), fmt(api.p99, 2), String(api.errors)],
      ['', 'raw SQL', fmt(raw.requestsPerSecond, 0), fmt(raw.p50, 2), fmt(raw.p99, 2), String(raw.errors)],
      ['', 'API/raw', fmt(r.requestsPerSecond, 2), fmt(r.p50, 2), fmt(r.p99, 2), ''],
    ];
  });
  const header = ['scenario', 'side', 'req/s', 'p50 ms', 'p99 ms', 'errors'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) => row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

/**
 * Writes bench-results/<bench>-<timestamp>.json: the body after the time, the
 * Node version and the core count; returns its path relative to the project.
 */
export async function writeBenchResult(bench: string, body: Record<string, unknown>): Promise<string> {
  const dir = path.join(projectRoot(), 'bench-results');
  await mkdir(dir, { recursive: true });
  const at = new Date().toISOString();
  const file = path.join(dir, `${bench}-${at.replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify({ at, node: process.version, cpus: os.cpus().length, ...body }, null, 2)}\n`);
  return path.relative(projectRoot(), file);
}

/** Writes bench-results/<bench>-<timestamp>.json (API beside raw SQL, with ratios) and returns its path relative to the project. */
export function writeReport(settings: Record<string, unknown>, results: readonly ScenarioResult[], bench = 'api'): Promise<string> {
  return writeBenchResult(bench, { ...settings, results: results.map((r) => ({ ...r, ratio: ratio(r) })) });
}

/** A figure with thousands separators, or – when it is not a number. */
export const num = (n: number, digits = 0): string =>
  Number.isFinite(n) ? n.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '–';

/** A text table: the first two columns left-aligned, the others right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) => row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
