import { componentNotFound, type ComponentFields } from '../../commands/components/component.decider';
import { componentCommands } from '../../commands/components/component.handler';
import type { Queryable } from '../../platform/db/pool';
import { ConflictError, type FieldError } from '../../platform/errors';
import { entityQueries, equals } from '../entity.queries';
import { entityRoutes } from '../entity.routes';
import { liveDeviceErrors } from './devices.queries';
import { componentColumns } from '../../projections/components.projection';

export interface ComponentView extends ComponentFields {
  id: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export const componentQueries = entityQueries<ComponentView>({
  table: 'components',
  fields: componentColumns,
  filters: [equals('deviceId', 'device_id'), equals('kind', 'kind')],
});

/** A reference to a component of a given device: it must exist in the caller's organization (RLS) and sit on that device. */
export async function componentOfDeviceErrors(db: Queryable, path: string, componentId: string, deviceId: string): Promise<FieldError[]> {
  const { rows } = await db.query<{ same: boolean }>('SELECT device_id = $2::uuid AS same FROM components WHERE id = $1::uuid', [
    componentId,
    deviceId,
  ]);
  const row = rows[0];
  if (!row) return [{ path, message: 'does not exist' }];
  return row.same ? [] : [{ path, message: 'belongs to another device' }];
}

async function keyTaken(db: Queryable, deviceId: string, key: string): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM components WHERE device_id = $1::uuid AND key = $2', [deviceId, key]);
  return rows.length > 0;
}

export const componentRoutes = entityRoutes<ComponentFields, ComponentView>({
  collection: '/v1/components',
  tag: 'Devices',
  singular: 'Component',
  plural: 'Components',
  schema: 'components',
  commands: componentCommands,
  queries: componentQueries,
  notFound: componentNotFound,
  toFields: (body) => ({
    deviceId: body.deviceId as string,
    key: body.key as string,
    kind: body.kind as ComponentFields['kind'],
    name: (body.name as string | null | undefined) ?? null,
    model: (body.model as string | null | undefined) ?? null,
    serialNumber: (body.serialNumber as string | null | undefined) ?? null,
    firmwareVersion: (body.firmwareVersion as string | null | undefined) ?? null,
  }),
  references: (tx, fields) => liveDeviceErrors(tx, '/body/deviceId', fields.deviceId),
  // deviceId and key are set only at creation, so only a create can claim a key.
  async conflicts(tx, { deviceId, key }) {
    if (deviceId === undefined || key === undefined || !(await keyTaken(tx, deviceId, key))) return undefined;
    return new ConflictError('COMPONENT_KEY_TAKEN', 'The device already has a component with this key.');
  },
});
