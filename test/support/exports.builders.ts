import { randomUUID } from 'node:crypto';
import type { ExportEvent, ExportOutcome, ExportRequest, ExportRequested } from '../../src/commands/exports/export.events';

export const REQUESTED_AT = '2025-03-01T10:00:00.000Z';
export const STARTED_AT = '2025-03-01T10:00:01.000Z';
export const COMPLETED_AT = '2025-03-01T10:00:42.000Z';
/** COMPLETED_AT + 24 h. */
export const EXPIRES_AT = '2025-03-02T10:00:42.000Z';

export function anExportRequest(overrides: Partial<ExportRequest> = {}): ExportRequest {
  return {
    id: randomUUID(),
    scopeType: 'DEVICE',
    scopeId: randomUUID(),
    from: '2025-02-01T00:00:00.000Z',
    to: '2025-03-01T00:00:00.000Z',
    includes: ['READINGS', 'ANNOTATIONS'],
    format: 'CSV',
    ...overrides,
  };
}

export function anExportRequested(request: ExportRequest = anExportRequest()): ExportRequested {
  return { type: 'ExportRequested', data: { ...request, requestedAt: REQUESTED_AT } };
}

export function anOutcome(id: string, attempt = 1, overrides: Partial<ExportOutcome> = {}): ExportOutcome {
  return {
    blobKey: `exports/${randomUUID()}/${id}/${attempt}.zip`,
    sizeBytes: 184_320,
    readingCount: 44_021,
    annotationCount: 12,
    alertCount: 0,
    eventCount: 0,
    ...overrides,
  };
}

/** The history of an export up to a status, from its request. */
export function anExportHistory(requested: ExportRequested, upTo: 'PENDING' | 'RUNNING' | 'READY' | 'FAILED' | 'CANCELLED' | 'EXPIRED'): ExportEvent[] {
  const { id } = requested.data;
  const started: ExportEvent = { type: 'ExportStarted', data: { id, attempt: 1, workerId: 'w1', startedAt: STARTED_AT } };
  const completed: ExportEvent = { type: 'ExportCompleted', data: { id, attempt: 1, ...anOutcome(id), completedAt: COMPLETED_AT, expiresAt: EXPIRES_AT } };
  switch (upTo) {
    case 'PENDING':
      return [requested];
    case 'RUNNING':
      return [requested, started];
    case 'READY':
      return [requested, started, completed];
    case 'FAILED':
      return [requested, started, { type: 'ExportFailed', data: { id, attempt: 1, reason: 'boom', failedAt: COMPLETED_AT } }];
    case 'CANCELLED':
      return [requested, started, { type: 'ExportCancelled', data: { id, cancelledAt: COMPLETED_AT } }];
    case 'EXPIRED':
      return [requested, started, completed, { type: 'ExportExpired', data: { id, expiredAt: EXPIRES_AT } }];
  }
}
