import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { desiredStateStream, reportedStateStream } from '../src/commands/desired-state/device-state.events';
import { startDeviceStateSync, type DeviceStateSync } from '../src/ingest/device-state/device-state-sync';
import { startEmbeddedBroker, type EmbeddedBroker } from '../src/platform/mqtt/embedded-broker';
import { deviceTopic } from '../src/platform/mqtt/topics';
import { capturedLogger } from './support/captured-logger';
import { aDevice as aDeviceIdentity, collect, connectDevice, sleep, type Received } from './support/mqtt-clients';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';
import { waitUntil } from './support/wait-until';

type Body = Record<string, unknown>;
interface DesiredMessage {
  version: string;
  state: Body;
  publishedAt: string;
}

let api: TestApi;
let org: TestOrg;
let broker: EmbeddedBroker;
let sync: DeviceStateSync;
const log = capturedLogger('warn').log;
const clients: MqttClient[] = [];

const startSync = () => startDeviceStateSync({ platform: api.platform, url: broker.url, ca: api.deps.deviceCa, log });

beforeAll(async () => {
  api = await startTestApi();
  org = await api.createOrg();
  broker = await startEmbeddedBroker({ ca: api.deps.deviceCa, port: 0, host: '127.0.0.1', store: api.platform.store, log, revokedSerials: async () => [] });
  sync = await startSync();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await sync?.stop();
  await broker?.stop();
  await api?.close();
});

const http = (method: 'post' | 'get' | 'delete' | 'patch', path: string, body?: object) =>
  api.http()[method](path).set('Authorization', org.auth).send(body);
async function created(path: string, body: Body): Promise<string> {
  const res = await http('post', path, body).expect(201);
  return res.body.id as string;
}
const anArtefact = (content: Body) => created('/api/v1/config-artefacts', { name: `cfg-${randomUUID().slice(0, 8)}`, content });
const aDevice = (body: Body = {}) => created('/api/v1/devices', { name: 'device', ...body });
const aGroup = (body: Body = {}) => created('/api/v1/device-groups', { name: `group-${randomUUID().slice(0, 6)}`, kind: 'STATIC', ...body });
const bind = (body: Body) => created('/api/v1/desired-state-bindings', { version: 'latest', ...body });
const state = async (deviceId: string, query = ''): Promise<Body> => (await http('get', `/api/v1/devices/${deviceId}/desired-state${query}`).expect(200)).body as Body;

/** Waits until the publisher handled everything appended so far. */
async function settled(): Promise<void> {
  const head = await api.platform.store.headPosition();
  expect(await sync.publisher.caughtUp(head, 15_000)).toBe(true);
}

/** A device connected over mutual TLS, subscribed to its desired state, and what it received there. */
async function online(deviceId: string): Promise<{ client: MqttClient; desired: () => DesiredMessage[]; inbox: Received[] }> {
  const client = await connectDevice(broker.url, api.deps.deviceCa, await aDeviceIdentity(api.deps.deviceCa, { deviceId, orgId: org.orgId }));
  clients.push(client);
  const inbox = collect(client);
  await client.subscribeAsync(deviceTopic(deviceId, 'desired'), { qos: 1 });
  const desired = () => inbox.filter((m) => m.topic === deviceTopic(deviceId, 'desired')).map((m) => JSON.parse(m.payload) as DesiredMessage);
  return { client, desired, inbox };
}

