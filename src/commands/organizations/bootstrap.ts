import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Pool } from '../../platform/db/pool';
import type { EventStore } from '../../platform/event-store/event-store.port';
import { createOrganization, type CreatedOrganization } from './organization.handler';

const LOCK_KEY = 7_361_002;
const BOOTSTRAP_STREAM = 'bootstrap';

/**
 * On the first start against an empty log: one organization and an admin API
 * key, printed once by the caller and written to `dataDir/bootstrap.json`
 * (mode 0600). Several processes starting together create it once.
 */
export async function bootstrapFirstOrganization(pool: Pool, store: EventStore, dataDir: string): Promise<CreatedOrganization | undefined> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    // The global log may hide an event a previous holder of the lock just
    // committed (behind any older transaction still in flight), so the fact
    // is read from one stream's metadata, which every committed write shows.
    // The log check still covers logs written before the marker existed.
    if ((await store.getStreamMetadata(BOOTSTRAP_STREAM)).orgId !== undefined) return undefined;
    const existing = await store.readAll({ maxCount: 1, filter: { eventTypes: ['OrganizationCreated'] } });
    if (existing.events.length > 0) return undefined;
    const created = await createOrganization(store, { name: 'Default organization' });
    await store.setStreamMetadata(BOOTSTRAP_STREAM, { orgId: created.orgId });
    await mkdir(dataDir, { recursive: true });
    const file = path.join(dataDir, 'bootstrap.json');
    await writeFile(file, `${JSON.stringify({ orgId: created.orgId, apiKey: created.apiKey }, null, 2)}\n`, { mode: 0o600 });
    return created;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined);
    client.release();
  }
}
