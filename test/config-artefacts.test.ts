import { randomUUID } from 'node:crypto';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';

let api: TestApi;
let org: TestOrg;
let other: TestOrg;
beforeAll(async () => {
  api = await startTestApi();
  org = await api.createOrg();
  other = await api.createOrg('Other org');
});
afterAll(async () => {
  await api.close();
});

const BASE = '/api/v1/config-artefacts';
const uniqueName = (prefix = 'cfg') => `${prefix}-${randomUUID().slice(0, 8)}`;

async function anArtefact(body: Record<string, unknown> = {}, owner = org): Promise<{ id: string; name: string; contentHash: string }> {
  const res = await api.http().post(BASE).set('Authorization', owner.auth).send({ name: uniqueName(), content: { interval: 60 }, ...body }).expect(201);
  return res.body;
}

const post = (path: string, body?: object) => api.http().post(path).set('Authorization', org.auth).send(body);
const get = (path: string) => api.http().get(path).set('Authorization', org.auth);

describe('config artefacts', () => {
  it('creates one with its first version and reads it back', async () => {
    const name = uniqueName();
    const res = await post(BASE, { name, description: 'gateways', content: { b: 1, a: [1, 2] } }).expect(201);
    expect(res.body).toMatchObject({ name, description: 'gateways', latestVersion: 1, status: 'ACTIVE', version: 0 });
    expect(res.body.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(res.headers.location).toBe(`${BASE}/${res.body.id}`);
    const read = await get(`${BASE}/${res.body.id}`).expect(200);
    expect(read.body).toMatchObject({ id: res.body.id, content: { a: [1, 2], b: 1 }, schema: null });
    expect(read.headers.etag).toBeDefined();
  });

  it('hashes the canonical JSON, so key order does not matter', async () => {
    const a = await anArtefact({ content: { x: 1, y: { p: true, q: null } } });
    const b = await anArtefact({ content: { y: { q: null, p: true }, x: 1 } });
    expect(a.contentHash).toBe(b.contentHash);
  });

  it('lists in pages and filters by status and name', async () => {
    const prefix = `page-${randomUUID().slice(0, 6)}`;
    const made = [await anArtefact({ name: `${prefix}-1` }), await anArtefact({ name: `${prefix}-2` }), await anArtefact({ name: `${prefix}-3` })];
    const first = await get(`${BASE}?q=${prefix}&limit=2`).expect(200);
    expect(first.body.items.map((i: { id: string }) => i.id)).toEqual(made.slice(0, 2).map((m) => m.id));
    expect(first.body.items[0].content).toBeUndefined();
    const second = await get(`${BASE}?q=${prefix}&limit=2&cursor=${first.body.nextCursor}`).expect(200);
    expect(second.body).toEqual({ items: [expect.objectContaining({ id: made[2]?.id })], nextCursor: null });
    await post(`${BASE}/${made[0]?.id}/archive`).expect(200);
    const archived = await get(`${BASE}?q=${prefix}&status=ARCHIVED`).expect(200);
    expect(archived.body.items.map((i: { id: string }) => i.id)).toEqual([made[0]?.id]);
  });

  it('adds versions, keeps old ones readable and answers the latest for the same content', async () => {
    const { id } = await anArtefact({ content: { interval: 60 } });
    const added = await post(`${BASE}/${id}/versions`, { content: { interval: 30 } }).expect(201);
    expect(added.body).toMatchObject({ version: 2, content: { interval: 30 }, createdBy: expect.stringMatching(/^apiKey:/) });
    const again = await post(`${BASE}/${id}/versions`, { content: { interval: 30 } }).expect(200);
    expect(again.body).toEqual(added.body);
    const artefact = await get(`${BASE}/${id}`).expect(200);
    expect(artefact.body).toMatchObject({ latestVersion: 2, content: { interval: 30 }, contentHash: added.body.contentHash });
    const old = await get(`${BASE}/${id}/versions/1`).expect(200);
    expect(old.body).toMatchObject({ version: 1, content: { interval: 60 } });
    const list = await get(`${BASE}/${id}/versions`).expect(200);
    expect(list.body.items.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    expect(Object.keys(list.body.items[0]).sort()).toEqual(['contentHash', 'createdAt', 'createdBy', 'version']);
    const missing = await get(`${BASE}/${id}/versions/3`).expect(404);
    expect(missing.body.code).toBe('CONFIG_ARTEFACT_VERSION_NOT_FOUND');
    await get(`${BASE}/${id}/versions/latest`).expect(404);
  });

  it('validates content against its schema, also for later versions', async () => {
    const schema = { type: 'object', required: ['interval'], properties: { interval: { type: 'integer', minimum: 1 } } };
    const bad = await post(BASE, { name: uniqueName(), content: { interval: 0 }, schema }).expect(422);
    expect(bad.body).toMatchObject({ code: 'UNPROCESSABLE', errors: [{ path: '/body/content/interval' }] });
    const { id } = await anArtefact({ content: { interval: 5 }, schema });
    const badVersion = await post(`${BASE}/${id}/versions`, { content: { interval: 'often' } }).expect(422);
    expect(badVersion.body.errors[0].path).toBe('/body/content/interval');
    await post(`${BASE}/${id}/versions`, { content: { interval: 'often' }, schema: { type: 'object' } }).expect(201);
  });

  it('refuses an invalid schema and content that is not an object', async () => {
    const invalid = await post(BASE, { name: uniqueName(), content: {}, schema: { type: 'no-such-type' } }).expect(422);
    expect(invalid.body.errors[0].path).toBe('/body/schema');
    await post(BASE, { name: uniqueName(), content: [1, 2] }).expect(400);
  });

  it('refuses content over 32 KB of canonical JSON with 413', async () => {
    const res = await post(BASE, { name: uniqueName(), content: { blob: 'x'.repeat(33 * 1024) } }).expect(413);
    expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
    await post(BASE, { name: uniqueName(), content: { blob: 'x'.repeat(30 * 1024) } }).expect(201);
  });

  it('refuses new versions of an archived artefact but keeps them readable', async () => {
    const { id } = await anArtefact();
    const archived = await post(`${BASE}/${id}/archive`).expect(200);
    expect(archived.body.status).toBe('ARCHIVED');
    const refused = await post(`${BASE}/${id}/versions`, { content: { interval: 1 } }).expect(409);
    expect(refused.body.code).toBe('CONFIG_ARTEFACT_ARCHIVED');
    await get(`${BASE}/${id}/versions/1`).expect(200);
  });

  it('refuses a duplicate name in the organization but not in another', async () => {
    const { name } = await anArtefact();
    const res = await post(BASE, { name: name.toUpperCase(), content: {} }).expect(409);
    expect(res.body.code).toBe('CONFIG_ARTEFACT_NAME_TAKEN');
    await anArtefact({ name }, other);
  });

  it('renames with If-Match and refuses a stale version', async () => {
    const { id } = await anArtefact();
    const renamed = await api.http().patch(`${BASE}/${id}`).set('Authorization', org.auth).set('If-Match', '"0"').send({ name: uniqueName('renamed') }).expect(200);
    expect(renamed.body.version).toBe(1);
    await api.http().patch(`${BASE}/${id}`).set('Authorization', org.auth).set('If-Match', '"0"').send({ description: 'x' }).expect(412);
  });

  it('lets viewers read and only members write', async () => {
    const { id } = await anArtefact();
    const viewer = `Bearer ${await org.jwt('viewer')}`;
    const member = `Bearer ${await org.jwt('member')}`;
    await api.http().get(`${BASE}/${id}`).set('Authorization', viewer).expect(200);
    await api.http().get(`${BASE}/${id}/versions`).set('Authorization', viewer).expect(200);
    const refused = await api.http().post(`${BASE}/${id}/versions`).set('Authorization', viewer).send({ content: { a: 1 } }).expect(403);
    expect(refused.body.code).toBe('INSUFFICIENT_ROLE');
    await api.http().post(BASE).set('Authorization', viewer).send({ name: uniqueName(), content: {} }).expect(403);
    await api.http().post(`${BASE}/${id}/versions`).set('Authorization', member).send({ content: { a: 1 } }).expect(201);
  });

  it("answers another organization's artefact exactly like a random id", async () => {
    const foreign = await anArtefact({}, other);
    const a = await get(`${BASE}/${foreign.id}`).expect(404);
    const b = await get(`${BASE}/${randomUUID()}`).expect(404);
    expect(a.body.code).toBe('CONFIG_ARTEFACT_NOT_FOUND');
    expect(a.body).toEqual(b.body);
    await get(`${BASE}/${foreign.id}/versions/1`).expect(404);
    await post(`${BASE}/${foreign.id}/versions`, { content: { a: 1 } }).expect(404);
  });
});
