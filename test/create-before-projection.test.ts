import { startTestApi, type TestApi, type TestOrg } from './support/test-api';

/**
 * A create whose projection has not caught up within READ_YOUR_WRITES_TIMEOUT_MS
 * is answered from its event. That answer must still be the whole resource as
 * the OpenAPI document describes it (the test API checks every response on close),
 * including the fields only the read model holds.
 */
let api: TestApi;
let org: TestOrg;
beforeAll(async () => {
  api = await startTestApi({ READ_YOUR_WRITES_TIMEOUT_MS: '100' });
  org = await api.createOrg();
  await api.stopProjectors();
});
afterAll(async () => {
  await api.close();
});

const post = (path: string, body: object) => api.http().post(path).set('Authorization', org.auth).send(body).expect(201);

describe('a create answered before its projection caught up', () => {
  it('gives a device its decommissionedAt (null)', async () => {
    const { body } = await post('/api/v1/devices', { name: 'unprojected' });
    expect(body).toMatchObject({ name: 'unprojected', status: 'PENDING', decommissionedAt: null, version: 0 });
  });

  it('gives a device group its memberCount (0, not counted yet)', async () => {
    const { body } = await post('/api/v1/device-groups', { name: 'unprojected' });
    expect(body).toMatchObject({ name: 'unprojected', memberCount: 0, version: 0 });
  });
});
