import type { EventStore } from '../../platform/event-store/event-store.port';
import { handleCommand } from '../command-handler';
import type { CommandContext } from '../decider';
import {
  desiredStateBindingDecider,
  desiredStateBindingNotFound,
  desiredStateBindingStream,
  type DesiredStateBindingCommand,
  type DesiredStateBindingFields,
} from './desired-state-binding.decider';

function run(store: EventStore, ctx: CommandContext, id: string, command: DesiredStateBindingCommand) {
  return handleCommand(store, desiredStateBindingDecider, desiredStateBindingStream(id), command, ctx, {
    notFound: desiredStateBindingNotFound,
    retries: 3,
  });
}

export const desiredStateBindingCommands = {
  bind: (store: EventStore, ctx: CommandContext, id: string, fields: DesiredStateBindingFields, now = new Date()) =>
    run(store, ctx, id, { type: 'BindDesiredState', data: { id, ...fields, now: now.toISOString() } }),
  unbind: (store: EventStore, ctx: CommandContext, id: string, now = new Date()) =>
    run(store, ctx, id, { type: 'UnbindDesiredState', data: { now: now.toISOString() } }),
};
