import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { deviceHealthStream } from '../src/commands/device-health/device-health.events';
import type { EventStore, RecordedEvent } from '../src/platform/event-store/event-store.port';
import { MAX_PUBLISH_BYTES } from '../src/platform/mqtt/broker-access';
import { startEmbeddedBroker, type EmbeddedBroker } from '../src/platform/mqtt/embedded-broker';
import { startPlatformBroker } from '../src/platform/mqtt/embedded-broker.wiring';
import { connectInternalClient } from '../src/platform/mqtt/internal-client';
import { INGEST_SUBSCRIPTION, deviceTopic } from '../src/platform/mqtt/topics';
import { loadOrCreateDeviceCa, type DeviceCa } from '../src/platform/pki/device-ca';
import { capturedLogger, type CapturedLog } from './support/captured-logger';
import { withFailingAppends } from './support/failing-event-store';
import { aDevice, attemptConnect, collect, connectDevice, deviceOptions, sleep, type Received, type TestDevice } from './support/mqtt-clients';
import { createTestPlatform, type TestPlatform } from './support/test-platform';
import { waitUntil } from './support/wait-until';

/** How long "receives nothing" is watched after a control message already arrived. */
const SILENCE_MS = 500;

let platform: TestPlatform;
let work: string;
let ca: DeviceCa;
let captured: CapturedLog;
let broker: EmbeddedBroker;
let ingest: MqttClient;
let ingested: Received[];
let revokedBeforeStart: TestDevice;
let clockOffsetMs = 0;
const opened: MqttClient[] = [];

beforeAll(async () => {
  platform = await createTestPlatform();
  work = mkdtempSync(path.join(os.tmpdir(), 'iotplane-mqtt-'));
  ca = await loadOrCreateDeviceCa({ dataDir: path.join(work, 'ca') });
  revokedBeforeStart = await aDevice(ca);
  captured = capturedLogger('info');
  broker = await startEmbeddedBroker({
    ca,
    port: 0,
    host: '127.0.0.1',
    store: platform.store,
    log: captured.log,
    // Upper case, as openssl prints serials: the broker must not care.
    revokedSerials: async () => [revokedBeforeStart.serialNumber.toUpperCase()],
    now: () => new Date(Date.now() + clockOffsetMs),
  });
  ingest = track(await connectInternalClient({ url: broker.url, ca, name: 'ingest' }));
  ingested = collect(ingest);
  await ingest.subscribeAsync(INGEST_SUBSCRIPTION, { qos: 1 });
});

afterAll(async () => {
  await Promise.all(opened.map((client) => client.endAsync(true)));
  await broker.stop();
  await platform.close();
  rmSync(work, { recursive: true, force: true });
});

function track(client: MqttClient): MqttClient {
  opened.push(client);
  return client;
}

async function device(): Promise<{ device: TestDevice; client: MqttClient }> {
  const created = await aDevice(ca);
  return { device: created, client: track(await connectDevice(broker.url, ca, created)) };
}

async function healthEvents(deviceId: string): Promise<RecordedEvent[]> {
  return platform.store.readStream(deviceHealthStream(deviceId));
}

async function eventually(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  await waitUntil(what, check, 10_000);
}

/** As provisioning records it (src/commands/device-certificates). */
async function appendRevocation(revoked: TestDevice): Promise<void> {
  await platform.store.appendToStream(`deviceCertificates-${revoked.deviceId}`, [
    {
      id: randomUUID(),
      type: 'DeviceCertificateRevoked',
      data: { deviceId: revoked.deviceId, serialNumber: revoked.serialNumber, reason: 'KEY_COMPROMISE', revokedAt: new Date().toISOString() },
      metadata: { orgId: revoked.orgId, actor: 'system', correlationId: randomUUID(), causationId: null, schemaVersion: 1 },
    },
  ]);
}

async function disconnectReason(deviceId: string): Promise<string> {
  let reason: string | undefined;
  await eventually(`${deviceId} has a DeviceDisconnected`, async () => {
    const last = (await healthEvents(deviceId)).filter((e) => e.type === 'DeviceDisconnected').at(-1);
    reason = (last?.data as { reason?: string } | undefined)?.reason;
    return reason !== undefined;
  });
  return reason ?? '';
}

