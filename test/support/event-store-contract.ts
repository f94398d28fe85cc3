import { randomUUID } from 'node:crypto';
import {
  START,
  WrongExpectedRevisionError,
  comparePositions,
  type EventStore,
  type Position,
  type RecordedEvent,
} from '../../src/platform/event-store/event-store.port';
import { aStreamName, anEvent } from './events';

/**
 * The one contract every event store adapter passes. `open` gives a store on
 * a log shared with nothing else of the test.
 */
export function eventStoreContract(open: () => Promise<EventStore>): void {
  let store: EventStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store.close();
  });

  /**
   * Until the log is readable up to `position`. With Postgres, events become
   * readable once every older transaction in the cluster has ended (another
   * test file's write transaction in another database counts too).
   */
  async function readableUpTo(position: Position): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (comparePositions(await store.headPosition(), position) < 0) {
      if (Date.now() > deadline) throw new Error('the log did not become readable up to the last append');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async function collect(from: Position, until: (events: RecordedEvent[]) => boolean, prefix: string): Promise<RecordedEvent[]> {
    const subscription = store.subscribeToAll({ fromPosition: from, filter: { streamPrefixes: [prefix] } });
    const seen: RecordedEvent[] = [];
    const deadline = Date.now() + 30_000;
    for await (const batch of subscription) {
      seen.push(...batch.events);
      if (until(seen) || Date.now() > deadline) break;
    }
    await subscription.close();
    return seen;
  }

  describe('appendToStream', () => {
    it('starts a new stream at revision 0 with no_stream and refuses no_stream once it exists', async () => {
      const stream = aStreamName();
      const first = await store.appendToStream(stream, [anEvent()], { expectedRevision: 'no_stream' });
      expect(first.nextExpectedRevision).toBe(0n);
      await expect(store.appendToStream(stream, [anEvent()], { expectedRevision: 'no_stream' })).rejects.toBeInstanceOf(
        WrongExpectedRevisionError,
      );
    });

    it('enforces stream_exists', async () => {
      const stream = aStreamName();
      await expect(store.appendToStream(stream, [anEvent()], { expectedRevision: 'stream_exists' })).rejects.toBeInstanceOf(
        WrongExpectedRevisionError,
      );
      await store.appendToStream(stream, [anEvent()], { expectedRevision: 'no_stream' });
      const second = await store.appendToStream(stream, [anEvent()], { expectedRevision: 'stream_exists' });
      expect(second.nextExpectedRevision).toBe(1n);
    });

    it('enforces an exact expected revision and numbers revisions without gaps', async () => {
      const stream = aStreamName();
      await store.appendToStream(stream, [anEvent(), anEvent()], { expectedRevision: 'no_stream' });
      await expect(store.appendToStream(stream, [anEvent()], { expectedRevision: 0n })).rejects.toMatchObject({ actual: 1n });
      const third = await store.appendToStream(stream, [anEvent()], { expectedRevision: 1n });
      expect(third.nextExpectedRevision).toBe(2n);
      const events = await store.readStream(stream);
      expect(events.map((e) => e.revision)).toEqual([0n, 1n, 2n]);
    });

    it('does not duplicate a retried append with the same event ids', async () => {
      const stream = aStreamName();
      const batch = [anEvent('A'), anEvent('B')];
      const first = await store.appendToStream(stream, batch, { expectedRevision: 'no_stream' });
      const retry = await store.appendToStream(stream, batch, { expectedRevision: 'no_stream' });
      expect(retry.nextExpectedRevision).toBe(first.nextExpectedRevision);
      await store.appendToStream(stream, [anEvent('C')], { expectedRevision: 1n });
      const again = await store.appendToStream(stream, batch, { expectedRevision: 'any' });
      expect(again.nextExpectedRevision).toBe(1n);
      expect((await store.readStream(stream)).map((e) => e.type)).toEqual(['A', 'B', 'C']);
    });

    it('lets exactly one of 50 concurrent appends at the same expected revision succeed', async () => {
      const stream = aStreamName();
      await store.appendToStream(stream, [anEvent()], { expectedRevision: 'no_stream' });
      const results = await Promise.allSettled(
        Array.from({ length: 50 }, () => store.appendToStream(stream, [anEvent()], { expectedRevision: 0n })),
      );
      const ok = results.filter((r) => r.status === 'fulfilled');
      const conflicts = results.filter((r) => r.status === 'rejected' && r.reason instanceof WrongExpectedRevisionError);
      expect(ok).toHaveLength(1);
      expect(conflicts).toHaveLength(49);
      expect(await store.readStream(stream)).toHaveLength(2);
    });

    it('keeps data and metadata as written', async () => {
      const stream = aStreamName();
      const event = anEvent('Measured', { value: 21.5, tags: ['a'], nested: { ok: true } });
      await store.appendToStream(stream, [event]);
      const [read] = await store.readStream(stream);
      expect(read).toMatchObject({ id: event.id, type: 'Measured', data: event.data, metadata: event.metadata, stream });
    });
  });

  describe('readStream', () => {
    it('reads forwards, backwards, from a revision and with a maximum count', async () => {
      const stream = aStreamName();
      await store.appendToStream(stream, ['E0', 'E1', 'E2', 'E3'].map((t) => anEvent(t)));
      expect((await store.readStream(stream)).map((e) => e.type)).toEqual(['E0', 'E1', 'E2', 'E3']);
      expect((await store.readStream(stream, { direction: 'backwards', maxCount: 2 })).map((e) => e.type)).toEqual(['E3', 'E2']);
      expect((await store.readStream(stream, { fromRevision: 2n })).map((e) => e.type)).toEqual(['E2', 'E3']);
      expect((await store.readStream(stream, { fromRevision: 1n, direction: 'backwards' })).map((e) => e.type)).toEqual(['E1', 'E0']);
    });

    it('reads an absent stream as empty', async () => {
      expect(await store.readStream(aStreamName())).toEqual([]);
    });
  });

  describe('stream metadata and soft delete', () => {
    it('stores stream metadata', async () => {
      const stream = aStreamName();
      await store.appendToStream(stream, [anEvent()]);
      await store.setStreamMetadata(stream, { owner: 'ops', maxAge: 60 });
      expect(await store.getStreamMetadata(stream)).toMatchObject({ owner: 'ops', maxAge: 60 });
    });

    it('hides a soft-deleted stream and continues its revisions when it is written again', async () => {
      const stream = aStreamName();
      await store.appendToStream(stream, [anEvent(), anEvent()]);
      await store.deleteStream(stream, { expectedRevision: 1n });
      expect(await store.readStream(stream)).toEqual([]);
      const next = await store.appendToStream(stream, [anEvent('Again')], { expectedRevision: 'no_stream' });
      expect(next.nextExpectedRevision).toBe(2n);
      expect((await store.readStream(stream)).map((e) => e.type)).toEqual(['Again']);
    });

    it('refuses to delete at a wrong expected revision', async () => {
      const stream = aStreamName();
      await store.appendToStream(stream, [anEvent()]);
      await expect(store.deleteStream(stream, { expectedRevision: 5n })).rejects.toBeInstanceOf(WrongExpectedRevisionError);
    });
  });

  describe('readAll and subscribeToAll', () => {
    it('reads the global log in order with stream-prefix and event-type filters', async () => {
      const prefix = `all-${randomUUID()}`;
      const from = await store.headPosition();
      await store.appendToStream(`${prefix}-a`, [anEvent('Keep'), anEvent('Drop')]);
      await store.appendToStream(`other-${randomUUID()}`, [anEvent('Keep')]);
      const last = await store.appendToStream(`${prefix}-b`, [anEvent('Keep')]);
      await readableUpTo(last.position);
      const byPrefix = await store.readAll({ fromPosition: from, filter: { streamPrefixes: [prefix] } });
      expect(byPrefix.events.map((e) => e.stream)).toEqual([`${prefix}-a`, `${prefix}-a`, `${prefix}-b`]);
      const typed = await store.readAll({ fromPosition: from, filter: { streamPrefixes: [prefix], eventTypes: ['Keep'] } });
      expect(typed.events.map((e) => e.type)).toEqual(['Keep', 'Keep']);
      const positions = byPrefix.events.map((e) => e.position);
      for (let i = 1; i < positions.length; i += 1) {
        expect(comparePositions(positions[i - 1] as Position, positions[i] as Position)).toBeLessThan(0);
      }
      const rest = await store.readAll({ fromPosition: byPrefix.checkpoint, filter: { streamPrefixes: [prefix] } });
      expect(rest.events).toEqual([]);
    });

    it('catches up, then delivers live events, starting after an exclusive position', async () => {
      const prefix = `sub-${randomUUID()}`;
      const before = await store.appendToStream(`${prefix}-1`, [anEvent('Before')]);
      await readableUpTo(before.position);
      const start = await store.headPosition();
      await store.appendToStream(`${prefix}-1`, [anEvent('Caught')]);
      const received = collect(start, (seen) => seen.length >= 2, prefix);
      await new Promise((r) => setTimeout(r, 200));
      await store.appendToStream(`${prefix}-2`, [anEvent('Live')]);
      expect((await received).map((e) => e.type)).toEqual(['Caught', 'Live']);
    });

    it('delivers every event of many concurrent writers exactly once and in global order', async () => {
      const prefix = `race-${randomUUID()}`;
      const start = await store.headPosition();
      const writers = 8;
      const perWriter = 25;
      const total = writers * perWriter;
      const received = collect(start, (seen) => seen.length >= total, prefix);
      const written: string[] = [];
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          for (let i = 0; i < perWriter; i += 1) {
            const event = anEvent('Raced', { w, i });
            await new Promise((r) => setTimeout(r, Math.random() * 5));
            await store.appendToStream(`${prefix}-${i % 5}`, [event]);
            written.push(event.id);
          }
        }),
      );
      const seen = await received;
      expect(seen).toHaveLength(total);
      expect(new Set(seen.map((e) => e.id))).toEqual(new Set(written));
      for (let i = 1; i < seen.length; i += 1) {
        expect(comparePositions((seen[i - 1] as RecordedEvent).position, (seen[i] as RecordedEvent).position)).toBeLessThan(0);
      }
    });

    it('reports a head position that reaches the newest append', async () => {
      const result = await store.appendToStream(aStreamName(), [anEvent()]);
      await readableUpTo(result.position);
      expect(comparePositions(await store.headPosition(), START)).toBeGreaterThan(0);
    });
  });
}
