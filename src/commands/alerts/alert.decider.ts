import { ConflictError, NotFoundError } from '../../platform/errors';
import { assertNever, type Decider } from '../decider';
import type { AlertEvent, AlertFacts, AlertReading, AlertResolved } from './alert.events';

/** The (rule, sensor) stream: the alert open now, if any. */
export interface AlertState {
  readonly open: (AlertFacts & { status: 'OPEN' | 'ACKNOWLEDGED' }) | null;
  /** Ids of every alert the stream has held. */
  readonly ids: readonly string[];
}

export type AlertCommand =
  | { type: 'RaiseAlert'; data: { facts: AlertFacts; message: string; reading: AlertReading | null; now: string } }
  | { type: 'AcknowledgeAlert'; data: { alertId: string; note: string | null; now: string } }
  | { type: 'ResolveAlert'; data: { reason: AlertResolved['data']['reason']; reading: AlertReading | null; now: string } };

export const alertNotFound = (): NotFoundError => new NotFoundError('ALERT_NOT_FOUND', 'No alert with this id.');

export const alertDecider: Decider<AlertCommand, AlertEvent, AlertState> = {
  initialState: { open: null, ids: [] },

  decide(command, state) {
    switch (command.type) {
      case 'RaiseAlert': {
        // One open alert per (rule, sensor): an evaluator that lost a race finds it open and does nothing.
        if (state.open) return [];
        const { facts, message, reading, now } = command.data;
        return [{ type: 'AlertRaised', data: { ...facts, message, reading, raisedAt: now } }];
      }
      case 'AcknowledgeAlert': {
        const { alertId, note, now } = command.data;
        if (!state.ids.includes(alertId)) throw alertNotFound();
        if (state.open?.id !== alertId) throw new ConflictError('ALERT_RESOLVED', 'The alert is resolved; there is nothing to acknowledge.');
        if (state.open.status === 'ACKNOWLEDGED') return [];
        const { status: _status, ...facts } = state.open;
        return [{ type: 'AlertAcknowledged', data: { ...facts, note, acknowledgedAt: now } }];
      }
      case 'ResolveAlert': {
        if (!state.open) return [];
        const { status: _status, ...facts } = state.open;
        const { reason, reading, now } = command.data;
        return [{ type: 'AlertResolved', data: { ...facts, reason, reading, resolvedAt: now } }];
      }
      default:
        return assertNever(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'AlertRaised': {
        const { message: _m, reading: _r, raisedAt: _at, ...facts } = event.data;
        return { open: { ...facts, status: 'OPEN' }, ids: [...state.ids, facts.id] };
      }
      case 'AlertAcknowledged':
        return state.open ? { ...state, open: { ...state.open, status: 'ACKNOWLEDGED' } } : state;
      case 'AlertResolved':
        return { ...state, open: null };
      default:
        return assertNever(event);
    }
  },
};
