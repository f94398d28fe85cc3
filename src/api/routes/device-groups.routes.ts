import { addGroupMembers, deviceGroupCommands, removeGroupMember } from '../../commands/device-groups/device-group.handler';
import { deviceGroupNotFound, type DeviceGroupFields } from '../../commands/device-groups/device-group.decider';
import { AppError } from '../../platform/errors';
import { entityRoutes } from '../entity.routes';
import { defineRoutes, type RouteContext } from '../route';
import { deviceGroupQueries, listGroupMembers, type DeviceGroupView } from './device-groups.queries';

async function existingGroup(ctx: RouteContext): Promise<string> {
  const id = ctx.params.id as string;
  const group = await ctx.tenant((tx) => deviceGroupQueries.find(tx, id));
  if (!group) throw deviceGroupNotFound();
  return id;
}

const crud = entityRoutes<DeviceGroupFields, DeviceGroupView>({
  collection: '/v1/device-groups',
  tag: 'Device groups',
  singular: 'DeviceGroup',
  plural: 'DeviceGroups',
  schema: 'device-groups',
  commands: deviceGroupCommands,
  queries: deviceGroupQueries,
  notFound: deviceGroupNotFound,
  // Answered before the projection caught up, a group's members are not counted yet.
  newView: { memberCount: 0 },
  toFields: (body) => ({
    name: body.name as string,
    description: (body.description as string | null | undefined) ?? null,
    kind: (body.kind as DeviceGroupFields['kind'] | undefined) ?? 'STATIC',
    tagSelector: (body.tagSelector as DeviceGroupFields['tagSelector'] | undefined) ?? null,
    labels: (body.labels as Record<string, string> | undefined) ?? {},
  }),
});

const members = defineRoutes([
  {
    method: 'get',
    path: '/v1/device-groups/{id}/members',
    operationId: 'listDeviceGroupMembers',
    summary: 'Devices in a group (static members, or those its tag selector matches)',
    tag: 'Device groups',
    auth: 'viewer',
    query: 'device-groups#/$defs/ListGroupMembersQuery',
    responses: { 200: 'device-groups#/$defs/GroupMemberPage' },
    async handler(ctx) {
      const id = await existingGroup(ctx);
      const q = ctx.query as { limit: number; cursor?: string };
      return { status: 200, body: await ctx.tenant((tx) => listGroupMembers(tx, id, q)) };
    },
  },
  {
    method: 'post',
    path: '/v1/device-groups/{id}/members',
    operationId: 'addDeviceGroupMembers',
    summary: 'Add devices to a static group',
    tag: 'Device groups',
    auth: 'member',
    body: 'device-groups#/$defs/AddGroupMembers',
    responses: { 200: 'device-groups#/$defs/DeviceGroup' },
    async handler(ctx) {
      const id = await existingGroup(ctx);
      const deviceIds = (ctx.body as { deviceIds: string[] }).deviceIds.map((d) => d.toLowerCase());
      const missing = await ctx.tenant(async (tx) => {
        const { rows } = await tx.query<{ id: string }>(
          `SELECT id FROM devices WHERE id = ANY($1::uuid[]) AND status <> 'DECOMMISSIONED'`,
          [deviceIds],
        );
        const found = new Set(rows.map((r) => r.id));
        return deviceIds.filter((d) => !found.has(d));
      });
      if (missing.length > 0) {
        throw new AppError(
          'UNPROCESSABLE',
          'Some devices do not exist.',
          missing.map((d) => ({ path: `/body/deviceIds/${deviceIds.indexOf(d)}`, message: 'no such device' })),
        );
      }
      await ctx.settle(await addGroupMembers(ctx.deps.store, ctx.command, id, deviceIds));
      const group = await ctx.tenant((tx) => deviceGroupQueries.find(tx, id));
      if (!group) throw deviceGroupNotFound();
      return { status: 200, body: group, version: group.version };
    },
  },
  {
    method: 'delete',
    path: '/v1/device-groups/{id}/members/{deviceId}',
    operationId: 'removeDeviceGroupMember',
    summary: 'Remove a device from a static group',
    tag: 'Device groups',
    auth: 'member',
    responses: { 204: null },
    async handler(ctx) {
      const id = await existingGroup(ctx);
      await ctx.settle(await removeGroupMember(ctx.deps.store, ctx.command, id, ctx.params.deviceId as string));
      return { status: 204 };
    },
  },
]);

export const deviceGroupRoutes = [...crud, ...members];
