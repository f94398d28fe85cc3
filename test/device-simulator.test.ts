import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { startSimulation, type Simulation } from '../src/cli/simulator/simulation';
import { startEmbeddedBroker, type EmbeddedBroker } from '../src/platform/mqtt/embedded-broker';
import { connectInternalClient } from '../src/platform/mqtt/internal-client';
import { deviceIdOf, deviceTopic } from '../src/platform/mqtt/topics';
import { capturedLogger } from './support/captured-logger';
import { collect, type Received } from './support/mqtt-clients';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';
import { waitUntil } from './support/wait-until';

let api: TestApi;
let org: TestOrg;
let server: Server;
let broker: EmbeddedBroker;
let platformClient: MqttClient;
let received: Received[];
let dataDir: string;

beforeAll(async () => {
  api = await startTestApi();
  org = await api.createOrg();
  server = await new Promise<Server>((resolve) => {
    const listening = api.app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  broker = await startEmbeddedBroker({ ca: api.deps.deviceCa, port: 0, host: '127.0.0.1', store: api.platform.store, log: capturedLogger('warn').log, revokedSerials: async () => [] });
  platformClient = await connectInternalClient({ url: broker.url, ca: api.deps.deviceCa, name: 'simulator-test' });
  received = collect(platformClient);
  await platformClient.subscribeAsync(['devices/+/readings', 'devices/+/commands/+/ack', 'devices/+/reported'], { qos: 1 });
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'iotplane-sim-'));
});

