import { sensorProfileNotFound, type SensorProfileFields } from '../../commands/sensor-profiles/sensor-profile.decider';
import { sensorProfileCommands } from '../../commands/sensor-profiles/sensor-profile.handler';
import { entityQueries, equals, textSearch } from '../entity.queries';
import { entityRoutes } from '../entity.routes';
import { sensorProfileColumns } from '../../projections/sensor-profiles.projection';

export interface SensorProfileView extends SensorProfileFields {
  id: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export const sensorProfileQueries = entityQueries<SensorProfileView>({
  table: 'sensor_profiles',
  fields: sensorProfileColumns,
  filters: [textSearch(), equals('quantity', 'quantity')],
});

export const sensorProfileRoutes = entityRoutes<SensorProfileFields, SensorProfileView>({
  collection: '/v1/sensor-profiles',
  tag: 'Profiles',
  singular: 'SensorProfile',
  plural: 'SensorProfiles',
  noun: 'sensor profile',
  schema: 'sensor-profiles',
  commands: sensorProfileCommands,
  queries: sensorProfileQueries,
  notFound: sensorProfileNotFound,
  toFields: (body) => ({
    name: body.name as string,
    description: (body.description as string | null | undefined) ?? null,
    quantity: body.quantity as string,
    unit: body.unit as string,
    validRange: (body.validRange as SensorProfileFields['validRange'] | undefined) ?? null,
    expectedIntervalSeconds: (body.expectedIntervalSeconds as number | null | undefined) ?? null,
    precision: (body.precision as number | null | undefined) ?? null,
  }),
});
