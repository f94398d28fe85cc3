import { sensorProfileDecider } from '../commands/sensor-profiles/sensor-profile.decider';
import { entityProjection } from './entity.projection';

/** Read-model columns of each field; the API's queries read the same map. */
export const sensorProfileColumns = {
    name: 'name',
    description: 'description',
    quantity: 'quantity',
    unit: 'unit',
    validRange: 'valid_range',
    expectedIntervalSeconds: 'expected_interval_seconds',
    precision: 'precision',
  } as const;

export const sensorProfilesProjection = entityProjection({
  name: 'sensor-profiles',
  table: 'sensor_profiles',
  decider: sensorProfileDecider,
  columns: sensorProfileColumns,
});