describe('desired state publishing', () => {
  it('publishes retained to exactly the devices a binding, a group change or a new version affects', async () => {
    const artefactId = await anArtefact({ interval: 60, net: { apn: 'iot' } });
    const [a, b, c] = [await aDevice(), await aDevice(), await aDevice()];
    const groupId = await aGroup();
    await http('post', `/api/v1/device-groups/${groupId}/members`, { deviceIds: [a] }).expect(200);
    const [da, db, dc] = [await online(a), await online(b), await online(c)];

    await bind({ artefactId, targetType: 'DEVICE_GROUP', targetId: groupId });
    await settled();
    await waitUntil('a receives its desired state', () => da.desired().length === 1);
    const first = da.desired()[0];
    expect(first?.state).toEqual({ interval: 60, net: { apn: 'iot' } });
    await waitUntil('the publication is projected', async () => (await state(a)).published !== null);
    const viewA = await state(a);
    expect(first?.version).toBe(viewA.version);
    expect(viewA.published).toEqual({ version: first?.version, publishedAt: first?.publishedAt });

    // b joins the group: only b hears of it.
    await http('post', `/api/v1/device-groups/${groupId}/members`, { deviceIds: [b] }).expect(200);
    await settled();
    await waitUntil('b receives the group state', () => db.desired().length === 1);
    expect(db.desired()[0]?.version).toBe(first?.version);

    // A new version reaches both members, not c.
    await http('post', `/api/v1/config-artefacts/${artefactId}/versions`, { content: { interval: 30, net: { apn: 'iot' } } }).expect(201);
    await settled();
    await waitUntil('both members receive version 2', () => da.desired().length === 2 && db.desired().length === 2);
    expect(da.desired()[1]?.state).toEqual({ interval: 30, net: { apn: 'iot' } });

    // a leaves the group: a is told its state is now empty, b hears nothing.
    await http('delete', `/api/v1/device-groups/${groupId}/members/${a}`).expect(204);
    await settled();
    await waitUntil('a receives the empty state', () => da.desired().length === 3);
    expect(da.desired()[2]?.state).toEqual({});
    await sleep(200);
    expect(db.desired()).toHaveLength(2);
    expect(dc.desired()).toHaveLength(0);

    // A device that subscribes later gets the retained state at once.
    const late = await online(b);
    await waitUntil('the retained state arrives on subscribe', () => late.desired().length === 1);
    expect(late.desired()[0]?.state).toEqual({ interval: 30, net: { apn: 'iot' } });
    await late.client.endAsync(true);
    // Every publication is an event of the device's stream.
    expect((await api.platform.store.readStream(desiredStateStream(a))).map((e) => e.type)).toEqual(Array(3).fill('DesiredStatePublished'));
  });

  it('merges a dynamic group and a device binding, and republishes when a device leaves a dynamic group by its tags', async () => {
    const base = await anArtefact({ mode: 'eco', level: 1 });
    const own = await anArtefact({ level: 5 });
    const groupId = await aGroup({ kind: 'DYNAMIC', tagSelector: { allOf: ['cold'] } });
    const deviceId = await aDevice({ tags: ['cold'] });
    const d = await online(deviceId);
    await bind({ artefactId: base, targetType: 'DEVICE_GROUP', targetId: groupId });
    await bind({ artefactId: own, targetType: 'DEVICE', targetId: deviceId });
    await settled();
    await waitUntil('merged state', () => d.desired().at(-1)?.state.level === 5);
    expect(d.desired().at(-1)?.state).toEqual({ mode: 'eco', level: 5 });
    const count = d.desired().length;
    await http('patch', `/api/v1/devices/${deviceId}`, { tags: [] }).expect(200);
    await settled();
    await waitUntil('the group part is gone', () => d.desired().length > count);
    expect(d.desired().at(-1)?.state).toEqual({ level: 5 });
  });
});

