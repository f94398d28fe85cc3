import { ConflictError, NotFoundError } from '../../platform/errors';
import { assertNever, type Decider } from '../decider';
import type { ExportEvent, ExportOutcome, ExportRequest } from './export.events';

interface Known {
  readonly id: string;
  /** The latest attempt started; 0 before the first. */
  readonly attempt: number;
}

export type ExportState =
  | { status: 'absent' }
  | ({ status: 'PENDING' | 'RUNNING' | 'FAILED' | 'CANCELLED' | 'EXPIRED' } & Known)
  | ({ status: 'READY'; blobKey: string; expiresAt: string } & Known)
  | { status: 'DELETED'; id: string };

export type ExportCommand =
  | { type: 'RequestExport'; data: { request: ExportRequest; now: string } }
  | { type: 'StartExport'; data: { attempt: number; workerId: string; now: string } }
  | { type: 'CompleteExport'; data: { attempt: number; outcome: ExportOutcome; now: string; expiresAt: string } }
  | { type: 'FailExport'; data: { attempt: number; reason: string; now: string } }
  | { type: 'DeleteExport'; data: { now: string } }
  | { type: 'ExpireExport'; data: { now: string } };

export const exportNotFound = (): NotFoundError => new NotFoundError('EXPORT_NOT_FOUND', 'No export with this id.');

const open = (state: ExportState): state is { status: 'PENDING' | 'RUNNING' } & Known => state.status === 'PENDING' || state.status === 'RUNNING';

/**
 * An export job. Workers' commands that arrive too late (the job was
 * cancelled, or a newer attempt took over after their lease ran out) decide
 * nothing instead of failing: the worker then drops its work.
 */
export const exportDecider: Decider<ExportCommand, ExportEvent, ExportState> = {
  initialState: { status: 'absent' },

  decide(command, state) {
    switch (command.type) {
      case 'RequestExport':
        if (state.status !== 'absent') throw new ConflictError('CONFLICT', 'The export already exists.');
        return [{ type: 'ExportRequested', data: { ...command.data.request, requestedAt: command.data.now } }];
      case 'StartExport': {
        if (state.status === 'absent') throw exportNotFound();
        const { attempt, workerId, now } = command.data;
        if (!open(state) || attempt <= state.attempt) return [];
        return [{ type: 'ExportStarted', data: { id: state.id, attempt, workerId, startedAt: now } }];
      }
      case 'CompleteExport': {
        if (state.status === 'absent') throw exportNotFound();
        const { attempt, outcome, now, expiresAt } = command.data;
        if (state.status !== 'RUNNING' || attempt !== state.attempt) return [];
        return [{ type: 'ExportCompleted', data: { id: state.id, attempt, ...outcome, completedAt: now, expiresAt } }];
      }
      case 'FailExport': {
        if (state.status === 'absent') throw exportNotFound();
        const { attempt, reason, now } = command.data;
        if (!open(state) || attempt < state.attempt) return [];
        return [{ type: 'ExportFailed', data: { id: state.id, attempt, reason, failedAt: now } }];
      }
      case 'DeleteExport':
        if (state.status === 'absent' || state.status === 'DELETED') throw exportNotFound();
        // Cancels a job still to finish; removes a finished one.
        return open(state)
          ? [{ type: 'ExportCancelled', data: { id: state.id, cancelledAt: command.data.now } }]
          : [{ type: 'ExportDeleted', data: { id: state.id, deletedAt: command.data.now } }];
      case 'ExpireExport':
        if (state.status === 'absent') throw exportNotFound();
        if (state.status !== 'READY' || state.expiresAt > command.data.now) return [];
        return [{ type: 'ExportExpired', data: { id: state.id, expiredAt: command.data.now } }];
      default:
        return assertNever(command);
    }
  },

  evolve(state, event) {
    if (state.status === 'absent' && event.type !== 'ExportRequested') return state;
    const attempt = 'attempt' in state ? state.attempt : 0;
    switch (event.type) {
      case 'ExportRequested':
        return { status: 'PENDING', id: event.data.id, attempt: 0 };
      case 'ExportStarted':
        return { status: 'RUNNING', id: event.data.id, attempt: event.data.attempt };
      case 'ExportCompleted':
        return { status: 'READY', id: event.data.id, attempt: event.data.attempt, blobKey: event.data.blobKey, expiresAt: event.data.expiresAt };
      case 'ExportFailed':
        return { status: 'FAILED', id: event.data.id, attempt: event.data.attempt };
      case 'ExportCancelled':
        return { status: 'CANCELLED', id: event.data.id, attempt };
      case 'ExportExpired':
        return { status: 'EXPIRED', id: event.data.id, attempt };
      case 'ExportDeleted':
        return { status: 'DELETED', id: event.data.id };
      default:
        return assertNever(event);
    }
  },
};
