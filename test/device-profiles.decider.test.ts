import { randomUUID } from 'node:crypto';
import {
  DEFAULT_CONFIG_MAX_BYTES,
  deviceProfileDecider,
  deviceProfileStream,
  type DeviceProfileFields,
} from '../src/commands/device-profiles/device-profile.decider';
import type { EntityEvent } from '../src/commands/entities/entity.decider';
import { spec } from './support/decider-spec';
import { AT, LATER, aCreate, anUpdate, deviceProfileFields } from './support/topology.builders';

type Event = EntityEvent<'DeviceProfile', DeviceProfileFields>;
const profile = spec(deviceProfileDecider);
const created = (id: string, fields: DeviceProfileFields): Event => ({ type: 'DeviceProfileCreated', data: { ...fields, id, createdAt: AT } });

describe('DeviceProfile', () => {
  it('lives in the stream deviceProfile-<id>', () => {
    expect(deviceProfileStream('abc')).toBe('deviceProfile-abc');
  });

  describe('when absent', () => {
    it('creates it; a component and a sensor may share a key', () => {
      const id = randomUUID();
      const fields = deviceProfileFields({
        expectedComponents: [{ key: 'cam', kind: 'CAMERA' }],
        expectedSensors: [{ key: 'cam', sensorProfileId: null, unit: 'lx' }],
      });
      profile.given([]).when(aCreate(id, fields)).then([created(id, fields)]);
    });

    it('refuses two expected components with one key, naming the duplicate', () => {
      const fields = deviceProfileFields({
        expectedComponents: [
          { key: 'board', kind: 'BOARD' },
          { key: 'modem', kind: 'MODEM' },
          { key: 'board', kind: 'OTHER' },
        ],
      });
      profile
        .given([])
        .when(aCreate(randomUUID(), fields))
        .thenThrows({ code: 'UNPROCESSABLE', errors: [{ path: '/body/expectedComponents/2/key', message: 'duplicates key board' }] });
    });

    it('refuses two expected sensors with one key', () => {
      const fields = deviceProfileFields({
        expectedSensors: [
          { key: 'temp', sensorProfileId: null, unit: null },
          { key: 'temp', sensorProfileId: null, unit: '°F' },
        ],
      });
      profile.given([]).when(aCreate(randomUUID(), fields)).thenThrows({ code: 'UNPROCESSABLE', status: 422 });
    });

    it('refuses a defaultConfig past 32 KiB as JSON, and takes one just under it', () => {
      const sized = (bytes: number) => ({ blob: 'x'.repeat(bytes - JSON.stringify({ blob: '' }).length) });
      profile
        .given([])
        .when(aCreate(randomUUID(), deviceProfileFields({ defaultConfig: sized(DEFAULT_CONFIG_MAX_BYTES + 1) })))
        .thenThrows({ code: 'UNPROCESSABLE', errors: [{ path: '/body/defaultConfig', message: 'must be at most 32768 bytes as JSON' }] });
      const id = randomUUID();
      const fields = deviceProfileFields({ defaultConfig: sized(DEFAULT_CONFIG_MAX_BYTES) });
      profile.given([]).when(aCreate(id, fields)).then([created(id, fields)]);
    });
  });

  describe('when active', () => {
    const id = randomUUID();
    const history = [created(id, deviceProfileFields({ expectedSensors: [] }))];

    it('replaces the expected sensors', () => {
      const expectedSensors = [{ key: 'hum', sensorProfileId: null, unit: '%' }];
      profile
        .given(history)
        .when(anUpdate<DeviceProfileFields>(id, { expectedSensors }))
        .then([{ type: 'DeviceProfileUpdated', data: { id, changes: { expectedSensors }, updatedAt: LATER } }]);
    });

    it('refuses an update that introduces a duplicate key', () => {
      profile
        .given(history)
        .when(
          anUpdate<DeviceProfileFields>(id, {
            expectedComponents: [
              { key: 'a', kind: 'BOARD' },
              { key: 'a', kind: 'BOARD' },
            ],
          }),
        )
        .thenThrows({ code: 'UNPROCESSABLE' });
    });
  });
});