describe('reported state and drift', () => {
  it('records changed reports, shows drift against desired, and answers ?at= from the event store', async () => {
    const artefactId = await anArtefact({ interval: 60, net: { apn: 'iot', roaming: false } });
    const deviceId = await aDevice();
    const d = await online(deviceId);
    await bind({ artefactId, targetType: 'DEVICE', targetId: deviceId });
    await settled();
    await waitUntil('desired arrives', () => d.desired().length === 1);
    const desired = d.desired()[0] as DesiredMessage;
    const before = await state(deviceId);
    expect(before).toMatchObject({ reported: null, inSync: false });
    expect(before.drift).toEqual([
      { path: '/interval', desired: 60 },
      { path: '/net', desired: { apn: 'iot', roaming: false } },
    ]);

    const report = (body: unknown) => d.client.publishAsync(deviceTopic(deviceId, 'reported'), typeof body === 'string' ? body : JSON.stringify(body), { qos: 1 });
    await report({ state: { interval: 60, net: { apn: 'iot', roaming: false }, firmware: '1.2.0' }, appliedVersion: desired.version });
    await waitUntil('report recorded', async () => (await state(deviceId)).reported !== null);
    const inSync = await state(deviceId);
    expect(inSync).toMatchObject({ inSync: true, drift: [], reported: { appliedVersion: desired.version, state: expect.objectContaining({ firmware: '1.2.0' }) } });
    const syncedAt = new Date().toISOString();
    await sleep(20);

    // The same report again records nothing; bad reports are refused without changing anything.
    await report({ state: { firmware: '1.2.0', net: { roaming: false, apn: 'iot' }, interval: 60 }, appliedVersion: desired.version });
    await report('not json');
    await report({ state: 'not an object' });
    // What Postgres cannot store: U+0000 in a string, a number beyond a double (jsonb would keep null).
    await report({ state: { label: 'a\u0000b' } });
    await report('{"state": {"interval": 1e400}}');
    await report({ state: { pad: 'x'.repeat(33 * 1024) } });
    await report({ state: { interval: 120, net: { apn: 'other', roaming: false } }, appliedVersion: desired.version });
    await waitUntil('second report recorded', async () => (await api.platform.store.readStream(reportedStateStream(deviceId))).length === 2);
    await sync.reported.drain();
    const drifted = await state(deviceId);
    await waitUntil('read model shows the drift', async () => ((await state(deviceId)).drift as unknown[]).length === 2);
    expect((await state(deviceId)).drift).toEqual([
      { path: '/interval', desired: 60, reported: 120 },
      { path: '/net/apn', desired: 'iot', reported: 'other' },
    ]);
    expect(drifted.version).toBe(desired.version);

    // As of `syncedAt`: the first report, in sync; as of before the binding: nothing published yet.
    const then = await state(deviceId, `?at=${encodeURIComponent(syncedAt)}`);
    expect(then).toMatchObject({ at: syncedAt, version: desired.version, inSync: true, desired: desired.state, published: { version: desired.version } });
    const earlier = await state(deviceId, `?at=${encodeURIComponent(new Date(Date.parse(desired.publishedAt) - 1).toISOString())}`);
    expect(earlier).toMatchObject({ desired: {}, sources: [], published: null, reported: null, inSync: true });
    await http('get', `/api/v1/devices/${deviceId}/desired-state?at=yesterday`).expect(400);
    await http('get', `/api/v1/devices/${randomUUID()}/desired-state?at=${encodeURIComponent(syncedAt)}`).expect(404);
  });
});

describe('publisher restarts', () => {
  it('catches up on changes made while it was stopped and publishes every recorded state again on start', async () => {
    const artefactId = await anArtefact({ a: 1 });
    const deviceId = await aDevice();
    const d = await online(deviceId);
    await bind({ artefactId, targetType: 'DEVICE', targetId: deviceId });
    await settled();
    await waitUntil('first state', () => d.desired().length === 1);

    await sync.stop();
    await http('post', `/api/v1/config-artefacts/${artefactId}/versions`, { content: { a: 2 } }).expect(201);
    await sleep(200);
    expect(d.desired()).toHaveLength(1);
    sync = await startSync();
    await settled();
    await waitUntil('the change made while stopped arrives', () => d.desired().some((m) => m.state.a === 2));
    // The restart sent the recorded state again (same version) before catching up; versions never go backwards.
    expect(d.desired().at(-1)?.state).toEqual({ a: 2 });
    expect((await api.platform.store.readStream(desiredStateStream(deviceId))).length).toBe(2);

    // Nothing changed: a restart still sends the recorded state again (a broker may have lost it), without a new event.
    const received = d.desired().length;
    await sync.stop();
    sync = await startSync();
    await settled();
    await waitUntil('the recorded state is sent again', () => d.desired().length === received + 1);
    expect(d.desired().at(-1)).toEqual(d.desired().at(-2));
    expect((await api.platform.store.readStream(desiredStateStream(deviceId))).length).toBe(2);
  });
});
