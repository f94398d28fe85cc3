import { createHash } from 'node:crypto';
import { AppError, ConflictError, NotFoundError } from '../platform/errors';
import {
  WrongExpectedRevisionError,
  type EventStore,
  type ExpectedRevision,
  type Position,
} from '../platform/event-store/event-store.port';
import type { CommandContext, Decider, DomainEvent } from './decider';

export interface CommandResult<Event> {
  readonly events: readonly Event[];
  readonly nextExpectedRevision: bigint | undefined;
  /** Global position of the last appended event; undefined when nothing was appended. */
  readonly position: Position | undefined;
}

export interface HandleOptions {
  /** The 404 to answer for a stream of another organization (default: NOT_FOUND). */
  readonly notFound?: () => Error;
  /** Retries on a concurrent write; only for commands whose decision may be re-taken. */
  readonly retries?: number;
  /**
   * The version the client last saw (If-Match): a stream at another revision
   * answers 412 instead of deciding on a state the client did not see.
   */
  readonly expectedRevision?: bigint;
  /** Event schema version written into metadata. */
  readonly schemaVersion?: number;
}

/**
 * Load the stream, fold `evolve`, `decide`, append at the revision read. A
 * concurrent writer makes the append fail; the command is then re-decided on
 * the new state up to `retries` times, else answered with 409.
 *
 * Event ids are derived from the correlation id, the stream, the revision and
 * the event itself, so a retried request that decides the same events at the
 * same place appends nothing twice, while a different decision still conflicts.
 *
 * A stream that belongs to another organization answers exactly as a missing
 * one: the caller cannot tell them apart.
 */
export async function handleCommand<Command, Event extends DomainEvent, State>(
  store: EventStore,
  decider: Decider<Command, Event, State>,
  stream: string,
  command: Command,
  context: CommandContext,
  options: HandleOptions = {},
): Promise<CommandResult<Event>> {
  const notFound = options.notFound ?? (() => new NotFoundError());
  let attempt = 0;
  for (;;) {
    const history = await store.readStream(stream);
    if (history.length > 0 && history[0]?.metadata.orgId !== context.orgId) throw notFound();
    const state = history.reduce((s, e) => decider.evolve(s, { type: e.type, data: e.data } as Event), decider.initialState);
    const revision = history.length === 0 ? undefined : (history[history.length - 1]?.revision ?? undefined);
    if (options.expectedRevision !== undefined && options.expectedRevision !== revision) {
      throw new AppError('PRECONDITION_FAILED', 'The resource has changed since the version in If-Match.');
    }
    const events = decider.decide(command, state);
    if (events.length === 0) return { events, nextExpectedRevision: revision, position: undefined };
    const expectedRevision: ExpectedRevision = revision === undefined ? 'no_stream' : revision;
    const first = revision === undefined ? 0n : revision + 1n;
    try {
      const result = await store.appendToStream(
        stream,
        events.map((event, i) => ({
          id: deterministicId(context.correlationId, stream, first + BigInt(i), event.type, JSON.stringify(event.data)),
          type: event.type,
          data: event.data,
          metadata: {
            orgId: context.orgId,
            actor: context.actor,
            correlationId: context.correlationId,
            causationId: context.causationId ?? null,
            schemaVersion: options.schemaVersion ?? 1,
          },
        })),
        { expectedRevision },
      );
      return { events, nextExpectedRevision: result.nextExpectedRevision, position: result.position };
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError)) throw error;
      if (options.expectedRevision !== undefined) {
        throw new AppError('PRECONDITION_FAILED', 'The resource has changed since the version in If-Match.');
      }
      if (attempt >= (options.retries ?? 0)) {
        throw new ConflictError('CONCURRENT_MODIFICATION', 'The resource was changed concurrently; retry the request.');
      }
      attempt += 1;
    }
  }
}

/** A UUID (v8 layout) from a hash, stable for the same inputs. */
export function deterministicId(...parts: (string | bigint)[]): string {
  const hex = createHash('sha256').update(parts.map(String).join('\u0000')).digest('hex');
  const variant = ((parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
