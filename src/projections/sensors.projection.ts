import { sensorDecider } from '../commands/sensors/sensor.decider';
import { entityProjection } from './entity.projection';

/** Read-model columns of each field; the API's queries read the same map. */
export const sensorColumns = {
    deviceId: 'device_id',
    componentId: 'component_id',
    key: 'key',
    name: 'name',
    sensorProfileId: 'sensor_profile_id',
    unit: 'unit',
  } as const;

export const sensorsProjection = entityProjection({
  name: 'sensors',
  table: 'sensors',
  decider: sensorDecider,
  columns: sensorColumns,
  skipUniqueViolations: true,
});
