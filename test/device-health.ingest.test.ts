import { randomUUID } from 'node:crypto';
import { deviceCertificatesStream } from '../src/commands/device-certificates/device-certificate.events';
import { deviceHealthStream } from '../src/commands/device-health/device-health.events';
import type { RecordedEvent } from '../src/platform/event-store/event-store.port';
import { createLogger } from '../src/platform/logger';
import { deviceTopic } from '../src/platform/mqtt/topics';
import { startDeviceHealthIngest, type DeviceHealthIngest } from '../src/ingest/device-health.ingest';
import { aMetadata } from './support/events';
import { MosquittoFixture } from './support/mosquitto-fixture';
import { findMosquitto } from './support/mosquitto-process';
import type { TestDevice } from './support/mqtt-clients';
import { aDeviceCertificateIssued } from './support/provisioning.builders';
import { waitUntil } from './support/wait-until';

const MOSQUITTO = findMosquitto();
const describeIfMosquitto = MOSQUITTO === undefined ? describe.skip : describe;
const SKIPPED = MOSQUITTO === undefined ? ' (skipped: no mosquitto binary at /usr/sbin/mosquitto or on PATH)' : '';

describeIfMosquitto(`device health ingest from Mosquitto${SKIPPED}`, () => {
  let fx: MosquittoFixture;
  let ingest: DeviceHealthIngest;

  beforeAll(async () => {
    fx = await MosquittoFixture.create(MOSQUITTO ?? 'mosquitto');
    // The name comes from admin broker-config's default --internal list, as in production.
    await fx.start(['health']);
    ingest = await startDeviceHealthIngest({ url: fx.url, ca: fx.ca, store: fx.platform.store, log: createLogger('silent') });
  });

  afterAll(async () => {
    await ingest?.stop();
    await fx?.close();
  });

  /** A device with a live session and, as provisioning records it, a certificate event naming its org. */
  const provisioned = async (): Promise<Awaited<ReturnType<MosquittoFixture['device']>>> => {
    const connected = await fx.device();
    const { deviceId, orgId, serialNumber }: TestDevice = connected.device;
    const issued = aDeviceCertificateIssued({ deviceId, serialNumber });
    await fx.platform.store.appendToStream(deviceCertificatesStream(deviceId), [{ id: randomUUID(), type: issued.type, data: issued.data, metadata: aMetadata({ orgId }) }]);
    return connected;
  };
  const healthEvents = (deviceId: string): Promise<RecordedEvent[]> => fx.platform.store.readStream(deviceHealthStream(deviceId));
  const beat = { firmwareVersion: '1.4.2', signalDbm: -71, batteryPercent: 80, uptimeSeconds: 100 };

  it('records a first heartbeat as a connect and a health report of the device’s org', async () => {
    const { device, client } = await provisioned();
    await client.publishAsync(deviceTopic(device.deviceId, 'health'), JSON.stringify(beat), { qos: 1 });
    await waitUntil('both events are stored', async () => (await healthEvents(device.deviceId)).length >= 2, 10_000);
    const events = await healthEvents(device.deviceId);
    expect(events.map((event) => event.type)).toEqual(['DeviceConnected', 'DeviceHealthReported']);
    expect(events.map((event) => event.metadata.orgId)).toEqual([device.orgId, device.orgId]);
    expect(events[0]?.data).toMatchObject({ deviceId: device.deviceId, clientId: device.deviceId });
    expect(events[1]?.data).toMatchObject({ deviceId: device.deviceId, ...beat });
  });

  it('throttles identical heartbeats and records a changed one at once', async () => {
    const { device, client } = await provisioned();
    const topic = deviceTopic(device.deviceId, 'health');
    const throttledBefore = ingest.feed.throttledHeartbeats;
    for (const uptimeSeconds of [100, 160, 220]) await client.publishAsync(topic, JSON.stringify({ ...beat, uptimeSeconds }), { qos: 1 });
    await client.publishAsync(topic, JSON.stringify({ ...beat, uptimeSeconds: 280, batteryPercent: 10 }), { qos: 1 });
    await waitUntil('the changed heartbeat is stored', async () => (await healthEvents(device.deviceId)).length >= 3, 10_000);
    await ingest.drain();
    const events = await healthEvents(device.deviceId);
    expect(events.map((event) => event.type)).toEqual(['DeviceConnected', 'DeviceHealthReported', 'DeviceHealthReported']);
    expect(events[2]?.data).toMatchObject({ batteryPercent: 10 });
    expect(ingest.feed.throttledHeartbeats - throttledBefore).toBe(2);
  });

  it("never records a heartbeat device A publishes on device B's topic for B", async () => {
    const a = await provisioned();
    const b = await provisioned();
    await a.client.publishAsync(deviceTopic(b.device.deviceId, 'health'), JSON.stringify(beat), { qos: 1 });
    // Published after the forged one on the same connection: once A's own arrives, the forged one would have too.
    await a.client.publishAsync(deviceTopic(a.device.deviceId, 'health'), JSON.stringify(beat), { qos: 1 });
    await waitUntil("A's own heartbeat is stored", async () => (await healthEvents(a.device.deviceId)).length >= 2, 10_000);
    await ingest.drain();
    expect(await healthEvents(b.device.deviceId)).toEqual([]);
  });

  it('records a connect when the heartbeat names a new session, however soon after the last one', async () => {
    const { device, client } = await provisioned();
    const topic = deviceTopic(device.deviceId, 'health');
    const first = randomUUID();
    // Same session twice, then a reconnect within seconds (no silence) and a heartbeat of that session.
    for (const [session, uptimeSeconds] of [[first, 100], [first, 160], [randomUUID(), 5]] as const) {
      await client.publishAsync(topic, JSON.stringify({ ...beat, uptimeSeconds, session }), { qos: 1 });
    }
    await waitUntil('the new session is stored', async () => (await healthEvents(device.deviceId)).length >= 4, 10_000);
    await ingest.drain();
    // The new session's first heartbeat is recorded although it changes nothing the throttle looks at but uptime.
    expect((await healthEvents(device.deviceId)).map((event) => [event.type, (event.data as { uptimeSeconds?: number }).uptimeSeconds])).toEqual([
      ['DeviceConnected', undefined],
      ['DeviceHealthReported', 100],
      ['DeviceConnected', undefined],
      ['DeviceHealthReported', 5],
    ]);
  });

  it('takes an invalid heartbeat as no sign of presence', async () => {
    const { device, client } = await provisioned();
    const topic = deviceTopic(device.deviceId, 'health');
    const invalidBefore = ingest.feed.invalidHeartbeats;
    await client.publishAsync(topic, JSON.stringify({ ...beat, batteryPercent: 140 }), { qos: 1 });
    await client.publishAsync(topic, 'not json', { qos: 1 });
    await client.publishAsync(topic, JSON.stringify({ ...beat, firmwareVersion: '1.0\u0000' }), { qos: 1 });
    await waitUntil('all three are refused', () => ingest.feed.invalidHeartbeats - invalidBefore === 3, 10_000);
    await ingest.drain();
    expect(await healthEvents(device.deviceId)).toEqual([]);
  });
});
