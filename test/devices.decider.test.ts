import { randomUUID } from 'node:crypto';
import { deviceDecider, deviceStream, type DeviceFields } from '../src/commands/devices/device.decider';
import type { EntityEvent } from '../src/commands/entities/entity.decider';
import { spec } from './support/decider-spec';
import { AT, LATER, aCreate, aDelete, anUpdate, deviceFields } from './support/topology.builders';

type Event = EntityEvent<'Device', DeviceFields>;
const device = spec(deviceDecider);
const created = (id: string, fields = deviceFields()): Event => ({ type: 'DeviceCreated', data: { ...fields, id, createdAt: AT } });
const updated = (id: string, changes: Partial<DeviceFields>): Event => ({ type: 'DeviceUpdated', data: { id, changes, updatedAt: LATER } });
const decommissioned = (id: string): Event => ({ type: 'DeviceDeleted', data: { id, deletedAt: LATER } });

describe('Device', () => {
  it('lives in the stream device-<id>', () => {
    expect(deviceStream('abc')).toBe('device-abc');
  });

  describe('when absent', () => {
    it.each(['PENDING', 'ACTIVE', 'DISABLED'] as const)('creates it as %s', (status) => {
      const id = randomUUID();
      device.given([]).when(aCreate(id, deviceFields({ status }))).then([created(id, deviceFields({ status }))]);
    });

    it('refuses to create it DECOMMISSIONED: only a delete decommissions', () => {
      const fields = { ...deviceFields(), status: 'DECOMMISSIONED' } as unknown as DeviceFields;
      device.given([]).when(aCreate(randomUUID(), fields)).thenThrows({ code: 'UNPROCESSABLE', errors: [{ path: '/body/status' }] });
    });

    it('refuses an update and a decommission with DEVICE_NOT_FOUND (404)', () => {
      device.given([]).when(anUpdate<DeviceFields>(randomUUID(), { name: 'x' })).thenThrows({ code: 'DEVICE_NOT_FOUND', status: 404 });
      device.given([]).when(aDelete(randomUUID())).thenThrows({ code: 'DEVICE_NOT_FOUND', status: 404 });
    });
  });

  describe('when pending', () => {
    const id = randomUUID();
    const history = [created(id)];

    it('activates it', () => {
      device.given(history).when(anUpdate<DeviceFields>(id, { status: 'ACTIVE' })).then([updated(id, { status: 'ACTIVE' })]);
    });

    it('decides nothing when it stays PENDING', () => {
      device.given(history).when(anUpdate<DeviceFields>(id, { status: 'PENDING' })).then([]);
    });
  });

  describe('when active', () => {
    const id = randomUUID();
    const history = [created(id), updated(id, { status: 'ACTIVE' })];

    it('disables it, and enables it again', () => {
      device.given(history).when(anUpdate<DeviceFields>(id, { status: 'DISABLED' })).then([updated(id, { status: 'DISABLED' })]);
      device
        .given([...history, updated(id, { status: 'DISABLED' })])
        .when(anUpdate<DeviceFields>(id, { status: 'ACTIVE' }))
        .then([updated(id, { status: 'ACTIVE' })]);
    });

    it('refuses a return to PENDING (UNPROCESSABLE, 422)', () => {
      device
        .given(history)
        .when(anUpdate<DeviceFields>(id, { status: 'PENDING' }))
        .thenThrows({ code: 'UNPROCESSABLE', errors: [{ path: '/body/status', message: 'cannot return to PENDING' }] });
    });

    it('refuses a DECOMMISSIONED status through an update', () => {
      const changes = { status: 'DECOMMISSIONED' } as unknown as Partial<DeviceFields>;
      device.given(history).when(anUpdate<DeviceFields>(id, changes)).thenThrows({ code: 'UNPROCESSABLE' });
    });

    it('decommissions it with DeviceDeleted', () => {
      device.given(history).when(aDelete(id)).then([decommissioned(id)]);
    });
  });

  describe('when decommissioned', () => {
    const id = randomUUID();
    const history = [created(id), updated(id, { status: 'ACTIVE' }), decommissioned(id)];

    it('refuses any update with DEVICE_DECOMMISSIONED (409), even one that changes nothing', () => {
      device.given(history).when(anUpdate<DeviceFields>(id, { name: 'Revived' })).thenThrows({ code: 'DEVICE_DECOMMISSIONED', status: 409 });
      device.given(history).when(anUpdate<DeviceFields>(id, {})).thenThrows({ code: 'DEVICE_DECOMMISSIONED', status: 409 });
    });

    it('refuses a second decommission with DEVICE_DECOMMISSIONED (409)', () => {
      device.given(history).when(aDelete(id)).thenThrows({ code: 'DEVICE_DECOMMISSIONED', status: 409 });
    });
  });
});
