import { readFileSync } from 'node:fs';
import { connectAsync, type MqttClient } from 'mqtt';
import { startCrlPublisher, type CrlPublisher } from '../src/platform/mqtt/crl-publisher';
import { reloadByPidFile } from '../src/platform/mqtt/mosquitto-reload';
import { mosquittoSessionKicker } from '../src/platform/mqtt/mosquitto-session-kick';
import { deviceTopic } from '../src/platform/mqtt/topics';
import { x509 } from '../src/platform/pki/keys';
import { capturedLogger, type CapturedLog } from './support/captured-logger';
import { MosquittoFixture } from './support/mosquitto-fixture';
import { findMosquitto } from './support/mosquitto-process';
import { aDevice, attemptConnect, collect, connectDevice, deviceOptions, sleep, type Received, type TestDevice } from './support/mqtt-clients';
import { waitUntil } from './support/wait-until';

const MOSQUITTO = findMosquitto();
const describeIfMosquitto = MOSQUITTO === undefined ? describe.skip : describe;
const SKIPPED = MOSQUITTO === undefined ? ' (skipped: no mosquitto binary at /usr/sbin/mosquitto or on PATH)' : '';
const KICKED = 'live session of a revoked certificate cut';

describeIfMosquitto(`Mosquitto certificate revocation${SKIPPED}`, () => {
  let fx: MosquittoFixture;
  let ingested: Received[];
  let commands: MqttClient;
  let revokedBeforeStart: TestDevice;
  const eventually = (what: string, check: () => boolean | Promise<boolean>): Promise<void> => waitUntil(what, check, 10_000);
  const startPublisher = (log: CapturedLog, kick: boolean): Promise<CrlPublisher> =>
    startCrlPublisher({
      ca: fx.ca,
      store: fx.platform.store,
      crlFile: fx.files.paths.crlfile,
      reloadBroker: reloadByPidFile(fx.files.paths.pidFile),
      ...(kick ? { kickSession: mosquittoSessionKicker({ url: fx.url, ca: fx.ca }) } : {}),
      log: log.log,
    });

  beforeAll(async () => {
    fx = await MosquittoFixture.create(MOSQUITTO ?? 'mosquitto');
    revokedBeforeStart = await aDevice(fx.ca);
    await fx.revoke(revokedBeforeStart);
    await fx.start(['ingest-1', 'commands']);
    const ingest = await fx.internal('ingest-1');
    ingested = ingest.received;
    await ingest.client.subscribeAsync('$share/ingest/devices/+/readings', { qos: 1 });
    commands = (await fx.internal('commands')).client;
  });

  afterAll(() => fx?.close());

  it('refuses a certificate revoked before the files were generated', async () => {
    expect((await attemptConnect(fx.url, deviceOptions(fx.ca, revokedBeforeStart))).outcome).toBe('refused');
  });

  describe('with the CRL publisher reloading Mosquitto (SIGHUP), no session kick', () => {
    let publisher: CrlPublisher;
    beforeAll(async () => {
      publisher = await startPublisher(capturedLogger(), false);
    });
    afterAll(() => publisher.stop());

    it('refuses the certificate at its next connect but leaves its live session running', async () => {
      const { device: revoked, client } = await fx.device();
      const delivered = collect(client);
      await client.subscribeAsync(deviceTopic(revoked.deviceId, 'commands'), { qos: 1 });
      await fx.revoke(revoked);
      await fx.crlInForce();
      // The finding: Mosquitto checks the CRL at the TLS handshake only; the reload leaves open sessions alone.
      expect(client.connected).toBe(true);
      await commands.publishAsync(deviceTopic(revoked.deviceId, 'commands'), 'after-revocation', { qos: 1 });
      const reading = JSON.stringify({ seq: 1, marker: revoked.serialNumber });
      await client.publishAsync(deviceTopic(revoked.deviceId, 'readings'), reading, { qos: 1 });
      await eventually('the revoked session still receives and publishes', () => delivered.some((m) => m.payload === 'after-revocation') && ingested.some((m) => m.payload === reading));
      await client.endAsync();
      expect((await attemptConnect(fx.url, deviceOptions(fx.ca, revoked))).outcome).toBe('refused');
    });
  });

  describe('with the CRL publisher and the session kick', () => {
    let publisher: CrlPublisher;
    let log: CapturedLog;
    beforeAll(async () => {
      log = capturedLogger('info');
      publisher = await startPublisher(log, true);
    });
    afterAll(() => publisher.stop());

    it('cuts the live session, keeps the device out when it reconnects, and leaves other devices alone', async () => {
      const revoked = await aDevice(fx.ca);
      // A real device reconnects by itself; every reconnect must now fail.
      const client = fx.track(await connectAsync(fx.url, { ...deviceOptions(fx.ca, revoked), reconnectPeriod: 200 }));
      let connects = 1;
      client.on('connect', () => (connects += 1));
      const { client: bystander } = await fx.device();
      await fx.revoke(revoked);
      await eventually('the revoked session is cut', () => !client.connected);
      await sleep(1500); // several reconnect attempts
      expect(connects).toBe(1);
      expect(client.connected).toBe(false);
      expect(bystander.connected).toBe(true);
      client.end(true);

      const cut = log.lines.find((line) => line.msg === KICKED && line.deviceId === revoked.deviceId);
      expect(cut).toBeDefined();
      await eventually('the kick certificate is revoked too', () => {
        const crl = new x509.X509Crl(readFileSync(fx.files.paths.crlfile, 'utf8'));
        return crl.entries.some((entry) => entry.serialNumber.toLowerCase() === String(cut?.kickSerial));
      });
    });

    it('does not kick for SUPERSEDED: the renewed device stays connected with its new certificate', async () => {
      const old = await aDevice(fx.ca);
      const renewed = await aDevice(fx.ca, { deviceId: old.deviceId, orgId: old.orgId });
      const client = fx.track(await connectDevice(fx.url, fx.ca, renewed));
      await fx.revoke(old, 'SUPERSEDED');
      await fx.crlInForce();
      await sleep(1000); // longer than the kick's settle time
      expect(client.connected).toBe(true);
      expect(log.lines.some((line) => line.msg === KICKED && line.deviceId === old.deviceId)).toBe(false);
      await client.endAsync();
      expect((await attemptConnect(fx.url, deviceOptions(fx.ca, old))).outcome).toBe('refused');
    });
  });
});
