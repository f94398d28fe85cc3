import type { EventStore } from '../../platform/event-store/event-store.port';
import { handleCommand, type CommandResult } from '../command-handler';
import type { CommandContext, Decider, DomainEvent } from '../decider';
import type { EntityCommand } from './entity.decider';

export interface EntityCommands<Fields> {
  readonly stream: (id: string) => string;
  create(store: EventStore, ctx: CommandContext, id: string, fields: Fields, now?: Date): Promise<CommandResult<DomainEvent>>;
  update(
    store: EventStore,
    ctx: CommandContext,
    id: string,
    changes: Partial<Fields>,
    expectedRevision?: bigint,
    now?: Date,
  ): Promise<CommandResult<DomainEvent>>;
  remove(store: EventStore, ctx: CommandContext, id: string, expectedRevision?: bigint, now?: Date): Promise<CommandResult<DomainEvent>>;
}

/**
 * The create/update/delete commands of an entity, for any decider that
 * accepts the entity commands (the plain entity decider, or one that adds
 * commands of its own, like device groups' membership).
 */
export function entityCommands<Fields, Event extends DomainEvent, State>(
  decider: Decider<EntityCommand<Fields>, Event, State>,
  stream: (id: string) => string,
  notFound: () => Error,
): EntityCommands<Fields> {
  const run = (store: EventStore, ctx: CommandContext, id: string, command: EntityCommand<Fields>, expectedRevision?: bigint) =>
    handleCommand(store, decider, stream(id), command, ctx, { notFound, ...(expectedRevision !== undefined ? { expectedRevision } : {}) });
  return {
    stream,
    create: (store, ctx, id, fields, now = new Date()) => run(store, ctx, id, { type: 'Create', data: { id, fields, now: now.toISOString() } }),
    update: (store, ctx, id, changes, expectedRevision, now = new Date()) =>
      run(store, ctx, id, { type: 'Update', data: { id, changes, now: now.toISOString() } }, expectedRevision),
    remove: (store, ctx, id, expectedRevision, now = new Date()) =>
      run(store, ctx, id, { type: 'Delete', data: { id, now: now.toISOString() } }, expectedRevision),
  };
}
