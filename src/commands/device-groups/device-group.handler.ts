import type { EventStore } from '../../platform/event-store/event-store.port';
import { handleCommand } from '../command-handler';
import type { CommandContext } from '../decider';
import { entityCommands } from '../entities/entity.handler';
import { deviceGroupDecider, deviceGroupNotFound, deviceGroupStream } from './device-group.decider';

export const deviceGroupCommands = entityCommands(deviceGroupDecider, deviceGroupStream, deviceGroupNotFound);

export function addGroupMembers(store: EventStore, ctx: CommandContext, groupId: string, deviceIds: string[], now = new Date()) {
  return handleCommand(store, deviceGroupDecider, deviceGroupStream(groupId), { type: 'AddMembers', data: { deviceIds, now: now.toISOString() } }, ctx, {
    notFound: deviceGroupNotFound,
    retries: 3,
  });
}

export function removeGroupMember(store: EventStore, ctx: CommandContext, groupId: string, deviceId: string, now = new Date()) {
  return handleCommand(store, deviceGroupDecider, deviceGroupStream(groupId), { type: 'RemoveMember', data: { deviceId, now: now.toISOString() } }, ctx, {
    notFound: deviceGroupNotFound,
    retries: 3,
  });
}
