import { deviceDecider } from '../commands/devices/device.decider';
import { entityProjection } from './entity.projection';

/** DeviceDeleted is a decommission: the row stays, marked DECOMMISSIONED. */
/** Read-model columns of each field; the API's queries read the same map. */
export const deviceColumns = {
    name: 'name',
    siteId: 'site_id',
    deviceProfileId: 'device_profile_id',
    serialNumber: 'serial_number',
    labels: 'labels',
    tags: 'tags',
    status: 'status',
  } as const;

export const devicesProjection = entityProjection({
  name: 'devices',
  table: 'devices',
  decider: deviceDecider,
  columns: deviceColumns,
  softDelete: { column: 'decommissioned_at', set: { status: 'DECOMMISSIONED' } },
  skipUniqueViolations: true,
});