describe('embedded MQTT broker', () => {
  describe('when a device connects with its certificate', () => {
    it('delivers its readings to the platform subscriber on the shared ingest subscription', async () => {
      const { device: sensor, client } = await device();
      const reading = JSON.stringify({ seq: 1, values: { temperature: 21.5 }, marker: randomUUID() });
      await client.publishAsync(deviceTopic(sensor.deviceId, 'readings'), reading, { qos: 1 });
      await eventually('the ingester received the reading', () => ingested.some((m) => m.payload === reading));
      expect(ingested.find((m) => m.payload === reading)?.topic).toBe(deviceTopic(sensor.deviceId, 'readings'));
    });

    it('gives each reading to one member of a shared group', async () => {
      const members = await Promise.all(['split-a', 'split-b'].map((name) => connectInternalClient({ url: broker.url, ca, name }).then(track)));
      const received = members.map((member) => collect(member));
      await Promise.all(members.map((member) => member.subscribeAsync('$share/split/devices/+/readings', { qos: 1 })));
      const { device: sensor, client } = await device();
      const sent = Array.from({ length: 10 }, (_, seq) => JSON.stringify({ seq, run: randomUUID() }));
      for (const payload of sent) await client.publishAsync(deviceTopic(sensor.deviceId, 'readings'), payload, { qos: 1 });
      const all = () => received.flat().map((m) => m.payload).filter((p) => sent.includes(p));
      await eventually('the group received every reading', () => all().length >= sent.length);
      await sleep(SILENCE_MS);
      expect(all().sort()).toEqual([...sent].sort());
      expect(received.every((list) => list.length > 0)).toBe(true);

      const [stays, leaves] = members as [MqttClient, MqttClient];
      await leaves.unsubscribeAsync('$share/split/devices/+/readings');
      const leftWith = received[1]?.length ?? 0;
      const after = Array.from({ length: 4 }, (_, seq) => JSON.stringify({ seq, after: randomUUID() }));
      for (const payload of after) await client.publishAsync(deviceTopic(sensor.deviceId, 'readings'), payload, { qos: 1 });
      await eventually('the remaining member received the rest', () => after.every((p) => received[0]?.some((m) => m.payload === p)));
      expect(received[1]?.length).toBe(leftWith);
      expect(stays.connected).toBe(true);
    });
  });

  describe('when a client cannot prove a device identity', () => {
    it('refuses a connection without a client certificate', async () => {
      const handshakes = captured.count('mqtt tls handshake refused');
      const attempt = await attemptConnect(broker.url, deviceOptions(ca, undefined));
      expect(attempt.outcome).toBe('refused');
      await eventually('the handshake refusal is logged', () => captured.count('mqtt tls handshake refused') > handshakes);
    });

    it('refuses a certificate from another CA with a valid-looking device id', async () => {
      const otherCa = await loadOrCreateDeviceCa({ dataDir: path.join(work, 'other-ca') });
      const forged = await aDevice(otherCa);
      const handshakes = captured.count('mqtt tls handshake refused');
      const attempt = await attemptConnect(broker.url, deviceOptions(ca, forged));
      expect(attempt.outcome).toBe('refused');
      await eventually('the handshake refusal is logged', () => captured.count('mqtt tls handshake refused') > handshakes);
    });
  });

  describe('when a device uses a client id that is not its certificate CN', () => {
    it('refuses it and leaves the session that owns the id alone', async () => {
      const { device: owner, client: ownerClient } = await device();
      const intruder = await aDevice(ca);
      const cuts: string[] = [];
      ownerClient.on('close', () => cuts.push('owner'));
      const onIngestClose = () => cuts.push('ingest');
      ingest.on('close', onIngestClose);
      try {
        for (const stolenId of [owner.deviceId, 'iotplane:ingest']) {
          const attempt = await attemptConnect(broker.url, deviceOptions(ca, intruder, stolenId));
          expect(attempt).toMatchObject({ outcome: 'refused', error: { code: 5 } });
        }
        const reading = JSON.stringify({ seq: 2, marker: randomUUID() });
        await ownerClient.publishAsync(deviceTopic(owner.deviceId, 'readings'), reading, { qos: 1 });
        await eventually('the platform subscriber still receives', () => ingested.some((m) => m.payload === reading));
        expect(cuts).toEqual([]);
      } finally {
        ingest.off('close', onIngestClose);
      }
      // With its own id the same certificate is welcome: the refusal was about the id.
      expect((await attemptConnect(broker.url, deviceOptions(ca, intruder))).outcome).toBe('connected');
    });
  });

  describe('when a device steps outside its own topics', () => {
    it("drops its publishes on another device's topics: the platform receives nothing", async () => {
      const { device: a, client } = await device();
      const b = await aDevice(ca);
      const observer = track(await connectInternalClient({ url: broker.url, ca, name: 'observer' }));
      const observed = collect(observer);
      await observer.subscribeAsync('devices/#', { qos: 1 });
      const marker = randomUUID();
      const denied = broker.stats().deniedPublishes;
      // MQTT 3.1.1 acknowledges these anyway; only what subscribers get tells.
      await client.publishAsync(deviceTopic(b.deviceId, 'readings'), marker, { qos: 1 });
      await client.publishAsync(deviceTopic(b.deviceId, 'health'), marker, { qos: 1 });
      await client.publishAsync(deviceTopic(a.deviceId, 'desired'), marker, { qos: 1 });
      const control = `control-${marker}`;
      await client.publishAsync(deviceTopic(a.deviceId, 'readings'), control, { qos: 1 });
      await eventually('the control reading arrived', () => ingested.some((m) => m.payload === control) && observed.some((m) => m.payload === control));
      await sleep(SILENCE_MS);
      expect([...ingested, ...observed].filter((m) => m.payload === marker)).toEqual([]);
      expect(broker.stats().deniedPublishes - denied).toBe(3);
      expect(client.connected).toBe(true);
    });

    it('disconnects a device that sends a message over the packet limit, as Mosquitto does, and forwards none of it', async () => {
      const { device: sensor, client } = await device();
      const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
      const huge = `{"seq": 1, "pad": "${'x'.repeat(MAX_PUBLISH_BYTES)}"}`;
      client.publish(deviceTopic(sensor.deviceId, 'readings'), huge, { qos: 1 });
      await closed;
      await sleep(SILENCE_MS);
      expect(ingested.filter((m) => m.payload.length > MAX_PUBLISH_BYTES)).toEqual([]);
    });

    it("refuses subscriptions to another device's topics and to wildcards", async () => {
      const { device: a, client } = await device();
      const b = await aDevice(ca);
      const refused = [deviceTopic(b.deviceId, 'commands'), 'devices/+/commands', `devices/${a.deviceId}/#`, '#', `$share/g/${deviceTopic(a.deviceId, 'commands')}`];
      for (const filter of refused) {
        await expect(client.subscribeAsync(filter, { qos: 1 })).rejects.toMatchObject({ packet: { granted: [128] } });
      }
      expect(await client.subscribeAsync(deviceTopic(a.deviceId, 'commands'), { qos: 1 })).toEqual([{ topic: deviceTopic(a.deviceId, 'commands'), qos: 1 }]);
      const received = collect(client);
      await ingest.publishAsync(deviceTopic(b.deviceId, 'commands'), 'for-b', { qos: 1 });
      await ingest.publishAsync(deviceTopic(a.deviceId, 'commands'), 'for-a', { qos: 1 });
      await eventually('the own command arrived', () => received.some((m) => m.payload === 'for-a'));
      await sleep(SILENCE_MS);
      expect(received.map((m) => m.payload)).toEqual(['for-a']);
    });

    it('keeps retained messages only for what the platform publishes on …/desired and …/readings/committed', async () => {
      const { device: a, client } = await device();
      await client.publishAsync(deviceTopic(a.deviceId, 'reported'), 'device-retained', { qos: 1, retain: true });
      await ingest.publishAsync(deviceTopic(a.deviceId, 'commands'), 'command-retained', { qos: 1, retain: true });
      await ingest.publishAsync(deviceTopic(a.deviceId, 'desired'), 'desired-retained', { qos: 1, retain: true });
      await ingest.publishAsync(deviceTopic(a.deviceId, 'readings/committed'), 'committed-retained', { qos: 1, retain: true });
      const late = track(await connectInternalClient({ url: broker.url, ca, name: 'late' }));
      const received = collect(late);
      await late.subscribeAsync(`devices/${a.deviceId}/#`, { qos: 1 });
      await eventually('the retained messages arrived', () => received.filter((m) => m.payload.endsWith('-retained')).length >= 2);
      await sleep(SILENCE_MS);
      expect(received.map((m) => m.payload).sort()).toEqual(['committed-retained', 'desired-retained']);
    });
  });

  describe('when a certificate is revoked', () => {
    it('refuses a certificate revoked before the broker started', async () => {
      const attempt = await attemptConnect(broker.url, deviceOptions(ca, revokedBeforeStart));
      expect(attempt).toMatchObject({ outcome: 'refused', error: { code: 5 } });
    });

    it('cuts the live session on DeviceCertificateRevoked and refuses it from then on', async () => {
      const { device: revoked, client } = await device();
      const { client: bystander } = await device();
      await appendRevocation(revoked);
      await eventually('the revoked session is cut', () => !client.connected);
      expect(bystander.connected).toBe(true);
      expect(await attemptConnect(broker.url, deviceOptions(ca, revoked))).toMatchObject({ outcome: 'refused', error: { code: 5 } });
      expect(await disconnectReason(revoked.deviceId)).toBe('certificate revoked');
    });

    it('revoke() cuts only the sessions of that serial', async () => {
      const { device: revoked, client } = await device();
      const { client: bystander } = await device();
      expect(broker.revoke(revoked.serialNumber)).toBe(1);
      await eventually('the revoked session is cut', () => !client.connected);
      expect(bystander.connected).toBe(true);
      expect((await attemptConnect(broker.url, deviceOptions(ca, revoked))).outcome).toBe('refused');
    });
  });

  describe('device health', () => {
    const beat = { firmwareVersion: '1.4.2', signalDbm: -71, batteryPercent: 80, uptimeSeconds: 100 };
    const reports = async (deviceId: string) => (await healthEvents(deviceId)).filter((e) => e.type === 'DeviceHealthReported');

    it('records connect, heartbeats (identical ones throttled, invalid ones not) and disconnect', async () => {
      const { device: sensor, client } = await device();
      const topic = deviceTopic(sensor.deviceId, 'health');
      await eventually('DeviceConnected is stored', async () => (await healthEvents(sensor.deviceId)).length > 0);
      const [connected] = await healthEvents(sensor.deviceId);
      expect(connected).toMatchObject({
        type: 'DeviceConnected',
        data: { deviceId: sensor.deviceId, clientId: sensor.deviceId },
        metadata: { orgId: sensor.orgId, actor: `device:${sensor.deviceId}` },
      });

      const invalidBefore = broker.stats().invalidHeartbeats;
      for (const uptimeSeconds of [100, 160, 220]) await client.publishAsync(topic, JSON.stringify({ ...beat, uptimeSeconds }), { qos: 1 });
      await client.publishAsync(topic, JSON.stringify({ ...beat, voltage: 3.3 }), { qos: 1 });
      await client.publishAsync(topic, 'not json', { qos: 1 });
      await client.publishAsync(topic, JSON.stringify({ ...beat, batteryPercent: 79, uptimeSeconds: 280 }), { qos: 1 });
      await eventually('the changed heartbeat is stored', async () => (await reports(sensor.deviceId)).length >= 2);
      // Appends for one device are ordered, so nothing sent before the change can still arrive.
      expect((await reports(sensor.deviceId)).map((e) => e.data)).toEqual([
        expect.objectContaining({ deviceId: sensor.deviceId, ...beat }),
        expect.objectContaining({ batteryPercent: 79, uptimeSeconds: 280 }),
      ]);
      expect(broker.stats().invalidHeartbeats - invalidBefore).toBe(2);

      clockOffsetMs += 61_000;
      await client.publishAsync(topic, JSON.stringify({ ...beat, batteryPercent: 79, uptimeSeconds: 340 }), { qos: 1 });
      await eventually('a minute later the same values are reported again', async () => (await reports(sensor.deviceId)).length === 3);

      await client.endAsync();
      expect(await disconnectReason(sensor.deviceId)).toBe('client disconnected');
      const types = (await healthEvents(sensor.deviceId)).map((e) => e.type);
      expect(types).toEqual(['DeviceConnected', 'DeviceHealthReported', 'DeviceHealthReported', 'DeviceHealthReported', 'DeviceDisconnected']);
    });

    it('records a reconnect that replaces the old session as disconnect, then connect', async () => {
      const { device: sensor, client: old } = await device();
      const replacement = track(await connectDevice(broker.url, ca, sensor));
      await eventually('the old session is closed', () => !old.connected);
      expect(replacement.connected).toBe(true);
      expect(await disconnectReason(sensor.deviceId)).toBe('replaced by a new session');
      await eventually('the new session is recorded', async () => (await healthEvents(sensor.deviceId)).length === 3);
      expect((await healthEvents(sensor.deviceId)).map((e) => e.type)).toEqual(['DeviceConnected', 'DeviceDisconnected', 'DeviceConnected']);
    });
  });
});

