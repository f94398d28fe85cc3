import { componentDecider } from '../commands/components/component.decider';
import { entityProjection } from './entity.projection';

export const componentsProjection = entityProjection({
  name: 'components',
  table: 'components',
  decider: componentDecider,
  columns: {
    deviceId: 'device_id',
    key: 'key',
    kind: 'kind',
    name: 'name',
    model: 'model',
    serialNumber: 'serial_number',
    firmwareVersion: 'firmware_version',
  },
  skipUniqueViolations: true,
});
