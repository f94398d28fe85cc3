import { randomUUID } from 'node:crypto';
import { entityContract } from './support/entity-contract';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';
import { createDevice, createSensor, createSite, refusal } from './support/topology.http';

type Body = Record<string, unknown>;
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

const CLASSES = '/api/v1/annotation-classes';
const ANNOTATIONS = '/api/v1/annotations';

const send = (method: 'post' | 'get' | 'patch' | 'delete', url: string, body?: object, who: TestOrg = org) =>
  api.http()[method](url).set('Authorization', who.auth).send(body);

async function aClass(who: TestOrg = org, overrides: Body = {}): Promise<Body & { id: string }> {
  return (await send('post', CLASSES, { name: `Class ${randomUUID()}`, colour: '#336699', ...overrides }, who).expect(201)).body as Body & { id: string };
}

async function anAnnotation(body: Body, who: TestOrg = org): Promise<Body & { id: string }> {
  return (await send('post', ANNOTATIONS, body, who).expect(201)).body as Body & { id: string };
}

/** Every item of a list, following nextCursor with pages of `limit`. */
async function listAll(query: Record<string, string>, limit = 2): Promise<Body[]> {
  const items: Body[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await api.http().get(ANNOTATIONS).query({ ...query, limit, ...(cursor ? { cursor } : {}) }).set('Authorization', org.auth).expect(200);
    items.push(...(res.body.items as Body[]));
    cursor = res.body.nextCursor as string | null;
    pages += 1;
  } while (cursor && pages < 100);
  return items;
}

const at = (minute: number): string => new Date(Date.UTC(2025, 0, 1, 0, minute)).toISOString();

