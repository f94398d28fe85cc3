import { deviceProfileNotFound, type DeviceProfileFields } from '../../commands/device-profiles/device-profile.decider';
import { deviceProfileCommands } from '../../commands/device-profiles/device-profile.handler';
import { entityQueries, textSearch, unknownReferences } from '../entity.queries';
import { entityRoutes } from '../entity.routes';
import { sensorProfileQueries } from './sensor-profiles.routes';
import { deviceProfileColumns } from '../../projections/device-profiles.projection';

export interface DeviceProfileView extends DeviceProfileFields {
  id: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export const deviceProfileQueries = entityQueries<DeviceProfileView>({
  table: 'device_profiles',
  fields: deviceProfileColumns,
  filters: [textSearch()],
});

export const deviceProfileRoutes = entityRoutes<DeviceProfileFields, DeviceProfileView>({
  collection: '/v1/device-profiles',
  tag: 'Profiles',
  singular: 'DeviceProfile',
  plural: 'DeviceProfiles',
  noun: 'device profile',
  schema: 'device-profiles',
  commands: deviceProfileCommands,
  queries: deviceProfileQueries,
  notFound: deviceProfileNotFound,
  toFields: (body) => ({
    name: body.name as string,
    description: (body.description as string | null | undefined) ?? null,
    expectedComponents: (body.expectedComponents as DeviceProfileFields['expectedComponents'] | undefined) ?? [],
    expectedSensors: (body.expectedSensors as DeviceProfileFields['expectedSensors'] | undefined) ?? [],
    defaultConfig: (body.defaultConfig as DeviceProfileFields['defaultConfig'] | undefined) ?? {},
  }),
  references: (tx, fields) =>
    unknownReferences(
      tx,
      sensorProfileQueries,
      (fields.expectedSensors ?? []).map((sensor, i) => ({ path: `/body/expectedSensors/${i}/sensorProfileId`, id: sensor.sensorProfileId })),
    ),
});
