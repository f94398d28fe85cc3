import { X509Certificate, createPublicKey, randomUUID, webcrypto } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { generateKeyAndCsr } from '../src/cli/simulator/device-credentials';
import { deviceCertificatesStream } from '../src/commands/device-certificates/device-certificate.events';
import { startCertificateRenewal, type CertificateRenewalService } from '../src/ingest/certificate-renewal';
import { startEmbeddedBroker, type EmbeddedBroker } from '../src/platform/mqtt/embedded-broker';
import { x509 } from '../src/platform/pki/keys';
import type { DeviceCa } from '../src/platform/pki/device-ca';
import { loadRevokedSerials } from '../src/projections/device-certificates.projection';
import { startCertificateSupersession, type CertificateSupersession } from '../src/workers/certificate-renewal';
import { capturedLogger } from './support/captured-logger';
import { attemptConnect, connectDevice, deviceOptions, sleep, type TestDevice } from './support/mqtt-clients';
import { hasOpenssl, verifyClientCertificate } from './support/provisioning.http';
import { enrolDevice, renewalInbox, requestRenewal } from './support/renewal';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';
import { waitUntil } from './support/wait-until';

const GRACE_SECONDS = 3600;
let api: TestApi;
let org: TestOrg;
let ca: DeviceCa;
let broker: EmbeddedBroker;
let renewal: CertificateRenewalService;
let supersession: CertificateSupersession;
let clockOffsetMs = 0;
const opened: MqttClient[] = [];

beforeAll(async () => {
  api = await startTestApi();
  org = await api.createOrg();
  ca = api.deps.deviceCa;
  const log = capturedLogger('warn').log;
  const store = api.platform.store;
  broker = await startEmbeddedBroker({ ca, port: 0, host: '127.0.0.1', store, log, revokedSerials: () => loadRevokedSerials(api.platform.pool) });
  renewal = await startCertificateRenewal({ url: broker.url, store, ca, validityDays: 30, log, name: 'renewal-test' });
  // The yearly schedule keeps the sweep to the calls made here.
  const now = () => new Date(Date.now() + clockOffsetMs);
  supersession = startCertificateSupersession({ store, pool: api.platform.pool, log, graceSeconds: GRACE_SECONDS, schedule: '0 0 1 1 *', now });
});

afterAll(async () => {
  await Promise.all(opened.map((client) => client.endAsync(true)));
  await supersession?.stop();
  await renewal?.stop();
  await broker?.stop();
  await api?.close();
});

async function online(device: TestDevice): Promise<MqttClient> {
  const client = await connectDevice(broker.url, ca, device);
  opened.push(client);
  return client;
}

async function certificateEvents(deviceId: string) {
  return (await api.deps.store.readStream(deviceCertificatesStream(deviceId))).map((e) => ({ type: e.type, data: e.data as Record<string, unknown>, actor: e.metadata.actor }));
}

const issuedCount = async (deviceId: string) => (await certificateEvents(deviceId)).filter((e) => e.type === 'DeviceCertificateIssued').length;

async function listed(deviceId: string): Promise<Record<string, unknown>[]> {
  const res = await api.http().get(`/api/v1/devices/${deviceId}/certificates?limit=10`).set('Authorization', org.auth).expect(200);
  return res.body.items as Record<string, unknown>[];
}

/** Renews `device` over its own session and returns it with the new key and certificate. */
async function renew(device: TestDevice, client: MqttClient): Promise<{ renewed: TestDevice; requestId: string; csrPem: string }> {
  const inbox = await renewalInbox(client, device.deviceId);
  const { keyPem, csrPem } = await generateKeyAndCsr();
  const requestId = randomUUID();
  await requestRenewal(client, device.deviceId, { requestId, csr: csrPem });
  const answer = await inbox.answer(requestId);
  if (answer.certificate === undefined || answer.serialNumber === undefined) throw new Error(`renewal refused: ${JSON.stringify(answer.error)}`);
  return { renewed: { ...device, key: keyPem, cert: answer.certificate, serialNumber: answer.serialNumber }, requestId, csrPem };
}

