import { randomUUID } from 'node:crypto';
import { deterministicId } from '../../commands/command-handler';
import { commandNotFound } from '../../commands/device-commands/device-command.decider';
import { deviceCommandCommands } from '../../commands/device-commands/device-command.handler';
import { checkCommandRequest, type CommandRequest } from '../../commands/device-commands/device-command.request';
import { deviceNotFound } from '../../commands/devices/device.decider';
import { CommandMetrics } from '../../ingest/commands/command-metrics';
import { ConflictError } from '../../platform/errors';
import { IdempotencyStore } from '../idempotency';
import { defineRoutes, type RouteContext, type RouteResult } from '../route';
import { findCommandTarget, findDeviceCommand, listDeviceCommands, type ListDeviceCommandsQuery } from './device-commands.queries';

const COLLECTION = '/v1/devices/{id}/commands';
const ITEM = `${COLLECTION}/{commandId}`;
const TAG = 'Commands';
const SCHEMA = 'device-commands#/$defs';

/**
 * The id of what a POST creates. With an Idempotency-Key it is derived from
 * the caller, the key and the request, so that a retry after a server error
 * (whose response is not stored for replay) finds what the first attempt
 * appended instead of creating it twice.
 */
export function requestScopedId(ctx: RouteContext, kind: string): string {
  const key = ctx.req.header('idempotency-key');
  if (key === undefined) return randomUUID();
  const request = IdempotencyStore.requestHash('post', ctx.req.originalUrl, ctx.body);
  return deterministicId(kind, ctx.principal.orgId, ctx.principal.subject, key, request);
}

/** The device of the path, under RLS: another organization's device answers like a random id. */
async function existingDevice(ctx: RouteContext): Promise<{ id: string; decommissioned: boolean }> {
  const id = ctx.params.id as string;
  const target = await ctx.tenant((tx) => findCommandTarget(tx, id));
  if (!target) throw deviceNotFound();
  return { id, ...target };
}

async function respond(ctx: RouteContext, deviceId: string, id: string, status: number): Promise<RouteResult> {
  const command = await ctx.tenant((tx) => findDeviceCommand(tx, deviceId, id));
  if (!command) throw commandNotFound();
  return {
    status,
    body: command,
    version: command.version,
    ...(status === 201 ? { headers: { Location: `/api/v1/devices/${deviceId}/commands/${id}` } } : {}),
  };
}

export const deviceCommandRoutes = defineRoutes([
  {
    method: 'post',
    path: COLLECTION,
    operationId: 'createDeviceCommand',
    summary: 'Queue a command for a device: sent when it is online, until expiresAt (Idempotency-Key supported)',
    tag: TAG,
    auth: 'member',
    body: `${SCHEMA}/CreateDeviceCommand`,
    responses: { 201: `${SCHEMA}/DeviceCommand` },
    async handler(ctx) {
      const device = await existingDevice(ctx);
      if (device.decommissioned) throw new ConflictError('DEVICE_DECOMMISSIONED', 'The device is decommissioned: it takes no commands.');
      const now = new Date();
      const checked = checkCommandRequest(ctx.body as CommandRequest, now);
      const id = requestScopedId(ctx, 'device-command');
      await ctx.settle(await deviceCommandCommands.queue(ctx.deps.store, ctx.command, { id, deviceId: device.id, batchId: null, ...checked }, now));
      return respond(ctx, device.id, id, 201);
    },
  },
  {
    method: 'get',
    path: COLLECTION,
    operationId: 'listDeviceCommands',
    summary: 'Commands of a device, newest first',
    tag: TAG,
    auth: 'viewer',
    query: `${SCHEMA}/ListDeviceCommandsQuery`,
    responses: { 200: `${SCHEMA}/DeviceCommandPage` },
    async handler(ctx) {
      const { id } = await existingDevice(ctx);
      const query = ctx.query as unknown as ListDeviceCommandsQuery;
      return { status: 200, body: await ctx.tenant((tx) => listDeviceCommands(tx, id, query)) };
    },
  },
  {
    method: 'get',
    path: ITEM,
    operationId: 'getDeviceCommand',
    summary: 'One command of a device with its status, result or error',
    tag: TAG,
    auth: 'viewer',
    responses: { 200: `${SCHEMA}/DeviceCommand` },
    async handler(ctx) {
      const { id } = await existingDevice(ctx);
      return respond(ctx, id, ctx.params.commandId as string, 200);
    },
  },
  {
    method: 'post',
    path: `${ITEM}/cancel`,
    operationId: 'cancelDeviceCommand',
    summary: 'Cancel a command that has not been sent yet (409 COMMAND_NOT_CANCELLABLE once it has)',
    tag: TAG,
    auth: 'member',
    responses: { 200: `${SCHEMA}/DeviceCommand` },
    async handler(ctx) {
      const device = await existingDevice(ctx);
      const commandId = ctx.params.commandId as string;
      if (!(await ctx.tenant((tx) => findDeviceCommand(tx, device.id, commandId)))) throw commandNotFound();
      const result = await deviceCommandCommands.cancel(ctx.deps.store, ctx.command, commandId);
      if (result.events.length > 0) CommandMetrics.of(ctx.deps.metrics).finished.inc({ outcome: 'CANCELLED' });
      await ctx.settle(result);
      return respond(ctx, device.id, commandId, 200);
    },
  },
]);
