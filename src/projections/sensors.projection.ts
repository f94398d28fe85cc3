import { sensorDecider } from '../commands/sensors/sensor.decider';
import { entityProjection } from './entity.projection';

export const sensorsProjection = entityProjection({
  name: 'sensors',
  table: 'sensors',
  decider: sensorDecider,
  columns: {
    deviceId: 'device_id',
    componentId: 'component_id',
    key: 'key',
    name: 'name',
    sensorProfileId: 'sensor_profile_id',
    unit: 'unit',
  },
  skipUniqueViolations: true,
});
