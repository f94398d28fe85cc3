import type { QuarantineDiscarded, QuarantineReleased } from '../../ingest/readings/readings.events';
import { ConflictError, NotFoundError } from '../../platform/errors';
import { assertNever, type Decider } from '../decider';

/**
 * The life of a quarantined reading after the ingest path wrote it:
 * QUARANTINED → RELEASED | DISCARDED, both final. The quarantining itself is
 * no event (the ingest writes the row), so a stream begins with the admin's
 * decision and an absent stream is a quarantined entry.
 */
export type QuarantineEvent = QuarantineReleased | QuarantineDiscarded;

export type QuarantineCommand =
  | { type: 'ReleaseQuarantineEntry'; data: { quarantineId: string; deviceId: string | null; now: string } }
  | { type: 'DiscardQuarantineEntry'; data: { quarantineId: string; deviceId: string | null; note: string | null; now: string } };

export type QuarantineState = { status: 'QUARANTINED' } | { status: 'RELEASED'; at: string } | { status: 'DISCARDED'; at: string };

/** The one 404 for an entry: a missing id and another organization's id answer alike. */
export const quarantineEntryNotFound = (): NotFoundError => new NotFoundError('QUARANTINE_ENTRY_NOT_FOUND', 'No quarantined reading with this id.');

export const quarantineEntryResolved = (status: 'RELEASED' | 'DISCARDED'): ConflictError =>
  new ConflictError('QUARANTINE_ENTRY_RESOLVED', `The entry is already ${status}; a decision on it is final.`);

export const quarantineDecider: Decider<QuarantineCommand, QuarantineEvent, QuarantineState> = {
  initialState: { status: 'QUARANTINED' },

  decide(command, state) {
    if (state.status !== 'QUARANTINED') throw quarantineEntryResolved(state.status);
    switch (command.type) {
      case 'ReleaseQuarantineEntry': {
        const { now, ...data } = command.data;
        return [{ type: 'QuarantineReleased', data: { ...data, releasedAt: now } }];
      }
      case 'DiscardQuarantineEntry': {
        const { now, ...data } = command.data;
        return [{ type: 'QuarantineDiscarded', data: { ...data, discardedAt: now } }];
      }
      default:
        return assertNever(command);
    }
  },

  evolve(state, event) {
    // The first decision stands; the decider never appends a second one.
    if (state.status !== 'QUARANTINED') return state;
    switch (event.type) {
      case 'QuarantineReleased':
        return { status: 'RELEASED', at: event.data.releasedAt };
      case 'QuarantineDiscarded':
        return { status: 'DISCARDED', at: event.data.discardedAt };
      default:
        return assertNever(event);
    }
  },
};
