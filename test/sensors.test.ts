import { randomUUID } from 'node:crypto';
import { entityContract } from './support/entity-contract';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';
import { createComponent, createDevice, createSensor, createSensorProfile, ids, listAll, refusal } from './support/topology.http';

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

const URL = '/api/v1/sensors';
const post = (body: Record<string, unknown>) => api.http().post(URL).set('Authorization', org.auth).send(body);
const patch = (id: string, body: Record<string, unknown>) => api.http().patch(`${URL}/${id}`).set('Authorization', org.auth).send(body);

describe('sensors', () => {
  entityContract({
    url: URL,
    api: () => api,
    org: () => org,
    other: () => other,
    body: async (owner) => {
      const device = await createDevice(api, owner);
      const component = await createComponent(api, owner, device.id, { kind: 'SENSOR_HEAD' });
      return { deviceId: device.id, componentId: component.id, key: 'air.temp', name: 'Air', sensorProfileId: (await createSensorProfile(api, owner)).id };
    },
    change: { name: 'Outside air', unit: 'K' },
    wrongType: { name: ['Air'] },
    notFoundCode: 'SENSOR_NOT_FOUND',
  });

  describe('unit', () => {
    it('takes the unit of its sensor profile when none is given', async () => {
      const profile = await createSensorProfile(api, org, { unit: 'hPa', quantity: 'pressure' });
      const device = await createDevice(api, org);
      expect((await post({ deviceId: device.id, key: 'p', sensorProfileId: profile.id }).expect(201)).body.unit).toBe('hPa');
      expect((await post({ deviceId: device.id, key: 'p2', sensorProfileId: profile.id, unit: 'kPa' }).expect(201)).body.unit).toBe('kPa');
      expect((await post({ deviceId: device.id, key: 'p3' }).expect(201)).body).toMatchObject({ unit: null, sensorProfileId: null, componentId: null });
    });

    it('keeps its unit when the profile changes later', async () => {
      const [celsius, kelvin] = [await createSensorProfile(api, org), await createSensorProfile(api, org, { unit: 'K' })];
      const sensor = await createSensor(api, org, (await createDevice(api, org)).id, { sensorProfileId: celsius.id });
      expect((await patch(sensor.id, { sensorProfileId: kelvin.id }).expect(200)).body).toMatchObject({ sensorProfileId: kelvin.id, unit: '°C' });
    });
  });

  describe('keys', () => {
    it('refuses a key the device already uses (409 SENSOR_KEY_TAKEN); another device may use it', async () => {
      const [device, next] = [await createDevice(api, org), await createDevice(api, org)];
      await createSensor(api, org, device.id, { key: 'temp' });
      expect((await post({ deviceId: device.id, key: 'temp' }).expect(409)).body.code).toBe('SENSOR_KEY_TAKEN');
      await post({ deviceId: next.id, key: 'temp' }).expect(201);
    });

    it.each(['Temp', '-temp', 'a b', 't'.repeat(65), ''])('refuses the key %j with 400', async (key) => {
      await post({ deviceId: randomUUID(), key }).expect(400);
    });

    it('accepts keys with digits, dots, dashes and underscores', async () => {
      await post({ deviceId: (await createDevice(api, org)).id, key: '0.soil_moisture-10cm' }).expect(201);
    });

    it('keeps deviceId and key fixed: a PATCH may not name them', async () => {
      const sensor = await createSensor(api, org, (await createDevice(api, org)).id);
      await patch(sensor.id, { key: 'other' }).expect(400);
      await patch(sensor.id, { deviceId: randomUUID() }).expect(400);
    });
  });

  describe('references', () => {
    it('refuses a device, component or sensor profile of another organization exactly like a random id (422)', async () => {
      const theirDevice = await createDevice(api, other);
      const theirComponent = await createComponent(api, other, theirDevice.id);
      const theirProfile = await createSensorProfile(api, other);
      const device = await createDevice(api, org);
      const cases = [
        { field: 'deviceId', body: (id: string) => ({ deviceId: id, key: 'k' }), theirs: theirDevice.id },
        { field: 'componentId', body: (id: string) => ({ deviceId: device.id, key: 'k', componentId: id }), theirs: theirComponent.id },
        { field: 'sensorProfileId', body: (id: string) => ({ deviceId: device.id, key: 'k', sensorProfileId: id }), theirs: theirProfile.id },
      ];
      for (const { field, body, theirs } of cases) {
        const probed = await post(body(theirs));
        const missing = await post(body(randomUUID()));
        expect({ field, ...refusal(probed) }).toEqual({ field, ...refusal(missing) });
        expect(probed.body).toMatchObject({ status: 422, errors: [{ path: `/body/${field}`, message: 'does not exist' }] });
      }
      const sensor = await createSensor(api, org, device.id);
      for (const field of ['componentId', 'sensorProfileId']) {
        const theirs = field === 'componentId' ? theirComponent.id : theirProfile.id;
        expect(refusal(await patch(sensor.id, { [field]: theirs }))).toEqual(refusal(await patch(sensor.id, { [field]: randomUUID() })));
      }
    });

    it('refuses a component of another device of the organization (422), on create and on update', async () => {
      const [device, next] = [await createDevice(api, org), await createDevice(api, org)];
      const foreign = await createComponent(api, org, next.id);
      const created = await post({ deviceId: device.id, key: 'k', componentId: foreign.id }).expect(422);
      expect(created.body.errors).toEqual([{ path: '/body/componentId', message: 'belongs to another device' }]);
      const sensor = await createSensor(api, org, device.id);
      await patch(sensor.id, { componentId: foreign.id }).expect(422);
      const own = await createComponent(api, org, device.id);
      expect((await patch(sensor.id, { componentId: own.id }).expect(200)).body.componentId).toBe(own.id);
    });

    it('answers a PATCH naming a component on a sensor it cannot see with the same 404 as a random id', async () => {
      const theirs = await createSensor(api, other, (await createDevice(api, other)).id);
      const component = await createComponent(api, org, (await createDevice(api, org)).id);
      const probed = await patch(theirs.id, { componentId: component.id }).expect(404);
      expect(refusal(probed)).toEqual(refusal(await patch(randomUUID(), { componentId: component.id })));
      expect(probed.body.code).toBe('SENSOR_NOT_FOUND');
    });

    it('refuses a decommissioned device (422)', async () => {
      const device = await createDevice(api, org);
      await api.http().delete(`/api/v1/devices/${device.id}`).set('Authorization', org.auth).expect(204);
      expect((await post({ deviceId: device.id, key: 'k' }).expect(422)).body.errors).toEqual([{ path: '/body/deviceId', message: 'is decommissioned' }]);
    });
  });

  it('filters by device, component and sensor profile', async () => {
    const device = await createDevice(api, org);
    const component = await createComponent(api, org, device.id);
    const profile = await createSensorProfile(api, org);
    const plain = await createSensor(api, org, device.id);
    const mounted = await createSensor(api, org, device.id, { componentId: component.id });
    const profiled = await createSensor(api, org, device.id, { componentId: component.id, sensorProfileId: profile.id });
    await createSensor(api, org, (await createDevice(api, org)).id, { sensorProfileId: profile.id });
    const listed = async (query: string) => ids(await listAll(api, org, `${URL}?${query}`));
    expect(await listed(`deviceId=${device.id}`)).toEqual([plain.id, mounted.id, profiled.id]);
    expect(await listed(`componentId=${component.id}`)).toEqual([mounted.id, profiled.id]);
    expect(await listed(`deviceId=${device.id}&sensorProfileId=${profile.id}`)).toEqual([profiled.id]);
    expect(await listed(`sensorProfileId=${profile.id}`)).toHaveLength(2);
  });
});
