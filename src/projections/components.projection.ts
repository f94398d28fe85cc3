import { componentDecider } from '../commands/components/component.decider';
import { entityProjection } from './entity.projection';

/** Read-model columns of each field; the API's queries read the same map. */
export const componentColumns = {
    deviceId: 'device_id',
    key: 'key',
    kind: 'kind',
    name: 'name',
    model: 'model',
    serialNumber: 'serial_number',
    firmwareVersion: 'firmware_version',
  } as const;

export const componentsProjection = entityProjection({
  name: 'components',
  table: 'components',
  decider: componentDecider,
  columns: componentColumns,
  skipUniqueViolations: true,
});
