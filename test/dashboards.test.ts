import { randomUUID } from 'node:crypto';
import { entityContract } from './support/entity-contract';
import { aCameraTile, aLayout, aStat, aTimeSeries, at } from './support/dashboards.builders';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';
import { created, createDevice, createSensor, createSite, refusal } from './support/topology.http';

type Body = Record<string, unknown>;
let api: TestApi;
let org: TestOrg;
let other: TestOrg;
/** One sensor per organization for bodies that need any valid reference. */
const sensorOf = new Map<TestOrg, Promise<string>>();

beforeAll(async () => {
  api = await startTestApi();
  org = await api.createOrg();
  other = await api.createOrg('Other org');
});
afterAll(async () => {
  await api.close();
});

const URL = '/api/v1/dashboards';

function aSensor(owner: TestOrg): Promise<string> {
  let sensor = sensorOf.get(owner);
  if (!sensor) {
    sensor = createDevice(api, owner).then(async (device) => (await createSensor(api, owner, device.id)).id);
    sensorOf.set(owner, sensor);
  }
  return sensor;
}

const aBody = async (owner: TestOrg, overrides: Body = {}): Promise<Body> => ({
  name: `Dashboard ${randomUUID().slice(0, 6)}`,
  layout: aLayout(aTimeSeries([await aSensor(owner)])),
  ...overrides,
});

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
const http = (method: Method, path: string, auth: string, body?: object) => api.http()[method](path).set('Authorization', auth).send(body);
const bearer = async (owner: TestOrg, role: 'viewer' | 'member' | 'admin', sub: string) => `Bearer ${await owner.jwt(role, sub)}`;

