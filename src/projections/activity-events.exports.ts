import type { ExportEvent } from '../commands/exports/export.events';
import type { ActivityHandlers } from './activity-events.entry';

const short = (id: string): string => id.slice(0, 8);

function kilobytes(bytes: number): string {
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Exports: requested, ready (with what they hold) and failed. Started, expired and deleted are not worth a sentence. */
export const exportHandlers: ActivityHandlers<ExportEvent> = {
  async ExportRequested({ data }) {
    const scope = data.scopeType === 'ORGANIZATION' ? 'the organization' : `${data.scopeType.toLowerCase().replace('_', ' ')} ${short(data.scopeId)}`;
    return {
      type: 'EXPORT_REQUESTED',
      occurredAt: data.requestedAt,
      deviceId: data.scopeType === 'DEVICE' ? data.scopeId : null,
      siteId: data.scopeType === 'SITE' ? data.scopeId : null,
      subject: { type: 'EXPORT', id: data.id },
      summary: `Export ${short(data.id)} of ${scope} requested (${data.includes.join(', ').toLowerCase()}, ${data.from} to ${data.to})`,
      data: { scopeType: data.scopeType, scopeId: data.scopeId, from: data.from, to: data.to, includes: data.includes, format: data.format },
    };
  },

  async ExportCompleted({ data }) {
    return {
      type: 'EXPORT_READY',
      occurredAt: data.completedAt,
      deviceId: null,
      siteId: null,
      subject: { type: 'EXPORT', id: data.id },
      summary: `Export ${short(data.id)} ready: ${data.readingCount} readings, ${data.alertCount} alerts, ${data.eventCount} events, ${data.annotationCount} annotations (${kilobytes(data.sizeBytes)}), until ${data.expiresAt}`,
      data: { sizeBytes: data.sizeBytes, readingCount: data.readingCount, alertCount: data.alertCount, eventCount: data.eventCount, annotationCount: data.annotationCount, expiresAt: data.expiresAt },
    };
  },

  async ExportFailed({ data }) {
    return {
      type: 'EXPORT_FAILED',
      occurredAt: data.failedAt,
      deviceId: null,
      siteId: null,
      subject: { type: 'EXPORT', id: data.id },
      summary: `Export ${short(data.id)} failed: ${data.reason}`,
      data: { reason: data.reason, attempt: data.attempt },
    };
  },
};
