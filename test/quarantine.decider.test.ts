import { randomUUID } from 'node:crypto';
import { quarantineDecider } from '../src/commands/quarantine/quarantine.decider';
import { spec } from './support/decider-spec';
import { aDiscardQuarantineEntry, aQuarantineDiscarded, aQuarantineReleased, aReleaseQuarantineEntry } from './support/quarantine.builders';

const quarantine = spec(quarantineDecider);

describe('QuarantineEntry', () => {
  describe('when quarantined (no decision yet)', () => {
    it('releases it, stamped with the command time', () => {
      const quarantineId = randomUUID();
      const deviceId = randomUUID();
      quarantine
        .given([])
        .when(aReleaseQuarantineEntry({ quarantineId, deviceId, now: '2025-03-03T00:00:00.000Z' }))
        .then([aQuarantineReleased({ quarantineId, deviceId, releasedAt: '2025-03-03T00:00:00.000Z' })]);
    });

    it('discards it with the note, stamped with the command time', () => {
      const quarantineId = randomUUID();
      const deviceId = randomUUID();
      quarantine
        .given([])
        .when(aDiscardQuarantineEntry({ quarantineId, deviceId, note: 'sensor was miswired', now: '2025-03-03T00:00:00.000Z' }))
        .then([aQuarantineDiscarded({ quarantineId, deviceId, note: 'sensor was miswired', discardedAt: '2025-03-03T00:00:00.000Z' })]);
    });

    it('keeps a whole message’s entry, which has no device only if the row had none', () => {
      const quarantineId = randomUUID();
      quarantine
        .given([])
        .when(aDiscardQuarantineEntry({ quarantineId, deviceId: null }))
        .then([aQuarantineDiscarded({ quarantineId, deviceId: null })]);
    });
  });

  describe('when released', () => {
    const quarantineId = randomUUID();
    const history = [aQuarantineReleased({ quarantineId })];

    it('refuses a second release with QUARANTINE_ENTRY_RESOLVED (409)', () => {
      quarantine.given(history).when(aReleaseQuarantineEntry({ quarantineId })).thenThrows({ code: 'QUARANTINE_ENTRY_RESOLVED', status: 409 });
    });

    it('refuses a discard with QUARANTINE_ENTRY_RESOLVED (409): the release is final', () => {
      quarantine.given(history).when(aDiscardQuarantineEntry({ quarantineId })).thenThrows({ code: 'QUARANTINE_ENTRY_RESOLVED', status: 409 });
    });
  });

  describe('when discarded', () => {
    const quarantineId = randomUUID();
    const history = [aQuarantineDiscarded({ quarantineId })];

    it('refuses a release with QUARANTINE_ENTRY_RESOLVED (409): the discard is final', () => {
      quarantine.given(history).when(aReleaseQuarantineEntry({ quarantineId })).thenThrows({ code: 'QUARANTINE_ENTRY_RESOLVED', status: 409 });
    });

    it('refuses a second discard with QUARANTINE_ENTRY_RESOLVED (409)', () => {
      quarantine.given(history).when(aDiscardQuarantineEntry({ quarantineId })).thenThrows({ code: 'QUARANTINE_ENTRY_RESOLVED', status: 409 });
    });

    it('keeps the first decision should a second event ever be in the stream', () => {
      const state = [aQuarantineDiscarded({ discardedAt: '2025-01-01T00:00:00.000Z' }), aQuarantineReleased()].reduce(
        (s, e) => quarantineDecider.evolve(s, e),
        quarantineDecider.initialState,
      );
      expect(state).toEqual({ status: 'DISCARDED', at: '2025-01-01T00:00:00.000Z' });
    });
  });
});
