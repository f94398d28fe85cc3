import { deviceProfileDecider } from '../commands/device-profiles/device-profile.decider';
import { entityProjection } from './entity.projection';

export const deviceProfilesProjection = entityProjection({
  name: 'device-profiles',
  table: 'device_profiles',
  decider: deviceProfileDecider,
  columns: {
    name: 'name',
    description: 'description',
    expectedComponents: 'expected_components',
    expectedSensors: 'expected_sensors',
    defaultConfig: 'default_config',
  },
});
