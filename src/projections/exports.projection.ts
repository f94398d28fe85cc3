import { assertNever } from '../commands/decider';
import { EXPORT_EVENT_TYPES, type ExportEvent } from '../commands/exports/export.events';
import { ident, orgIdOf, type Projection } from './projection';

/**
 * Export jobs, one row each (`exports`); a deleted export's row goes. Every
 * change is guarded by the stream revision, so a replay changes nothing.
 * The workers' leases and progress live in `export_runs`, not here.
 */
export const exportsProjection: Projection = {
  name: 'exports',
  tables: ['exports'],
  eventTypes: EXPORT_EVENT_TYPES,
  async apply(tx, events, table) {
    const exports = ident(table('exports'));
    for (const recorded of events) {
      const event = { type: recorded.type, data: recorded.data } as ExportEvent;
      const orgId = orgIdOf(recorded);
      const revision = Number(recorded.revision);
      const update = (set: string, values: unknown[]) =>
        tx.query(`UPDATE ${exports} SET ${set}, revision = $3 WHERE org_id = $1 AND id = $2 AND revision < $3`, [orgId, event.data.id, revision, ...values]);
      switch (event.type) {
        case 'ExportRequested': {
          const d = event.data;
          await tx.query(
            `INSERT INTO ${exports} (org_id, id, scope_type, scope_id, from_ts, to_ts, includes, format, status, requested_by, created_at, revision)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'PENDING', $9, $10, $11) ON CONFLICT DO NOTHING`,
            [orgId, d.id, d.scopeType, d.scopeId, d.from, d.to, d.includes, d.format, recorded.metadata.actor, d.requestedAt, revision],
          );
          break;
        }
        case 'ExportStarted':
          await update(`status = 'RUNNING', attempt = $4, started_at = $5`, [event.data.attempt, event.data.startedAt]);
          break;
        case 'ExportCompleted': {
          const d = event.data;
          await update(
            `status = 'READY', attempt = $4, blob_key = $5, size_bytes = $6, reading_count = $7, annotation_count = $8, alert_count = $9,
             event_count = $10, completed_at = $11, expires_at = $12`,
            [d.attempt, d.blobKey, d.sizeBytes, d.readingCount, d.annotationCount, d.alertCount, d.eventCount, d.completedAt, d.expiresAt],
          );
          break;
        }
        case 'ExportFailed':
          await update(`status = 'FAILED', attempt = $4, failure_reason = $5, failed_at = $6`, [event.data.attempt, event.data.reason, event.data.failedAt]);
          break;
        case 'ExportCancelled':
          await update(`status = 'CANCELLED', cancelled_at = $4`, [event.data.cancelledAt]);
          break;
        case 'ExportExpired':
          await update(`status = 'EXPIRED', expired_at = $4`, [event.data.expiredAt]);
          break;
        case 'ExportDeleted':
          await tx.query(`DELETE FROM ${exports} WHERE org_id = $1 AND id = $2 AND revision < $3`, [orgId, event.data.id, revision]);
          break;
        default:
          assertNever(event);
      }
    }
  },
};
