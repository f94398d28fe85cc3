import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { connectInternalClient } from '../src/platform/mqtt/internal-client';
import { INGEST_SUBSCRIPTION, deviceTopic } from '../src/platform/mqtt/topics';
import { loadOrCreateDeviceCa } from '../src/platform/pki/device-ca';
import { MosquittoFixture } from './support/mosquitto-fixture';
import { findMosquitto } from './support/mosquitto-process';
import { aDevice, attemptConnect, collect, deviceOptions, sleep, type Received } from './support/mqtt-clients';
import { waitUntil } from './support/wait-until';

const MOSQUITTO = findMosquitto();
const describeIfMosquitto = MOSQUITTO === undefined ? describe.skip : describe;
const SKIPPED = MOSQUITTO === undefined ? ' (skipped: no mosquitto binary at /usr/sbin/mosquitto or on PATH)' : '';
/** How long "receives nothing" is watched after a control message already arrived. */
const SILENCE_MS = 500;

describeIfMosquitto(`Mosquitto from the generated config${SKIPPED}`, () => {
  let fx: MosquittoFixture;
  let ingested: Received[];
  let observed: Received[];
  let commands: MqttClient;
  const eventually = (what: string, check: () => boolean | Promise<boolean>): Promise<void> => waitUntil(what, check, 10_000);

  beforeAll(async () => {
    fx = await MosquittoFixture.create(MOSQUITTO ?? 'mosquitto');
    await fx.start(['ingest-1', 'split-a', 'split-b', 'observer', 'commands', 'persist']);
    const ingest = await fx.internal('ingest-1');
    ingested = ingest.received;
    await ingest.client.subscribeAsync(INGEST_SUBSCRIPTION, { qos: 1 });
    const observer = await fx.internal('observer');
    observed = observer.received;
    await observer.client.subscribeAsync('devices/#', { qos: 1 });
    // The platform's own way in: a certificate issued at connect from the CA it holds.
    commands = fx.track(await connectInternalClient({ url: fx.url, ca: fx.ca, name: 'commands' }));
  });

  afterAll(() => fx?.close());

  describe('when a device connects with its certificate', () => {
    it('delivers its readings to the platform subscriber on the shared ingest subscription', async () => {
      const { device: sensor, client } = await fx.device();
      const reading = JSON.stringify({ seq: 1, values: { temperature: 21.5 }, marker: randomUUID() });
      await client.publishAsync(deviceTopic(sensor.deviceId, 'readings'), reading, { qos: 1 });
      await eventually('the ingester received the reading', () => ingested.some((m) => m.payload === reading));
      expect(ingested.find((m) => m.payload === reading)?.topic).toBe(deviceTopic(sensor.deviceId, 'readings'));
    });

    it('gives each reading to exactly one member of a shared group', async () => {
      const members = await Promise.all(['split-a', 'split-b'].map((name) => fx.internal(name)));
      const received = members.map((member) => member.received);
      await Promise.all(members.map((member) => member.client.subscribeAsync('$share/split/devices/+/readings', { qos: 1 })));
      const { device: sensor, client } = await fx.device();
      const sent = Array.from({ length: 20 }, (_, seq) => JSON.stringify({ seq, run: randomUUID() }));
      for (const payload of sent) await client.publishAsync(deviceTopic(sensor.deviceId, 'readings'), payload, { qos: 1 });
      const all = (): string[] => received.flat().map((m) => m.payload).filter((p) => sent.includes(p));
      await eventually('the group received every reading', () => all().length >= sent.length);
      await sleep(SILENCE_MS);
      expect(all().sort()).toEqual([...sent].sort());
      expect(received.every((list) => list.length > 0)).toBe(true);
    });
  });

  describe('when a client cannot prove a device identity', () => {
    it('refuses a connection without a client certificate', async () => {
      expect((await attemptConnect(fx.url, deviceOptions(fx.ca, undefined))).outcome).toBe('refused');
    });

    it('refuses a certificate from another CA with a valid-looking device id', async () => {
      const otherCa = await loadOrCreateDeviceCa({ dataDir: path.join(path.dirname(fx.files.paths.cafile), '..', 'other-ca') });
      const forged = await aDevice(otherCa);
      expect((await attemptConnect(fx.url, deviceOptions(fx.ca, forged))).outcome).toBe('refused');
    });

    it("refuses the broker's own server certificate as a client certificate (serverAuth only)", async () => {
      const { paths } = fx.files;
      const server = { ...(await aDevice(fx.ca)), key: readFileSync(paths.keyfile, 'utf8'), cert: readFileSync(paths.certfile, 'utf8') };
      expect((await attemptConnect(fx.url, deviceOptions(fx.ca, server, 'localhost'))).outcome).toBe('refused');
    });
  });

  describe('when a device steps outside its own topics', () => {
    it("drops its publishes on another device's topics: the platform receives nothing", async () => {
      const { device: a, client } = await fx.device();
      const b = await aDevice(fx.ca);
      const marker = randomUUID();
      // MQTT 3.1.1 acknowledges these anyway; only what subscribers get tells.
      await client.publishAsync(deviceTopic(b.deviceId, 'readings'), marker, { qos: 1 });
      await client.publishAsync(deviceTopic(b.deviceId, 'health'), marker, { qos: 1 });
      await client.publishAsync(deviceTopic(a.deviceId, 'desired'), marker, { qos: 1 });
      await client.publishAsync('devices', marker, { qos: 1 });
      const control = `control-${marker}`;
      await client.publishAsync(deviceTopic(a.deviceId, 'readings'), control, { qos: 1 });
      await eventually('the control reading arrived', () => ingested.some((m) => m.payload === control) && observed.some((m) => m.payload === control));
      await sleep(SILENCE_MS);
      expect([...ingested, ...observed].filter((m) => m.payload === marker)).toEqual([]);
      expect(client.connected).toBe(true);
    });

    it("delivers nothing of another device's topics, whatever it subscribes to", async () => {
      const { device: a, client } = await fx.device();
      const b = await aDevice(fx.ca);
      const received = collect(client);
      // Mosquitto 2.0 grants every SUBACK and filters each delivery against the ACL.
      for (const filter of [deviceTopic(b.deviceId, 'commands'), 'devices/+/commands', `devices/${a.deviceId}/#`, '#', `$share/g/${deviceTopic(b.deviceId, 'commands')}`]) {
        await client.subscribeAsync(filter, { qos: 1 });
      }
      await commands.publishAsync(deviceTopic(b.deviceId, 'commands'), 'for-b', { qos: 1 });
      await commands.publishAsync(deviceTopic(a.deviceId, 'commands'), 'for-a', { qos: 1 });
      await eventually('the own command arrived', () => received.some((m) => m.payload === 'for-a'));
      await sleep(SILENCE_MS);
      expect(received.filter((m) => m.payload !== 'for-a')).toEqual([]);
    });

    it('disconnects a device whose packet exceeds max_packet_size and forwards nothing', async () => {
      const { device: sensor, client } = await fx.device();
      const oversized = `${randomUUID()}${'x'.repeat(300 * 1024)}`;
      client.publish(deviceTopic(sensor.deviceId, 'readings'), oversized, { qos: 1 }, () => undefined);
      await eventually('the sender is disconnected', () => !client.connected);
      await sleep(SILENCE_MS);
      expect(ingested.some((m) => m.payload === oversized)).toBe(false);
    });
  });

  describe("when a device claims another device's or the platform's client id", () => {
    it('connects it as itself: the sessions that own those ids keep running and lose nothing', async () => {
      const { device: owner, client: ownerClient } = await fx.device();
      const ownerCommands = collect(ownerClient);
      await ownerClient.subscribeAsync(deviceTopic(owner.deviceId, 'commands'), { qos: 1 });
      const intruder = await aDevice(fx.ca);
      const cuts: string[] = [];
      ownerClient.on('close', () => cuts.push('owner'));
      const onCommandsClose = (): number => cuts.push('commands');
      commands.on('close', onCommandsClose);
      const sent: string[] = [];
      for (const stolenId of [owner.deviceId, 'iotplane:ingest-1', 'iotplane:commands']) {
        const attempt = await attemptConnect(fx.url, deviceOptions(fx.ca, intruder, stolenId));
        // Accepted, but under its own CN (use_username_as_clientid): it can act only as itself.
        expect(attempt.outcome).toBe('connected');
        if (attempt.outcome !== 'connected') continue;
        fx.track(attempt.client);
        await attempt.client.publishAsync(deviceTopic(owner.deviceId, 'readings'), `forged-${stolenId}`, { qos: 1 });
        const reading = JSON.stringify({ seq: sent.length, marker: randomUUID() });
        sent.push(reading);
        await ownerClient.publishAsync(deviceTopic(owner.deviceId, 'readings'), reading, { qos: 1 });
        await commands.publishAsync(deviceTopic(owner.deviceId, 'commands'), `command-${sent.length}`, { qos: 1 });
      }
      await eventually('every reading of the owner arrived', () => sent.every((r) => ingested.some((m) => m.payload === r)));
      await eventually('every command reached the owner', () => ownerCommands.length >= sent.length);
      await sleep(SILENCE_MS);
      commands.off('close', onCommandsClose);
      expect(cuts).toEqual([]);
      expect(ownerCommands.map((m) => m.payload)).toEqual(['command-1', 'command-2', 'command-3']);
      expect([...ingested, ...observed].filter((m) => m.payload.startsWith('forged-'))).toEqual([]);
    });
  });

  describe('persistence', () => {
    it('keeps QoS 1 messages queued for an offline persistent session across a broker restart', async () => {
      const topic = deviceTopic(randomUUID(), 'commands');
      const persistent = { clean: false, reconnectPeriod: 0 };
      const subscriber = await fx.internal('persist', persistent);
      await subscriber.client.subscribeAsync(topic, { qos: 1 });
      await subscriber.client.endAsync();
      const queued = ['q1', 'q2', 'q3'];
      for (const payload of queued) await commands.publishAsync(topic, payload, { qos: 1 });
      await fx.restart(); // SIGTERM: Mosquitto writes mosquitto.db on the way out
      const { received } = await fx.internal('persist', persistent);
      await eventually('the queued messages arrived', () => received.length >= queued.length);
      expect(received.map((m) => m.payload)).toEqual(queued);
    });
  });
});
