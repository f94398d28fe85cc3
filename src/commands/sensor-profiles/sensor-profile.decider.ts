import { AppError, NotFoundError } from '../../platform/errors';
import { entityDecider } from '../entities/entity.decider';

export interface SensorProfileFields {
  name: string;
  description: string | null;
  /** e.g. `temperature` */
  quantity: string;
  /** e.g. `°C` */
  unit: string;
  validRange: { min: number; max: number } | null;
  expectedIntervalSeconds: number | null;
  precision: number | null;
}

export const sensorProfileNotFound = (): NotFoundError => new NotFoundError('SENSOR_PROFILE_NOT_FOUND', 'No sensor profile with this id.');

export const sensorProfileDecider = entityDecider<'SensorProfile', SensorProfileFields>('SensorProfile', sensorProfileNotFound, {
  // Checked on the merged fields, so changing only `max` below the stored `min` is refused too.
  check({ validRange }) {
    if (validRange && !(validRange.min < validRange.max)) {
      throw new AppError('UNPROCESSABLE', 'validRange.min must be below validRange.max.', [
        { path: '/body/validRange', message: 'min must be below max' },
      ]);
    }
  },
});

export function sensorProfileStream(id: string): string {
  return `sensorProfile-${id}`;
}
