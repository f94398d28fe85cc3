import { randomUUID } from 'node:crypto';
import { entityContract } from './support/entity-contract';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';
import { createDeviceProfile, createSensorProfile, ids, listAll, refusal } from './support/topology.http';

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

const URL = '/api/v1/device-profiles';
const sensorsOf = (...sensorProfileIds: string[]) => sensorProfileIds.map((id, i) => ({ key: `s${i}`, sensorProfileId: id, unit: null }));

describe('device profiles', () => {
  entityContract({
    url: URL,
    api: () => api,
    org: () => org,
    other: () => other,
    body: async (owner) => ({
      name: `Weather station ${randomUUID().slice(0, 6)}`,
      expectedComponents: [{ key: 'main-board', kind: 'BOARD' }],
      expectedSensors: sensorsOf((await createSensorProfile(api, owner)).id),
      defaultConfig: { sampleSeconds: 60, upload: { batch: 100 } },
    }),
    change: { description: 'Rooftop model', defaultConfig: { sampleSeconds: 30 } },
    wrongType: { expectedComponents: 'board' },
    notFoundCode: 'DEVICE_PROFILE_NOT_FOUND',
  });

  it('starts with no expectations and an empty config', async () => {
    const res = await api.http().post(URL).set('Authorization', org.auth).send({ name: 'Bare' }).expect(201);
    expect(res.body).toMatchObject({ description: null, expectedComponents: [], expectedSensors: [], defaultConfig: {} });
  });

  it('keeps the expected sensors and components as given, in order', async () => {
    const [a, b] = [await createSensorProfile(api, org), await createSensorProfile(api, org)];
    const body = {
      name: 'Ordered',
      expectedComponents: [
        { key: 'cam', kind: 'CAMERA' },
        { key: 'lte', kind: 'MODEM' },
      ],
      expectedSensors: [
        { key: 'temp', sensorProfileId: b.id, unit: 'K' },
        { key: 'hum', sensorProfileId: a.id, unit: null },
        { key: 'raw', sensorProfileId: null, unit: 'mV' },
      ],
    };
    const res = await api.http().post(URL).set('Authorization', org.auth).send(body).expect(201);
    expect(res.body).toMatchObject(body);
  });

  it('refuses a sensor profile of another organization exactly like a random id (422), on create and on update', async () => {
    const theirs = await createSensorProfile(api, other);
    const post = (id: string) => api.http().post(URL).set('Authorization', org.auth).send({ name: 'x', expectedSensors: sensorsOf(id) });
    const probed = await post(theirs.id);
    const missing = await post(randomUUID());
    expect(refusal(probed)).toEqual(refusal(missing));
    expect(probed.body).toMatchObject({ status: 422, code: 'UNPROCESSABLE', errors: [{ path: '/body/expectedSensors/0/sensorProfileId', message: 'does not exist' }] });

    const mine = await createDeviceProfile(api, org);
    const patch = (id: string) => api.http().patch(`${URL}/${mine.id}`).set('Authorization', org.auth).send({ expectedSensors: sensorsOf(id) });
    expect(refusal(await patch(theirs.id))).toEqual(refusal(await patch(randomUUID())));
    const own = await createSensorProfile(api, org);
    await patch(own.id).expect(200);
  });

  it('names every missing sensor profile, and accepts an upper-case id of an existing one', async () => {
    const own = await createSensorProfile(api, org);
    const res = await api
      .http()
      .post(URL)
      .set('Authorization', org.auth)
      .send({ name: 'x', expectedSensors: sensorsOf(own.id.toUpperCase(), randomUUID(), own.id, randomUUID()) })
      .expect(422);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(['/body/expectedSensors/1/sensorProfileId', '/body/expectedSensors/3/sensorProfileId']);
  });

  it('refuses duplicate keys and a defaultConfig past 32 KiB with 422', async () => {
    const dup = await api
      .http()
      .post(URL)
      .set('Authorization', org.auth)
      .send({ name: 'x', expectedComponents: [{ key: 'a', kind: 'BOARD' }, { key: 'a', kind: 'POWER' }] })
      .expect(422);
    expect(dup.body.errors).toEqual([{ path: '/body/expectedComponents/1/key', message: 'duplicates key a' }]);
    const big = await api.http().post(URL).set('Authorization', org.auth).send({ name: 'x', defaultConfig: { blob: 'x'.repeat(33 * 1024) } }).expect(422);
    expect(big.body.errors).toEqual([{ path: '/body/defaultConfig', message: 'must be at most 32768 bytes as JSON' }]);
  });

  it.each([
    { name: 'an unknown component kind', body: { expectedComponents: [{ key: 'a', kind: 'ROBOT' }] } },
    { name: 'a sensor without unit', body: { expectedSensors: [{ key: 'a', sensorProfileId: null }] } },
    { name: 'a malformed sensor key', body: { expectedSensors: [{ key: 'Bad Key', sensorProfileId: null, unit: null }] } },
    { name: 'a malformed sensor profile id', body: { expectedSensors: [{ key: 'a', sensorProfileId: 'nope', unit: null }] } },
    { name: 'a config that is an array', body: { defaultConfig: [1, 2] } },
  ])('refuses $name with 400', async ({ body }) => {
    const res = await api.http().post(URL).set('Authorization', org.auth).send({ name: 'x', ...body }).expect(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
  });

  it('filters by text in the name', async () => {
    const match = await createDeviceProfile(api, org, { name: 'Rooftop zk4 station' });
    await createDeviceProfile(api, org, { name: 'Basement station' });
    expect(ids(await listAll(api, org, `${URL}?q=ZK4`))).toEqual([match.id]);
  });
});
