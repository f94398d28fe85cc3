import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { Registry } from 'prom-client';
import type { SimulatedDevice } from '../src/cli/simulator/simulated-device';
import { deviceCommandStream } from '../src/commands/device-commands/device-command.events';
import { deviceHealthStream } from '../src/commands/device-health/device-health.events';
import { startCommandDispatcher, type CommandDispatcher } from '../src/ingest/command-dispatcher';
import { SESSION_SETTLE_MS } from '../src/ingest/commands/dispatcher.queries';
import { startDeviceHealthIngest, type DeviceHealthIngest } from '../src/ingest/device-health.ingest';
import { startDeviceStateSync, type DeviceStateSync } from '../src/ingest/device-state/device-state-sync';
import { deviceTopic } from '../src/platform/mqtt/topics';
import type { DeviceCa } from '../src/platform/pki/device-ca';
import { capturedLogger } from './support/captured-logger';
import { findMosquitto } from './support/mosquitto-process';
import { startMosquittoFor, type PlatformMosquitto } from './support/mosquitto-platform';
import { collect, connectDevice, sleep, type TestDevice } from './support/mqtt-clients';
import { enrolDevice } from './support/renewal';
import { simulatedDevice } from './support/simulated-device';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';
import { waitUntil } from './support/wait-until';
import type { DeviceCommandView } from '../src/api/routes/device-commands.queries';

const MOSQUITTO = findMosquitto();
const describeIfMosquitto = MOSQUITTO === undefined ? describe.skip : describe;
const SKIPPED = MOSQUITTO === undefined ? ' (skipped: no mosquitto binary at /usr/sbin/mosquitto or on PATH)' : '';

/** The identities the services below connect with (`iotplane:<name>`), as `admin broker-config --internal` lists them. */
const INTERNAL_NAMES = ['health', 'commands', 'platform'];
const POLL_MS = 50;
const WAIT_MS = 15_000;

type Body = Record<string, unknown>;

/** GET /api/v1/devices/{id}/commands/{commandId}, as the API declares it. */
type CommandBody = DeviceCommandView;

interface HealthBody {
  status: string;
  connectedAt: string | null;
  lastSeenAt: string | null;
}

interface DesiredStateBody {
  version: string;
  desired: Body;
  published: { version: string; publishedAt: string } | null;
  reported: { state: Body; appliedVersion: string | null } | null;
  drift: unknown[];
  inSync: boolean;
}

interface DesiredMessage {
  version: string;
  state: Body;
  publishedAt: string;
}

