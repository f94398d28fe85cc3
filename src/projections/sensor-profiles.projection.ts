import { sensorProfileDecider } from '../commands/sensor-profiles/sensor-profile.decider';
import { entityProjection } from './entity.projection';

export const sensorProfilesProjection = entityProjection({
  name: 'sensor-profiles',
  table: 'sensor_profiles',
  decider: sensorProfileDecider,
  columns: {
    name: 'name',
    description: 'description',
    quantity: 'quantity',
    unit: 'unit',
    validRange: 'valid_range',
    expectedIntervalSeconds: 'expected_interval_seconds',
    precision: 'precision',
  },
});
