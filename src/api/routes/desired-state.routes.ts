import { randomUUID } from 'node:crypto';
import { configArtefactArchived } from '../../commands/config-artefacts/config-artefact.decider';
import {
  desiredStateBindingNotFound,
  type DesiredStateBindingFields,
  type DesiredStateTargetType,
} from '../../commands/desired-state/desired-state-binding.decider';
import { desiredStateBindingCommands } from '../../commands/desired-state/desired-state-binding.handler';
import { AppError, NotFoundError, type FieldError } from '../../platform/errors';
import { unknownReferences } from '../entity.queries';
import { defineRoutes, type RouteContext } from '../route';
import { findConfigArtefact, findConfigArtefactVersion } from './config-artefacts.queries';
import { deviceGroupQueries } from './device-groups.queries';
import { deviceQueries } from './devices.queries';
import { findDesiredStateBinding, listDesiredStateBindings, type ListDesiredStateBindingsQuery } from './desired-state.queries';
import { siteQueries } from './sites.routes';
import { currentDeviceState, deviceStateAt } from './device-state.view';

const COLLECTION = '/v1/desired-state-bindings';
const ITEM = `${COLLECTION}/{id}`;
const TAG = 'Config';
const SCHEMA = 'desired-state#/$defs';

const TARGETS: Record<DesiredStateTargetType, typeof siteQueries | typeof deviceQueries | typeof deviceGroupQueries> = {
  DEVICE: deviceQueries,
  DEVICE_GROUP: deviceGroupQueries,
  SITE: siteQueries,
};

/**
 * The artefact, its fixed version and the target must exist in the caller's
 * organization (read under RLS: another organization's id answers 422 like a
 * random one); an archived artefact takes no new bindings.
 */
async function checkReferences(ctx: RouteContext, fields: DesiredStateBindingFields): Promise<void> {
  const errors: FieldError[] = [];
  const archived = await ctx.tenant(async (tx) => {
    const artefact = await findConfigArtefact(tx, fields.artefactId);
    if (!artefact) {
      errors.push({ path: '/body/artefactId', message: 'does not exist' });
    } else if (fields.version !== 'latest' && !(await findConfigArtefactVersion(tx, artefact.id, fields.version))) {
      errors.push({ path: '/body/version', message: 'does not exist' });
    }
    errors.push(...(await unknownReferences(tx, TARGETS[fields.targetType], [{ path: '/body/targetId', id: fields.targetId }])));
    return artefact?.status === 'ARCHIVED';
  });
  if (errors.length > 0) throw new AppError('UNPROCESSABLE', 'The binding refers to something that does not exist.', errors);
  if (archived) throw configArtefactArchived();
}

export const desiredStateRoutes = defineRoutes([
  {
    method: 'post',
    path: COLLECTION,
    operationId: 'createDesiredStateBinding',
    summary: 'Bind a config artefact (a version or `latest`) to a device, device group or site',
    tag: TAG,
    auth: 'member',
    body: `${SCHEMA}/CreateDesiredStateBinding`,
    responses: { 201: `${SCHEMA}/DesiredStateBinding` },
    async handler(ctx) {
      const body = ctx.body as Omit<DesiredStateBindingFields, 'priority'> & { priority?: number };
      const fields: DesiredStateBindingFields = {
        artefactId: body.artefactId.toLowerCase(),
        version: body.version,
        targetType: body.targetType,
        targetId: body.targetId.toLowerCase(),
        priority: body.priority ?? 0,
      };
      await checkReferences(ctx, fields);
      const id = randomUUID();
      await ctx.settle(await desiredStateBindingCommands.bind(ctx.deps.store, ctx.command, id, fields));
      const binding = await ctx.tenant((tx) => findDesiredStateBinding(tx, id));
      if (!binding) throw desiredStateBindingNotFound();
      return { status: 201, body: binding, headers: { Location: `/api${COLLECTION}/${id}` } };
    },
  },
  {
    method: 'get',
    path: COLLECTION,
    operationId: 'listDesiredStateBindings',
    summary: 'List desired-state bindings',
    tag: TAG,
    auth: 'viewer',
    query: `${SCHEMA}/ListDesiredStateBindingsQuery`,
    responses: { 200: `${SCHEMA}/DesiredStateBindingPage` },
    async handler(ctx) {
      const query = ctx.query as unknown as ListDesiredStateBindingsQuery;
      return { status: 200, body: await ctx.tenant((tx) => listDesiredStateBindings(tx, query)) };
    },
  },
  {
    method: 'get',
    path: ITEM,
    operationId: 'getDesiredStateBinding',
    summary: 'One desired-state binding',
    tag: TAG,
    auth: 'viewer',
    responses: { 200: `${SCHEMA}/DesiredStateBinding` },
    async handler(ctx) {
      const binding = await ctx.tenant((tx) => findDesiredStateBinding(tx, ctx.params.id as string));
      if (!binding) throw desiredStateBindingNotFound();
      return { status: 200, body: binding };
    },
  },
  {
    method: 'delete',
    path: ITEM,
    operationId: 'deleteDesiredStateBinding',
    summary: 'Unbind: the artefact no longer contributes to its targets’ desired state',
    tag: TAG,
    auth: 'member',
    responses: { 204: null },
    async handler(ctx) {
      const binding = await ctx.tenant((tx) => findDesiredStateBinding(tx, ctx.params.id as string));
      if (!binding) throw desiredStateBindingNotFound();
      await ctx.settle(await desiredStateBindingCommands.unbind(ctx.deps.store, ctx.command, binding.id));
      return { status: 204 };
    },
  },
  {
    method: 'get',
    path: '/v1/devices/{id}/desired-state',
    operationId: 'getDeviceDesiredState',
    summary: 'The device’s desired state (site < group < device, then priority), what was published, what it reported, and the drift; `?at=` as of a past time',
    tag: 'Devices',
    auth: 'viewer',
    query: `${SCHEMA}/DeviceStateQuery`,
    responses: { 200: `${SCHEMA}/DesiredState` },
    async handler(ctx) {
      const id = ctx.params.id as string;
      const at = (ctx.query as { at?: string }).at;
      const state = await ctx.tenant(async (tx) => {
        if (at === undefined) return currentDeviceState(tx, id);
        const device = await tx.query('SELECT 1 FROM devices WHERE id = $1', [id]);
        return device.rowCount === 1 ? deviceStateAt(ctx.deps.store, id, new Date(at)) : undefined;
      });
      if (!state) throw new NotFoundError('DEVICE_NOT_FOUND', 'No device with this id.');
      return { status: 200, body: state };
    },
  },
]);
