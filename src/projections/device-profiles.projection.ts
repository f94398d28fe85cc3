import { deviceProfileDecider } from '../commands/device-profiles/device-profile.decider';
import { entityProjection } from './entity.projection';

/** Read-model columns of each field; the API's queries read the same map. */
export const deviceProfileColumns = {
    name: 'name',
    description: 'description',
    expectedComponents: 'expected_components',
    expectedSensors: 'expected_sensors',
    defaultConfig: 'default_config',
  } as const;

export const deviceProfilesProjection = entityProjection({
  name: 'device-profiles',
  table: 'device_profiles',
  decider: deviceProfileDecider,
  columns: deviceProfileColumns,
});
