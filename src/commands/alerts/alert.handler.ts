import type { EventStore } from '../../platform/event-store/event-store.port';
import { handleCommand, type CommandResult } from '../command-handler';
import type { CommandContext } from '../decider';
import { alertDecider, alertNotFound, type AlertCommand } from './alert.decider';
import { alertStream, type AlertEvent } from './alert.events';

/** Raising and resolving are re-decided after a concurrent write: the loser of a race finds the winner's alert. */
const RETRIES = 3;

function run(store: EventStore, ctx: CommandContext, ruleId: string, sensorId: string, command: AlertCommand): Promise<CommandResult<AlertEvent>> {
  return handleCommand(store, alertDecider, alertStream(ruleId, sensorId), command, ctx, { notFound: alertNotFound, retries: RETRIES });
}

export const alertCommands = {
  raise: (store: EventStore, ctx: CommandContext, ruleId: string, sensorId: string, data: Extract<AlertCommand, { type: 'RaiseAlert' }>['data']) =>
    run(store, ctx, ruleId, sensorId, { type: 'RaiseAlert', data }),
  acknowledge: (store: EventStore, ctx: CommandContext, ruleId: string, sensorId: string, data: Extract<AlertCommand, { type: 'AcknowledgeAlert' }>['data']) =>
    run(store, ctx, ruleId, sensorId, { type: 'AcknowledgeAlert', data }),
  resolve: (store: EventStore, ctx: CommandContext, ruleId: string, sensorId: string, data: Extract<AlertCommand, { type: 'ResolveAlert' }>['data']) =>
    run(store, ctx, ruleId, sensorId, { type: 'ResolveAlert', data }),
};