describe('embedded MQTT broker lifecycle', () => {
  async function startAnother(store: EventStore, log = capturedLogger()): Promise<EmbeddedBroker> {
    return startEmbeddedBroker({ ca, port: 0, host: '127.0.0.1', store, log: log.log, revokedSerials: async () => [] });
  }

  it('keeps serving when the event store refuses health events', async () => {
    const failing = withFailingAppends(platform.store);
    const log = capturedLogger();
    const degraded = await startAnother(failing, log);
    try {
      const sensor = await aDevice(ca);
      const first = await connectDevice(degraded.url, ca, sensor);
      await first.publishAsync(deviceTopic(sensor.deviceId, 'health'), JSON.stringify({ batteryPercent: 50 }), { qos: 1 });
      await first.endAsync();
      await eventually('the failed appends are logged', () => log.count('device health event not stored') >= 3);
      const again = await connectDevice(degraded.url, ca, sensor);
      expect(again.connected).toBe(true);
      await again.endAsync();
    } finally {
      await degraded.stop();
    }
  });

  it("follows revocations from the checkpoint of the loader's snapshot", async () => {
    const sensor = await aDevice(ca);
    const upTo = await platform.store.headPosition();
    await appendRevocation(sensor); // projected after the snapshot was taken
    const third = await startEmbeddedBroker({ ca, port: 0, host: '127.0.0.1', store: platform.store, log: capturedLogger().log, revokedSerials: async () => ({ serials: [], upTo }) });
    try {
      await eventually('the revocation is caught up', () => third.stats().revokedSerials === 1);
      expect((await attemptConnect(third.url, deviceOptions(ca, sensor))).outcome).toBe('refused');
    } finally {
      await third.stop();
    }
  });

  it('startPlatformBroker starts the embedded broker only when no MQTT_URL is configured', async () => {
    const external = await startPlatformBroker({ ...platform, config: { ...platform.config, mqttUrl: 'mqtts://mosquitto.example:8883' } }, ca, async () => []);
    expect(external).toBeUndefined();
    const embedded = await startPlatformBroker({ ...platform, config: { ...platform.config, mqttPort: 0 } }, ca, async () => []);
    try {
      const client = await connectInternalClient({ url: embedded?.url ?? 'mqtts://127.0.0.1:1', ca, name: 'wiring' });
      expect(client.connected).toBe(true);
      await client.endAsync();
    } finally {
      await embedded?.stop();
    }
  });

  it('fails to start on a port in use and leaves nothing running', async () => {
    await expect(startEmbeddedBroker({ ca, port: broker.port, host: '127.0.0.1', store: platform.store, log: capturedLogger().log, revokedSerials: async () => [] })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('stop() ends every session, records it and frees the port', async () => {
    const second = await startAnother(platform.store);
    const sensor = await aDevice(ca);
    const client = await connectDevice(second.url, ca, sensor);
    const pending = net.connect(second.port, '127.0.0.1'); // a socket that never completes TLS or CONNECT
    await new Promise((resolve) => pending.once('connect', resolve));
    await second.stop();
    await eventually('the session is cut', () => !client.connected);
    expect(await disconnectReason(sensor.deviceId)).toBe('broker stopped');
    await new Promise<void>((resolve, reject) => {
      const probe = net.createServer().once('error', reject);
      probe.listen(second.port, '127.0.0.1', () => probe.close(() => resolve()));
    });
    await second.stop(); // a second stop is harmless
    pending.destroy();
  });
});
