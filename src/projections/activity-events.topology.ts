import type { DeviceGroupEvent } from '../commands/device-groups/device-group.decider';
import type { EntityEvent } from '../commands/entities/entity.decider';
import type { SensorFields } from '../commands/sensors/sensor.decider';
import type { SiteFields } from '../commands/sites/site.decider';
import { label, sensorKey, type ActivityHandlers } from './activity-events.entry';

type SiteEvent = EntityEvent<'Site', SiteFields>;
type SensorEvent = EntityEvent<'Sensor', SensorFields>;

/** Sites appear and go; a rename only changes how later sentences name them. */
export const siteHandlers: ActivityHandlers<SiteEvent> = {
  async SiteCreated({ data }, { recorded, directory }) {
    await directory.remember('SITE', data.id, recorded.revision, { name: data.name, deviceId: null, siteId: data.id, facts: {} });
    return {
      type: 'SITE_CREATED',
      occurredAt: data.createdAt,
      deviceId: null,
      siteId: data.id,
      subject: { type: 'SITE', id: data.id },
      summary: `Site '${data.name}' created`,
      data: { name: data.name, timezone: data.timezone },
    };
  },

  async SiteUpdated({ data }, { recorded, directory }) {
    if (data.changes.name !== undefined) {
      await directory.change('SITE', data.id, recorded.revision, await directory.find('SITE', data.id), { name: data.changes.name });
    }
    return null;
  },

  async SiteDeleted({ data }, { directory }) {
    const site = await directory.find('SITE', data.id);
    return {
      type: 'SITE_DELETED',
      occurredAt: data.deletedAt,
      deviceId: null,
      siteId: data.id,
      subject: { type: 'SITE', id: data.id },
      summary: `${label('Site', site, data.id)} deleted`,
      data: {},
    };
  },
};

/** Sensors are named by their key, the name readings and alerts use. */
export const sensorHandlers: ActivityHandlers<SensorEvent> = {
  async SensorCreated({ data }, { recorded, directory }) {
    const device = await directory.find('DEVICE', data.deviceId);
    await directory.remember('SENSOR', data.id, recorded.revision, { name: data.key, deviceId: data.deviceId, siteId: null, facts: {} });
    return {
      type: 'SENSOR_CREATED',
      occurredAt: data.createdAt,
      deviceId: data.deviceId,
      siteId: device?.siteId ?? null,
      subject: { type: 'SENSOR', id: data.id },
      summary: `Sensor ${data.key} added to ${label('device', device, data.deviceId)}`,
      data: { key: data.key, name: data.name, unit: data.unit },
    };
  },

  async SensorDeleted({ data }, { directory }) {
    const sensor = await directory.find('SENSOR', data.id);
    const device = sensor?.deviceId ? await directory.find('DEVICE', sensor.deviceId) : undefined;
    const from = sensor?.deviceId ? ` from ${label('device', device, sensor.deviceId)}` : '';
    return {
      type: 'SENSOR_DELETED',
      occurredAt: data.deletedAt,
      deviceId: sensor?.deviceId ?? null,
      siteId: device?.siteId ?? null,
      subject: { type: 'SENSOR', id: data.id },
      summary: `Sensor ${sensorKey(sensor, data.id)} removed${from}`,
      data: { key: sensor?.name ?? null },
    };
  },
};

/** Groups make no entries of their own: their names are what bindings to them are told by. */
export const deviceGroupHandlers: ActivityHandlers<DeviceGroupEvent> = {
  async DeviceGroupCreated({ data }, { recorded, directory }) {
    await directory.remember('DEVICE_GROUP', data.id, recorded.revision, { name: data.name, deviceId: null, siteId: null, facts: {} });
    return null;
  },

  async DeviceGroupUpdated({ data }, { recorded, directory }) {
    if (data.changes.name !== undefined) {
      await directory.change('DEVICE_GROUP', data.id, recorded.revision, await directory.find('DEVICE_GROUP', data.id), { name: data.changes.name });
    }
    return null;
  },
};
