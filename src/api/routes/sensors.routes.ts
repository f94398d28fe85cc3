import { sensorNotFound, type SensorFields } from '../../commands/sensors/sensor.decider';
import { sensorCommands } from '../../commands/sensors/sensor.handler';
import type { Queryable } from '../../platform/db/pool';
import { ConflictError, type FieldError } from '../../platform/errors';
import { entityQueries, equals, unknownReferences } from '../entity.queries';
import { entityRoutes } from '../entity.routes';
import { componentOfDeviceErrors } from './components.routes';
import { liveDeviceErrors } from './devices.queries';
import { sensorProfileQueries } from './sensor-profiles.routes';
import { sensorColumns } from '../../projections/sensors.projection';

export interface SensorView extends SensorFields {
  id: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export const sensorQueries = entityQueries<SensorView>({
  table: 'sensors',
  fields: sensorColumns,
  filters: [equals('deviceId', 'device_id'), equals('componentId', 'component_id'), equals('sensorProfileId', 'sensor_profile_id')],
});

async function keyTaken(db: Queryable, deviceId: string, key: string): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM sensors WHERE device_id = $1::uuid AND key = $2', [deviceId, key]);
  return rows.length > 0;
}

/** The component must sit on the sensor's device: the one in the body on create, the stored one on update. */
async function componentErrors(db: Queryable, componentId: string, deviceId: string | undefined, sensorId: string | undefined): Promise<FieldError[]> {
  let device = deviceId;
  if (device === undefined && sensorId !== undefined) device = (await sensorQueries.find(db, sensorId))?.deviceId;
  // Update of a sensor the caller cannot see: the same 404 as the command would give.
  if (device === undefined) throw sensorNotFound();
  return componentOfDeviceErrors(db, '/body/componentId', componentId, device);
}

export const sensorRoutes = entityRoutes<SensorFields, SensorView>({
  collection: '/v1/sensors',
  tag: 'Devices',
  singular: 'Sensor',
  plural: 'Sensors',
  schema: 'sensors',
  commands: sensorCommands,
  queries: sensorQueries,
  notFound: sensorNotFound,
  toFields: (body) => ({
    deviceId: body.deviceId as string,
    componentId: (body.componentId as string | null | undefined) ?? null,
    key: body.key as string,
    name: (body.name as string | null | undefined) ?? null,
    sensorProfileId: (body.sensorProfileId as string | null | undefined) ?? null,
    unit: (body.unit as string | null | undefined) ?? null,
  }),
  async references(tx, fields, id) {
    const device = await liveDeviceErrors(tx, '/body/deviceId', fields.deviceId);
    // A component is judged against a device that passed its own check.
    const { componentId } = fields;
    const component = typeof componentId === 'string' && device.length === 0 ? await componentErrors(tx, componentId, fields.deviceId, id) : [];
    const profile = await unknownReferences(tx, sensorProfileQueries, [{ path: '/body/sensorProfileId', id: fields.sensorProfileId }]);
    return [...device, ...component, ...profile];
  },
  // deviceId and key are set only at creation, so only a create can claim a key.
  async conflicts(tx, { deviceId, key }) {
    if (deviceId === undefined || key === undefined || !(await keyTaken(tx, deviceId, key))) return undefined;
    return new ConflictError('SENSOR_KEY_TAKEN', 'The device already has a sensor with this key.');
  },
  // A sensor given a profile but no unit measures in the profile's unit.
  async complete(tx, fields) {
    if (fields.unit !== null || fields.sensorProfileId === null) return fields;
    const profile = await sensorProfileQueries.find(tx, fields.sensorProfileId);
    return { ...fields, unit: profile?.unit ?? null };
  },
});
