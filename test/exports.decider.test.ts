import { exportDecider } from '../src/commands/exports/export.decider';
import { exportBlobKey, exportStream, parseExportBlobKey, type ExportEvent } from '../src/commands/exports/export.events';
import { spec } from './support/decider-spec';
import { COMPLETED_AT, EXPIRES_AT, anExportHistory, anExportRequest, anExportRequested, anOutcome } from './support/exports.builders';

const exportJob = spec(exportDecider);
const LATER = '2025-03-01T10:05:00.000Z';
const AFTER_EXPIRY = '2025-03-02T11:00:00.000Z';

describe('Export', () => {
  it('lives in export-<id>, and each attempt writes its own file', () => {
    expect(exportStream('e1')).toBe('export-e1');
    const key = exportBlobKey('5f0c9a4e-0000-4000-8000-000000000001', '5f0c9a4e-0000-4000-8000-000000000002', 3);
    expect(key).toBe('exports/5f0c9a4e-0000-4000-8000-000000000001/5f0c9a4e-0000-4000-8000-000000000002/3.zip');
    expect(parseExportBlobKey(key)).toEqual({ orgId: '5f0c9a4e-0000-4000-8000-000000000001', id: '5f0c9a4e-0000-4000-8000-000000000002', attempt: 3 });
    expect(parseExportBlobKey(`${key}.a1b2c3.partial`)).toBeUndefined();
  });

  describe('when absent', () => {
    it('is requested', () => {
      const request = anExportRequest();
      exportJob.given([]).when({ type: 'RequestExport', data: { request, now: LATER } }).then([{ type: 'ExportRequested', data: { ...request, requestedAt: LATER } }]);
    });

    it('answers 404 to every other command', () => {
      exportJob.given([]).when({ type: 'DeleteExport', data: { now: LATER } }).thenThrows({ code: 'EXPORT_NOT_FOUND', status: 404 });
      exportJob.given([]).when({ type: 'StartExport', data: { attempt: 1, workerId: 'w', now: LATER } }).thenThrows({ code: 'EXPORT_NOT_FOUND' });
    });
  });

  describe('when pending', () => {
    const requested = anExportRequested();
    const { id } = requested.data;

    it('is started by a worker as attempt 1, and not twice under the same attempt', () => {
      exportJob.given([requested]).when({ type: 'StartExport', data: { attempt: 1, workerId: 'w1', now: LATER } }).then([
        { type: 'ExportStarted', data: { id, attempt: 1, workerId: 'w1', startedAt: LATER } },
      ]);
      exportJob.given(anExportHistory(requested, 'RUNNING')).when({ type: 'StartExport', data: { attempt: 1, workerId: 'w2', now: LATER } }).then([]);
    });

    it('is cancelled by a DELETE', () => {
      exportJob.given([requested]).when({ type: 'DeleteExport', data: { now: LATER } }).then([{ type: 'ExportCancelled', data: { id, cancelledAt: LATER } }]);
    });

    it('refuses to be requested again', () => {
      exportJob.given([requested]).when({ type: 'RequestExport', data: { request: requested.data, now: LATER } }).thenThrows({ code: 'CONFLICT', status: 409 });
    });
  });

  describe('when running', () => {
    const requested = anExportRequested();
    const { id } = requested.data;
    const running = anExportHistory(requested, 'RUNNING');

    it('completes with the outcome of its current attempt only', () => {
      const outcome = anOutcome(id);
      exportJob
        .given(running)
        .when({ type: 'CompleteExport', data: { attempt: 1, outcome, now: COMPLETED_AT, expiresAt: EXPIRES_AT } })
        .then([{ type: 'ExportCompleted', data: { id, attempt: 1, ...outcome, completedAt: COMPLETED_AT, expiresAt: EXPIRES_AT } }]);
      // A newer attempt took over after attempt 1's lease ran out: the late attempt decides nothing.
      const retried: ExportEvent[] = [...running, { type: 'ExportStarted', data: { id, attempt: 2, workerId: 'w2', startedAt: LATER } }];
      exportJob.given(retried).when({ type: 'CompleteExport', data: { attempt: 1, outcome, now: LATER, expiresAt: EXPIRES_AT } }).then([]);
      exportJob.given(retried).when({ type: 'FailExport', data: { attempt: 1, reason: 'late', now: LATER } }).then([]);
    });

    it('is started again from scratch by a later attempt (its worker died)', () => {
      exportJob.given(running).when({ type: 'StartExport', data: { attempt: 2, workerId: 'w2', now: LATER } }).then([
        { type: 'ExportStarted', data: { id, attempt: 2, workerId: 'w2', startedAt: LATER } },
      ]);
    });

    it('fails with a reason, also when given up after too many attempts', () => {
      exportJob.given(running).when({ type: 'FailExport', data: { attempt: 1, reason: 'disk full', now: LATER } }).then([
        { type: 'ExportFailed', data: { id, attempt: 1, reason: 'disk full', failedAt: LATER } },
      ]);
      exportJob.given(running).when({ type: 'FailExport', data: { attempt: 4, reason: 'interrupted', now: LATER } }).then([
        { type: 'ExportFailed', data: { id, attempt: 4, reason: 'interrupted', failedAt: LATER } },
      ]);
    });

    it('is cancelled by a DELETE, after which the worker’s steps decide nothing', () => {
      exportJob.given(running).when({ type: 'DeleteExport', data: { now: LATER } }).then([{ type: 'ExportCancelled', data: { id, cancelledAt: LATER } }]);
      const cancelled = anExportHistory(requested, 'CANCELLED');
      exportJob.given(cancelled).when({ type: 'CompleteExport', data: { attempt: 1, outcome: anOutcome(id), now: LATER, expiresAt: EXPIRES_AT } }).then([]);
      exportJob.given(cancelled).when({ type: 'StartExport', data: { attempt: 2, workerId: 'w', now: LATER } }).then([]);
    });
  });

  describe('when ready', () => {
    const requested = anExportRequested();
    const { id } = requested.data;
    const ready = anExportHistory(requested, 'READY');

    it('expires only once expiresAt has passed', () => {
      exportJob.given(ready).when({ type: 'ExpireExport', data: { now: LATER } }).then([]);
      exportJob.given(ready).when({ type: 'ExpireExport', data: { now: AFTER_EXPIRY } }).then([{ type: 'ExportExpired', data: { id, expiredAt: AFTER_EXPIRY } }]);
      exportJob.given(anExportHistory(requested, 'EXPIRED')).when({ type: 'ExpireExport', data: { now: AFTER_EXPIRY } }).then([]);
    });

    it('is deleted by a DELETE, as are failed, cancelled and expired exports; a deleted one is gone', () => {
      for (const upTo of ['READY', 'FAILED', 'CANCELLED', 'EXPIRED'] as const) {
        exportJob.given(anExportHistory(requested, upTo)).when({ type: 'DeleteExport', data: { now: LATER } }).then([{ type: 'ExportDeleted', data: { id, deletedAt: LATER } }]);
      }
      const deleted: ExportEvent[] = [...ready, { type: 'ExportDeleted', data: { id, deletedAt: LATER } }];
      exportJob.given(deleted).when({ type: 'DeleteExport', data: { now: LATER } }).thenThrows({ code: 'EXPORT_NOT_FOUND' });
    });

    it('is not started, completed or failed again', () => {
      exportJob.given(ready).when({ type: 'StartExport', data: { attempt: 2, workerId: 'w', now: LATER } }).then([]);
      exportJob.given(ready).when({ type: 'FailExport', data: { attempt: 1, reason: 'x', now: LATER } }).then([]);
    });
  });
});
