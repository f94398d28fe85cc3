import { randomUUID } from 'node:crypto';
import { entityContract } from './support/entity-contract';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';
import { createComponent, createDevice, ids, listAll, refusal } from './support/topology.http';

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

const URL = '/api/v1/components';
const post = (body: Record<string, unknown>) => api.http().post(URL).set('Authorization', org.auth).send(body);

describe('components', () => {
  entityContract({
    url: URL,
    api: () => api,
    org: () => org,
    other: () => other,
    body: async (owner) => ({ deviceId: (await createDevice(api, owner)).id, key: 'main-board', kind: 'BOARD', model: 'RPi 4', firmwareVersion: '1.0.0' }),
    change: { firmwareVersion: '1.1.0', name: 'Main board' },
    wrongType: { kind: 7 },
    notFoundCode: 'COMPONENT_NOT_FOUND',
  });

  it('fills the optional fields with null', async () => {
    const device = await createDevice(api, org);
    const res = await post({ deviceId: device.id, key: 'lte', kind: 'MODEM' }).expect(201);
    expect(res.body).toMatchObject({ deviceId: device.id, key: 'lte', kind: 'MODEM', name: null, model: null, serialNumber: null, firmwareVersion: null });
  });

  it('refuses a key the device already uses (409 COMPONENT_KEY_TAKEN); another device may use it', async () => {
    const [device, next] = [await createDevice(api, org), await createDevice(api, org)];
    await createComponent(api, org, device.id, { key: 'cam-1', kind: 'CAMERA' });
    const taken = await post({ deviceId: device.id, key: 'cam-1', kind: 'OTHER' }).expect(409);
    expect(taken.body.code).toBe('COMPONENT_KEY_TAKEN');
    await post({ deviceId: next.id, key: 'cam-1', kind: 'CAMERA' }).expect(201);
  });

  it('frees the key of a deleted component', async () => {
    const device = await createDevice(api, org);
    const component = await createComponent(api, org, device.id, { key: 'psu' });
    await api.http().delete(`${URL}/${component.id}`).set('Authorization', org.auth).expect(204);
    await post({ deviceId: device.id, key: 'psu', kind: 'POWER' }).expect(201);
  });

  it('refuses a device of another organization exactly like a random id (422)', async () => {
    const theirs = await createDevice(api, other);
    const probed = await post({ deviceId: theirs.id, key: 'a', kind: 'BOARD' });
    const missing = await post({ deviceId: randomUUID(), key: 'a', kind: 'BOARD' });
    expect(refusal(probed)).toEqual(refusal(missing));
    expect(probed.body).toMatchObject({ status: 422, errors: [{ path: '/body/deviceId', message: 'does not exist' }] });
  });

  it('refuses a decommissioned device (422)', async () => {
    const device = await createDevice(api, org);
    await api.http().delete(`/api/v1/devices/${device.id}`).set('Authorization', org.auth).expect(204);
    const res = await post({ deviceId: device.id, key: 'a', kind: 'BOARD' }).expect(422);
    expect(res.body.errors).toEqual([{ path: '/body/deviceId', message: 'is decommissioned' }]);
  });

  it('keeps deviceId and key fixed: a PATCH may not name them', async () => {
    const component = await createComponent(api, org, (await createDevice(api, org)).id);
    for (const body of [{ key: 'other' }, { deviceId: randomUUID() }]) {
      await api.http().patch(`${URL}/${component.id}`).set('Authorization', org.auth).send(body).expect(400);
    }
  });

  it.each([
    { name: 'an unknown kind', body: { kind: 'ROBOT' } },
    { name: 'an upper-case key', body: { key: 'Main' } },
    { name: 'a key past 64 characters', body: { key: 'k'.repeat(65) } },
    { name: 'a missing deviceId', body: { deviceId: undefined } },
  ])('refuses $name with 400', async ({ body }) => {
    await post({ deviceId: randomUUID(), key: 'a', kind: 'BOARD', ...body }).expect(400);
  });

  it('filters by device and by kind', async () => {
    const [device, next] = [await createDevice(api, org), await createDevice(api, org)];
    const board = await createComponent(api, org, device.id, { kind: 'BOARD' });
    const camera = await createComponent(api, org, device.id, { kind: 'CAMERA' });
    const elsewhere = await createComponent(api, org, next.id, { kind: 'CAMERA' });
    expect(ids(await listAll(api, org, `${URL}?deviceId=${device.id}`))).toEqual([board.id, camera.id]);
    expect(ids(await listAll(api, org, `${URL}?deviceId=${device.id}&kind=CAMERA`))).toEqual([camera.id]);
    expect(ids(await listAll(api, org, `${URL}?kind=CAMERA`))).toEqual(expect.arrayContaining([camera.id, elsewhere.id]));
    await api.http().get(`${URL}?kind=ROBOT`).set('Authorization', org.auth).expect(400);
  });
});
