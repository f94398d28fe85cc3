import { commandBatchNotFound } from '../../commands/device-commands/command-batch.decider';
import { createCommandBatch } from '../../commands/device-commands/command-batch.handler';
import { COMMAND_LIMITS, checkCommandRequest, type CommandRequest } from '../../commands/device-commands/device-command.request';
import { deviceGroupNotFound } from '../../commands/device-groups/device-group.decider';
import { AppError } from '../../platform/errors';
import { defineRoutes } from '../route';
import { findCommandBatch, groupCommandTargets, listCommandBatches, type ListCommandBatchesQuery } from './command-batches.queries';
import { requestScopedId } from './device-commands.routes';
import { deviceGroupQueries } from './device-groups.queries';

const COLLECTION = '/v1/command-batches';
const TAG = 'Commands';
const SCHEMA = 'device-commands#/$defs';

export const commandBatchRoutes = defineRoutes([
  {
    method: 'post',
    path: '/v1/device-groups/{id}/commands',
    operationId: 'createGroupCommand',
    summary: 'Queue a command for every current member of a device group (at most 1000): a command batch with counts by status',
    tag: TAG,
    auth: 'member',
    body: `${SCHEMA}/CreateDeviceCommand`,
    responses: { 201: `${SCHEMA}/CommandBatch` },
    async handler(ctx) {
      const groupId = ctx.params.id as string;
      const targets = await ctx.tenant(async (tx) =>
        (await deviceGroupQueries.find(tx, groupId)) ? groupCommandTargets(tx, groupId, COMMAND_LIMITS.maxBatchDevices + 1) : undefined,
      );
      if (!targets) throw deviceGroupNotFound();
      if (targets.length === 0) {
        throw new AppError('UNPROCESSABLE', 'The device group has no members (decommissioned devices do not count).', [{ path: '/params/id', message: 'has no members' }]);
      }
      if (targets.length > COMMAND_LIMITS.maxBatchDevices) {
        throw new AppError('UNPROCESSABLE', `The device group has more than ${COMMAND_LIMITS.maxBatchDevices} members; split it.`, [
          { path: '/params/id', message: `has more than ${COMMAND_LIMITS.maxBatchDevices} members` },
        ]);
      }
      const now = new Date();
      const checked = checkCommandRequest(ctx.body as CommandRequest, now);
      const id = requestScopedId(ctx, 'command-batch');
      const created = await createCommandBatch(ctx.deps.store, ctx.command, id, { groupId, ...checked }, targets, now);
      await ctx.settle(created.appended);
      const batch = await ctx.tenant((tx) => findCommandBatch(tx, id));
      if (!batch) throw commandBatchNotFound();
      return { status: 201, body: batch, headers: { Location: `/api${COLLECTION}/${id}` } };
    },
  },
  {
    method: 'get',
    path: COLLECTION,
    operationId: 'listCommandBatches',
    summary: 'Command batches (bulk commands to device groups), newest first, with counts by status',
    tag: TAG,
    auth: 'viewer',
    query: `${SCHEMA}/ListCommandBatchesQuery`,
    responses: { 200: `${SCHEMA}/CommandBatchPage` },
    async handler(ctx) {
      const query = ctx.query as unknown as ListCommandBatchesQuery;
      return { status: 200, body: await ctx.tenant((tx) => listCommandBatches(tx, query)) };
    },
  },
  {
    method: 'get',
    path: `${COLLECTION}/{id}`,
    operationId: 'getCommandBatch',
    summary: 'One command batch with its commands counted by status',
    tag: TAG,
    auth: 'viewer',
    responses: { 200: `${SCHEMA}/CommandBatch` },
    async handler(ctx) {
      const batch = await ctx.tenant((tx) => findCommandBatch(tx, ctx.params.id as string));
      if (!batch) throw commandBatchNotFound();
      return { status: 200, body: batch };
    },
  },
]);
