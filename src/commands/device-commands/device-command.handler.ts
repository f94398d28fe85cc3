import type { EventStore } from '../../platform/event-store/event-store.port';
import { handleCommand } from '../command-handler';
import type { CommandContext } from '../decider';
import { commandNotFound, deviceCommandDecider, type CommandAnswer, type DeviceCommandCommand, type QueuedCommandFields } from './device-command.decider';
import { deviceCommandStream } from './device-command.events';

/**
 * Without retries a concurrent append is a 409 (CONCURRENT_MODIFICATION):
 * the dispatcher's steps must not be re-decided on a stream another
 * dispatcher or the API changed meanwhile; they are looked at again next round.
 */
function run(store: EventStore, ctx: CommandContext, id: string, command: DeviceCommandCommand, retries = 0) {
  return handleCommand(store, deviceCommandDecider, deviceCommandStream(id), command, ctx, { notFound: commandNotFound, retries });
}

const iso = (now: Date): string => now.toISOString();

export const deviceCommandCommands = {
  queue: (store: EventStore, ctx: CommandContext, fields: QueuedCommandFields, now = new Date()) =>
    run(store, ctx, fields.id, { type: 'QueueCommand', data: { ...fields, now: iso(now) } }),
  /** Re-decided after a concurrent send: the caller then gets COMMAND_NOT_CANCELLABLE. */
  cancel: (store: EventStore, ctx: CommandContext, id: string, now = new Date()) => run(store, ctx, id, { type: 'CancelCommand', data: { now: iso(now) } }, 2),
  send: (store: EventStore, ctx: CommandContext, id: string, now = new Date()) => run(store, ctx, id, { type: 'SendCommand', data: { now: iso(now) } }),
  expire: (store: EventStore, ctx: CommandContext, id: string, now = new Date()) => run(store, ctx, id, { type: 'ExpireCommand', data: { now: iso(now) } }),
  timeOut: (store: EventStore, ctx: CommandContext, id: string, now = new Date()) => run(store, ctx, id, { type: 'TimeOutCommand', data: { now: iso(now) } }),

  /**
   * A device's answer. The organization is the command's own (its first
   * event's metadata); the device is the one the broker authenticated, and
   * the decider refuses it unless the command is addressed to it. Answers
   * racing each other (ACKNOWLEDGED and SUCCEEDED handled by two processes)
   * are re-decided in turn.
   */
  async recordAnswer(store: EventStore, deviceId: string, id: string, answer: CommandAnswer, correlationId: string, now = new Date()) {
    const [first] = await store.readStream(deviceCommandStream(id), { maxCount: 1 });
    const orgId = first?.metadata.orgId;
    if (!orgId) throw commandNotFound();
    const ctx: CommandContext = { orgId, actor: `device:${deviceId}`, correlationId };
    return run(store, ctx, id, { type: 'RecordCommandAnswer', data: { deviceId, answer, now: iso(now) } }, 3);
  },
};
