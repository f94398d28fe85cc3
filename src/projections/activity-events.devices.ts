import type { DeviceCertificateEvent } from '../commands/device-certificates/device-certificate.events';
import type { DeviceFields } from '../commands/devices/device.decider';
import type { EntityEvent } from '../commands/entities/entity.decider';
import type { ReadingsEvent } from '../ingest/readings/readings.events';
import type { Subject } from './activity-events.directory';
import { label, type ActivityEntry, type ActivityHandlers } from './activity-events.entry';

type DeviceEvent = EntityEvent<'Device', DeviceFields>;

const day = (iso: string): string => iso.slice(0, 10);

function aboutDevice(deviceId: string, device: Subject | undefined): Pick<ActivityEntry, 'deviceId' | 'siteId'> {
  return { deviceId, siteId: device?.siteId ?? null };
}

/** Devices' own life: created, changed, status, decommissioned. */
export const deviceHandlers: ActivityHandlers<DeviceEvent> = {
  async DeviceCreated({ data }, { recorded, directory }) {
    const site = data.siteId ? await directory.find('SITE', data.siteId) : undefined;
    await directory.remember('DEVICE', data.id, recorded.revision, { name: data.name, deviceId: data.id, siteId: data.siteId, facts: { status: data.status } });
    return {
      type: 'DEVICE_CREATED',
      occurredAt: data.createdAt,
      deviceId: data.id,
      siteId: data.siteId,
      subject: { type: 'DEVICE', id: data.id },
      summary: `Device '${data.name}' created${data.siteId ? ` at ${label('site', site, data.siteId)}` : ''}`,
      data: { name: data.name, serialNumber: data.serialNumber, status: data.status },
    };
  },

  async DeviceUpdated({ data }, { recorded, directory }) {
    const { id, changes } = data;
    const device = await directory.find('DEVICE', id);
    const siteId = changes.siteId !== undefined ? changes.siteId : (device?.siteId ?? null);
    await directory.change('DEVICE', id, recorded.revision, device, {
      ...(changes.name !== undefined ? { name: changes.name } : {}),
      siteId,
      ...(changes.status !== undefined ? { facts: { status: changes.status } } : {}),
    });
    const fields = Object.keys(changes).sort();
    const base = { occurredAt: data.updatedAt, deviceId: id, siteId, subject: { type: 'DEVICE', id } } as const;
    const who = label('Device', device, id);
    if (changes.status !== undefined) {
      const previous = typeof device?.facts.status === 'string' ? device.facts.status : null;
      // Provisioning activates the device as the device itself: DEVICE_PROVISIONED already says so.
      if (recorded.metadata.actor.startsWith('device:') && fields.length === 1) return null;
      const others = fields.filter((f) => f !== 'status');
      return {
        ...base,
        type: 'DEVICE_STATUS_CHANGED',
        summary: `${who} is now ${changes.status}${previous ? ` (was ${previous})` : ''}${others.length > 0 ? `; also updated: ${others.join(', ')}` : ''}`,
        data: { status: changes.status, previousStatus: previous, fields },
      };
    }
    if (fields.length === 1 && changes.name !== undefined) {
      return { ...base, type: 'DEVICE_UPDATED', summary: `${who} renamed to '${changes.name}'`, data: { fields, name: changes.name } };
    }
    if (fields.length === 1 && changes.siteId !== undefined) {
      const where = changes.siteId ? `moved to ${label('site', await directory.find('SITE', changes.siteId), changes.siteId)}` : 'taken off its site';
      return { ...base, type: 'DEVICE_UPDATED', summary: `${who} ${where}`, data: { fields, siteId: changes.siteId } };
    }
    return { ...base, type: 'DEVICE_UPDATED', summary: `${who} updated: ${fields.join(', ')}`, data: { fields } };
  },

  async DeviceDeleted({ data }, { recorded, directory }) {
    const device = await directory.find('DEVICE', data.id);
    await directory.change('DEVICE', data.id, recorded.revision, device, { facts: { status: 'DECOMMISSIONED' } });
    return {
      type: 'DEVICE_DECOMMISSIONED',
      occurredAt: data.deletedAt,
      ...aboutDevice(data.id, device),
      subject: { type: 'DEVICE', id: data.id },
      summary: `${label('Device', device, data.id)} decommissioned`,
      data: {},
    };
  },
};

