import { entityContract } from './support/entity-contract';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';
import { aSensorProfileBody, createSensorProfile, ids, listAll } from './support/topology.http';

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

const URL = '/api/v1/sensor-profiles';

describe('sensor profiles', () => {
  entityContract({
    url: URL,
    api: () => api,
    org: () => org,
    other: () => other,
    body: async () => aSensorProfileBody(),
    change: { unit: 'K', validRange: { min: 233.15, max: 358.15 } },
    wrongType: { precision: 'two' },
    notFoundCode: 'SENSOR_PROFILE_NOT_FOUND',
  });

  it('fills the optional fields with null', async () => {
    const res = await api.http().post(URL).set('Authorization', org.auth).send({ name: 'Humidity', quantity: 'relative_humidity', unit: '%' }).expect(201);
    expect(res.body).toMatchObject({ description: null, validRange: null, expectedIntervalSeconds: null, precision: null });
  });

  it('refuses a valid range whose min is not below its max with 422, on create and on update', async () => {
    const bad = await api.http().post(URL).set('Authorization', org.auth).send(aSensorProfileBody({ validRange: { min: 3, max: 3 } })).expect(422);
    expect(bad.body).toMatchObject({ code: 'UNPROCESSABLE', errors: [{ path: '/body/validRange', message: 'min must be below max' }] });
    const profile = await createSensorProfile(api, org);
    await api.http().patch(`${URL}/${profile.id}`).set('Authorization', org.auth).send({ validRange: { min: 90, max: 10 } }).expect(422);
    const cleared = await api.http().patch(`${URL}/${profile.id}`).set('Authorization', org.auth).send({ validRange: null }).expect(200);
    expect(cleared.body.validRange).toBeNull();
  });

  it.each([
    { name: 'a precision above 10', body: { precision: 11 } },
    { name: 'a negative precision', body: { precision: -1 } },
    { name: 'a fractional interval', body: { expectedIntervalSeconds: 1.5 } },
    { name: 'a zero interval', body: { expectedIntervalSeconds: 0 } },
    { name: 'a range without max', body: { validRange: { min: 0 } } },
    { name: 'an upper-case quantity', body: { quantity: 'Temperature' } },
    { name: 'an empty unit', body: { unit: '' } },
  ])('refuses $name with 400', async ({ body }) => {
    const res = await api.http().post(URL).set('Authorization', org.auth).send(aSensorProfileBody(body)).expect(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
  });

  it('filters by quantity and by text in the name', async () => {
    const pressure = await createSensorProfile(api, org, { name: 'Barometer xq7', quantity: 'pressure', unit: 'hPa' });
    const temperature = await createSensorProfile(api, org, { name: 'Thermo xq7' });
    expect(ids(await listAll(api, org, `${URL}?quantity=pressure`))).toEqual([pressure.id]);
    expect(ids(await listAll(api, org, `${URL}?q=XQ7`))).toEqual([pressure.id, temperature.id]);
    expect(ids(await listAll(api, org, `${URL}?q=thermo%20xq7`))).toEqual([temperature.id]);
  });

  it('lets a viewer read but not write', async () => {
    const viewer = `Bearer ${await org.jwt('viewer')}`;
    await api.http().get(URL).set('Authorization', viewer).expect(200);
    await api.http().post(URL).set('Authorization', viewer).send(aSensorProfileBody()).expect(403);
  });
});
