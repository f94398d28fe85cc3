import { AppError, ConflictError, NotFoundError } from '../../platform/errors';
import { entityDecider } from '../entities/entity.decider';

/** Statuses a live device can have; DECOMMISSIONED is the deleted state (DeviceDeleted), never a field value. */
export const LIVE_DEVICE_STATUSES = ['PENDING', 'ACTIVE', 'DISABLED'] as const;
export type LiveDeviceStatus = (typeof LIVE_DEVICE_STATUSES)[number];
export type DeviceStatus = LiveDeviceStatus | 'DECOMMISSIONED';

export interface DeviceFields {
  name: string;
  siteId: string | null;
  deviceProfileId: string | null;
  serialNumber: string | null;
  labels: Record<string, string>;
  tags: string[];
  status: LiveDeviceStatus;
}

export const deviceNotFound = (): NotFoundError => new NotFoundError('DEVICE_NOT_FOUND', 'No device with this id.');
export const deviceDecommissioned = (): ConflictError =>
  new ConflictError('DEVICE_DECOMMISSIONED', 'The device is decommissioned and can no longer be changed.');

/**
 * Devices: PENDING until first activated, then ACTIVE or DISABLED, never
 * back to PENDING. Delete is a decommission: the device stays readable
 * (status DECOMMISSIONED) but every later change is a conflict.
 */
export const deviceDecider = entityDecider<'Device', DeviceFields>('Device', deviceNotFound, {
  check(fields, previous) {
    const status: string = fields.status;
    if (!(LIVE_DEVICE_STATUSES as readonly string[]).includes(status)) {
      throw new AppError('UNPROCESSABLE', `A device cannot be set to ${status}; decommission it with DELETE.`, [
        { path: '/body/status', message: `must be one of ${LIVE_DEVICE_STATUSES.join(', ')}` },
      ]);
    }
    if (previous && previous.status !== 'PENDING' && fields.status === 'PENDING') {
      throw new AppError('UNPROCESSABLE', 'A device that left PENDING does not return to it.', [
        { path: '/body/status', message: 'cannot return to PENDING' },
      ]);
    }
  },
  whenDeleted: deviceDecommissioned,
});

export function deviceStream(id: string): string {
  return `device-${id}`;
}