/** Certificates: issued at provisioning (the device's provisioning), renewed, revoked. */
export const certificateHandlers: ActivityHandlers<DeviceCertificateEvent> = {
  async DeviceCertificateIssued({ data }, { directory }) {
    const device = await directory.find('DEVICE', data.deviceId);
    const who = label('device', device, data.deviceId);
    if ('tokenId' in data) {
      return {
        type: 'DEVICE_PROVISIONED',
        occurredAt: data.issuedAt,
        ...aboutDevice(data.deviceId, device),
        subject: { type: 'DEVICE', id: data.deviceId },
        summary: `${label('Device', device, data.deviceId)} provisioned with certificate ${data.serialNumber}, valid until ${day(data.notAfter)}`,
        data: { serialNumber: data.serialNumber, notAfter: data.notAfter, tokenId: data.tokenId },
      };
    }
    return {
      type: 'CERTIFICATE_RENEWED',
      occurredAt: data.issuedAt,
      ...aboutDevice(data.deviceId, device),
      subject: { type: 'CERTIFICATE', id: data.serialNumber },
      summary: `Certificate ${data.serialNumber} issued to ${who} on renewal, valid until ${day(data.notAfter)}`,
      data: { serialNumber: data.serialNumber, notAfter: data.notAfter, replaces: data.renewal.replaces },
    };
  },

  async DeviceCertificateRevoked({ data }, { directory }) {
    const device = await directory.find('DEVICE', data.deviceId);
    return {
      type: 'CERTIFICATE_REVOKED',
      occurredAt: data.revokedAt,
      ...aboutDevice(data.deviceId, device),
      subject: { type: 'CERTIFICATE', id: data.serialNumber },
      summary: `Certificate ${data.serialNumber} of ${label('device', device, data.deviceId)} revoked (${data.reason})`,
      data: { serialNumber: data.serialNumber, reason: data.reason, ...(data.supersededBy ? { supersededBy: data.supersededBy } : {}) },
    };
  },
};

/** The readings path: lost messages, and an admin's decisions on quarantined readings. */
export const readingsHandlers: ActivityHandlers<ReadingsEvent> = {
  async ReadingsSequenceGap({ data }, { directory }) {
    const device = await directory.find('DEVICE', data.deviceId);
    const range = data.fromSeq === data.toSeq ? `sequence number ${data.fromSeq}` : `sequence numbers ${data.fromSeq}–${data.toSeq}`;
    return {
      type: 'READINGS_SEQUENCE_GAP',
      occurredAt: data.detectedAt,
      ...aboutDevice(data.deviceId, device),
      subject: { type: 'DEVICE', id: data.deviceId },
      summary: `${label('Device', device, data.deviceId)} lost ${data.missing} message${data.missing === 1 ? '' : 's'} (${range})`,
      data: { fromSeq: data.fromSeq, toSeq: data.toSeq, missing: data.missing },
    };
  },

  async QuarantineReleased({ data }, { directory }) {
    const device = data.deviceId ? await directory.find('DEVICE', data.deviceId) : undefined;
    return {
      type: 'QUARANTINE_RELEASED',
      occurredAt: data.releasedAt,
      ...(data.deviceId ? aboutDevice(data.deviceId, device) : { deviceId: null, siteId: null }),
      subject: { type: 'QUARANTINE_ENTRY', id: data.quarantineId },
      summary: `Quarantined reading${data.deviceId ? ` of ${label('device', device, data.deviceId)}` : ''} released into the readings`,
      data: { quarantineId: data.quarantineId },
    };
  },

  async QuarantineDiscarded({ data }, { directory }) {
    const device = data.deviceId ? await directory.find('DEVICE', data.deviceId) : undefined;
    return {
      type: 'QUARANTINE_DISCARDED',
      occurredAt: data.discardedAt,
      ...(data.deviceId ? aboutDevice(data.deviceId, device) : { deviceId: null, siteId: null }),
      subject: { type: 'QUARANTINE_ENTRY', id: data.quarantineId },
      summary: `Quarantined reading${data.deviceId ? ` of ${label('device', device, data.deviceId)}` : ''} discarded${data.note ? `: ${data.note}` : ''}`,
      data: { quarantineId: data.quarantineId, note: data.note },
    };
  },
};
