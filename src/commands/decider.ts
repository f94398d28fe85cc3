import type { Actor } from '../platform/event-store/event-store.port';

/** An event as deciders see it: a type and a JSON-safe payload. */
export interface DomainEvent<Type extends string = string, Data = unknown> {
  readonly type: Type;
  readonly data: Data;
}

/**
 * A decider: pure functions over an aggregate's events. Time and ids arrive
 * inside the command, so `decide` and `evolve` never read the clock.
 */
export interface Decider<Command, Event extends DomainEvent, State> {
  readonly initialState: State;
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
}

/** Who issues a command, and for which organization. */
export interface CommandContext {
  readonly orgId: string;
  readonly actor: Actor;
  readonly correlationId: string;
  readonly causationId?: string;
}

export function assertNever(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}
