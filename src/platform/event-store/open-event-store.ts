import type { Pool } from '../db/pool';
import type { EventStore } from './event-store.port';
import { EventStoreDbEventStore } from './eventstoredb-event-store';
import { PostgresEventStore } from './postgres-event-store';

/** EventStoreDB when EVENTSTORE_URL is set, else the Postgres event store in the same database. */
export function openEventStore(eventStoreUrl: string | undefined, pool: Pool, databaseUrl: string): EventStore {
  return eventStoreUrl ? new EventStoreDbEventStore(eventStoreUrl) : new PostgresEventStore(pool, databaseUrl);
}
