import { randomUUID } from 'node:crypto';
import type { ComponentFields } from '../../src/commands/components/component.decider';
import type { DeviceProfileFields } from '../../src/commands/device-profiles/device-profile.decider';
import type { DeviceFields } from '../../src/commands/devices/device.decider';
import type { EntityCommand } from '../../src/commands/entities/entity.decider';
import type { SensorProfileFields } from '../../src/commands/sensor-profiles/sensor-profile.decider';
import type { SensorFields } from '../../src/commands/sensors/sensor.decider';

/** Field builders and entity commands for the decider specs of profiles, devices, components and sensors. */
export const AT = '2025-03-04T05:06:07.000Z';
export const LATER = '2025-04-05T06:07:08.000Z';

export function sensorProfileFields(overrides: Partial<SensorProfileFields> = {}): SensorProfileFields {
  return {
    name: 'Air temperature',
    description: null,
    quantity: 'temperature',
    unit: '°C',
    validRange: { min: -40, max: 85 },
    expectedIntervalSeconds: 60,
    precision: 1,
    ...overrides,
  };
}

export function deviceProfileFields(overrides: Partial<DeviceProfileFields> = {}): DeviceProfileFields {
  return {
    name: 'Weather station',
    description: null,
    expectedComponents: [{ key: 'main-board', kind: 'BOARD' }],
    expectedSensors: [{ key: 'temp', sensorProfileId: randomUUID(), unit: null }],
    defaultConfig: { sampleSeconds: 60 },
    ...overrides,
  };
}

export function deviceFields(overrides: Partial<DeviceFields> = {}): DeviceFields {
  return { name: 'Gateway 1', siteId: null, deviceProfileId: null, serialNumber: 'SN-1', labels: {}, tags: ['roof'], status: 'PENDING', ...overrides };
}

export function componentFields(overrides: Partial<ComponentFields> = {}): ComponentFields {
  return { deviceId: randomUUID(), key: 'main-board', kind: 'BOARD', name: null, model: 'RPi 4', serialNumber: null, firmwareVersion: '1.0.0', ...overrides };
}

export function sensorFields(overrides: Partial<SensorFields> = {}): SensorFields {
  return { deviceId: randomUUID(), componentId: null, key: 'temp', name: 'Temperature', sensorProfileId: null, unit: '°C', ...overrides };
}

export function aCreate<Fields>(id: string, fields: Fields, now = AT): EntityCommand<Fields> {
  return { type: 'Create', data: { id, fields, now } };
}

export function anUpdate<Fields>(id: string, changes: Partial<Fields>, now = LATER): EntityCommand<Fields> {
  return { type: 'Update', data: { id, changes, now } };
}

export function aDelete<Fields>(id: string, now = LATER): EntityCommand<Fields> {
  return { type: 'Delete', data: { id, now } };
}
