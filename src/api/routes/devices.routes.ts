import { deviceNotFound, type DeviceFields } from '../../commands/devices/device.decider';
import { deviceCommands } from '../../commands/devices/device.handler';
import { ConflictError } from '../../platform/errors';
import { unknownReferences } from '../entity.queries';
import { entityRoutes } from '../entity.routes';
import { revokingOnDecommission } from './device-decommission.routes';
import { deviceProfileQueries } from './device-profiles.routes';
import { deviceQueries, serialTaken, type DeviceView } from './devices.queries';
import { siteQueries } from './sites.routes';

// DELETE also revokes the device's certificates and unused tokens (device-decommission.routes.ts).
export const deviceRoutes = revokingOnDecommission(entityRoutes<DeviceFields, DeviceView>({
  collection: '/v1/devices',
  tag: 'Devices',
  singular: 'Device',
  plural: 'Devices',
  schema: 'devices',
  commands: deviceCommands,
  queries: deviceQueries,
  notFound: deviceNotFound,
  newView: { decommissionedAt: null },
  deleteSummary: 'Decommission a device: it stays readable as DECOMMISSIONED, leaves lists and can no longer change (If-Match supported)',
  toFields: (body) => ({
    name: body.name as string,
    siteId: (body.siteId as string | null | undefined) ?? null,
    deviceProfileId: (body.deviceProfileId as string | null | undefined) ?? null,
    serialNumber: (body.serialNumber as string | null | undefined) ?? null,
    labels: (body.labels as Record<string, string> | undefined) ?? {},
    tags: (body.tags as string[] | undefined) ?? [],
    status: (body.status as DeviceFields['status'] | undefined) ?? 'PENDING',
  }),
  async references(tx, fields) {
    return [
      ...(await unknownReferences(tx, siteQueries, [{ path: '/body/siteId', id: fields.siteId }])),
      ...(await unknownReferences(tx, deviceProfileQueries, [{ path: '/body/deviceProfileId', id: fields.deviceProfileId }])),
    ];
  },
  // Checked in the read model under RLS: the unique (org_id, serial_number) there only guards the projection.
  async conflicts(tx, fields, id) {
    if (typeof fields.serialNumber !== 'string' || !(await serialTaken(tx, fields.serialNumber, id))) return undefined;
    return new ConflictError('DEVICE_SERIAL_TAKEN', 'Another device of the organization has this serial number.');
  },
}));
