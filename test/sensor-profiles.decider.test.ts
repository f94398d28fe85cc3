import { randomUUID } from 'node:crypto';
import { sensorProfileDecider, sensorProfileStream, type SensorProfileFields } from '../src/commands/sensor-profiles/sensor-profile.decider';
import type { EntityEvent } from '../src/commands/entities/entity.decider';
import { spec } from './support/decider-spec';
import { AT, LATER, aCreate, aDelete, anUpdate, sensorProfileFields } from './support/topology.builders';

type Event = EntityEvent<'SensorProfile', SensorProfileFields>;
const profile = spec(sensorProfileDecider);
const created = (id: string, fields = sensorProfileFields()): Event => ({ type: 'SensorProfileCreated', data: { ...fields, id, createdAt: AT } });

describe('SensorProfile', () => {
  it('lives in the stream sensorProfile-<id>', () => {
    expect(sensorProfileStream('abc')).toBe('sensorProfile-abc');
  });

  describe('when absent', () => {
    it('creates it with every field', () => {
      const id = randomUUID();
      profile.given([]).when(aCreate(id, sensorProfileFields())).then([created(id)]);
    });

    it('accepts a profile without a valid range', () => {
      const id = randomUUID();
      const fields = sensorProfileFields({ validRange: null });
      profile.given([]).when(aCreate(id, fields)).then([created(id, fields)]);
    });

    it.each([
      { name: 'min equal to max', validRange: { min: 5, max: 5 } },
      { name: 'min above max', validRange: { min: 10, max: -10 } },
    ])('refuses a valid range with $name (UNPROCESSABLE, 422)', ({ validRange }) => {
      profile
        .given([])
        .when(aCreate(randomUUID(), sensorProfileFields({ validRange })))
        .thenThrows({ code: 'UNPROCESSABLE', status: 422, errors: [{ path: '/body/validRange', message: 'min must be below max' }] });
    });
  });

  describe('when active', () => {
    const id = randomUUID();
    const history = [created(id, sensorProfileFields({ validRange: { min: 0, max: 100 } }))];

    it('changes the valid range', () => {
      profile
        .given(history)
        .when(anUpdate<SensorProfileFields>(id, { validRange: { min: 0, max: 50 } }))
        .then([{ type: 'SensorProfileUpdated', data: { id, changes: { validRange: { min: 0, max: 50 } }, updatedAt: LATER } }]);
    });

    it('checks the range against the stored fields, so a new max below the stored min is refused', () => {
      profile
        .given(history)
        .when(anUpdate<SensorProfileFields>(id, { validRange: { min: 0, max: -1 } }))
        .thenThrows({ code: 'UNPROCESSABLE' });
    });

    it('deletes it; it is then SENSOR_PROFILE_NOT_FOUND', () => {
      profile.given(history).when(aDelete(id)).then([{ type: 'SensorProfileDeleted', data: { id, deletedAt: LATER } }]);
      profile
        .given([...history, { type: 'SensorProfileDeleted', data: { id, deletedAt: LATER } }])
        .when(anUpdate<SensorProfileFields>(id, { name: 'x' }))
        .thenThrows({ code: 'SENSOR_PROFILE_NOT_FOUND', status: 404 });
    });
  });
});
