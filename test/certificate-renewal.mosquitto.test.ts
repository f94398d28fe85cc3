import { X509Certificate, randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { generateKeyAndCsr } from '../src/cli/simulator/device-credentials';
import { deviceCertificatesStream } from '../src/commands/device-certificates/device-certificate.events';
import { fingerprintSha256 } from '../src/commands/device-certificates/provision-device.handler';
import { deviceCommands } from '../src/commands/devices/device.handler';
import { startCertificateRenewal, type CertificateRenewalService } from '../src/ingest/certificate-renewal';
import { startCrlPublisher, type CrlPublisher } from '../src/platform/mqtt/crl-publisher';
import { reloadByPidFile } from '../src/platform/mqtt/mosquitto-reload';
import { startProjectors } from '../src/projections/projector-process';
import { startCertificateSupersession, type CertificateSupersession } from '../src/workers/certificate-renewal';
import { capturedLogger } from './support/captured-logger';
import { aMetadata } from './support/events';
import { MosquittoFixture } from './support/mosquitto-fixture';
import { findMosquitto } from './support/mosquitto-process';
import { attemptConnect, connectDevice, deviceOptions, sleep, type TestDevice } from './support/mqtt-clients';
import { renewalInbox, requestRenewal } from './support/renewal';
import { waitUntil } from './support/wait-until';

const MOSQUITTO = findMosquitto();
const describeIfMosquitto = MOSQUITTO === undefined ? describe.skip : describe;
const SKIPPED = MOSQUITTO === undefined ? ' (skipped: no mosquitto binary at /usr/sbin/mosquitto or on PATH)' : '';

describeIfMosquitto(`certificate renewal over Mosquitto${SKIPPED}`, () => {
  let fx: MosquittoFixture;
  let renewal: CertificateRenewalService | undefined;
  let supersession: CertificateSupersession | undefined;
  let publisher: CrlPublisher | undefined;
  let projectors: { stop(): Promise<void> } | undefined;
  let clockOffsetMs = 0;
  const eventually = (what: string, check: () => boolean | Promise<boolean>): Promise<void> => waitUntil(what, check, 10_000);

  beforeAll(async () => {
    fx = await MosquittoFixture.create(MOSQUITTO ?? 'mosquitto');
    await fx.start(['renewal']);
    const log = capturedLogger('warn').log;
    const store = fx.platform.store;
    // The sweep reads the device_certificates read model.
    projectors = startProjectors(fx.platform, log, { idleCheckpointMs: 50, standbyRetryMs: 200 });
    renewal = await startCertificateRenewal({ url: fx.url, store, ca: fx.ca, validityDays: 30, log, name: 'renewal' });
    // Mosquitto records no DeviceConnected, so the first use of the new certificate is not seen: the grace sweep
    // revokes the old one. The yearly schedule keeps the sweep to the calls made here.
    const now = () => new Date(Date.now() + clockOffsetMs);
    supersession = startCertificateSupersession({ store, pool: fx.platform.pool, log, graceSeconds: 0, schedule: '0 0 1 1 *', now });
    publisher = await startCrlPublisher({ ca: fx.ca, store, crlFile: fx.files.paths.crlfile, reloadBroker: reloadByPidFile(fx.files.paths.pidFile), log });
  });

  afterAll(async () => {
    await publisher?.stop();
    await supersession?.stop();
    await renewal?.stop();
    await projectors?.stop();
    await fx?.close();
  });

  /** A device with a live session on Mosquitto, active in its org, with its certificate recorded as provisioning records it. */
  const provisioned = async (): Promise<{ device: TestDevice; client: MqttClient }> => {
    const connected = await fx.device();
    const { deviceId, orgId, serialNumber, cert } = connected.device;
    const context = { orgId, actor: 'system' as const, correlationId: randomUUID() };
    await deviceCommands.create(fx.platform.store, context, deviceId, {
      name: 'renewing', siteId: null, deviceProfileId: null, serialNumber: null, labels: {}, tags: [], status: 'ACTIVE',
    });
    const x = new X509Certificate(cert);
    const data = {
      deviceId,
      serialNumber,
      notBefore: new Date(x.validFrom).toISOString(),
      notAfter: new Date(x.validTo).toISOString(),
      fingerprintSha256: fingerprintSha256(cert),
      tokenId: randomUUID(),
      issuedAt: new Date().toISOString(),
    };
    await fx.platform.store.appendToStream(deviceCertificatesStream(deviceId), [
      { id: randomUUID(), type: 'DeviceCertificateIssued', data, metadata: aMetadata({ orgId, correlationId: context.correlationId }) },
    ]);
    return connected;
  };

  const certificateEvents = async (deviceId: string) =>
    (await fx.platform.store.readStream(deviceCertificatesStream(deviceId))).map((e) => ({ type: e.type, data: e.data as Record<string, unknown>, actor: e.metadata.actor }));
  const issuedCount = async (deviceId: string) => (await certificateEvents(deviceId)).filter((e) => e.type === 'DeviceCertificateIssued').length;

  it('renews over the device session; the new certificate connects; the old one, revoked as SUPERSEDED, is refused', async () => {
    const { device, client } = await provisioned();
    const inbox = await renewalInbox(client, device.deviceId);
    const { keyPem, csrPem } = await generateKeyAndCsr();
    const requestId = randomUUID();
    await requestRenewal(client, device.deviceId, { requestId, csr: csrPem });
    const answer = await inbox.answer(requestId);
    if (answer.certificate === undefined || answer.serialNumber === undefined) throw new Error(`renewal refused: ${JSON.stringify(answer.error)}`);
    expect(answer.caChain).toBe(fx.ca.certificatePem);
    expect(answer.serialNumber).not.toBe(device.serialNumber);
    expect(new X509Certificate(answer.certificate).subject).toContain(`CN=${device.deviceId}`);
    const renewed: TestDevice = { ...device, key: keyPem, cert: answer.certificate, serialNumber: answer.serialNumber };
    expect((await certificateEvents(device.deviceId)).map((e) => e.type)).toEqual(['DeviceCertificateIssued', 'DeviceCertificateIssued']);

    // Takes the device's session over, as the device does after a renewal.
    const next = fx.track(await connectDevice(fx.url, fx.ca, renewed));
    expect(next.connected).toBe(true);

    clockOffsetMs = 1000;
    try {
      await eventually('the sweep revokes the replaced certificate', async () => ((await supersession?.sweep()) ?? 0) >= 1);
    } finally {
      clockOffsetMs = 0;
    }
    expect((await certificateEvents(device.deviceId)).filter((e) => e.type === 'DeviceCertificateRevoked')).toEqual([
      expect.objectContaining({ actor: 'system', data: expect.objectContaining({ serialNumber: device.serialNumber, reason: 'SUPERSEDED', supersededBy: renewed.serialNumber }) }),
    ]);

    // The CRL publisher rewrote the CRL and sent SIGHUP; a later canary's refusal proves this revocation is in force.
    await fx.crlInForce();
    expect((await attemptConnect(fx.url, deviceOptions(fx.ca, device))).outcome).toBe('refused');
    // The CRL reload leaves live sessions alone, and SUPERSEDED is not kicked: the new session runs on, and a new connect works.
    expect(next.connected).toBe(true);
    await next.endAsync();
    const again = await attemptConnect(fx.url, deviceOptions(fx.ca, renewed));
    if (again.outcome === 'connected') fx.track(again.client);
    expect(again.outcome).toBe('connected');
  });

  it("drops a request on another device's topic: no certificate is issued for that device", async () => {
    const a = await provisioned();
    const b = await provisioned();
    const inboxA = await renewalInbox(a.client, a.device.deviceId);
    const inboxB = await renewalInbox(b.client, b.device.deviceId);
    const { csrPem } = await generateKeyAndCsr();
    await requestRenewal(a.client, b.device.deviceId, { requestId: 'stolen', csr: csrPem });
    // Published after the forged one on the same connection: once it is answered, the forged one would have been too.
    await requestRenewal(a.client, a.device.deviceId, { requestId: 'control', csr: csrPem });
    expect((await inboxA.answer('control')).certificate).toBeDefined();
    await sleep(1000);
    expect(inboxB.answers).toEqual([]);
    expect(inboxA.answers.map((x) => x.requestId)).toEqual(['control']);
    expect(await issuedCount(b.device.deviceId)).toBe(1);
    expect(await issuedCount(a.device.deviceId)).toBe(2);
  });
});
