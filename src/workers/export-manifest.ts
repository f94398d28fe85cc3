import type { ExportOutcome } from '../commands/exports/export.events';
import type { EntrySummary } from './export-archive';
import type { ExportClaim } from './export-runs.queries';
import type { ExportPlan } from './export-scope';

export const MANIFEST_VERSION = 1;

/**
 * manifest.json: what the archive holds and how to check it — the request
 * (scope, range, includes, format), the count of each kind of row, and per
 * entry its rows, bytes and SHA-256 (of the uncompressed bytes), plus
 * whether its source table exists in this installation.
 */
export function exportManifest(claim: ExportClaim, plan: ExportPlan, entries: readonly EntrySummary[], generatedAt: Date): Record<string, unknown> {
  return {
    manifestVersion: MANIFEST_VERSION,
    exportId: claim.id,
    organizationId: claim.orgId,
    attempt: claim.attempt,
    generatedAt: generatedAt.toISOString(),
    scope: { type: claim.scopeType, id: claim.scopeId, deviceCount: plan.devices?.length ?? null, sensorCount: plan.sensors?.length ?? null },
    range: { from: claim.from.toISOString(), to: claim.to.toISOString() },
    includes: claim.includes,
    format: claim.format,
    counts: entryCounts(entries),
    entries,
  };
}

/** Rows per kind (0 for kinds not included). */
export function entryCounts(entries: readonly EntrySummary[]): { readings: number; annotations: number; alerts: number; events: number } {
  const rows = (prefix: string): number => entries.find((e) => e.name.startsWith(`${prefix}.`))?.rows ?? 0;
  return { readings: rows('readings'), annotations: rows('annotations'), alerts: rows('alerts'), events: rows('events') };
}

export function exportOutcome(blobKey: string, sizeBytes: number, entries: readonly EntrySummary[]): ExportOutcome {
  const counts = entryCounts(entries);
  return {
    blobKey,
    sizeBytes,
    readingCount: counts.readings,
    annotationCount: counts.annotations,
    alertCount: counts.alerts,
    eventCount: counts.events,
  };
}