describeIfMosquitto(`device commands and desired state over Mosquitto${SKIPPED}`, () => {
  let api: TestApi;
  let org: TestOrg;
  let ca: DeviceCa;
  let broker: PlatformMosquitto | undefined;
  let health: DeviceHealthIngest | undefined;
  let dispatcher: CommandDispatcher | undefined;
  let sync: DeviceStateSync | undefined;
  const captured = capturedLogger('warn');
  const devices: SimulatedDevice[] = [];
  const clients: MqttClient[] = [];

  const brokerUrl = (): string => {
    if (broker === undefined) throw new Error('Mosquitto is not running');
    return broker.url;
  };

  beforeAll(async () => {
    // One platform: the API provisions devices with its device CA, and Mosquitto trusts that CA.
    api = await startTestApi();
    org = await api.createOrg();
    ca = api.deps.deviceCa;
    broker = await startMosquittoFor({ binary: MOSQUITTO ?? 'mosquitto', ca, store: api.platform.store, internalNames: INTERNAL_NAMES });
    const { log } = captured;
    // What `main` starts in the ingest role when MQTT_URL names Mosquitto.
    health = await startDeviceHealthIngest({ url: broker.url, ca, store: api.platform.store, log, name: 'health' });
    dispatcher = await startCommandDispatcher({
      url: broker.url,
      ca,
      store: api.platform.store,
      pool: api.platform.pool,
      log,
      registry: new Registry(),
      pollMs: POLL_MS,
      name: 'commands',
    });
    sync = await startDeviceStateSync({ platform: api.platform, url: broker.url, ca, log, name: 'platform' });
  });

  afterAll(async () => {
    await Promise.all(devices.map((device) => device.stop()));
    await Promise.all(clients.map((client) => client.endAsync(true)));
    await sync?.stop();
    await dispatcher?.stop();
    await health?.stop();
    await broker?.close();
    await api?.close();
  });

  afterEach(() => {
    // A heartbeat, command answer or report the services failed to record would otherwise only show as a time-out.
    expect(captured.lines.filter((line) => Number(line.level) >= 50)).toEqual([]);
  });

  const get = async <T>(path: string): Promise<T> => (await api.http().get(path).set('Authorization', org.auth).expect(200)).body as T;
  const created = async (path: string, body: Body): Promise<string> =>
    (await api.http().post(path).set('Authorization', org.auth).send(body).expect(201)).body.id as string;

  const commandOf = (deviceId: string, id: string) => get<CommandBody>(`/api/v1/devices/${deviceId}/commands/${id}`);
  const healthOf = (deviceId: string) => get<HealthBody>(`/api/v1/devices/${deviceId}/health`);
  const stateOf = (deviceId: string) => get<DesiredStateBody>(`/api/v1/devices/${deviceId}/desired-state`);
  const isOnline = (deviceId: string) => waitUntil(`${deviceId} is ONLINE`, async () => (await healthOf(deviceId)).status === 'ONLINE', WAIT_MS);

  async function reaches(deviceId: string, id: string, status: string): Promise<CommandBody> {
    let last: CommandBody | undefined;
    await waitUntil(`command ${id} is ${status}`, async () => (last = await commandOf(deviceId, id)).status === status, WAIT_MS);
    if (last === undefined) throw new Error('unreachable');
    return last;
  }

  /** The simulator's device (src/cli/simulator) on Mosquitto: a heartbeat on connect, commands answered, desired state applied and reported. */
  function simulated(identity: TestDevice): SimulatedDevice {
    const device = simulatedDevice(identity, brokerUrl(), ca.certificatePem);
    devices.push(device);
    return device;
  }

  /** A plain MQTT session with the device's own certificate, doing nothing on its own. */
  async function bareDevice(identity: TestDevice): Promise<MqttClient> {
    const client = await connectDevice(brokerUrl(), ca, identity);
    clients.push(client);
    return client;
  }

  it('keeps a command QUEUED while the device is connected but silent, and sends it only once a heartbeat showed it ONLINE', async () => {
    const identity = await enrolDevice(api, org);
    const { deviceId } = identity;
    const id = await created(`/api/v1/devices/${deviceId}/commands`, { name: 'reboot', params: { delaySeconds: 1 } });

    // Connected and subscribed, but Mosquitto tells the platform nothing about sessions: without a heartbeat the
    // device is not seen, even past the settle time after which a connect alone would do on the embedded broker.
    const silent = await bareDevice(identity);
    const inbox = collect(silent);
    await silent.subscribeAsync(deviceTopic(deviceId, 'commands'), { qos: 1 });
    await sleep(SESSION_SETTLE_MS + 500);
    for (let i = 0; i < 3; i += 1) await dispatcher?.round();
    expect(await commandOf(deviceId, id)).toMatchObject({ status: 'QUEUED', sentAt: null });
    expect((await api.platform.store.readStream(deviceCommandStream(id))).map((e) => e.type)).toEqual(['CommandQueued']);
    expect((await healthOf(deviceId)).status).toBe('UNKNOWN');
    expect(inbox).toEqual([]);
    await silent.endAsync();

    const device = simulated(identity);
    device.start();
    await isOnline(deviceId);
    const done = await reaches(deviceId, id, 'SUCCEEDED');
    expect(done).toMatchObject({ result: { name: 'reboot', params: { delaySeconds: 1 }, simulated: true }, error: null });
    const times = [done.sentAt, done.acknowledgedAt, done.completedAt].map((t) => Date.parse(t ?? ''));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(await api.platform.store.readStream(deviceCommandStream(id)).then((events) => events.map((e) => ({ type: e.type, actor: e.metadata.actor })))).toEqual([
      { type: 'CommandQueued', actor: expect.stringMatching(/^apiKey:/) },
      { type: 'CommandSent', actor: 'system' },
      { type: 'CommandAcknowledged', actor: `device:${deviceId}` },
      { type: 'CommandSucceeded', actor: `device:${deviceId}` },
    ]);
    expect(device.counters.commands).toBe(1);

    // Sent only after the device was seen, and seen by its heartbeat: the heartbeat reader records the connect
    // (no certificate serial, which Mosquitto does not tell), then the heartbeat itself.
    const seen = await healthOf(deviceId);
    expect(Date.parse(done.sentAt ?? '')).toBeGreaterThanOrEqual(Date.parse(seen.connectedAt ?? ''));
    const healthEvents = await api.platform.store.readStream(deviceHealthStream(deviceId));
    expect(healthEvents.slice(0, 2).map((e) => ({ type: e.type, data: e.data, actor: e.metadata.actor }))).toEqual([
      { type: 'DeviceConnected', data: { deviceId, at: seen.connectedAt, clientId: deviceId }, actor: `device:${deviceId}` },
      { type: 'DeviceHealthReported', data: expect.objectContaining({ deviceId, firmwareVersion: 'sim-1.0.0' }), actor: `device:${deviceId}` },
    ]);
  });

  it('repeats an acknowledged command at once to a device that reconnected within seconds, told by the session its heartbeat names', async () => {
    const identity = await enrolDevice(api, org);
    const { deviceId } = identity;
    const health = deviceTopic(deviceId, 'health');
    const commandsTopic = deviceTopic(deviceId, 'commands');
    const deliveries = (inbox: { topic: string; payload: string }[], id: string): number =>
      inbox.filter((m) => m.topic === commandsTopic && (JSON.parse(m.payload) as { commandId?: string }).commandId === id).length;

    const first = await bareDevice(identity);
    const firstInbox = collect(first);
    await first.subscribeAsync(commandsTopic, { qos: 1 });
    await first.publishAsync(health, JSON.stringify({ uptimeSeconds: 100, session: 'first' }), { qos: 1 });
    await isOnline(deviceId);
    const id = await created(`/api/v1/devices/${deviceId}/commands`, { name: 'reboot', params: { delaySeconds: 1 } });
    await waitUntil('the first session received the command', () => deliveries(firstInbox, id) === 1, WAIT_MS);
    await first.publishAsync(deviceTopic(deviceId, `commands/${id}/ack`), JSON.stringify({ status: 'ACKNOWLEDGED' }), { qos: 1 });
    await reaches(deviceId, id, 'ACKNOWLEDGED');
    // The device reboots before its final answer: no silence long enough to be noticed, and Mosquitto reports nothing.
    await first.endAsync();
    const second = await bareDevice(identity);
    const secondInbox = collect(second);
    await second.subscribeAsync(commandsTopic, { qos: 1 });
    await second.publishAsync(health, JSON.stringify({ uptimeSeconds: 2, session: 'second' }), { qos: 1 });
    // Well before the 30 s repeat of unanswered commands.
    await waitUntil('the new session received the command again', () => deliveries(secondInbox, id) === 1, 5_000);
    await second.publishAsync(deviceTopic(deviceId, `commands/${id}/ack`), JSON.stringify({ status: 'SUCCEEDED', result: { rebooted: true } }), { qos: 1 });
    expect(await reaches(deviceId, id, 'SUCCEEDED')).toMatchObject({ result: { rebooted: true } });
    const connects = (await api.platform.store.readStream(deviceHealthStream(deviceId))).filter((e) => e.type === 'DeviceConnected');
    expect(connects).toHaveLength(2);
  });

  it('delivers desired state bound while the device was away as a retained message, and shows it in sync once the device reports', async () => {
    const identity = await enrolDevice(api, org);
    const { deviceId } = identity;
    const content = { interval: 30, net: { apn: 'iot' } };
    const artefactId = await created('/api/v1/config-artefacts', { name: `cfg-${randomUUID().slice(0, 8)}`, content });
    await created('/api/v1/desired-state-bindings', { artefactId, version: 'latest', targetType: 'DEVICE', targetId: deviceId });
    await waitUntil('the desired state is published', async () => (await stateOf(deviceId)).published !== null, WAIT_MS);
    const bound = await stateOf(deviceId);
    expect(bound).toMatchObject({ desired: content, published: { version: bound.version }, reported: null, inSync: false });

    // Published before the device had a session: only the broker's retained copy can reach it now.
    const client = await bareDevice(identity);
    const received: { retain: boolean; message: DesiredMessage }[] = [];
    client.on('message', (topic, payload, packet) => {
      if (topic === deviceTopic(deviceId, 'desired')) received.push({ retain: packet.retain, message: JSON.parse(payload.toString()) as DesiredMessage });
    });
    await client.subscribeAsync(deviceTopic(deviceId, 'desired'), { qos: 1 });
    await waitUntil('the retained desired state arrives on subscribe', () => received.length > 0, WAIT_MS);
    expect(received).toEqual([{ retain: true, message: { version: bound.version, state: content, publishedAt: bound.published?.publishedAt } }]);
    await client.endAsync();

    // The simulator gets the same retained copy on its subscribe, applies it and reports it.
    const device = simulated(identity);
    device.start();
    await isOnline(deviceId);
    await waitUntil('the device reported the desired state', async () => (await stateOf(deviceId)).inSync, WAIT_MS);
    expect(await stateOf(deviceId)).toMatchObject({ version: bound.version, drift: [], inSync: true, reported: { state: content, appliedVersion: bound.version } });
    expect(device.counters.configs).toBe(1);

    // A new version reaches the online device live and is reported back in turn.
    const next = { interval: 10, net: { apn: 'iot' } };
    await api.http().post(`/api/v1/config-artefacts/${artefactId}/versions`).set('Authorization', org.auth).send({ content: next }).expect(201);
    let current: DesiredStateBody | undefined;
    await waitUntil(
      'the device reported the new version',
      async () => {
        current = await stateOf(deviceId);
        return current.version !== bound.version && current.inSync && current.reported?.appliedVersion === current.version;
      },
      WAIT_MS,
    );
    expect(current).toMatchObject({ desired: next, published: { version: current?.version }, reported: { state: next }, drift: [] });
    expect(device.counters.configs).toBe(2);
  });
});
