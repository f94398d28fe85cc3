import { randomUUID } from 'node:crypto';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';

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
  await api?.close();
});

const http = (method: 'post' | 'get' | 'delete', path: string, body?: object, owner = org) => api.http()[method](path).set('Authorization', owner.auth).send(body);
const created = async (path: string, body: Body, owner = org): Promise<Body> => (await http('post', path, body, owner).expect(201)).body as Body;

const V1 = {
  sensorProfiles: [{ key: 'temp', name: 'Cold-chain temperature', quantity: 'temperature', unit: '°C', validRange: { min: -50, max: 50 } }],
  deviceProfiles: [{ key: 'logger', name: 'Logger', expectedSensors: [{ key: 'temp', sensorProfileKey: 'temp' }] }],
  alertRules: [{ key: 'too-warm', name: 'Too warm', severity: 'CRITICAL', sensorKey: 'temp', conditions: [{ type: 'ABOVE', threshold: 8 }], forSeconds: 300 }],
  configArtefacts: [{ key: 'reporting', name: `reporting-${randomUUID().slice(0, 6)}`, content: { intervalSeconds: 60 } }],
  dashboards: [
    {
      key: 'overview',
      name: 'Cold chain overview',
      layout: {
        widgets: [
          { id: 'temps', type: 'TABLE', title: 'Temperatures', position: { x: 0, y: 0, w: 12, h: 6 }, config: { sensorKey: 'temp' } },
          { id: 'alerts', type: 'ALERT_LIST', title: 'Alerts', position: { x: 12, y: 0, w: 12, h: 6 }, config: { status: ['OPEN'] } },
        ],
      },
    },
  ],
};
const V2 = {
  sensorProfiles: V1.sensorProfiles,
  alertRules: [{ ...V1.alertRules[0], conditions: [{ type: 'ABOVE', threshold: 9 }] }],
  configArtefacts: [...V1.configArtefacts, { key: 'ntp', name: `ntp-${randomUUID().slice(0, 6)}`, content: { ntp: 'pool.ntp.org' }, priority: 5 }],
};

const resourceOf = (installation: Body, kind: string, key: string): Body => {
  const found = (installation.resources as Body[]).find((r) => r.kind === kind && r.key === key);
  if (!found) throw new Error(`no ${kind}/${key} in ${JSON.stringify(installation.resources)}`);
  return found;
};

