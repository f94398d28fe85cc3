import type { EventStore } from '../../platform/event-store/event-store.port';
import { handleCommand, type CommandResult } from '../command-handler';
import type { CommandContext } from '../decider';
import type { EntityDecider, EntityEvent } from './entity.decider';

export interface EntityCommands<Name extends string, Fields> {
  readonly decider: EntityDecider<Name, Fields>;
  readonly stream: (id: string) => string;
  create(store: EventStore, ctx: CommandContext, id: string, fields: Fields, now?: Date): Promise<CommandResult<EntityEvent<Name, Fields>>>;
  update(
    store: EventStore,
    ctx: CommandContext,
    id: string,
    changes: Partial<Fields>,
    expectedRevision?: bigint,
    now?: Date,
  ): Promise<CommandResult<EntityEvent<Name, Fields>>>;
  remove(store: EventStore, ctx: CommandContext, id: string, expectedRevision?: bigint, now?: Date): Promise<CommandResult<EntityEvent<Name, Fields>>>;
}

/** The command side of an entity: each command loads, decides and appends through the generic handler. */
export function entityCommands<Name extends string, Fields>(
  decider: EntityDecider<Name, Fields>,
  stream: (id: string) => string,
  notFound: () => Error,
): EntityCommands<Name, Fields> {
  const run = (store: EventStore, ctx: CommandContext, id: string, command: Parameters<typeof decider.decide>[0], expectedRevision?: bigint) =>
    handleCommand(store, decider, stream(id), command, ctx, { notFound, ...(expectedRevision !== undefined ? { expectedRevision } : {}) });
  return {
    decider,
    stream,
    create: (store, ctx, id, fields, now = new Date()) => run(store, ctx, id, { type: 'Create', data: { id, fields, now: now.toISOString() } }),
    update: (store, ctx, id, changes, expectedRevision, now = new Date()) =>
      run(store, ctx, id, { type: 'Update', data: { id, changes, now: now.toISOString() } }, expectedRevision),
    remove: (store, ctx, id, expectedRevision, now = new Date()) => run(store, ctx, id, { type: 'Delete', data: { id, now: now.toISOString() } }, expectedRevision),
  };
}
