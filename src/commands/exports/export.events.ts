import type { DomainEvent } from '../decider';

export const EXPORT_SCOPE_TYPES = ['DEVICE', 'SITE', 'DEVICE_GROUP', 'ORGANIZATION'] as const;
export type ExportScopeType = (typeof EXPORT_SCOPE_TYPES)[number];
export const EXPORT_INCLUDES = ['READINGS', 'ANNOTATIONS', 'ALERTS', 'EVENTS'] as const;
export type ExportInclude = (typeof EXPORT_INCLUDES)[number];
export type ExportFormat = 'CSV' | 'JSONL';
export type ExportStatus = 'PENDING' | 'RUNNING' | 'READY' | 'FAILED' | 'EXPIRED' | 'CANCELLED';

/** What to export: fixed when the job is requested. */
export interface ExportRequest {
  id: string;
  scopeType: ExportScopeType;
  scopeId: string;
  /** Inclusive start and exclusive end (ISO 8601). */
  from: string;
  to: string;
  includes: ExportInclude[];
  format: ExportFormat;
}

/** What a finished attempt wrote, as the manifest counts it. */
export interface ExportOutcome {
  blobKey: string;
  sizeBytes: number;
  readingCount: number;
  annotationCount: number;
  alertCount: number;
  eventCount: number;
}

export type ExportRequested = DomainEvent<'ExportRequested', ExportRequest & { requestedAt: string }>;
/** A worker took the job; a later attempt (the previous worker's lease ran out) starts it again from scratch. */
export type ExportStarted = DomainEvent<'ExportStarted', { id: string; attempt: number; workerId: string; startedAt: string }>;
export type ExportCompleted = DomainEvent<'ExportCompleted', ExportOutcome & { id: string; attempt: number; completedAt: string; expiresAt: string }>;
export type ExportFailed = DomainEvent<'ExportFailed', { id: string; attempt: number; reason: string; failedAt: string }>;
export type ExportCancelled = DomainEvent<'ExportCancelled', { id: string; cancelledAt: string }>;
/** The file's retention ended; the file is deleted. */
export type ExportExpired = DomainEvent<'ExportExpired', { id: string; expiredAt: string }>;
/** A finished export removed by its organization (DELETE); its file is deleted. */
export type ExportDeleted = DomainEvent<'ExportDeleted', { id: string; deletedAt: string }>;

export type ExportEvent = ExportRequested | ExportStarted | ExportCompleted | ExportFailed | ExportCancelled | ExportExpired | ExportDeleted;

export const EXPORT_EVENT_TYPES: readonly ExportEvent['type'][] = [
  'ExportRequested',
  'ExportStarted',
  'ExportCompleted',
  'ExportFailed',
  'ExportCancelled',
  'ExportExpired',
  'ExportDeleted',
];

export function exportStream(id: string): string {
  return `export-${id}`;
}

/** Where an attempt's file lives: one file per attempt, so a late writer never overwrites a newer attempt's file. */
export function exportBlobKey(orgId: string, id: string, attempt: number): string {
  return `exports/${orgId}/${id}/${attempt}.zip`;
}

/** The inverse of exportBlobKey; undefined for any other key. */
export function parseExportBlobKey(key: string): { orgId: string; id: string; attempt: number } | undefined {
  const match = /^exports\/([0-9a-f-]{36})\/([0-9a-f-]{36})\/(\d{1,6})\.zip$/.exec(key);
  if (!match) return undefined;
  return { orgId: match[1] as string, id: match[2] as string, attempt: Number(match[3]) };
}