describe('packs', () => {
  it('installs onto a site idempotently, upgrades with a dry run first, and uninstalls keeping what is in use', async () => {
    const pack = await created('/api/v1/packs', { name: 'Cold chain', content: V1 });
    expect(pack).toMatchObject({ name: 'Cold chain', latestVersion: 1 });
    const site = await created('/api/v1/sites', { name: 'Depot' });
    const device = await created('/api/v1/devices', { name: 'Freezer 1', siteId: site.id });

    const install = await http('post', `/api/v1/packs/${pack.id as string}/installations`, { targetType: 'SITE', targetId: site.id }).expect(201);
    const installation = install.body as Body;
    expect(installation).toMatchObject({ packId: pack.id, version: 1, targetType: 'SITE', targetId: site.id, status: 'INSTALLED', kept: [] });
    const profileId = resourceOf(installation, 'sensorProfiles', 'temp').id as string;
    const ruleId = resourceOf(installation, 'alertRules', 'too-warm').id as string;
    expect((await http('get', `/api/v1/device-profiles/${resourceOf(installation, 'deviceProfiles', 'logger').id as string}`).expect(200)).body.expectedSensors).toEqual([
      { key: 'temp', sensorProfileId: profileId, unit: null },
    ]);
    expect((await http('get', `/api/v1/alert-rules/${ruleId}`).expect(200)).body).toMatchObject({
      scopeType: 'SITE', scopeId: site.id, sensorKey: 'temp', severity: 'CRITICAL', forSeconds: 300, conditions: [{ type: 'ABOVE', threshold: 8 }],
    });
    expect((await http('get', `/api/v1/devices/${device.id as string}/desired-state`).expect(200)).body.desired).toEqual({ intervalSeconds: 60 });
    const dashboardId = resourceOf(installation, 'dashboards', 'overview').id as string;
    const dashboard = (await http('get', `/api/v1/dashboards/${dashboardId}`).expect(200)).body;
    expect(dashboard).toMatchObject({ siteId: site.id, visibility: 'ORGANIZATION' });
    expect(dashboard.layout.widgets.map((w: Body) => w.config)).toEqual([{ sensorKey: 'temp', siteId: site.id }, { status: ['OPEN'], siteId: site.id }]);
    await http('get', `/api/v1/dashboards/${dashboardId}/data`).expect(200);

    // Installing the same version again changes nothing and answers the installation.
    const again = await http('post', `/api/v1/packs/${pack.id as string}/installations`, { targetType: 'SITE', targetId: site.id }).expect(200);
    expect(again.body).toEqual(installation);
    expect((await http('get', `/api/v1/alert-rules?scopeId=${site.id as string}`).expect(200)).body.items).toHaveLength(1);

    // Version 2: what would change, then nothing changed until applied.
    const v2 = await created(`/api/v1/packs/${pack.id as string}/versions`, { content: V2 });
    expect(v2).toMatchObject({ packId: pack.id, version: 2 });
    const dry = await http('post', `/api/v1/pack-installations/${installation.id as string}/upgrade?dryRun=true`, { version: 2 }).expect(200);
    expect(dry.body).toMatchObject({
      dryRun: true,
      fromVersion: 1,
      toVersion: 2,
      plan: {
        added: [{ kind: 'configArtefacts', key: 'ntp' }],
        changed: [{ kind: 'alertRules', key: 'too-warm' }],
        removed: [{ kind: 'deviceProfiles', key: 'logger' }, { kind: 'dashboards', key: 'overview' }],
        unchanged: [{ kind: 'sensorProfiles', key: 'temp' }, { kind: 'configArtefacts', key: 'reporting' }],
      },
    });
    expect((await http('get', `/api/v1/alert-rules/${ruleId}`).expect(200)).body.conditions).toEqual([{ type: 'ABOVE', threshold: 8 }]);
    const upgraded = await http('post', `/api/v1/pack-installations/${installation.id as string}/upgrade`, { version: 2 }).expect(200);
    expect(upgraded.body.installation).toMatchObject({ version: 2 });
    expect((await http('get', `/api/v1/alert-rules/${ruleId}`).expect(200)).body.conditions).toEqual([{ type: 'ABOVE', threshold: 9 }]);
    await http('get', `/api/v1/device-profiles/${resourceOf(installation, 'deviceProfiles', 'logger').id as string}`).expect(404);
    await http('get', `/api/v1/dashboards/${dashboardId}`).expect(404);
    expect((await http('get', `/api/v1/devices/${device.id as string}/desired-state`).expect(200)).body.desired).toEqual({ intervalSeconds: 60, ntp: 'pool.ntp.org' });

    // A sensor now uses the pack's profile: uninstalling keeps that profile and removes the rest.
    await created('/api/v1/sensors', { deviceId: device.id, key: 'temp', sensorProfileId: profileId });
    const uninstalled = await http('delete', `/api/v1/pack-installations/${installation.id as string}`).expect(200);
    expect(uninstalled.body).toMatchObject({ status: 'UNINSTALLED', resources: [], kept: [expect.objectContaining({ kind: 'sensorProfiles', key: 'temp' })] });
    await http('get', `/api/v1/alert-rules/${ruleId}`).expect(404);
    await http('get', `/api/v1/sensor-profiles/${profileId}`).expect(200);
    expect((await http('get', `/api/v1/devices/${device.id as string}/desired-state`).expect(200)).body.desired).toEqual({});
    await http('delete', `/api/v1/pack-installations/${installation.id as string}`).expect(404);

    // Installed again: fresh resources (ids of deleted ones are never reused).
    const reinstalled = (await http('post', `/api/v1/packs/${pack.id as string}/installations`, { targetType: 'SITE', targetId: site.id, version: 1 }).expect(201)).body as Body;
    expect(reinstalled.id).toBe(installation.id);
    expect(resourceOf(reinstalled, 'alertRules', 'too-warm').id).not.toBe(ruleId);
  });

  it('exports a version as a document another organization imports and installs', async () => {
    const pack = await created('/api/v1/packs', { name: 'Portable', description: 'travels', content: V1 });
    const doc = (await http('get', `/api/v1/packs/${pack.id as string}/versions/1/export`).expect(200)).body as Body;
    expect(doc).toEqual({ format: 'iotplane-pack/1', name: 'Portable', description: 'travels', version: 1, content: V1 });
    const imported = await created('/api/v1/packs/import', doc, other);
    expect(imported.id).not.toBe(pack.id);
    expect((await http('get', `/api/v1/packs/${imported.id as string}/versions/1`, undefined, other).expect(200)).body.content).toEqual(V1);
    const group = await created('/api/v1/device-groups', { name: 'fleet' }, other);
    const installed = await http('post', `/api/v1/packs/${imported.id as string}/installations`, { targetType: 'DEVICE_GROUP', targetId: group.id }, other).expect(201);
    expect(installed.body.resources).toHaveLength(5);
    const groupDashboard = (installed.body.resources as Body[]).find((r) => r.kind === 'dashboards');
    const table = (await http('get', `/api/v1/dashboards/${groupDashboard?.id as string}`, undefined, other).expect(200)).body.layout.widgets[0];
    expect(table.config).toEqual({ sensorKey: 'temp', groupId: group.id });
    // Another organization's pack is a missing one.
    await http('get', `/api/v1/packs/${imported.id as string}`).expect(404);
    await http('post', `/api/v1/packs/${imported.id as string}/installations`, { targetType: 'DEVICE_GROUP', targetId: group.id }).expect(404);
  });

  it('refuses inconsistent content, unknown targets and versions', async () => {
    const dup = await http('post', '/api/v1/packs', { name: 'x', content: { sensorProfiles: [V1.sensorProfiles[0], V1.sensorProfiles[0]] } }).expect(422);
    expect(dup.body.errors).toEqual([expect.objectContaining({ path: '/body/content/sensorProfiles/1/key' })]);
    const dangling = await http('post', '/api/v1/packs', { name: 'x', content: { deviceProfiles: V1.deviceProfiles } }).expect(422);
    expect(dangling.body.errors[0].path).toBe('/body/content/deviceProfiles/0/expectedSensors/0/sensorProfileKey');
    await http('post', '/api/v1/packs', { name: 'x', content: { widgets: [] } }).expect(400);
    const ids = await http('post', '/api/v1/packs', {
      name: 'x',
      content: { dashboards: [{ key: 'd', name: 'd', layout: { widgets: [{ id: 'w', type: 'GAUGE', title: 'g', position: { x: 0, y: 0, w: 4, h: 4 }, config: { sensorId: randomUUID(), function: 'last' } }] } }] },
    }).expect(422);
    expect(ids.body.errors.map((e: Body) => e.path)).toEqual(['/body/content/dashboards/0/layout/widgets/0/type', '/body/content/dashboards/0/layout/widgets/0/config']);
    const pack = await created('/api/v1/packs', { name: 'ok', content: { alertRules: V1.alertRules } });
    const missing = await http('post', `/api/v1/packs/${pack.id as string}/installations`, { targetType: 'SITE', targetId: randomUUID() }).expect(422);
    expect(missing.body.errors).toEqual([expect.objectContaining({ path: '/body/targetId' })]);
    const site = await created('/api/v1/sites', { name: 's' });
    const noVersion = await http('post', `/api/v1/packs/${pack.id as string}/installations`, { targetType: 'SITE', targetId: site.id, version: 3 }).expect(404);
    expect(noVersion.body.code).toBe('PACK_VERSION_NOT_FOUND');
    // The same content again adds no version.
    expect((await created(`/api/v1/packs/${pack.id as string}/versions`, { content: { alertRules: V1.alertRules } })).version).toBe(1);
  });
});
