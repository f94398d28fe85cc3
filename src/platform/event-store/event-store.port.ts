/**
 * The event store port. Its semantics mirror EventStoreDB so that the
 * Postgres adapter and the EventStoreDB adapter pass one contract suite.
 */

/** Position in the global log, ordered by (commit, prepare) as in EventStoreDB. */
export interface Position {
  readonly commit: bigint;
  readonly prepare: bigint;
}
export const START: Position = Object.freeze({ commit: 0n, prepare: 0n });

export function comparePositions(a: Position, b: Position): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}
export function formatPosition(p: Position): string {
  return `${p.commit}:${p.prepare}`;
}
export function parsePosition(text: string): Position | undefined {
  const match = /^(\d+):(\d+)$/.exec(text);
  return match ? { commit: BigInt(match[1] as string), prepare: BigInt(match[2] as string) } : undefined;
}

export type Actor = `user:${string}` | `apiKey:${string}` | `device:${string}` | 'system';

export interface EventMetadata {
  readonly orgId: string | null;
  readonly actor: Actor;
  readonly correlationId: string;
  readonly causationId: string | null;
  readonly schemaVersion: number;
}

export interface NewEvent {
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: EventMetadata;
}

export interface RecordedEvent {
  readonly id: string;
  readonly stream: string;
  readonly revision: bigint;
  readonly position: Position;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: EventMetadata;
  readonly createdAt: Date;
}

export type ExpectedRevision = bigint | 'no_stream' | 'stream_exists' | 'any';

export interface AppendResult {
  /** Revision of the last event in the stream after the append. */
  readonly nextExpectedRevision: bigint;
  readonly position: Position;
}

export interface ReadStreamOptions {
  readonly fromRevision?: bigint | 'start' | 'end';
  readonly direction?: 'forwards' | 'backwards';
  readonly maxCount?: number;
}

export interface AllFilter {
  readonly streamPrefixes?: readonly string[];
  readonly eventTypes?: readonly string[];
}

export interface ReadAllOptions {
  /** Exclusive. */
  readonly fromPosition?: Position;
  readonly maxCount?: number;
  readonly filter?: AllFilter;
}

export interface ReadAllResult {
  readonly events: RecordedEvent[];
  /**
   * How far the read looked: past every returned event and every event the
   * filter skipped. A reader resumes from here.
   */
  readonly checkpoint: Position;
}

/** A batch from a subscription: events (possibly none) and the position reached. */
export interface SubscriptionBatch {
  readonly events: RecordedEvent[];
  readonly checkpoint: Position;
}

export interface Subscription extends AsyncIterable<SubscriptionBatch> {
  close(): Promise<void>;
}

export interface SubscribeOptions {
  /** Exclusive; START for the beginning of the log. */
  readonly fromPosition: Position;
  readonly filter?: AllFilter;
  readonly maxBatchSize?: number;
}

export interface StreamMetadata {
  readonly [key: string]: unknown;
}

export interface EventStore {
  appendToStream(stream: string, events: readonly NewEvent[], options?: { expectedRevision?: ExpectedRevision }): Promise<AppendResult>;
  /** Events of a stream; an absent or deleted stream reads as []. */
  readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<ReadAllResult>;
  subscribeToAll(options: SubscribeOptions): Subscription;
  getStreamMetadata(stream: string): Promise<StreamMetadata>;
  setStreamMetadata(stream: string, metadata: StreamMetadata): Promise<void>;
  /** Soft delete: the stream reads as absent; appending again recreates it, revisions continue. */
  deleteStream(stream: string, options?: { expectedRevision?: ExpectedRevision }): Promise<void>;
  /** Position of the newest event a reader can see now. */
  headPosition(): Promise<Position>;
  close(): Promise<void>;
}

export class WrongExpectedRevisionError extends Error {
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    readonly actual: bigint | 'no_stream',
  ) {
    super(`stream ${stream}: expected revision ${String(expected)}, actual ${String(actual)}`);
    this.name = 'WrongExpectedRevisionError';
  }
}
