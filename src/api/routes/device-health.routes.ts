import { NotFoundError } from '../../platform/errors';
import { defineRoutes } from '../route';
import { findDeviceHealth } from './device-health.queries';

export const deviceHealthRoutes = defineRoutes([
  {
    method: 'get',
    path: '/v1/devices/{id}/health',
    operationId: 'getDeviceHealth',
    summary: 'Connectivity and heartbeat health of a device',
    tag: 'Devices',
    auth: 'viewer',
    responses: { 200: 'device-health#/$defs/DeviceHealth' },
    async handler(ctx) {
      const id = ctx.params.id as string;
      const health = await ctx.tenant(async (tx) => {
        const { rowCount } = await tx.query('SELECT 1 FROM devices WHERE id = $1', [id]);
        return rowCount === 1 ? findDeviceHealth(tx, id) : undefined;
      });
      if (!health) throw new NotFoundError('DEVICE_NOT_FOUND', 'No device with this id.');
      return { status: 200, body: health };
    },
  },
]);
