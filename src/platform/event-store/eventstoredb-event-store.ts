import {
  ANY, BACKWARDS, END, EventStoreDBClient, FORWARDS, NO_STREAM, START as FROM_START, STREAM_EXISTS,
  StreamDeletedError, StreamNotFoundError, WrongExpectedVersionError, eventTypeFilter, excludeSystemEvents, jsonEvent,
  streamNameFilter, type AllStreamResolvedEvent, type AllStreamSubscription, type AppendExpectedRevision, type Filter,
  type JSONType, type ReadPosition, type ResolvedEvent, type StreamMetadata as ClientStreamMetadata, type StreamingRead,
} from '@eventstore/db-client';
import {
  START, WrongExpectedRevisionError, comparePositions, type AllFilter, type AppendResult, type EventMetadata,
  type EventStore, type ExpectedRevision, type NewEvent, type Position, type ReadAllOptions, type ReadAllResult,
  type ReadStreamOptions, type RecordedEvent, type StreamMetadata, type SubscribeOptions, type Subscription,
  type SubscriptionBatch,
} from './event-store.port';

/** Events per gRPC read of $all; readAll filters client-side, so it may read several pages. */
const PAGE = 500;

function toRecorded(resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent | undefined {
  const event = resolved.event;
  if (!event) return undefined; // an unresolved link; we never ask for links to be resolved
  const commit = resolved.commitPosition ?? 0n;
  const position = event.position ?? { commit, prepare: commit }; // servers before 22.6 send no prepare position
  const metadata: unknown = event.metadata;
  return {
    id: event.id,
    stream: event.streamId,
    revision: event.revision,
    position: { commit: position.commit, prepare: position.prepare },
    type: event.type,
    data: event.data,
    metadata: metadata as EventMetadata, // we only ever write JSON metadata of this shape
    createdAt: event.created,
  };
}

/** System events ($-types: $metadata, $>, $statsCollected…; $-streams: $$meta, $ce-…, $et-…) are never ours. */
function isSystem(event: RecordedEvent): boolean {
  return event.type.startsWith('$') || event.stream.startsWith('$');
}

/** Exact check behind the server filter, which works on prefixes only and on one criterion at a time. */
function matches(event: RecordedEvent, filter: AllFilter | undefined): boolean {
  if (isSystem(event)) return false;
  if (filter?.streamPrefixes && !filter.streamPrefixes.some((prefix) => event.stream.startsWith(prefix))) return false;
  return !filter?.eventTypes || filter.eventTypes.includes(event.type);
}

function readPosition(position: Position): ReadPosition {
  return comparePositions(position, START) === 0 ? FROM_START : { commit: position.commit, prepare: position.prepare };
}

const CLIENT_EXPECTED = { any: ANY, no_stream: NO_STREAM, stream_exists: STREAM_EXISTS } as const;
function toClientExpected(expected: ExpectedRevision): AppendExpectedRevision {
  return typeof expected === 'bigint' ? expected : CLIENT_EXPECTED[expected];
}

function actualOf(revision: bigint | 'no_stream'): bigint | 'no_stream' {
  return revision === 'no_stream' || revision < 0n ? 'no_stream' : revision;
}

function translate(error: unknown, stream: string, expected: ExpectedRevision): unknown {
  return error instanceof WrongExpectedVersionError ? new WrongExpectedRevisionError(stream, expected, actualOf(error.actualVersion)) : error;
}

/** Visits a read of $all until `visit` returns false (the gRPC call is then cancelled); returns how many events came. */
async function scan(read: StreamingRead<AllStreamResolvedEvent>, visit: (event: RecordedEvent) => boolean): Promise<number> {
  let seen = 0;
  for await (const resolved of read) {
    seen += 1;
    const recorded = toRecorded(resolved);
    if (recorded && !visit(recorded)) {
      await read.cancel();
      break;
    }
  }
  return seen;
}

/** Event store on EventStoreDB through its gRPC client. */
export class EventStoreDbEventStore implements EventStore {
  private readonly client: EventStoreDBClient;
  private readonly subscriptions = new Set<EsdbSubscription>();

  constructor(connectionString: string) {
    this.client = EventStoreDBClient.connectionString(connectionString);
  }

  async appendToStream(stream: string, events: readonly NewEvent[], options: { expectedRevision?: ExpectedRevision } = {}): Promise<AppendResult> {
    const expected = options.expectedRevision ?? 'any';
    if (events.length === 0) throw new Error('appendToStream needs at least one event');
    const data = events.map((e) => jsonEvent({ id: e.id, type: e.type, data: e.data as JSONType, metadata: e.metadata }));
    const result = await this.client
      .appendToStream(stream, data, { expectedRevision: toClientExpected(expected) })
      .catch((error: unknown) => Promise.reject(translate(error, stream, expected)));
    // Only reachable with throwOnAppendFailure=false in the connection string.
    if (!result.success) throw new WrongExpectedRevisionError(stream, expected, actualOf(result.nextExpectedRevision));
    // An idempotent retry of events already written comes back without a position: look it up.
    const [last] = result.position ? [] : await this.readStream(stream, { fromRevision: result.nextExpectedRevision, maxCount: 1 });
    const position = result.position ?? last?.position ?? START;
    return { nextExpectedRevision: result.nextExpectedRevision, position: { commit: position.commit, prepare: position.prepare } };
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    if (options.maxCount === 0) return []; // as LIMIT 0 in Postgres; never ask the server for a count of 0
    const backwards = options.direction === 'backwards';
    const from = options.fromRevision ?? (backwards ? 'end' : 'start');
    const read = this.client.readStream(stream, {
      direction: backwards ? BACKWARDS : FORWARDS,
      fromRevision: from === 'start' ? FROM_START : from === 'end' ? END : from,
      maxCount: options.maxCount,
    });
    const events: RecordedEvent[] = [];
    try {
      for await (const resolved of read) {
        const recorded = toRecorded(resolved);
        if (recorded) events.push(recorded);
      }
    } catch (error) {
      // Absent, soft-deleted (truncated) and tombstoned streams all read as empty.
      if (error instanceof StreamNotFoundError || error instanceof StreamDeletedError) return [];
      throw error;
    }
    return events;
  }

  async readAll(options: ReadAllOptions = {}): Promise<ReadAllResult> {
    const limit = options.maxCount ?? 1000;
    const events: RecordedEvent[] = [];
    let checkpoint = options.fromPosition ?? START;
    if (limit <= 0) return { events, checkpoint };
    // This client's readAll takes no server-side filter (only subscribeToAll does), so filter here, a page at a time.
    for (;;) {
      const read = this.client.readAll({ fromPosition: readPosition(checkpoint), direction: FORWARDS, maxCount: PAGE });
      const seen = await scan(read, (event) => {
        // The server's start is inclusive, the port's exclusive: skip the event at the start itself.
        if (comparePositions(event.position, checkpoint) <= 0) return true;
        checkpoint = event.position;
        if (matches(event, options.filter)) events.push(event);
        return events.length < limit;
      });
      if (events.length >= limit || seen < PAGE) return { events, checkpoint };
    }
  }

  subscribeToAll(options: SubscribeOptions): Subscription {
    const subscription = new EsdbSubscription(this.client, options, () => this.subscriptions.delete(subscription));
    this.subscriptions.add(subscription);
    return subscription;
  }

  async getStreamMetadata(stream: string): Promise<StreamMetadata> {
    const { metadata } = await this.client.getStreamMetadata(stream);
    return metadata ? { ...metadata } : {};
  }

  async setStreamMetadata(stream: string, metadata: StreamMetadata): Promise<void> {
    // The client renames the reserved keys (maxAge ⇄ $maxAge, …) both ways and passes custom keys through.
    await this.client.setStreamMetadata(stream, { ...metadata } as ClientStreamMetadata);
  }

  async deleteStream(stream: string, options: { expectedRevision?: ExpectedRevision } = {}): Promise<void> {
    const expected = options.expectedRevision ?? 'any';
    let revision: bigint | 'any' | 'no_stream';
    if (expected === 'stream_exists') {
      // The client's delete has no STREAM_EXISTS; pin the current revision, so a concurrent append still conflicts.
      const [last] = await this.readStream(stream, { direction: 'backwards', maxCount: 1 });
      if (!last) throw new WrongExpectedRevisionError(stream, expected, 'no_stream');
      revision = last.revision;
    } else {
      revision = expected;
    }
    try {
      await this.client.deleteStream(stream, { expectedRevision: revision });
    } catch (error) {
      if (expected === 'any' && error instanceof StreamNotFoundError) return; // nothing to delete, as in Postgres
      throw translate(error, stream, expected);
    }
  }

  async headPosition(): Promise<Position> {
    // Walk $all backwards past the system events (stats, projections' links) written after the newest event of ours.
    let before: ReadPosition = END;
    for (;;) {
      let head: Position | undefined;
      let last: Position | undefined;
      const seen = await scan(this.client.readAll({ fromPosition: before, direction: BACKWARDS, maxCount: PAGE }), (event) => {
        last = event.position;
        if (!isSystem(event)) head = event.position;
        return head === undefined;
      });
      if (head) return head;
      if (seen < PAGE || !last) return START;
      before = last;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    await this.client.dispose();
  }
}

function serverFilter(filter: AllFilter | undefined, onCheckpoint: (position: Position) => void): Filter {
  const checkpointReached = (_: AllStreamSubscription, position: Position): void => onCheckpoint(position);
  // One criterion only: stream prefixes are the more selective; `matches` applies the rest exactly.
  if (filter?.streamPrefixes?.length) return streamNameFilter({ prefixes: [...filter.streamPrefixes], checkpointReached });
  if (filter?.eventTypes?.length) return eventTypeFilter({ prefixes: [...filter.eventTypes], checkpointReached });
  return excludeSystemEvents({ checkpointReached });
}

/**
 * Buffers what the client's catch-up subscription pushes and hands out whatever has accumulated on each pull.
 * A server checkpoint is only handed out once every event the server sent before it has been taken, so a
 * reader resuming from a checkpoint never skips an event still sitting in a buffer.
 */
class EsdbSubscription implements Subscription {
  private readonly source: AllStreamSubscription;
  private readonly queue: AllStreamResolvedEvent[] = [];
  private readonly checkpoints: { position: Position; due: number }[] = [];
  private readonly maxBatch: number;
  private received = 0;
  private taken = 0;
  private lastEvent: Position;
  private cursor: Position;
  private failure: unknown;
  private ended = false;
  private closing: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(client: EventStoreDBClient, private readonly options: SubscribeOptions, private readonly onClose: () => void) {
    this.maxBatch = options.maxBatchSize ?? 500;
    this.lastEvent = this.cursor = options.fromPosition;
    const filter = serverFilter(options.filter, (position) => {
      // Events the server sent before this checkpoint are either queued already or still in the stream's buffer.
      this.checkpoints.push({ position: { commit: position.commit, prepare: position.prepare }, due: this.received + this.source.readableLength });
      this.notify();
    });
    this.source = client.subscribeToAll({ fromPosition: readPosition(options.fromPosition), filter });
    this.source.on('data', (resolved: AllStreamResolvedEvent) => {
      this.queue.push(resolved);
      this.received += 1;
      // Back-pressure: a paused stream stops reading from gRPC until the consumer catches up.
      if (this.queue.length >= this.maxBatch * 4) this.source.pause();
      this.notify();
    });
    this.source.on('error', (error: Error) => {
      this.failure = error;
      this.notify();
    });
    this.source.on('close', () => {
      this.ended = true;
      this.notify();
    });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.notify();
      this.onClose();
      await this.source.unsubscribe();
    })();
    return this.closing;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<SubscriptionBatch> {
    try {
      while (!this.closing) {
        const batch = this.take();
        if (batch) {
          yield batch;
          continue;
        }
        if (this.failure !== undefined) throw this.failure;
        if (this.ended) return;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
      }
    } finally {
      await this.close();
    }
  }

  private take(): SubscriptionBatch | undefined {
    const events: RecordedEvent[] = [];
    let reached = this.cursor;
    let used = 0;
    for (; used < this.queue.length && events.length < this.maxBatch; used += 1) {
      const recorded = toRecorded(this.queue[used] as AllStreamResolvedEvent);
      // The start is exclusive (and the server already treats it so); never hand out an event twice.
      if (!recorded || comparePositions(recorded.position, this.lastEvent) <= 0) continue;
      this.lastEvent = recorded.position;
      if (comparePositions(recorded.position, reached) > 0) reached = recorded.position;
      if (matches(recorded, this.options.filter)) events.push(recorded);
    }
    this.queue.splice(0, used);
    this.taken += used;
    for (let next = this.checkpoints[0]; next && next.due <= this.taken; next = this.checkpoints[0]) {
      this.checkpoints.shift();
      if (comparePositions(next.position, reached) > 0) reached = next.position;
    }
    if (this.source.isPaused() && this.queue.length < this.maxBatch) this.source.resume();
    if (events.length === 0 && comparePositions(reached, this.cursor) === 0) return undefined;
    this.cursor = reached;
    return { events, checkpoint: reached };
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