afterAll(async () => {
  await platformClient?.endAsync(true);
  await broker?.stop();
  await new Promise((resolve) => server?.close(resolve));
  await api?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function simulate(count: number): Promise<Simulation> {
  const { port } = server.address() as AddressInfo;
  // The provisioning answer names the configured public broker; the test's broker listens elsewhere.
  return startSimulation({ count, ratePerSecond: 20, sensors: 2, apiUrl: `http://127.0.0.1:${port}`, apiKey: org.apiKey, dataDir, mqttUrl: broker.url, heartbeatSeconds: 60 });
}

const get = (url: string) => api.http().get(url).set('Authorization', org.auth).expect(200);

/** Sequence numbers of the readings messages received from each device, in arrival order. */
function sequences(): Map<string, number[]> {
  const byDevice = new Map<string, number[]>();
  for (const message of received.filter((m) => m.topic.endsWith('/readings'))) {
    const deviceId = deviceIdOf(message.topic) ?? '';
    byDevice.set(deviceId, [...(byDevice.get(deviceId) ?? []), (JSON.parse(message.payload) as { seq: number }).seq]);
  }
  return byDevice;
}

describe('device simulator', () => {
  it('enrols devices that go ACTIVE and ONLINE, publish readings with increasing seq and answer commands', async () => {
    const simulation = await simulate(2);
    let ids: string[] = [];
    try {
      await waitUntil('both devices are connected', () => simulation.progress().connected === 2, 20_000);
      ids = simulation.devices.map((d) => d.deviceId);
      await waitUntil('readings from both devices', () => ids.every((id) => (sequences().get(id)?.length ?? 0) >= 5), 20_000);

      const commandId = randomUUID();
      const [first = ''] = ids;
      const command = { commandId, name: 'reboot', params: { delaySeconds: 1 }, expiresAt: new Date(Date.now() + 60_000).toISOString() };
      await platformClient.publishAsync(deviceTopic(first, 'commands'), JSON.stringify(command), { qos: 1 });
      const acks = () => received.filter((m) => m.topic === deviceTopic(first, `commands/${commandId}/ack`)).map((m) => JSON.parse(m.payload) as { status: string });
      await waitUntil('the command is acknowledged and done', () => acks().length === 2);
      expect(acks().map((a) => a.status)).toEqual(['ACKNOWLEDGED', 'SUCCEEDED']);
      expect(simulation.progress()).toMatchObject({ total: 2, provisioned: 2, reused: 0, connected: 2, errors: 0, commands: 1 });

      const desired = { version: 'a'.repeat(64), state: { interval: 30 }, publishedAt: new Date().toISOString() };
      await platformClient.publishAsync(deviceTopic(first, 'desired'), JSON.stringify(desired), { qos: 1, retain: true });
      const reports = () => received.filter((m) => m.topic === deviceTopic(first, 'reported')).map((m) => JSON.parse(m.payload) as unknown);
      await waitUntil('the desired state is applied and reported', () => reports().length === 1);
      expect(reports()).toEqual([{ state: { interval: 30 }, appliedVersion: desired.version }]);
      expect(simulation.progress().configs).toBe(1);
      for (const id of ids) {
        await waitUntil(`${id} is ONLINE`, async () => (await get(`/api/v1/devices/${id}/health`)).body.status === 'ONLINE');
      }
    } finally {
      await simulation.stop();
    }

    for (const id of ids) {
      expect((await get(`/api/v1/devices/${id}`)).body).toMatchObject({ status: 'ACTIVE' });
      expect((await get(`/api/v1/sensors?deviceId=${id}`)).body.items.map((s: { key: string }) => s.key).sort()).toEqual(['humidity', 'temp']);
      const seqs = sequences().get(id) ?? [];
      expect(seqs).toEqual(seqs.map((_, i) => (seqs[0] ?? 0) + i));
      expect(statSync(path.join(dataDir, 'simulator', id, 'device.key')).mode & 0o777).toBe(0o600);
    }
    expect((await get(`/api/v1/devices/${ids[0] ?? ''}/health`)).body).toMatchObject({ firmwareVersion: 'sim-1.0.0' });
  });

  it('answers a repeated command with the outcome it already gave, without acknowledging it again', async () => {
    const simulation = await simulate(1);
    try {
      const [device] = simulation.devices;
      if (!device) throw new Error('no device');
      await waitUntil('the device is connected', () => device.connected, 20_000);
      const commandId = randomUUID();
      const command = { commandId, name: 'reboot', params: {}, expiresAt: new Date(Date.now() + 60_000).toISOString() };
      const acks = () => received.filter((m) => m.topic === deviceTopic(device.deviceId, `commands/${commandId}/ack`)).map((m) => JSON.parse(m.payload) as { status: string });
      await platformClient.publishAsync(deviceTopic(device.deviceId, 'commands'), JSON.stringify(command), { qos: 1 });
      await waitUntil('the command is answered', () => acks().length === 2);
      await platformClient.publishAsync(deviceTopic(device.deviceId, 'commands'), JSON.stringify(command), { qos: 1 });
      await waitUntil('the repeat is answered', () => acks().length === 3);
      expect(acks().map((a) => a.status)).toEqual(['ACKNOWLEDGED', 'SUCCEEDED', 'SUCCEEDED']);
      expect(acks()[2]).toEqual(acks()[1]);
    } finally {
      await simulation.stop();
    }
  });

  it('forgets what readings/committed confirms and resends the rest after a reconnect', async () => {
    const simulation = await simulate(1);
    try {
      const [device] = simulation.devices;
      if (!device) throw new Error('no device');
      await waitUntil('the device publishes', () => device.connected && device.unconfirmedCount >= 5, 20_000);
      const confirmed = device.lastSeq - 2;
      await platformClient.publishAsync(deviceTopic(device.deviceId, 'readings/committed'), JSON.stringify({ seq: confirmed }), { qos: 1 });
      await waitUntil('confirmed readings are forgotten', () => device.unconfirmedCount <= device.lastSeq - confirmed);

      // The same certificate connecting again takes the session over, as after a network cut.
      const { credentials } = device;
      const intruder = await connectAsync(broker.url, { clientId: device.deviceId, key: credentials.keyPem, cert: credentials.certificatePem, ca: [credentials.caPem], reconnectPeriod: 0 });
      await intruder.endAsync();
      const seqs = () => sequences().get(device.deviceId) ?? [];
      const repeated = (keep: (seq: number) => boolean) => seqs().filter(keep).length - new Set(seqs().filter(keep)).size;
      await waitUntil('unconfirmed readings arrive a second time', () => device.counters.resent > 0 && repeated((seq) => seq > confirmed) > 0, 20_000);
      expect(repeated((seq) => seq <= confirmed)).toBe(0);
    } finally {
      await simulation.stop();
    }
  });

  it('reuses the saved devices on a rerun and continues their sequence numbers', async () => {
    const before = sequences();
    const simulation = await simulate(2);
    try {
      expect(simulation.progress()).toMatchObject({ reused: 2, provisioned: 0 });
      const ids = simulation.devices.map((d) => d.deviceId);
      expect(ids.sort()).toEqual([...before.keys()].sort());
      await waitUntil('new readings from both devices', () => ids.every((id) => (sequences().get(id)?.length ?? 0) > (before.get(id)?.length ?? 0)));
      for (const id of ids) {
        const earlier = before.get(id) ?? [];
        const now = (sequences().get(id) ?? []).slice(earlier.length);
        expect(now).toEqual(now.map((_, i) => Math.max(...earlier) + 1 + i));
      }
    } finally {
      await simulation.stop();
    }
  });
});
