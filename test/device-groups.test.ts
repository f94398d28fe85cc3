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

async function aDevice(owner: TestOrg, tags: string[] = []): Promise<string> {
  const res = await api.http().post('/api/v1/devices').set('Authorization', owner.auth).send({ name: `dev-${randomUUID().slice(0, 6)}`, tags }).expect(201);
  return res.body.id as string;
}

async function aGroup(body: Record<string, unknown>): Promise<{ id: string; kind: string }> {
  const res = await api.http().post('/api/v1/device-groups').set('Authorization', org.auth).send(body).expect(201);
  return res.body;
}

describe('device groups', () => {
  it('adds and removes static members and counts them', async () => {
    const [a, b] = [await aDevice(org), await aDevice(org)];
    const group = await aGroup({ name: 'line 1' });
    expect(group.kind).toBe('STATIC');
    const added = await api.http().post(`/api/v1/device-groups/${group.id}/members`).set('Authorization', org.auth).send({ deviceIds: [a, b] }).expect(200);
    expect(added.body.memberCount).toBe(2);
    const members = await api.http().get(`/api/v1/device-groups/${group.id}/members`).set('Authorization', org.auth).expect(200);
    expect(members.body.items.map((m: { deviceId: string }) => m.deviceId).sort()).toEqual([a, b].sort());
    expect(members.body.items.every((m: { via: string }) => m.via === 'STATIC')).toBe(true);
    await api.http().delete(`/api/v1/device-groups/${group.id}/members/${a}`).set('Authorization', org.auth).expect(204);
    const after = await api.http().get(`/api/v1/device-groups/${group.id}`).set('Authorization', org.auth).expect(200);
    expect(after.body.memberCount).toBe(1);
    const missing = await api.http().delete(`/api/v1/device-groups/${group.id}/members/${a}`).set('Authorization', org.auth).expect(404);
    expect(missing.body.code).toBe('GROUP_MEMBER_NOT_FOUND');
  });

  it('adding the same member twice changes nothing', async () => {
    const a = await aDevice(org);
    const group = await aGroup({ name: 'twice' });
    await api.http().post(`/api/v1/device-groups/${group.id}/members`).set('Authorization', org.auth).send({ deviceIds: [a] }).expect(200);
    const again = await api.http().post(`/api/v1/device-groups/${group.id}/members`).set('Authorization', org.auth).send({ deviceIds: [a] }).expect(200);
    expect(again.body).toMatchObject({ memberCount: 1, version: 1 });
  });

  it('computes dynamic membership from device tags, following tag changes', async () => {
    const tag = `zone-${randomUUID().slice(0, 6)}`;
    const inside = await aDevice(org, [tag, 'outdoor']);
    await aDevice(org, ['outdoor']);
    const group = await aGroup({ name: 'dynamic', kind: 'DYNAMIC', tagSelector: { allOf: [tag] } });
    const members = await api.http().get(`/api/v1/device-groups/${group.id}/members`).set('Authorization', org.auth).expect(200);
    expect(members.body.items).toEqual([expect.objectContaining({ deviceId: inside, via: 'DYNAMIC' })]);

    const joining = await aDevice(org, []);
    await api.http().patch(`/api/v1/devices/${joining}`).set('Authorization', org.auth).send({ tags: [tag] }).expect(200);
    const grown = await api.http().get(`/api/v1/device-groups/${group.id}`).set('Authorization', org.auth).expect(200);
    expect(grown.body.memberCount).toBe(2);
    const byDevice = await api.http().get(`/api/v1/device-groups?deviceId=${joining}`).set('Authorization', org.auth).expect(200);
    expect(byDevice.body.items.map((g: { id: string }) => g.id)).toEqual([group.id]);
  });

  it('refuses members for a dynamic group and a dynamic group without tags', async () => {
    const dynamic = await aGroup({ name: 'dyn', kind: 'DYNAMIC', tagSelector: { anyOf: ['x'] } });
    const refused = await api
      .http()
      .post(`/api/v1/device-groups/${dynamic.id}/members`)
      .set('Authorization', org.auth)
      .send({ deviceIds: [await aDevice(org)] })
      .expect(409);
    expect(refused.body.code).toBe('GROUP_IS_DYNAMIC');
    await api.http().post('/api/v1/device-groups').set('Authorization', org.auth).send({ name: 'empty', kind: 'DYNAMIC' }).expect(422);
  });

  it("refuses another organization's device exactly like a random id", async () => {
    const group = await aGroup({ name: 'mine' });
    const foreign = await aDevice(other);
    const a = await api.http().post(`/api/v1/device-groups/${group.id}/members`).set('Authorization', org.auth).send({ deviceIds: [foreign] }).expect(422);
    const b = await api
      .http()
      .post(`/api/v1/device-groups/${group.id}/members`)
      .set('Authorization', org.auth)
      .send({ deviceIds: [randomUUID()] })
      .expect(422);
    expect(a.body).toEqual(b.body);
  });

  it('drops a deleted group with its members and refuses bad input', async () => {
    const group = await aGroup({ name: 'temporary' });
    await api.http().post(`/api/v1/device-groups/${group.id}/members`).set('Authorization', org.auth).send({ deviceIds: [await aDevice(org)] }).expect(200);
    await api.http().delete(`/api/v1/device-groups/${group.id}`).set('Authorization', org.auth).expect(204);
    await api.http().get(`/api/v1/device-groups/${group.id}/members`).set('Authorization', org.auth).expect(404);
    const leftovers = await api.platform.pool.query('SELECT count(*)::int AS n FROM device_group_members WHERE group_id = $1', [group.id]);
    expect(leftovers.rows[0].n).toBe(0);
    await api.http().post(`/api/v1/device-groups/${group.id}/members`).set('Authorization', org.auth).send({ deviceIds: [] }).expect(400);
    await api.http().post('/api/v1/device-groups').set('Authorization', org.auth).send({ name: 'x', kind: 'SOMETIMES' }).expect(400);
  });
});

describe('devices filtered by group', () => {
  it('lists the static members and the dynamic matches of a group', async () => {
    const tag = `row-${randomUUID().slice(0, 6)}`;
    const [a, b] = [await aDevice(org, [tag]), await aDevice(org)];
    const staticGroup = await aGroup({ name: 'static' });
    await api.http().post(`/api/v1/device-groups/${staticGroup.id}/members`).set('Authorization', org.auth).send({ deviceIds: [b] }).expect(200);
    const dynamicGroup = await aGroup({ name: 'dynamic', kind: 'DYNAMIC', tagSelector: { allOf: [tag] } });
    const ids = async (groupId: string) =>
      (await api.http().get(`/api/v1/devices?groupId=${groupId}`).set('Authorization', org.auth).expect(200)).body.items.map((d: { id: string }) => d.id);
    expect(await ids(staticGroup.id)).toEqual([b]);
    expect(await ids(dynamicGroup.id)).toEqual([a]);
    expect(await ids(randomUUID())).toEqual([]);
  });
});
