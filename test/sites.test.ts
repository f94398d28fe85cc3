import { randomUUID } from 'node:crypto';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';

let api: TestApi;
let org: TestOrg;
beforeAll(async () => {
  api = await startTestApi();
  org = await api.createOrg();
});
afterAll(async () => {
  await api.close();
});

const aSite = (overrides: Record<string, unknown> = {}) => ({
  name: `Warehouse ${randomUUID().slice(0, 8)}`,
  address: '1 Dock Road',
  timezone: 'Europe/Berlin',
  location: { latitude: 52.52, longitude: 13.4 },
  labels: { region: 'eu' },
  ...overrides,
});

describe('sites', () => {
  it('creates a site (201, Location, ETag) and reads it right after', async () => {
    const created = await api.http().post('/api/v1/sites').set('Authorization', org.auth).send(aSite({ name: 'Berlin DC' })).expect(201);
    expect(created.body).toMatchObject({ name: 'Berlin DC', timezone: 'Europe/Berlin', version: 0, labels: { region: 'eu' } });
    expect(created.headers.location).toBe(`/api/v1/sites/${created.body.id}`);
    expect(created.headers.etag).toBe('"0"');
    const read = await api.http().get(created.headers.location as string).set('Authorization', org.auth).expect(200);
    expect(read.body).toEqual(created.body);
  });

  it('updates with If-Match and refuses a stale version with 412', async () => {
    const created = await api.http().post('/api/v1/sites').set('Authorization', org.auth).send(aSite()).expect(201);
    const url = `/api/v1/sites/${created.body.id}`;
    const updated = await api.http().patch(url).set('Authorization', org.auth).set('If-Match', '"0"').send({ name: 'Renamed' }).expect(200);
    expect(updated.body).toMatchObject({ name: 'Renamed', version: 1 });
    expect(updated.headers.etag).toBe('"1"');
    const stale = await api.http().patch(url).set('Authorization', org.auth).set('If-Match', '"0"').send({ name: 'Again' }).expect(412);
    expect(stale.body.code).toBe('PRECONDITION_FAILED');
    const unchanged = await api.http().get(url).set('Authorization', org.auth).expect(200);
    expect(unchanged.body.name).toBe('Renamed');
  });

  it('deletes a site; it is then 404', async () => {
    const created = await api.http().post('/api/v1/sites').set('Authorization', org.auth).send(aSite()).expect(201);
    const url = `/api/v1/sites/${created.body.id}`;
    await api.http().delete(url).set('Authorization', org.auth).expect(204);
    const gone = await api.http().get(url).set('Authorization', org.auth).expect(404);
    expect(gone.body.code).toBe('SITE_NOT_FOUND');
    await api.http().delete(url).set('Authorization', org.auth).expect(404);
  });

  it('lists with a text filter and stable cursor pages', async () => {
    const tag = randomUUID().slice(0, 8);
    for (let i = 0; i < 5; i += 1) {
      await api.http().post('/api/v1/sites').set('Authorization', org.auth).send(aSite({ name: `paged-${tag}-${i}` })).expect(201);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/api/v1/sites?q=paged-${tag}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await api.http().get(query).set('Authorization', org.auth).expect(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((s: { name: string }) => s.name));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([0, 1, 2, 3, 4].map((i) => `paged-${tag}-${i}`));
  });

  it('replays a POST with the same Idempotency-Key and refuses the key with another body', async () => {
    const key = randomUUID();
    const body = aSite();
    const first = await api.http().post('/api/v1/sites').set('Authorization', org.auth).set('Idempotency-Key', key).send(body).expect(201);
    const replay = await api.http().post('/api/v1/sites').set('Authorization', org.auth).set('Idempotency-Key', key).send(body).expect(201);
    expect(replay.body.id).toBe(first.body.id);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    const other = await api
      .http()
      .post('/api/v1/sites')
      .set('Authorization', org.auth)
      .set('Idempotency-Key', key)
      .send(aSite({ name: 'different' }))
      .expect(422);
    expect(other.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('does not double-apply concurrent duplicates of one Idempotency-Key', async () => {
    const key = randomUUID();
    const body = aSite({ name: `concurrent-${key}` });
    const results = await Promise.all(
      Array.from({ length: 5 }, () => api.http().post('/api/v1/sites').set('Authorization', org.auth).set('Idempotency-Key', key).send(body)),
    );
    expect(results.every((r) => r.status === 201 || r.status === 409)).toBe(true);
    const list = await api.http().get(`/api/v1/sites?q=concurrent-${key}`).set('Authorization', org.auth).expect(200);
    expect(list.body.items).toHaveLength(1);
  });

  describe('bad input', () => {
    const post = (body: unknown, type = 'application/json') =>
      api.http().post('/api/v1/sites').set('Authorization', org.auth).set('Content-Type', type).send(body as string);

    it.each([
      { name: 'malformed JSON', body: '{"name":', status: 400, code: 'MALFORMED_JSON' },
      { name: 'a wrong type', body: JSON.stringify({ name: 42 }), status: 400, code: 'VALIDATION_FAILED' },
      { name: 'an unknown property', body: JSON.stringify({ name: 'x', color: 'red' }), status: 400, code: 'VALIDATION_FAILED' },
      { name: 'an attempt to set the organization', body: JSON.stringify({ name: 'x', orgId: randomUUID() }), status: 400, code: 'VALIDATION_FAILED' },
      { name: 'an attempt to set the id', body: JSON.stringify({ name: 'x', id: randomUUID() }), status: 400, code: 'VALIDATION_FAILED' },
      { name: 'a missing name', body: JSON.stringify({}), status: 400, code: 'VALIDATION_FAILED' },
      { name: 'an out-of-range latitude', body: JSON.stringify({ name: 'x', location: { latitude: 91, longitude: 0 } }), status: 400, code: 'VALIDATION_FAILED' },
      { name: 'an unknown time zone', body: JSON.stringify({ name: 'x', timezone: 'Mars/Olympus' }), status: 422, code: 'UNPROCESSABLE' },
    ])('answers $name with a problem+json $status', async ({ body, status, code }) => {
      const res = await post(body).expect(status);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body).toMatchObject({ status, code });
    });

    it('answers a non-JSON body with 415 and an oversized body with 413', async () => {
      await post('name=x', 'application/x-www-form-urlencoded').expect(415);
      const huge = JSON.stringify({ name: 'x', address: 'a'.repeat(2 * 1024 * 1024) });
      const res = await post(huge).expect(413);
      expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
    });

    it('answers a malformed id with 400, an unknown id with 404, an absurd page size and a forged cursor with 400', async () => {
      await api.http().get('/api/v1/sites/not-a-uuid').set('Authorization', org.auth).expect(400);
      await api.http().get(`/api/v1/sites/${randomUUID()}`).set('Authorization', org.auth).expect(404);
      await api.http().get('/api/v1/sites?limit=100000').set('Authorization', org.auth).expect(400);
      await api.http().get('/api/v1/sites?limit=0').set('Authorization', org.auth).expect(400);
      const forged = await api.http().get('/api/v1/sites?cursor=bm90LWEtY3Vyc29y').set('Authorization', org.auth).expect(400);
      expect(forged.body.code).toBe('INVALID_CURSOR');
    });

    it('lets a viewer read but not write', async () => {
      const viewer = `Bearer ${await org.jwt('viewer')}`;
      await api.http().get('/api/v1/sites').set('Authorization', viewer).expect(200);
      await api.http().post('/api/v1/sites').set('Authorization', viewer).send(aSite()).expect(403);
    });
  });
});
