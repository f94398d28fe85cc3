import { randomUUID } from 'node:crypto';
import { entityContract } from './support/entity-contract';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';
import { aDeviceBody, createDevice, createDeviceProfile, createSite, ids, listAll, refusal } from './support/topology.http';

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

const URL = '/api/v1/devices';
const post = (body: Record<string, unknown>, who = org) => api.http().post(URL).set('Authorization', who.auth).send(body);
const patch = (id: string, body: Record<string, unknown>) => api.http().patch(`${URL}/${id}`).set('Authorization', org.auth).send(body);

describe('devices', () => {
  entityContract({
    url: URL,
    api: () => api,
    org: () => org,
    other: () => other,
    body: async (owner) => aDeviceBody({ siteId: (await createSite(api, owner)).id, deviceProfileId: (await createDeviceProfile(api, owner)).id }),
    change: { name: 'Renamed gateway', status: 'ACTIVE', tags: ['roof', 'north'] },
    wrongType: { tags: 'roof' },
    notFoundCode: 'DEVICE_NOT_FOUND',
    keepsDeleted: true,
  });

  describe('status', () => {
    it('creates a device PENDING unless told ACTIVE or DISABLED', async () => {
      expect((await post(aDeviceBody()).expect(201)).body).toMatchObject({ status: 'PENDING', decommissionedAt: null });
      expect((await post(aDeviceBody({ status: 'ACTIVE' })).expect(201)).body.status).toBe('ACTIVE');
      expect((await post(aDeviceBody({ status: 'DISABLED' })).expect(201)).body.status).toBe('DISABLED');
      await post(aDeviceBody({ status: 'DECOMMISSIONED' })).expect(400);
    });

    it('moves between ACTIVE and DISABLED but never back to PENDING nor to DECOMMISSIONED by PATCH', async () => {
      const device = await createDevice(api, org);
      await patch(device.id, { status: 'ACTIVE' }).expect(200);
      await patch(device.id, { status: 'DISABLED' }).expect(200);
      await patch(device.id, { status: 'PENDING' }).expect(400);
      await patch(device.id, { status: 'DECOMMISSIONED' }).expect(400);
    });
  });

  describe('decommissioning (DELETE)', () => {
    it('keeps the device readable as DECOMMISSIONED, hides it from lists unless asked, and freezes it', async () => {
      const device = await createDevice(api, org, { name: `decom-${randomUUID()}` });
      const url = `${URL}/${device.id}`;
      await api.http().delete(url).set('Authorization', org.auth).set('If-Match', '"0"').expect(204);

      const read = await api.http().get(url).set('Authorization', org.auth).expect(200);
      expect(read.body).toMatchObject({ status: 'DECOMMISSIONED', version: 1, name: device.name });
      expect(Date.parse(read.body.decommissionedAt as string)).toBeGreaterThanOrEqual(Date.parse(device.createdAt as string));
      expect(read.headers.etag).toBe('"1"');

      const q = `q=${device.name as string}`;
      expect(ids(await listAll(api, org, `${URL}?${q}`))).toEqual([]);
      expect(ids(await listAll(api, org, `${URL}?${q}&status=DECOMMISSIONED`))).toEqual([device.id]);
      expect(ids(await listAll(api, org, `${URL}?${q}&includeDecommissioned=true`))).toEqual([device.id]);
      expect(ids(await listAll(api, org, `${URL}?${q}&includeDecommissioned=true&status=ACTIVE`))).toEqual([]);

      const frozen = await patch(device.id, { name: 'Back again' }).expect(409);
      expect(frozen.body.code).toBe('DEVICE_DECOMMISSIONED');
      expect((await api.http().delete(url).set('Authorization', org.auth).expect(409)).body.code).toBe('DEVICE_DECOMMISSIONED');
      expect((await api.http().get(url).set('Authorization', org.auth).expect(200)).body).toEqual(read.body);
    });

    it('refuses a decommission with a stale If-Match (412)', async () => {
      const device = await createDevice(api, org);
      await patch(device.id, { name: 'v1' }).expect(200);
      await api.http().delete(`${URL}/${device.id}`).set('Authorization', org.auth).set('If-Match', '"0"').expect(412);
      expect((await api.http().get(`${URL}/${device.id}`).set('Authorization', org.auth).expect(200)).body.status).toBe('PENDING');
    });
  });

  describe('list filters', () => {
    it('filters by site, device profile, status, tag and text in the name or serial number', async () => {
      const run = randomUUID().slice(0, 8);
      const [siteA, siteB] = [await createSite(api, org), await createSite(api, org)];
      const profile = await createDeviceProfile(api, org);
      const one = await createDevice(api, org, { name: `one-${run}`, siteId: siteA.id, tags: [`t-${run}`, 'x'], status: 'ACTIVE' });
      const two = await createDevice(api, org, { name: `two-${run}`, siteId: siteB.id, deviceProfileId: profile.id, serialNumber: `SER-${run}-2` });
      const three = await createDevice(api, org, { name: `three-${run}`, siteId: siteA.id, deviceProfileId: profile.id, tags: [`t-${run}`] });
      const listed = async (query: string) => ids(await listAll(api, org, `${URL}?${query}`));

      expect(await listed(`siteId=${siteA.id}`)).toEqual([one.id, three.id]);
      expect(await listed(`deviceProfileId=${profile.id}`)).toEqual([two.id, three.id]);
      expect(await listed(`tag=t-${run}`)).toEqual([one.id, three.id]);
      expect(await listed(`q=${run}&status=ACTIVE`)).toEqual([one.id]);
      expect(await listed(`q=${run}&status=PENDING`)).toEqual([two.id, three.id]);
      expect(await listed(`q=ser-${run}`)).toEqual([two.id]);
      expect(await listed(`q=THREE-${run}`)).toEqual([three.id]);
      expect(await listed(`siteId=${siteA.id}&tag=x`)).toEqual([one.id]);
    });

    it.each(['siteId=nope', 'status=GONE', 'tag=', 'includeDecommissioned=maybe', 'colour=red'])('refuses ?%s with 400', async (query) => {
      await api.http().get(`${URL}?${query}`).set('Authorization', org.auth).expect(400);
    });
  });

  describe('references', () => {
    it.each(['siteId', 'deviceProfileId'])('refuses a %s of another organization exactly like a random id (422)', async (field) => {
      const theirs = field === 'siteId' ? await createSite(api, other) : await createDeviceProfile(api, other);
      const probed = await post(aDeviceBody({ [field]: theirs.id, serialNumber: null }));
      const missing = await post(aDeviceBody({ [field]: randomUUID(), serialNumber: null }));
      expect(refusal(probed)).toEqual(refusal(missing));
      expect(probed.body).toMatchObject({ status: 422, errors: [{ path: `/body/${field}`, message: 'does not exist' }] });

      const mine = await createDevice(api, org);
      expect(refusal(await patch(mine.id, { [field]: theirs.id }))).toEqual(refusal(await patch(mine.id, { [field]: randomUUID() })));
      expect((await patch(mine.id, { [field]: null }).expect(200)).body.version).toBe(0);
    });

    it('accepts its own site and profile, in upper case too, and moves a device between sites', async () => {
      const [site, next] = [await createSite(api, org), await createSite(api, org)];
      const device = (await post(aDeviceBody({ siteId: site.id.toUpperCase() })).expect(201)).body;
      expect(device.siteId).toBe(site.id);
      expect((await patch(device.id as string, { siteId: next.id }).expect(200)).body.siteId).toBe(next.id);
    });
  });

  describe('serial numbers', () => {
    it('refuses a serial number another device of the organization has (409 DEVICE_SERIAL_TAKEN), on create and update', async () => {
      const serialNumber = `SN-${randomUUID()}`;
      const first = await createDevice(api, org, { serialNumber });
      const taken = await post(aDeviceBody({ serialNumber })).expect(409);
      expect(taken.body.code).toBe('DEVICE_SERIAL_TAKEN');
      const second = await createDevice(api, org);
      expect((await patch(second.id, { serialNumber }).expect(409)).body.code).toBe('DEVICE_SERIAL_TAKEN');
      // Its own serial is no conflict; a PATCH that repeats it changes nothing.
      expect((await patch(first.id, { serialNumber, name: 'same serial' }).expect(200)).body.version).toBe(1);
    });

    it('lets another organization use the same serial number, so nothing tells it that one exists', async () => {
      const serialNumber = `SN-${randomUUID()}`;
      await createDevice(api, other, { serialNumber });
      await post(aDeviceBody({ serialNumber })).expect(201);
    });

    it('keeps the serial number of a decommissioned device taken', async () => {
      const serialNumber = `SN-${randomUUID()}`;
      const device = await createDevice(api, org, { serialNumber });
      await api.http().delete(`${URL}/${device.id}`).set('Authorization', org.auth).expect(204);
      expect((await post(aDeviceBody({ serialNumber })).expect(409)).body.code).toBe('DEVICE_SERIAL_TAKEN');
    });

    it('lets many devices have no serial number', async () => {
      await post(aDeviceBody({ serialNumber: null })).expect(201);
      await post(aDeviceBody({ serialNumber: null })).expect(201);
    });

    it('answers concurrent creates with one serial number with exactly one 201 and 409 for the rest', async () => {
      const serialNumber = `SN-${randomUUID()}`;
      const results = await Promise.all(Array.from({ length: 6 }, () => post(aDeviceBody({ serialNumber }))));
      expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
      expect(results.filter((r) => r.status === 409).every((r) => r.body.code === 'DEVICE_SERIAL_TAKEN')).toBe(true);
      expect(ids(await listAll(api, org, `${URL}?q=${serialNumber}`))).toEqual([results.find((r) => r.status === 201)?.body.id]);
      // Losers that passed the check before the winner was projected were appended, then undone.
      const { rows } = await api.platform.pool.query<{ creates: number; undone: number }>(
        `SELECT count(*)::int AS creates, count(*) FILTER (WHERE EXISTS (
            SELECT 1 FROM es_events d WHERE d.stream_name = c.stream_name AND d.type = 'DeviceDeleted'))::int AS undone
           FROM es_events c WHERE c.type = 'DeviceCreated' AND c.data->>'serialNumber' = $1`,
        [serialNumber],
      );
      expect(rows[0]?.undone).toBe((rows[0]?.creates ?? 0) - 1);
      // The projection did not stall on the losers: a later device is readable at once.
      await createDevice(api, org);
    });
  });

  it('refuses the urn:uuid: form of an id (format uuid allows it, Postgres cannot read it) with 400, not 500', async () => {
    await post(aDeviceBody({ siteId: `urn:uuid:${randomUUID()}` })).expect(400);
    await api.http().get(`${URL}?siteId=urn:uuid:${randomUUID()}`).set('Authorization', org.auth).expect(400);
  });

  it('refuses malformed labels, repeated tags and a padded serial number with 400', async () => {
    await post(aDeviceBody({ labels: { 'bad key!': 'x' } })).expect(400);
    await post(aDeviceBody({ tags: ['a', 'a'] })).expect(400);
    await post(aDeviceBody({ serialNumber: ' padded ' })).expect(400);
  });
});