describe('certificate renewal over MQTT', () => {
  it('issues a certificate for the new key that openssl verifies; a repeated request gets the same one', async () => {
    const device = await enrolDevice(api, org);
    const client = await online(device);
    const inbox = await renewalInbox(client, device.deviceId);
    const { keyPem, csrPem } = await generateKeyAndCsr();
    const requestId = randomUUID();
    await requestRenewal(client, device.deviceId, { requestId, csr: csrPem });
    const answer = await inbox.answer(requestId);
    expect(Object.keys(answer).sort()).toEqual(['caChain', 'certificate', 'notAfter', 'notBefore', 'requestId', 'serialNumber']);
    expect(answer.caChain).toBe(ca.certificatePem);
    expect(answer.serialNumber).not.toBe(device.serialNumber);
    const certificate = new X509Certificate(answer.certificate ?? '');
    expect(certificate.subject).toContain(`CN=${device.deviceId}`);
    expect(certificate.serialNumber.toLowerCase()).toBe(answer.serialNumber);
    const spki = (pem: string) => createPublicKey(pem).export({ format: 'der', type: 'spki' }).toString('hex');
    expect(spki(certificate.publicKey.export({ format: 'pem', type: 'spki' }).toString())).toBe(spki(keyPem));
    if (hasOpenssl) expect(verifyClientCertificate(answer.certificate ?? '', answer.caChain ?? '')).toContain('cert.pem: OK');

    await requestRenewal(client, device.deviceId, { requestId, csr: csrPem });
    await waitUntil('the repeated request is answered', () => inbox.answers.filter((a) => a.requestId === requestId).length === 2);
    expect(inbox.answers[1]).toEqual(answer);
    const events = await certificateEvents(device.deviceId);
    expect(events.map((e) => e.type)).toEqual(['DeviceCertificateIssued', 'DeviceCertificateIssued']);
    expect(events[1]).toMatchObject({ actor: `device:${device.deviceId}`, data: { renewal: { requestId, replaces: [device.serialNumber] } } });
  });

  it('keeps the old certificate until the new one connects, then revokes it as SUPERSEDED and refuses it', async () => {
    const device = await enrolDevice(api, org);
    const client = await online(device);
    const { renewed } = await renew(device, client);
    await sleep(300);
    expect(client.connected).toBe(true);
    expect((await certificateEvents(device.deviceId)).some((e) => e.type === 'DeviceCertificateRevoked')).toBe(false);

    const revokedBefore = broker.stats().revokedSerials;
    const next = await online(renewed);
    await waitUntil('the broker learnt of the revocation', () => broker.stats().revokedSerials > revokedBefore);
    const revocation = (await certificateEvents(device.deviceId)).find((e) => e.type === 'DeviceCertificateRevoked');
    expect(revocation).toMatchObject({ actor: 'system', data: { serialNumber: device.serialNumber, reason: 'SUPERSEDED', supersededBy: renewed.serialNumber } });
    expect(await attemptConnect(broker.url, deviceOptions(ca, device))).toMatchObject({ outcome: 'refused', error: { code: 5 } });
    expect(next.connected).toBe(true);
    await waitUntil('the API lists the old certificate as revoked', async () => (await listed(device.deviceId)).some((c) => c.status === 'REVOKED'));
    expect(await listed(device.deviceId)).toEqual([
      expect.objectContaining({ serialNumber: device.serialNumber, status: 'REVOKED', revocationReason: 'SUPERSEDED' }),
      expect.objectContaining({ serialNumber: renewed.serialNumber, status: 'ACTIVE' }),
    ]);
  });

  it("drops a request on another device's topic: that device gets nothing and no certificate", async () => {
    const [a, b] = [await enrolDevice(api, org), await enrolDevice(api, org)];
    const [clientA, clientB] = [await online(a), await online(b)];
    const inboxA = await renewalInbox(clientA, a.deviceId);
    const inboxB = await renewalInbox(clientB, b.deviceId);
    const denied = broker.stats().deniedPublishes;
    const { csrPem } = await generateKeyAndCsr();
    await requestRenewal(clientA, b.deviceId, { requestId: 'stolen', csr: csrPem });
    await requestRenewal(clientA, a.deviceId, { requestId: 'control', csr: csrPem });
    expect((await inboxA.answer('control')).certificate).toBeDefined();
    await sleep(500);
    expect(inboxB.answers).toEqual([]);
    expect(inboxA.answers.map((x) => x.requestId)).toEqual(['control']);
    expect(await issuedCount(b.deviceId)).toBe(1);
    expect(broker.stats().deniedPublishes - denied).toBe(1);
  });

  it('answers a bad request with an error and issues nothing', async () => {
    const device = await enrolDevice(api, org);
    const client = await online(device);
    const inbox = await renewalInbox(client, device.deviceId);
    const rsa = await webcrypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify']);
    const weak = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=x', keys: rsa, signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5' } });
    const { csrPem } = await generateKeyAndCsr();
    // The last byte of the DER is the signature's: the request no longer proves the key.
    const der = Buffer.from(x509.PemConverter.decodeFirst(csrPem));
    der[der.length - 1] = (der[der.length - 1] ?? 0) ^ 0xff;
    const tampered = x509.PemConverter.encode(der, 'CERTIFICATE REQUEST');
    await requestRenewal(client, device.deviceId, { requestId: 'garbage', csr: 'not a csr' });
    await requestRenewal(client, device.deviceId, { requestId: 'weak', csr: weak.toString('pem') });
    await requestRenewal(client, device.deviceId, { requestId: 'tampered', csr: tampered });
    await requestRenewal(client, device.deviceId, { requestId: 'no-csr' });
    await requestRenewal(client, device.deviceId, 'not json');
    expect((await inbox.answer('garbage')).error).toMatchObject({ code: 'CSR_INVALID' });
    expect((await inbox.answer('weak')).error).toMatchObject({ code: 'CSR_KEY_REJECTED' });
    expect((await inbox.answer('tampered')).error).toMatchObject({ code: 'CSR_INVALID' });
    expect((await inbox.answer('no-csr')).error).toMatchObject({ code: 'VALIDATION_FAILED' });
    await sleep(300);
    expect(inbox.answers).toHaveLength(4);
    expect(await issuedCount(device.deviceId)).toBe(1);
  });

  it('refuses a second renewal right after the first as too soon, with the wait', async () => {
    const device = await enrolDevice(api, org);
    const client = await online(device);
    await renew(device, client);
    const inbox = await renewalInbox(client, device.deviceId);
    const { csrPem } = await generateKeyAndCsr();
    await requestRenewal(client, device.deviceId, { requestId: 'again', csr: csrPem });
    expect((await inbox.answer('again')).error).toMatchObject({ code: 'CERTIFICATE_RENEWAL_TOO_SOON', retryAfterSeconds: expect.any(Number) });
    expect(await issuedCount(device.deviceId)).toBe(2);
  });

  it('revokes the replaced certificate when the grace period ends, if the new one was never used', async () => {
    const device = await enrolDevice(api, org);
    const client = await online(device);
    const { renewed } = await renew(device, client);
    await waitUntil('the renewal is projected', async () => (await listed(device.deviceId)).length === 2);
    await supersession.sweep();
    expect((await listed(device.deviceId)).map((c) => c.status)).toEqual(['ACTIVE', 'ACTIVE']);

    clockOffsetMs = (GRACE_SECONDS + 1) * 1000;
    try {
      expect(await supersession.sweep()).toBeGreaterThanOrEqual(1);
    } finally {
      clockOffsetMs = 0;
    }
    expect((await certificateEvents(device.deviceId)).filter((e) => e.type === 'DeviceCertificateRevoked')).toEqual([
      expect.objectContaining({ actor: 'system', data: expect.objectContaining({ serialNumber: device.serialNumber, reason: 'SUPERSEDED', supersededBy: renewed.serialNumber }) }),
    ]);
    await waitUntil('the old session is cut', () => !client.connected);
    expect((await online(renewed)).connected).toBe(true);
  });
});
