import { randomUUID } from 'node:crypto';
import { PostgresEventStore } from '../src/platform/event-store/postgres-event-store';
import { comparePositions, type RecordedEvent } from '../src/platform/event-store/event-store.port';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { eventStoreContract } from './support/event-store-contract';
import { aMetadata } from './support/events';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase(60);
});
afterAll(async () => {
  await db.drop();
});

describe('PostgresEventStore', () => {
  eventStoreContract(async () => new PostgresEventStore(db.pool, db.url));

  it('never skips an event whose transaction commits after a later one (random delays and rollbacks)', async () => {
    const store = new PostgresEventStore(db.pool, db.url);
    const prefix = `late-${randomUUID()}`;
    const start = await store.headPosition();
    const committed = new Set<string>();
    const subscription = store.subscribeToAll({ fromPosition: start, filter: { streamPrefixes: [prefix] } });
    const seen: RecordedEvent[] = [];
    let writersDone = false;
    const reading = (async () => {
      for await (const batch of subscription) {
        seen.push(...batch.events);
        if (writersDone && seen.length >= committed.size) break;
      }
    })();

    // Each writer holds its transaction open for a random time after the
    // insert, so positions are taken in one order and committed in another.
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const client = await db.pool.connect();
        try {
          const id = randomUUID();
          await client.query('BEGIN');
          await client.query(`SELECT * FROM es_append($1, 'any', $2::uuid[], $3::text[], $4::jsonb[], $5::jsonb[])`, [
            `${prefix}-${i % 7}`,
            [id],
            ['Late'],
            [JSON.stringify({ i })],
            [JSON.stringify(aMetadata())],
          ]);
          await new Promise((r) => setTimeout(r, Math.random() * 150));
          if (i % 5 === 0) {
            await client.query('ROLLBACK');
          } else {
            await client.query('COMMIT');
            committed.add(id);
          }
        } finally {
          client.release();
        }
      }),
    );
    writersDone = true;
    // Gives up after 20 s; the timer is cleared, so it cannot keep the test worker alive afterwards.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([reading, new Promise((r) => (timer = setTimeout(r, 20_000)))]);
    clearTimeout(timer);
    await subscription.close();
    await store.close();

    expect(seen.map((e) => e.id).sort()).toEqual([...committed].sort());
    for (let i = 1; i < seen.length; i += 1) {
      expect(comparePositions((seen[i - 1] as RecordedEvent).position, (seen[i] as RecordedEvent).position)).toBeLessThan(0);
    }
  });
});
