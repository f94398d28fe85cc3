import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { bootstrapFirstOrganization } from '../src/commands/organizations/bootstrap';
import type { CreatedOrganization } from '../src/commands/organizations/organization.handler';
import { startTestApi, type TestApi } from './support/test-api';

let api: TestApi;
let dataDir: string;
beforeEach(async () => {
  api = await startTestApi();
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'iotplane-bootstrap-'));
});
afterEach(async () => {
  await api.close();
  await rm(dataDir, { recursive: true, force: true });
});

const bootstrap = (): Promise<CreatedOrganization | undefined> => bootstrapFirstOrganization(api.platform.pool, api.platform.store, dataDir);

async function countEvents(type: string): Promise<number> {
  const { rows } = await api.platform.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM es_events WHERE type = $1', [type]);
  return rows[0]?.n ?? -1;
}

async function bootstrapFile(): Promise<{ orgId: string; apiKey: string; mode: number }> {
  const file = path.join(dataDir, 'bootstrap.json');
  const content = JSON.parse(await readFile(file, 'utf8')) as { orgId: string; apiKey: string };
  return { ...content, mode: (await stat(file)).mode & 0o777 };
}

describe('bootstrapFirstOrganization', () => {
  it('creates one organization with an admin key that works, and writes them to bootstrap.json (0600)', async () => {
    const created = await bootstrap();
    if (!created?.position) throw new Error('expected an organization to be created');
    expect(await countEvents('OrganizationCreated')).toBe(1);
    expect(await countEvents('ApiKeyCreated')).toBe(1);

    const file = await bootstrapFile();
    expect(file).toEqual({ orgId: created.orgId, apiKey: created.apiKey, mode: 0o600 });

    expect(await api.deps.watcher.waitFor(['organizations', 'api-keys'], created.position, 10_000)).toBe(true);
    const org = await api.http().get('/api/v1/organization').set('Authorization', `Bearer ${file.apiKey}`).expect(200);
    expect(org.body).toMatchObject({ id: created.orgId, name: 'Default organization' });
    // The key is an admin's: it may manage keys.
    await api.http().post('/api/v1/api-keys').set('Authorization', `Bearer ${file.apiKey}`).send({ name: 'second' }).expect(201);
  });

  it('does nothing on a second call', async () => {
    const created = await bootstrap();
    const before = await readFile(path.join(dataDir, 'bootstrap.json'), 'utf8');
    expect(await bootstrap()).toBeUndefined();
    expect(await readFile(path.join(dataDir, 'bootstrap.json'), 'utf8')).toBe(before);
    expect(JSON.parse(before)).toMatchObject({ orgId: created?.orgId });
    expect(await countEvents('OrganizationCreated')).toBe(1);
    expect(await countEvents('ApiKeyCreated')).toBe(1);
  });

  it('creates exactly one organization for 3 concurrent callers', async () => {
    const results = await Promise.all([bootstrap(), bootstrap(), bootstrap()]);
    const created = results.filter((r): r is CreatedOrganization => r !== undefined);
    expect(created).toHaveLength(1);
    expect(await countEvents('OrganizationCreated')).toBe(1);
    expect(await countEvents('ApiKeyCreated')).toBe(1);
    expect(await bootstrapFile()).toMatchObject({ orgId: created[0]?.orgId, apiKey: created[0]?.apiKey, mode: 0o600 });
  });

  it('creates exactly one organization for 3 concurrent callers while an older write transaction is open', async () => {
    // Any transaction in flight in the cluster (a projector batch, an ingest
    // COPY) holds back what the event store's global read may show.
    const other = await api.platform.pool.connect();
    try {
      await other.query('BEGIN');
      await other.query('SELECT pg_current_xact_id()');
      const results = await Promise.all([bootstrap(), bootstrap(), bootstrap()]);
      expect(results.filter((r) => r !== undefined)).toHaveLength(1);
      expect(await countEvents('OrganizationCreated')).toBe(1);
    } finally {
      await other.query('ROLLBACK');
      other.release();
    }
  });

  it('does nothing on a log that already has an organization', async () => {
    const org = await api.createOrg('Existing');
    expect(await bootstrap()).toBeUndefined();
    expect(await countEvents('OrganizationCreated')).toBe(1);
    await expect(stat(path.join(dataDir, 'bootstrap.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(org.orgId).toBeDefined();
  });
});
