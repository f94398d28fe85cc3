import { randomUUID } from 'node:crypto';
import type { EntityEvent } from '../src/commands/entities/entity.decider';
import { sensorDecider, sensorStream, type SensorFields } from '../src/commands/sensors/sensor.decider';
import { spec } from './support/decider-spec';
import { AT, LATER, aCreate, aDelete, anUpdate, sensorFields } from './support/topology.builders';

type Event = EntityEvent<'Sensor', SensorFields>;
const sensor = spec(sensorDecider);

describe('Sensor', () => {
  it('lives in the stream sensor-<id>', () => {
    expect(sensorStream('abc')).toBe('sensor-abc');
  });

  it('creates it with every field', () => {
    const id = randomUUID();
    const fields = sensorFields({ sensorProfileId: randomUUID() });
    sensor.given([]).when(aCreate(id, fields)).then([{ type: 'SensorCreated', data: { ...fields, id, createdAt: AT } }]);
  });

  describe('when active', () => {
    const id = randomUUID();
    const history: Event[] = [{ type: 'SensorCreated', data: { ...sensorFields(), id, createdAt: AT } }];

    it('moves it to a component and changes its unit', () => {
      const componentId = randomUUID();
      sensor
        .given(history)
        .when(anUpdate<SensorFields>(id, { componentId, unit: 'K' }))
        .then([{ type: 'SensorUpdated', data: { id, changes: { componentId, unit: 'K' }, updatedAt: LATER } }]);
    });

    it.each([
      { field: 'deviceId', changes: { deviceId: randomUUID() } },
      { field: 'key', changes: { key: 'temp2' } },
    ])('refuses a change of $field: devices publish readings by (device, key)', ({ field, changes }) => {
      sensor
        .given(history)
        .when(anUpdate<SensorFields>(id, changes))
        .thenThrows({ code: 'UNPROCESSABLE', errors: [{ path: `/body/${field}`, message: 'cannot change' }] });
    });

    it('deletes it; it is then SENSOR_NOT_FOUND', () => {
      sensor.given(history).when(aDelete(id)).then([{ type: 'SensorDeleted', data: { id, deletedAt: LATER } }]);
      sensor
        .given([...history, { type: 'SensorDeleted', data: { id, deletedAt: LATER } }])
        .when(anUpdate<SensorFields>(id, { name: 'x' }))
        .thenThrows({ code: 'SENSOR_NOT_FOUND', status: 404 });
    });
  });
});