describe('annotation classes', () => {
  entityContract({
    url: CLASSES,
    api: () => api,
    org: () => org,
    other: () => other,
    body: async () => ({ name: `Class ${randomUUID()}`, colour: '#336699', description: 'what it means' }),
    change: { colour: '#AABBCC', allowedScopeTypes: ['SITE'] },
    wrongType: { colour: 7 },
    notFoundCode: 'ANNOTATION_CLASS_NOT_FOUND',
    unknownProperty: 'shade',
  });

  it('allows every scope type and no description unless told otherwise', async () => {
    const created = await aClass();
    expect(created).toMatchObject({ description: null, allowedScopeTypes: ['SENSOR', 'DEVICE', 'SITE'] });
  });

  it('refuses a name the organization already uses, whatever its case, on create and on rename (409), but not another organization’s', async () => {
    const name = `Defrost ${randomUUID()}`;
    await aClass(org, { name });
    const duplicate = await send('post', CLASSES, { name: name.toUpperCase(), colour: '#000000' }).expect(409);
    expect(duplicate.body.code).toBe('ANNOTATION_CLASS_NAME_TAKEN');
    const second = await aClass();
    expect((await send('patch', `${CLASSES}/${second.id}`, { name: name.toLowerCase() }).expect(409)).body.code).toBe('ANNOTATION_CLASS_NAME_TAKEN');
    await send('patch', `${CLASSES}/${second.id}`, { name: `${name} 2` }).expect(200);
    await aClass(other, { name });
  });

  it.each([
    { name: 'a colour that is not #RRGGBB', body: { colour: 'orange' } },
    { name: 'a three-digit colour', body: { colour: '#FFF' } },
    { name: 'no scope type', body: { allowedScopeTypes: [] } },
    { name: 'an unknown scope type', body: { allowedScopeTypes: ['DEVICE_GROUP'] } },
    { name: 'a repeated scope type', body: { allowedScopeTypes: ['SITE', 'SITE'] } },
  ])('refuses $name (400)', async ({ body }) => {
    const res = await send('post', CLASSES, { name: `x ${randomUUID()}`, colour: '#123456', ...body }).expect(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
  });

  it('lists by text and by the scope type a class allows', async () => {
    const tag = randomUUID();
    const sites = await aClass(org, { name: `Sites ${tag}`, allowedScopeTypes: ['SITE'] });
    const sensors = await aClass(org, { name: `Sensors ${tag}`, allowedScopeTypes: ['SENSOR'] });
    const ids = async (query: Record<string, string>) =>
      ((await api.http().get(CLASSES).query({ ...query, q: tag }).set('Authorization', org.auth).expect(200)).body.items as Body[]).map((c) => c.id);
    expect(await ids({})).toEqual([sites.id, sensors.id]);
    expect(await ids({ scopeType: 'SITE' })).toEqual([sites.id]);
    expect(await ids({ scopeType: 'DEVICE' })).toEqual([]);
  });

  it('refuses to delete a class that annotations have, or to drop a scope type they use (409 ANNOTATION_CLASS_IN_USE)', async () => {
    const used = await aClass();
    const device = await createDevice(api, org);
    const annotation = await anAnnotation({ classId: used.id, scopeType: 'DEVICE', scopeId: device.id, startsAt: at(0), endsAt: at(5) });

    const refused = await send('delete', `${CLASSES}/${used.id}`).expect(409);
    expect(refused.body.code).toBe('ANNOTATION_CLASS_IN_USE');
    const narrowed = await send('patch', `${CLASSES}/${used.id}`, { allowedScopeTypes: ['SENSOR', 'SITE'] }).expect(409);
    expect(narrowed.body).toMatchObject({ code: 'ANNOTATION_CLASS_IN_USE', detail: expect.stringContaining('DEVICE') });
    // Dropping a scope type nobody uses is fine.
    expect((await send('patch', `${CLASSES}/${used.id}`, { allowedScopeTypes: ['DEVICE'] }).expect(200)).body.allowedScopeTypes).toEqual(['DEVICE']);

    await send('delete', `${ANNOTATIONS}/${annotation.id}`).expect(204);
    await send('delete', `${CLASSES}/${used.id}`).expect(204);
    await send('get', `${CLASSES}/${used.id}`).expect(404);
  });
});

describe('annotations', () => {
  /** A class and a sensor per organization, for the contract's bodies. */
  const targets = new Map<string, Promise<{ classId: string; sensorId: string }>>();
  const targetOf = (who: TestOrg) => {
    let target = targets.get(who.orgId);
    if (!target) {
      target = (async () => {
        const device = await createDevice(api, who);
        return { classId: (await aClass(who)).id, sensorId: (await createSensor(api, who, device.id)).id };
      })();
      targets.set(who.orgId, target);
    }
    return target;
  };
  // Later bodies start later, so the list (by startsAt) is in creation order as the contract expects.
  let minute = 0;

  entityContract({
    url: ANNOTATIONS,
    api: () => api,
    org: () => org,
    other: () => other,
    body: async (who) => {
      const { classId, sensorId } = await targetOf(who);
      minute += 1;
      return { classId, scopeType: 'SENSOR', scopeId: sensorId, startsAt: at(minute), endsAt: at(minute + 30), note: 'door open', value: 3.5, confidence: 0.9 };
    },
    change: { note: 'door left open', confidence: 0.5, value: null },
    wrongType: { confidence: 'high' },
    notFoundCode: 'ANNOTATION_NOT_FOUND',
  });

  it('records the caller as author, an API key or a user, and takes no author from the body', async () => {
    const { classId, sensorId } = await targetOf(org);
    const body = { classId, scopeType: 'SENSOR', scopeId: sensorId, startsAt: at(0), endsAt: at(1) };
    const byKey = await anAnnotation(body);
    expect(byKey).toMatchObject({ author: expect.stringMatching(/^apiKey:[0-9a-f-]{36}$/), note: null, value: null, confidence: null });
    const jwt = await org.jwt('member', 'alice');
    const byUser = await api.http().post(ANNOTATIONS).set('Authorization', `Bearer ${jwt}`).send(body).expect(201);
    expect(byUser.body.author).toBe('user:alice');
    // Someone else editing it leaves the author as it was.
    const edited = await send('patch', `${ANNOTATIONS}/${byUser.body.id as string}`, { note: 'seen' }).expect(200);
    expect(edited.body).toMatchObject({ author: 'user:alice', note: 'seen', version: 1 });
    const forged = await send('post', ANNOTATIONS, { ...body, author: 'user:mallory' }).expect(400);
    expect(forged.body.errors).toEqual([{ path: '/body/author', message: 'is not allowed' }]);
  });

  it('refuses a scope type the class does not allow (422), on create and on each kind of update', async () => {
    const site = await createSite(api, org);
    const device = await createDevice(api, org);
    const sitesOnly = await aClass(org, { allowedScopeTypes: ['SITE'] });
    const anyScope = await aClass();
    const refused = await send('post', ANNOTATIONS, { classId: sitesOnly.id, scopeType: 'DEVICE', scopeId: device.id, startsAt: at(0), endsAt: at(1) }).expect(422);
    expect(refused.body).toMatchObject({ code: 'UNPROCESSABLE', errors: [{ path: '/body/scopeType', message: 'the class allows SITE' }] });

    const onSite = await anAnnotation({ classId: sitesOnly.id, scopeType: 'SITE', scopeId: site.id, startsAt: at(0), endsAt: at(1) });
    const moved = await send('patch', `${ANNOTATIONS}/${onSite.id}`, { scopeType: 'DEVICE', scopeId: device.id }).expect(422);
    expect(moved.body.errors).toEqual([expect.objectContaining({ path: '/body/scopeType' })]);

    const onDevice = await anAnnotation({ classId: anyScope.id, scopeType: 'DEVICE', scopeId: device.id, startsAt: at(0), endsAt: at(1) });
    const reclassified = await send('patch', `${ANNOTATIONS}/${onDevice.id}`, { classId: sitesOnly.id }).expect(422);
    expect(reclassified.body.errors).toEqual([expect.objectContaining({ path: '/body/classId' })]);
    // Both together, consistent: accepted.
    const both = await send('patch', `${ANNOTATIONS}/${onDevice.id}`, { classId: sitesOnly.id, scopeType: 'SITE', scopeId: site.id }).expect(200);
    expect(both.body).toMatchObject({ classId: sitesOnly.id, scopeType: 'SITE', scopeId: site.id });
  });

  it('refuses a class or scope that does not exist, or names another kind of scope, and answers another organization’s ids like random ones (422)', async () => {
    const { classId, sensorId } = await targetOf(org);
    const theirs = await targetOf(other);
    const base = { classId, scopeType: 'SENSOR', scopeId: sensorId, startsAt: at(0), endsAt: at(1) };
    const paths = (res: { body: { errors?: { path: string }[] } }) => (res.body.errors ?? []).map((e) => e.path);

    const wrongKind = await send('post', ANNOTATIONS, { ...base, scopeType: 'DEVICE' }).expect(422);
    expect(paths(wrongKind)).toEqual(['/body/scopeId']);
    for (const [field, theirId] of [
      ['classId', theirs.classId],
      ['scopeId', theirs.sensorId],
    ] as const) {
      const probed = await send('post', ANNOTATIONS, { ...base, [field]: theirId }).expect(422);
      const missing = await send('post', ANNOTATIONS, { ...base, [field]: randomUUID() }).expect(422);
      expect(refusal(probed)).toEqual(refusal(missing));
      expect(paths(probed)).toEqual([`/body/${field}`]);
    }
    const mine = await anAnnotation(base);
    const probed = await send('patch', `${ANNOTATIONS}/${mine.id}`, { scopeId: theirs.sensorId }).expect(422);
    const missing = await send('patch', `${ANNOTATIONS}/${mine.id}`, { scopeId: randomUUID() }).expect(422);
    expect(refusal(probed)).toEqual(refusal(missing));
  });

  it('refuses a range that ends before it starts (422, also when an update moves one end), and a confidence outside 0..1 (400)', async () => {
    const { classId, sensorId } = await targetOf(org);
    const base = { classId, scopeType: 'SENSOR', scopeId: sensorId, startsAt: at(10), endsAt: at(20) };
    const reversed = await send('post', ANNOTATIONS, { ...base, endsAt: at(9) }).expect(422);
    expect(reversed.body.errors).toEqual([{ path: '/body/endsAt', message: 'must not be before startsAt' }]);
    const instant = await anAnnotation({ ...base, endsAt: at(10) });
    expect(instant.endsAt).toBe(instant.startsAt);
    const mine = await anAnnotation(base);
    await send('patch', `${ANNOTATIONS}/${mine.id}`, { startsAt: at(21) }).expect(422);
    for (const confidence of [1.01, -0.1]) await send('post', ANNOTATIONS, { ...base, confidence }).expect(400);
    await send('post', ANNOTATIONS, { ...base, startsAt: 'yesterday' }).expect(400);
  });

  describe('lists', () => {
    /** A device with two sensors, a second device with one, a site; annotations on each, with known ranges. */
    const world = { d1: '', d2: '', s1: '', s2: '', s3: '', site: '', c1: '', c2: '' };
    const made: { id: string; scopeId: string; classId: string; start: number; end: number }[] = [];

    beforeAll(async () => {
      world.d1 = (await createDevice(api, org)).id;
      world.d2 = (await createDevice(api, org)).id;
      world.s1 = (await createSensor(api, org, world.d1)).id;
      world.s2 = (await createSensor(api, org, world.d1)).id;
      world.s3 = (await createSensor(api, org, world.d2)).id;
      world.site = (await createSite(api, org)).id;
      world.c1 = (await aClass()).id;
      world.c2 = (await aClass()).id;
      const scopes: [string, string][] = [
        ['DEVICE', world.d1],
        ['SENSOR', world.s1],
        ['SENSOR', world.s2],
        ['SENSOR', world.s3],
        ['DEVICE', world.d2],
        ['SITE', world.site],
      ];
      // Ranges in minutes after 2025-01-02 00:00, irregular and overlapping, some of one instant.
      const ranges: [number, number][] = [[0, 10], [5, 5], [10, 30], [30, 30], [45, 100], [60, 61], [90, 95], [100, 200], [120, 120], [15, 40], [199, 200], [200, 260]];
      for (const [i, [start, end]] of ranges.entries()) {
        const [scopeType, scopeId] = scopes[i % scopes.length] ?? ['SITE', world.site];
        const classId = i % 3 === 0 ? world.c2 : world.c1;
        const created = await anAnnotation({ classId, scopeType, scopeId, startsAt: minutes(start), endsAt: minutes(end), note: `#${i}` });
        made.push({ id: created.id, scopeId, classId, start, end });
      }
    });

    function minutes(m: number): string {
      return new Date(Date.UTC(2025, 0, 2) + m * 60_000).toISOString();
    }
    const mine = (items: Body[]) => items.filter((a) => made.some((m) => m.id === a.id));
    /** What the list must answer, computed here: ordered by start (then id), closed ranges against [from, to). */
    const expected = (keep: (m: (typeof made)[number]) => boolean) =>
      made
        .filter(keep)
        .sort((a, b) => a.start - b.start || (a.id < b.id ? -1 : 1))
        .map((m) => m.id);

    it.each([
      { from: 30, to: 60 },
      { from: 10, to: 11 },
      { from: 100, to: 101 },
      { from: 0, to: 5 },
      { from: 200, to: 1000 },
      { from: 261, to: 300 },
    ])('returns annotations whose range overlaps [$from, $to), pages and all', async ({ from, to }) => {
      const items = mine(await listAll({ from: minutes(from), to: minutes(to) }));
      expect(items.map((a) => a.id)).toEqual(expected((m) => m.end >= from && m.start < to));
    });

    it('takes either end alone, and refuses from ≥ to (400)', async () => {
      expect(mine(await listAll({ from: minutes(120) })).map((a) => a.id)).toEqual(expected((m) => m.end >= 120));
      expect(mine(await listAll({ to: minutes(30) })).map((a) => a.id)).toEqual(expected((m) => m.start < 30));
      await api.http().get(ANNOTATIONS).query({ from: minutes(5), to: minutes(5) }).set('Authorization', org.auth).expect(400);
    });

    it('lists by scope, by class, and by device: the device’s own and its sensors’ annotations, not another device’s', async () => {
      const ids = async (query: Record<string, string>) => (await listAll(query, 3)).map((a) => a.id);
      expect(await ids({ scopeType: 'SENSOR', scopeId: world.s1 })).toEqual(expected((m) => m.scopeId === world.s1));
      expect(await ids({ scopeId: world.site })).toEqual(expected((m) => m.scopeId === world.site));
      expect(await ids({ scopeType: 'DEVICE', scopeId: world.s1 })).toEqual([]);
      expect(await ids({ classId: world.c2 })).toEqual(expected((m) => m.classId === world.c2));
      const ofDevice = expected((m) => [world.d1, world.s1, world.s2].includes(m.scopeId));
      expect(ofDevice.length).toBeGreaterThan(3);
      expect(await ids({ deviceId: world.d1 })).toEqual(ofDevice);
      expect(await ids({ deviceId: world.d1, from: minutes(50), to: minutes(150) })).toEqual(
        expected((m) => [world.d1, world.s1, world.s2].includes(m.scopeId) && m.end >= 50 && m.start < 150),
      );
      // Another organization sees none of them, even by naming the device.
      const theirs = await api.http().get(ANNOTATIONS).query({ deviceId: world.d1 }).set('Authorization', other.auth).expect(200);
      expect(theirs.body.items).toEqual([]);
    });

    it('refuses a cursor it did not make (400)', async () => {
      const forged = Buffer.from(JSON.stringify(['yesterday', 'x'])).toString('base64url');
      const res = await api.http().get(ANNOTATIONS).query({ cursor: forged }).set('Authorization', org.auth).expect(400);
      expect(res.body.code).toBe('INVALID_CURSOR');
    });
  });
});
