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

const BASE = '/api/v1/desired-state-bindings';
type Body = Record<string, unknown>;

const post = (path: string, body?: object, auth = org.auth) => api.http().post(path).set('Authorization', auth).send(body);
const get = (path: string, auth = org.auth) => api.http().get(path).set('Authorization', auth);

async function created(path: string, body: Body, owner = org): Promise<string> {
  const res = await post(path, body, owner.auth).expect(201);
  return res.body.id as string;
}
const anArtefact = (content: Body, owner = org) => created('/api/v1/config-artefacts', { name: `cfg-${randomUUID().slice(0, 8)}`, content }, owner);
const aSite = (owner = org) => created('/api/v1/sites', { name: 'site' }, owner);
const aDevice = (body: Body = {}, owner = org) => created('/api/v1/devices', { name: 'device', ...body }, owner);
const aGroup = (body: Body, owner = org) => created('/api/v1/device-groups', { name: `group-${randomUUID().slice(0, 6)}`, ...body }, owner);

async function bind(body: Body, owner = org): Promise<Body> {
  const res = await post(BASE, { version: 'latest', ...body }, owner.auth).expect(201);
  return res.body as Body;
}
const desired = async (deviceId: string) => (await get(`/api/v1/devices/${deviceId}/desired-state`).expect(200)).body;