describe('dashboards', () => {
  entityContract({
    url: URL,
    api: () => api,
    org: () => org,
    other: () => other,
    body: (owner) => aBody(owner),
    change: { name: 'Renamed', description: 'the hall' },
    wrongType: { layout: 'grid' },
    notFoundCode: 'DASHBOARD_NOT_FOUND',
  });

  it('stores the layout as sent (ids in lower case) with its defaults and the API key’s organization as owner', async () => {
    const sensorId = await aSensor(org);
    const layout = aLayout(aTimeSeries([sensorId.toUpperCase()], at(0, 0, 12, 6), { bucket: 60 }), aStat(sensorId, at(12, 0, 12, 3), 'avg'));
    const res = await http('post', URL, org.auth, { name: 'Hall', layout }).expect(201);
    expect(res.body).toMatchObject({ name: 'Hall', description: null, siteId: null, visibility: 'ORGANIZATION', owner: 'organization', version: 0 });
    expect(res.body.layout).toEqual(aLayout(aTimeSeries([sensorId], at(0, 0, 12, 6), { bucket: 60 }), aStat(sensorId, at(12, 0, 12, 3), 'avg')));
  });

  describe('bad layouts', () => {
    it.each([
      { name: 'an unknown widget type', widget: { id: 'x', type: 'PIE', title: '', position: at(0), config: {} }, path: '/body/layout/widgets/0/type' },
      { name: 'a widget without a position', widget: { id: 'x', type: 'MAP', title: '', config: {} }, path: '/body/layout/widgets/0/position' },
      { name: 'a column beyond the grid', widget: { id: 'x', type: 'MAP', title: '', position: at(24), config: {} }, path: '/body/layout/widgets/0/position/x' },
      { name: 'a config of another type', widget: { id: 'x', type: 'GAUGE', title: '', position: at(0), config: { sensorIds: [randomUUID()], functions: ['avg'] } }, path: '/body/layout/widgets/0/config/sensorId' },
      { name: 'an unknown function', widget: { id: 'x', type: 'TIME_SERIES', title: '', position: at(0), config: { sensorIds: [randomUUID()], functions: ['median'] } }, path: '/body/layout/widgets/0/config/functions/0' },
      { name: 'a stream that is no URL', widget: { id: 'x', type: 'CAMERA_TILE', title: '', position: at(0), config: { deviceId: randomUUID(), streamUrl: 'file:///etc/passwd' } }, path: '/body/layout/widgets/0/config/streamUrl' },
    ])('refuses $name with 400 at its pointer', async ({ widget, path }) => {
      const res = await http('post', URL, org.auth, { name: 'Bad', layout: { widgets: [widget] } }).expect(400);
      // The first error is the fault itself (a config's fault is followed by its widget's "must match then").
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.errors[0]).toEqual(expect.objectContaining({ path }));
    });

    it('refuses more than 50 widgets with 400', async () => {
      const widgets = Array.from({ length: 51 }, (_, i) => ({ id: `w${i}`, type: 'MAP', title: '', position: at(0, i, 1, 1), config: { siteId: randomUUID() } }));
      const res = await http('post', URL, org.auth, { name: 'Many', layout: { widgets } }).expect(400);
      expect(res.body.errors[0]).toEqual({ path: '/body/layout/widgets', message: 'must NOT have more than 50 items' });
    });

    it('refuses widgets sharing an id, overlapping or past the grid’s edge with 422 naming each pointer, on create and on update', async () => {
      const sensorId = await aSensor(org);
      const layout = aLayout(aTimeSeries([sensorId], at(0, 0, 12, 4), {}, 'a'), aStat(sensorId, at(10, 2, 4, 4), 'last', 'a'), aStat(sensorId, at(20, 10, 6, 2), 'last', 'c'));
      const res = await http('post', URL, org.auth, { name: 'Bad', layout }).expect(422);
      expect(res.body).toMatchObject({
        code: 'UNPROCESSABLE',
        errors: [
          { path: '/body/layout/widgets/1/id', message: 'is already the id of widget 0' },
          { path: '/body/layout/widgets/1/position', message: 'overlaps widget 0' },
          { path: '/body/layout/widgets/2/position', message: 'extends past column 24 (x + w > 24)' },
        ],
      });
      const dashboard = await created(api, org, URL, await aBody(org));
      const patched = await http('patch', `${URL}/${dashboard.id}`, org.auth, { layout }).expect(422);
      expect(patched.body.errors).toEqual(res.body.errors);
    });
  });

  describe('references', () => {
    it('refuses another organization’s sensor, device, group and site with 422 naming each pointer, exactly like unknown ids', async () => {
      const mine = await aSensor(org);
      const site = (await createSite(api, other)).id;
      const device = (await createDevice(api, other)).id;
      const group = ((await http('post', '/api/v1/device-groups', other.auth, { name: 'theirs' }).expect(201)).body as Body).id as string;
      const theirs = { sensor: await aSensor(other), site, device, group };
      const unknown = { sensor: randomUUID(), site: randomUUID(), device: randomUUID(), group: randomUUID() };
      const body = (ids: typeof theirs) => ({
        name: 'Cross',
        siteId: ids.site,
        layout: aLayout(
          aTimeSeries([mine, ids.sensor], at(0)),
          { id: 't', type: 'TABLE', title: '', position: at(6), config: { groupId: ids.group } },
          { id: 'l', type: 'ALERT_LIST', title: '', position: at(12), config: { deviceId: ids.device } },
          { id: 'm', type: 'MAP', title: '', position: at(18), config: { siteId: ids.site } },
        ),
      });
      const probed = await http('post', URL, org.auth, body(theirs)).expect(422);
      const missing = await http('post', URL, org.auth, body(unknown)).expect(422);
      expect(refusal(probed)).toEqual(refusal(missing));
      expect(probed.body.errors).toEqual([
        { path: '/body/siteId', message: 'does not exist' },
        { path: '/body/layout/widgets/0/config/sensorIds/1', message: 'does not exist' },
        { path: '/body/layout/widgets/1/config/groupId', message: 'does not exist' },
        { path: '/body/layout/widgets/2/config/deviceId', message: 'does not exist' },
        { path: '/body/layout/widgets/3/config/siteId', message: 'does not exist' },
      ]);
      // The same document with the organization's own ids is accepted.
      const own = { sensor: (await createSensor(api, org, (await createDevice(api, org)).id)).id, site: (await createSite(api, org)).id, device: (await createDevice(api, org)).id, group: ((await http('post', '/api/v1/device-groups', org.auth, { name: 'ours' }).expect(201)).body as Body).id as string };
      await http('post', URL, org.auth, body(own)).expect(201);
    });

    it('refuses a decommissioned device and checks a changed layout again on update', async () => {
      const device = await createDevice(api, org);
      const dashboard = await created(api, org, URL, { name: 'Cam', layout: aLayout(aCameraTile(device.id, at(0))) });
      await http('delete', `/api/v1/devices/${device.id}`, org.auth).expect(204);
      const res = await http('patch', `${URL}/${dashboard.id}`, org.auth, { layout: aLayout(aCameraTile(device.id, at(6))) }).expect(422);
      expect(res.body.errors).toEqual([{ path: '/body/layout/widgets/0/config/deviceId', message: 'does not exist' }]);
      // A change that leaves the layout alone does not re-check it.
      await http('patch', `${URL}/${dashboard.id}`, org.auth, { name: 'Old camera' }).expect(200);
    });
  });

  describe('visibility', () => {
    it('shows a private dashboard to its owner only, and answers everyone else exactly like a random id', async () => {
      const alice = await bearer(org, 'member', `alice-${randomUUID()}`);
      const bob = await bearer(org, 'member', `bob-${randomUUID()}`);
      const mine = await http('post', URL, alice, await aBody(org, { visibility: 'PRIVATE' })).expect(201);
      expect(mine.body.owner).toMatch(/^user:alice-/);
      const url = `${URL}/${mine.body.id}`;
      await http('get', url, alice).expect(200);
      for (const caller of [bob, org.auth]) {
        for (const [method, path, body] of [['get', '', undefined], ['get', '/data', undefined], ['patch', '', { name: 'x' }], ['delete', '', undefined], ['post', '/duplicate', {}]] as const) {
          const probed = await http(method, `${url}${path}`, caller, body);
          const missing = await http(method, `${URL}/${randomUUID()}${path}`, caller, body);
          expect({ method, path, ...refusal(probed) }).toEqual({ method, path, ...refusal(missing) });
          expect(probed.body.code).toBe('DASHBOARD_NOT_FOUND');
        }
      }
      const listed = async (caller: string) => ((await http('get', `${URL}?limit=500`, caller).expect(200)).body.items as Body[]).map((d) => d.id);
      expect(await listed(alice)).toContain(mine.body.id);
      expect(await listed(bob)).not.toContain(mine.body.id);
      expect(await listed(org.auth)).not.toContain(mine.body.id);
      // Shared, it is everyone's.
      await http('patch', url, alice, { visibility: 'ORGANIZATION' }).expect(200);
      expect(await listed(bob)).toContain(mine.body.id);
    });

    it('makes a dashboard created with an API key the organization’s: every API key sees it when private, users do not', async () => {
      const key = await http('post', '/api/v1/api-keys', org.auth, { name: 'second key', role: 'member' }).expect(201);
      const secondKey = `Bearer ${key.body.apiKey as string}`;
      const res = await http('post', URL, org.auth, await aBody(org, { visibility: 'PRIVATE' })).expect(201);
      expect(res.body.owner).toBe('organization');
      await http('get', `${URL}/${res.body.id}`, secondKey).expect(200);
      await http('get', `${URL}/${res.body.id}`, await bearer(org, 'admin', 'carol')).expect(404);
    });

    it('lets anyone in the organization edit a shared dashboard, but only its owner change its visibility', async () => {
      const alice = await bearer(org, 'member', `alice-${randomUUID()}`);
      const bob = await bearer(org, 'member', `bob-${randomUUID()}`);
      const shared = await http('post', URL, alice, await aBody(org)).expect(201);
      const url = `${URL}/${shared.body.id}`;
      await http('patch', url, bob, { name: 'Bob was here' }).expect(200);
      const refused = await http('patch', url, bob, { visibility: 'PRIVATE' }).expect(403);
      expect(refused.body.code).toBe('FORBIDDEN');
      expect((await http('get', url, alice).expect(200)).body).toMatchObject({ name: 'Bob was here', visibility: 'ORGANIZATION', version: 1 });
      // A viewer reads but does not write.
      const viewer = await bearer(org, 'viewer', 'dave');
      await http('get', url, viewer).expect(200);
      await http('patch', url, viewer, { name: 'x' }).expect(403);
    });

    it('filters the list by site, visibility and name', async () => {
      const site = (await createSite(api, org)).id;
      const tag = randomUUID().slice(0, 8);
      const onSite = await created(api, org, URL, await aBody(org, { name: `Site ${tag}`, siteId: site }));
      const privateOne = await created(api, org, URL, await aBody(org, { name: `Private ${tag}`, visibility: 'PRIVATE' }));
      const ids = async (query: string) => ((await http('get', `${URL}?${query}`, org.auth).expect(200)).body.items as Body[]).map((d) => d.id);
      expect(await ids(`siteId=${site}`)).toEqual([onSite.id]);
      expect(await ids(`q=${tag}`)).toEqual([onSite.id, privateOne.id]);
      expect(await ids(`q=${tag}&visibility=PRIVATE`)).toEqual([privateOne.id]);
    });
  });

  describe('a site’s default dashboard', () => {
    const defaultOf = (siteId: string) => `/api/v1/sites/${siteId}/default-dashboard`;

    it('is set, replaced (one per site), read with its dashboard and cleared', async () => {
      const site = (await createSite(api, org)).id;
      const none = await http('get', defaultOf(site), org.auth).expect(404);
      expect(none.body.code).toBe('DEFAULT_DASHBOARD_NOT_SET');
      const first = await created(api, org, URL, await aBody(org, { siteId: site }));
      const second = await created(api, org, URL, await aBody(org));
      const set = await http('put', defaultOf(site), org.auth, { dashboardId: first.id }).expect(200);
      expect(set.body).toMatchObject({ siteId: site, dashboardId: first.id, setBy: expect.stringMatching(/^apiKey:/), version: 0, dashboard: first });
      expect(set.headers.etag).toBe('"0"');
      // The same choice again changes nothing; another replaces it.
      expect((await http('put', defaultOf(site), org.auth, { dashboardId: first.id }).expect(200)).body.version).toBe(0);
      await http('put', defaultOf(site), org.auth, { dashboardId: second.id }).set('If-Match', '"7"').expect(412);
      await http('put', defaultOf(site), org.auth, { dashboardId: second.id }).set('If-Match', '"0"').expect(200);
      const read = await http('get', defaultOf(site), org.auth).expect(200);
      expect(read.body).toMatchObject({ dashboardId: second.id, version: 1, dashboard: second });
      expect(read.headers.etag).toBe('"1"');
      await http('delete', defaultOf(site), org.auth).expect(204);
      await http('get', defaultOf(site), org.auth).expect(404);
      await http('delete', defaultOf(site), org.auth).expect(204);
    });

    it('must be a shared dashboard of this site or of none; another organization’s dashboard is refused like an unknown one', async () => {
      const site = (await createSite(api, org)).id;
      const elsewhere = (await createSite(api, org)).id;
      const refusedWith = async (dashboardId: string) => (await http('put', defaultOf(site), org.auth, { dashboardId }).expect(422)).body.errors as Body[];
      const privateOne = await created(api, org, URL, await aBody(org, { visibility: 'PRIVATE' }));
      expect(await refusedWith(privateOne.id)).toEqual([{ path: '/body/dashboardId', message: 'is private: a site’s default must be shared with the organization' }]);
      const ofElsewhere = await created(api, org, URL, await aBody(org, { siteId: elsewhere }));
      expect(await refusedWith(ofElsewhere.id)).toEqual([{ path: '/body/dashboardId', message: 'belongs to another site' }]);
      const theirs = await created(api, other, URL, await aBody(other));
      const probed = await http('put', defaultOf(site), org.auth, { dashboardId: theirs.id });
      const missing = await http('put', defaultOf(site), org.auth, { dashboardId: randomUUID() });
      expect(refusal(probed)).toEqual(refusal(missing));
      expect(probed.body.errors).toEqual([{ path: '/body/dashboardId', message: 'does not exist' }]);
      // Another organization's site is not found, whatever the body.
      const theirSite = (await createSite(api, other)).id;
      for (const method of ['get', 'put', 'delete'] as const) {
        const res = await http(method, defaultOf(theirSite), org.auth, method === 'put' ? { dashboardId: privateOne.id } : undefined).expect(404);
        expect(res.body.code).toBe('SITE_NOT_FOUND');
      }
    });

    it('stays shared and on its site while it is the default, and is cleared when deleted', async () => {
      const site = (await createSite(api, org)).id;
      const elsewhere = (await createSite(api, org)).id;
      const dashboard = await created(api, org, URL, await aBody(org, { siteId: site }));
      await http('put', defaultOf(site), org.auth, { dashboardId: dashboard.id }).expect(200);
      for (const change of [{ visibility: 'PRIVATE' }, { siteId: elsewhere }]) {
        const res = await http('patch', `${URL}/${dashboard.id}`, org.auth, change).expect(409);
        expect(res.body.code).toBe('DASHBOARD_IS_SITE_DEFAULT');
      }
      await http('patch', `${URL}/${dashboard.id}`, org.auth, { siteId: null }).expect(200);
      await http('delete', `${URL}/${dashboard.id}`, org.auth).expect(204);
      const gone = await http('get', defaultOf(site), org.auth).expect(404);
      expect(gone.body.code).toBe('DEFAULT_DASHBOARD_NOT_SET');
      // The clean-up is a command of the site's default: the next choice starts from a cleared state.
      const next = await created(api, org, URL, await aBody(org));
      expect((await http('put', defaultOf(site), org.auth, { dashboardId: next.id }).expect(200)).body.version).toBe(2);
    });
  });

  describe('duplication', () => {
    it('copies a dashboard the caller can see into one the caller owns', async () => {
      const alice = await bearer(org, 'member', `alice-${randomUUID()}`);
      const bob = await bearer(org, 'member', `bob-${randomUUID()}`);
      const site = (await createSite(api, org)).id;
      const original = (await http('post', URL, alice, await aBody(org, { name: 'Boiler room', description: 'pumps', siteId: site })).expect(201)).body as Body;
      const copy = await http('post', `${URL}/${original.id as string}/duplicate`, bob, {}).expect(201);
      expect(copy.headers.location).toBe(`${URL}/${copy.body.id}`);
      expect(copy.body).toMatchObject({ name: 'Boiler room (copy)', description: 'pumps', siteId: site, visibility: 'ORGANIZATION', layout: original.layout, version: 0 });
      expect(copy.body.id).not.toBe(original.id);
      expect(copy.body.owner).toMatch(/^user:bob-/);
      const named = await http('post', `${URL}/${original.id as string}/duplicate`, bob, { name: 'Mine', visibility: 'PRIVATE' }).expect(201);
      expect(named.body).toMatchObject({ name: 'Mine', visibility: 'PRIVATE' });
      await http('get', `${URL}/${named.body.id}`, alice).expect(404);
      // The original is untouched.
      expect((await http('get', `${URL}/${original.id as string}`, alice).expect(200)).body).toEqual(original);
    });

    it('keeps a copy’s name within 200 characters', async () => {
      const original = await created(api, org, URL, await aBody(org, { name: 'n'.repeat(200) }));
      const copy = await http('post', `${URL}/${original.id}/duplicate`, org.auth, {}).expect(201);
      expect(copy.body.name).toBe(`${'n'.repeat(193)} (copy)`);
    });
  });
});
