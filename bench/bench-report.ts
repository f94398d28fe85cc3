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

/** Writes bench-results/api-<timestamp>.json and returns its path relative to the project. */
export async function writeReport(settings: Record<string, unknown>, results: readonly ScenarioResult[]): Promise<string> {
  const dir = path.join(projectRoot(), 'bench-results');
  await mkdir(dir, { recursive: true });
  const at = new Date().toISOString();
  const file = path.join(dir, `api-${at.replace(/[:.]/g, '-')}.json`);
  const report = { at, ...settings, node: process.version, cpus: os.cpus().length, results: results.map((r) => ({ ...r, ratio: ratio(r) })) };
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  return path.relative(projectRoot(), file);
}