describe('desired-state bindings', () => {
  it('binds, reads, lists with filters and unbinds', async () => {
    const artefactId = await anArtefact({ interval: 60 });
    const deviceId = await aDevice();
    const binding = await bind({ artefactId, version: 1, targetType: 'DEVICE', targetId: deviceId });
    expect(binding).toMatchObject({ artefactId, version: 1, targetType: 'DEVICE', targetId: deviceId, priority: 0, createdBy: expect.stringMatching(/^apiKey:/) });
    await get(`${BASE}/${binding.id}`).expect(200, binding);
    const second = await bind({ artefactId, targetType: 'DEVICE', targetId: deviceId, priority: 5 });
    expect(second.version).toBe('latest');
    const listed = await get(`${BASE}?artefactId=${artefactId}&limit=1`).expect(200);
    expect(listed.body.items).toEqual([binding]);
    const next = await get(`${BASE}?artefactId=${artefactId}&limit=1&cursor=${listed.body.nextCursor}`).expect(200);
    expect(next.body).toEqual({ items: [second], nextCursor: null });
    const byTarget = await get(`${BASE}?targetType=DEVICE&targetId=${deviceId}`).expect(200);
    expect(byTarget.body.items.map((b: Body) => b.id)).toEqual([binding.id, second.id]);
    expect((await get(`${BASE}?targetType=SITE&targetId=${deviceId}`).expect(200)).body.items).toEqual([]);

    await api.http().delete(`${BASE}/${binding.id}`).set('Authorization', org.auth).expect(204);
    const gone = await get(`${BASE}/${binding.id}`).expect(404);
    expect(gone.body.code).toBe('DESIRED_STATE_BINDING_NOT_FOUND');
    await api.http().delete(`${BASE}/${binding.id}`).set('Authorization', org.auth).expect(404);
    expect((await get(`${BASE}?artefactId=${artefactId}`).expect(200)).body.items).toEqual([second]);
  });

  it('refuses an unknown version, an archived artefact and a wrong kind of target', async () => {
    const artefactId = await anArtefact({ a: 1 });
    const deviceId = await aDevice();
    const res = await post(BASE, { artefactId, version: 2, targetType: 'DEVICE', targetId: deviceId }).expect(422);
    expect(res.body.errors).toEqual([expect.objectContaining({ path: '/body/version' })]);
    const wrongKind = await post(BASE, { artefactId, version: 1, targetType: 'SITE', targetId: deviceId }).expect(422);
    expect(wrongKind.body.errors).toEqual([expect.objectContaining({ path: '/body/targetId' })]);
    await post(BASE, { artefactId, version: 0, targetType: 'DEVICE', targetId: deviceId }).expect(400);
    await post(BASE, { artefactId, version: 'newest', targetType: 'DEVICE', targetId: deviceId }).expect(400);
    await post(`/api/v1/config-artefacts/${artefactId}/archive`).expect(200);
    const archived = await post(BASE, { artefactId, version: 1, targetType: 'DEVICE', targetId: deviceId }).expect(409);
    expect(archived.body.code).toBe('CONFIG_ARTEFACT_ARCHIVED');
  });

  it("answers 422 for another organization's artefact or target exactly like a random id", async () => {
    const artefactId = await anArtefact({ a: 1 });
    const deviceId = await aDevice();
    const foreignArtefact = await anArtefact({ a: 1 }, other);
    const foreignDevice = await aDevice({}, other);
    const foreignSite = await aSite(other);
    const foreignGroup = await aGroup({}, other);
    const compare = async (field: string, foreign: Body, random: Body) => {
      const a = await post(BASE, { artefactId, version: 'latest', targetType: 'DEVICE', targetId: deviceId, ...foreign }).expect(422);
      const b = await post(BASE, { artefactId, version: 'latest', targetType: 'DEVICE', targetId: deviceId, ...random }).expect(422);
      expect(a.body).toEqual(b.body);
      expect(a.body.errors).toEqual([expect.objectContaining({ path: field })]);
    };
    await compare('/body/artefactId', { artefactId: foreignArtefact }, { artefactId: randomUUID() });
    await compare('/body/targetId', { targetId: foreignDevice }, { targetId: randomUUID() });
    await compare('/body/targetId', { targetType: 'SITE', targetId: foreignSite }, { targetType: 'SITE', targetId: randomUUID() });
    await compare('/body/targetId', { targetType: 'DEVICE_GROUP', targetId: foreignGroup }, { targetType: 'DEVICE_GROUP', targetId: randomUUID() });
  });

  it('merges site < group < device, then ascending priority, deep-merging objects and replacing arrays', async () => {
    const siteId = await aSite();
    const deviceId = await aDevice({ siteId });
    const groupId = await aGroup({});
    await post(`/api/v1/device-groups/${groupId}/members`, { deviceIds: [deviceId] }).expect(200);
    const deviceArt = await anArtefact({ mode: 'device', net: { dns: ['9.9.9.9'] } });
    const groupHigh = await anArtefact({ mode: 'group-high', level: 'high' });
    const groupLow = await anArtefact({ mode: 'group-low', level: 'low', net: { mtu: 1400 } });
    const siteArt = await anArtefact({ mode: 'site', net: { dns: ['1.1.1.1', '8.8.8.8'], ntp: 'pool' }, site: true });
    // Bound in an order that is not the merge order.
    const d = await bind({ artefactId: deviceArt, targetType: 'DEVICE', targetId: deviceId, priority: -10 });
    const gh = await bind({ artefactId: groupHigh, targetType: 'DEVICE_GROUP', targetId: groupId, priority: 10 });
    const gl = await bind({ artefactId: groupLow, targetType: 'DEVICE_GROUP', targetId: groupId, priority: 1 });
    const s = await bind({ artefactId: siteArt, targetType: 'SITE', targetId: siteId, priority: 100 });
    const state = await desired(deviceId);
    expect(state.sources.map((x: Body) => x.bindingId)).toEqual([s.id, gl.id, gh.id, d.id]);
    expect(state.sources[0]).toEqual({ bindingId: s.id, artefactId: siteArt, version: 1, targetType: 'SITE', targetId: siteId, priority: 100 });
    expect(state.desired).toEqual({ mode: 'device', level: 'high', site: true, net: { dns: ['9.9.9.9'], ntp: 'pool', mtu: 1400 } });
    expect(state.version).toMatch(/^[0-9a-f]{64}$/);
    expect(state.deviceId).toBe(deviceId);

    const lonely = await desired(await aDevice());
    expect(lonely).toMatchObject({ desired: {}, sources: [] });
  });

  it('follows the latest version for `latest` and stays on a fixed version otherwise', async () => {
    const deviceId = await aDevice();
    const latest = await anArtefact({ interval: 60 });
    const fixed = await anArtefact({ fixed: 'v1' });
    await bind({ artefactId: fixed, version: 1, targetType: 'DEVICE', targetId: deviceId });
    await bind({ artefactId: latest, targetType: 'DEVICE', targetId: deviceId, priority: 1 });
    const before = await desired(deviceId);
    expect(before.desired).toEqual({ interval: 60, fixed: 'v1' });
    await post(`/api/v1/config-artefacts/${latest}/versions`, { content: { interval: 30 } }).expect(201);
    await post(`/api/v1/config-artefacts/${fixed}/versions`, { content: { fixed: 'v2' } }).expect(201);
    const after = await desired(deviceId);
    expect(after.desired).toEqual({ interval: 30, fixed: 'v1' });
    expect(after.sources.map((x: Body) => x.version)).toEqual([1, 2]);
    expect(after.version).not.toBe(before.version);
  });

  it("changes with the device's membership of a tag-based dynamic group", async () => {
    const tag = `tag-${randomUUID().slice(0, 6)}`;
    const deviceId = await aDevice();
    const groupId = await aGroup({ kind: 'DYNAMIC', tagSelector: { allOf: [tag] } });
    const artefactId = await anArtefact({ rollout: 'canary' });
    await bind({ artefactId, targetType: 'DEVICE_GROUP', targetId: groupId });
    expect((await desired(deviceId)).desired).toEqual({});
    await api.http().patch(`/api/v1/devices/${deviceId}`).set('Authorization', org.auth).send({ tags: [tag] }).expect(200);
    expect((await desired(deviceId)).desired).toEqual({ rollout: 'canary' });
    await api.http().patch(`/api/v1/devices/${deviceId}`).set('Authorization', org.auth).send({ tags: [] }).expect(200);
    expect((await desired(deviceId)).desired).toEqual({});
  });

  it('lets viewers read and only members write', async () => {
    const artefactId = await anArtefact({ a: 1 });
    const deviceId = await aDevice();
    const { id } = await bind({ artefactId, targetType: 'DEVICE', targetId: deviceId });
    const viewer = `Bearer ${await org.jwt('viewer')}`;
    const member = `Bearer ${await org.jwt('member')}`;
    await get(`${BASE}/${id}`, viewer).expect(200);
    await get(BASE, viewer).expect(200);
    await get(`/api/v1/devices/${deviceId}/desired-state`, viewer).expect(200);
    const refused = await post(BASE, { artefactId, version: 'latest', targetType: 'DEVICE', targetId: deviceId }, viewer).expect(403);
    expect(refused.body.code).toBe('INSUFFICIENT_ROLE');
    await api.http().delete(`${BASE}/${id}`).set('Authorization', viewer).expect(403);
    await post(BASE, { artefactId, version: 'latest', targetType: 'DEVICE', targetId: deviceId }, member).expect(201);
    await api.http().delete(`${BASE}/${id}`).set('Authorization', member).expect(204);
  });

  it("answers another organization's binding and device exactly like a random id", async () => {
    const artefactId = await anArtefact({ a: 1 }, other);
    const deviceId = await aDevice({}, other);
    const foreign = await bind({ artefactId, targetType: 'DEVICE', targetId: deviceId }, other);
    const a = await get(`${BASE}/${foreign.id}`).expect(404);
    const b = await get(`${BASE}/${randomUUID()}`).expect(404);
    expect(a.body).toEqual(b.body);
    await api.http().delete(`${BASE}/${foreign.id}`).set('Authorization', org.auth).expect(404);
    const c = await get(`/api/v1/devices/${deviceId}/desired-state`).expect(404);
    const e = await get(`/api/v1/devices/${randomUUID()}/desired-state`).expect(404);
    expect(c.body).toEqual(e.body);
    expect(c.body.code).toBe('DEVICE_NOT_FOUND');
    expect((await get(`${BASE}?artefactId=${artefactId}`).expect(200)).body.items).toEqual([]);
    await get(`${BASE}/${foreign.id}`, other.auth).expect(200);
  });
});
