import { NotFoundError } from '../../platform/errors';
import { entityDecider } from '../entities/entity.decider';

export interface SensorFields {
  deviceId: string;
  componentId: string | null;
  /** The key the device publishes readings under; unique per device. */
  key: string;
  name: string | null;
  sensorProfileId: string | null;
  unit: string | null;
}

export const sensorNotFound = (): NotFoundError => new NotFoundError('SENSOR_NOT_FOUND', 'No sensor with this id.');

/** Devices publish readings by (device, key), so neither may change once readings can exist. */
export const sensorDecider = entityDecider<'Sensor', SensorFields>('Sensor', sensorNotFound, {
  immutable: ['deviceId', 'key'],
});

export function sensorStream(id: string): string {
  return `sensor-${id}`;
}
