import type {
  AppendResult,
  EventStore,
  ExpectedRevision,
  NewEvent,
  ReadAllOptions,
  ReadAllResult,
  ReadStreamOptions,
  RecordedEvent,
  StreamMetadata,
  SubscribeOptions,
  Subscription,
  Position,
} from '../../src/platform/event-store/event-store.port';

export interface AppendAttempt {
  readonly stream: string;
  readonly expectedRevision: ExpectedRevision | undefined;
  readonly ids: readonly string[];
}

/**
 * A real event store with two test seams: it records every append attempt,
 * and it can run an action right after a stream read returns, i.e. between a
 * command handler's load and its append, where a concurrent writer strikes.
 */
export class InterleavingEventStore implements EventStore {
  readonly attempts: AppendAttempt[] = [];
  private readonly afterReads: (() => Promise<unknown>)[] = [];

  constructor(readonly inner: EventStore) {}

  /** Runs `action` once, after the next `readStream` and before its caller continues. */
  afterNextRead(action: () => Promise<unknown>): void {
    this.afterReads.push(action);
  }

  async readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    const events = await this.inner.readStream(stream, options);
    const action = this.afterReads.shift();
    if (action) await action();
    return events;
  }

  appendToStream(stream: string, events: readonly NewEvent[], options?: { expectedRevision?: ExpectedRevision }): Promise<AppendResult> {
    this.attempts.push({ stream, expectedRevision: options?.expectedRevision, ids: events.map((e) => e.id) });
    return this.inner.appendToStream(stream, events, options);
  }

  readAll(options?: ReadAllOptions): Promise<ReadAllResult> {
    return this.inner.readAll(options);
  }
  subscribeToAll(options: SubscribeOptions): Subscription {
    return this.inner.subscribeToAll(options);
  }
  getStreamMetadata(stream: string): Promise<StreamMetadata> {
    return this.inner.getStreamMetadata(stream);
  }
  setStreamMetadata(stream: string, metadata: StreamMetadata): Promise<void> {
    return this.inner.setStreamMetadata(stream, metadata);
  }
  deleteStream(stream: string, options?: { expectedRevision?: ExpectedRevision }): Promise<void> {
    return this.inner.deleteStream(stream, options);
  }
  headPosition(): Promise<Position> {
    return this.inner.headPosition();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
