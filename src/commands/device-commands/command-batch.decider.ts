import { ConflictError, NotFoundError } from '../../platform/errors';
import { canonicalJson } from '../config-artefacts/config-artefact.content';
import { assertNever, type Decider } from '../decider';
import type { CommandBatchCreated, CommandBatchEvent } from './command-batch.events';

export interface CommandBatchFields {
  groupId: string;
  name: string;
  params: Record<string, unknown>;
  timeoutSeconds: number;
  expiresAt: string;
}

export type CommandBatchCommand = {
  type: 'CreateCommandBatch';
  data: CommandBatchFields & { id: string; commands: CommandBatchCreated['data']['commands']; now: string };
};

export type CommandBatchState = { status: 'absent' } | ({ status: 'CREATED' } & CommandBatchCreated['data']);

export const commandBatchNotFound = (): NotFoundError => new NotFoundError('COMMAND_BATCH_NOT_FOUND', 'No command batch with this id.');

/**
 * A batch is created once. Creating it again with the same request is a
 * no-op that keeps the members recorded the first time, even if the group
 * changed since: a retry completes the batch, it does not widen it.
 */
export const commandBatchDecider: Decider<CommandBatchCommand, CommandBatchEvent, CommandBatchState> = {
  initialState: { status: 'absent' },

  decide(command, state) {
    switch (command.type) {
      case 'CreateCommandBatch': {
        const { now, ...data } = command.data;
        if (state.status === 'absent') return [{ type: 'CommandBatchCreated', data: { ...data, createdAt: now } }];
        const same =
          state.groupId === data.groupId &&
          state.name === data.name &&
          state.timeoutSeconds === data.timeoutSeconds &&
          canonicalJson(state.params) === canonicalJson(data.params);
        if (same) return [];
        throw new ConflictError('CONFLICT', 'Another command batch with this id exists.');
      }
      default:
        return assertNever(command.type);
    }
  },

  evolve(_state, event) {
    switch (event.type) {
      case 'CommandBatchCreated':
        return { status: 'CREATED', ...event.data };
      default:
        return assertNever(event.type);
    }
  },
};
