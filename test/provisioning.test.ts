import { X509Certificate, createHash, randomBytes, randomUUID } from 'node:crypto';
import { deviceCertificatesStream } from '../src/commands/device-certificates/device-certificate.events';
import { provisionDevice } from '../src/commands/device-certificates/provision-device.handler';
import { deviceStream } from '../src/commands/devices/device.decider';
import { issueRegistrationToken } from '../src/commands/registration-tokens/registration-token.handler';
import { registrationTokenStream } from '../src/commands/registration-tokens/registration-token.events';
import { asWriter } from '../src/platform/db/roles';
import { deviceTopics } from '../src/platform/mqtt/topics';
import { InterleavingEventStore } from './support/interleaving-event-store';
import {
  certificateText,
  deviceCsr,
  hasOpenssl,
  issueToken,
  provision,
  provisionNewDevice,
  tokenId,
  verifyClientCertificate,
} from './support/provisioning.http';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';
import { createDevice, createDeviceProfile, createSite, refusal } from './support/topology.http';

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

const TOKENS = '/api/v1/devices/registration/tokens';
const postToken = (body: Record<string, unknown>, who = org) => api.http().post(TOKENS).set('Authorization', who.auth).send(body);
const get = (url: string, who = org) => api.http().get(url).set('Authorization', who.auth);
const certificatesOf = async (deviceId: string) => (await get(`/api/v1/devices/${deviceId}/certificates`).expect(200)).body.items as Record<string, unknown>[];

/** Certificates recorded for a device, counted in the event stream and in the read model (as the trusted role). */
async function recorded(deviceId: string): Promise<{ events: number; rows: number }> {
  const events = (await api.deps.store.readStream(deviceCertificatesStream(deviceId))).filter((e) => e.type === 'DeviceCertificateIssued').length;
  const rows = await asWriter(api.platform.pool, async (tx) => (await tx.query('SELECT 1 FROM device_certificates WHERE device_id = $1', [deviceId])).rowCount);
  return { events, rows: rows ?? 0 };
}

const describeWithOpenssl = hasOpenssl ? describe : describe.skip;
const needs = hasOpenssl ? '' : ' (skipped: no openssl binary on PATH)';

describeWithOpenssl(`registration tokens${needs}`, () => {
  it('answers the seed’s round trip field for field: a new PENDING device and a token shown once', async () => {
    const before = Date.now();
    const res = await postToken({ deviceName: 'warehouse-gateway-01' }).expect(201);
    expect(Object.keys(res.body).sort()).toEqual(['deviceId', 'deviceName', 'expiresAt', 'provisionEndpoint', 'token']);
    const { token, deviceId } = res.body as { token: string; deviceId: string };
    expect(res.body).toMatchObject({ deviceName: 'warehouse-gateway-01', provisionEndpoint: 'http://iotplane.test/api/v1/devices/provision' });
    const [id, inToken, secret = ''] = token.split('.');
    expect({ inToken, secret: /^[A-Za-z0-9_-]{43}$/.test(secret) }).toEqual({ inToken: deviceId, secret: true });
    const expiresAt = Date.parse(res.body.expiresAt as string);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 86_400_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 86_400_000);
    expect(res.headers).toMatchObject({ 'cache-control': 'no-store', location: `${TOKENS}/${id}` });

    expect((await get(`/api/v1/devices/${deviceId}`).expect(200)).body).toMatchObject({ name: 'warehouse-gateway-01', status: 'PENDING' });
    const listed = await get(`${TOKENS}?deviceId=${deviceId}`).expect(200);
    expect(listed.body.items).toEqual([expect.objectContaining({ id, deviceId, deviceName: 'warehouse-gateway-01', status: 'PENDING' })]);
    expect((await get(`${TOKENS}/${id}`).expect(200)).body).toEqual(listed.body.items[0]);

    // Shown once: neither the read model nor the events hold the secret, only its SHA-256.
    const events = JSON.stringify((await api.deps.store.readStream(registrationTokenStream(id ?? ''))).map((e) => [e.data, e.metadata]));
    expect({ inList: listed.text.includes(secret), inEvents: events.includes(secret) }).toEqual({ inList: false, inEvents: false });
    expect(events).toContain(createHash('sha256').update(secret).digest('hex'));
  });

  it('creates the device in the given site and device profile, refusing another organization’s like a random id (422)', async () => {
    const [site, profile] = [await createSite(api, org), await createDeviceProfile(api, org)];
    const issued = await issueToken(api, org, { deviceName: 'placed', siteId: site.id, deviceProfileId: profile.id });
    expect((await get(`/api/v1/devices/${issued.deviceId}`).expect(200)).body).toMatchObject({ siteId: site.id, deviceProfileId: profile.id });
    const theirs = await createSite(api, other);
    const probed = await postToken({ deviceName: 'x', siteId: theirs.id });
    expect(refusal(probed)).toEqual(refusal(await postToken({ deviceName: 'x', siteId: randomUUID() })));
    expect(probed.body).toMatchObject({ status: 422, errors: [{ path: '/body/siteId', message: 'does not exist' }] });
  });

  it('enrols an existing device of the organization, and refuses another organization’s device exactly like a random id', async () => {
    const mine = await createDevice(api, org, { status: 'ACTIVE' });
    const res = await postToken({ deviceId: mine.id }).expect(201);
    expect(res.body).toMatchObject({ deviceId: mine.id, deviceName: mine.name });
    await postToken({ deviceId: mine.id, deviceName: mine.name }).expect(201);

    const theirs = await createDevice(api, other);
    const probed = await postToken({ deviceName: 'x', deviceId: theirs.id });
    const missing = await postToken({ deviceName: 'x', deviceId: randomUUID() });
    expect(refusal(probed)).toEqual(refusal(missing));
    expect(probed.body).toMatchObject({ status: 422, errors: [{ path: '/body/deviceId', message: 'does not exist' }] });
  });

  it.each([
    ['neither deviceName nor deviceId', {}, 400, '/body/deviceName'],
    ['expiresInSeconds below 60', { deviceName: 'x', expiresInSeconds: 59 }, 400, '/body/expiresInSeconds'],
    ['expiresInSeconds above 30 days', { deviceName: 'x', expiresInSeconds: 2_592_001 }, 400, '/body/expiresInSeconds'],
    ['a secret chosen by the caller', { deviceName: 'x', secret: 'mine' }, 400, '/body/secret'],
  ])('refuses %s', async (_what, body, status, path) => {
    const res = await postToken(body).expect(status);
    expect(res.body.errors).toEqual([expect.objectContaining({ path })]);
  });

  it('refuses, for an existing device, a site, a profile or another name (422)', async () => {
    const mine = await createDevice(api, org);
    for (const [body, path] of [
      [{ deviceId: mine.id, siteId: randomUUID() }, '/body/siteId'],
      [{ deviceId: mine.id, deviceProfileId: randomUUID() }, '/body/deviceProfileId'],
      [{ deviceId: mine.id, deviceName: 'not its name' }, '/body/deviceName'],
    ] as const) {
      expect((await postToken(body).expect(422)).body.errors).toEqual([expect.objectContaining({ path })]);
    }
  });

  it('honours expiresInSeconds, needs the member role, and refuses an Idempotency-Key (a replay would store the token)', async () => {
    const res = await postToken({ deviceName: 'short', expiresInSeconds: 3600 }).expect(201);
    expect(Math.abs(Date.parse(res.body.expiresAt as string) - Date.now() - 3_600_000)).toBeLessThan(10_000);
    const viewer = `Bearer ${await org.jwt('viewer')}`;
    expect((await api.http().post(TOKENS).set('Authorization', viewer).send({ deviceName: 'x' }).expect(403)).body.code).toBe('INSUFFICIENT_ROLE');
    await api.http().get(TOKENS).set('Authorization', viewer).expect(200);
    const keyed = await postToken({ deviceName: 'x' }).set('Idempotency-Key', randomUUID()).expect(400);
    expect(keyed.body.errors).toEqual([expect.objectContaining({ path: '/headers/idempotency-key' })]);
  });

  it('revokes a pending token: it leaves the PENDING list and cannot provision; revoking again changes nothing', async () => {
    const issued = await issueToken(api, org);
    const id = tokenId(issued.token);
    await api.http().delete(`${TOKENS}/${id}`).set('Authorization', org.auth).expect(204);
    await api.http().delete(`${TOKENS}/${id}`).set('Authorization', org.auth).expect(204);
    expect((await get(`${TOKENS}?deviceId=${issued.deviceId}`).expect(200)).body.items).toEqual([]);
    expect((await get(`${TOKENS}?deviceId=${issued.deviceId}&status=REVOKED`).expect(200)).body.items).toEqual([
      expect.objectContaining({ id, status: 'REVOKED', revokedAt: expect.any(String) }),
    ]);
    const res = await provision(api, issued.token);
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 401, code: 'REGISTRATION_TOKEN_REVOKED' });
    expect(await recorded(issued.deviceId)).toEqual({ events: 0, rows: 0 });
  });

  it('answers 404 for a token id it does not know, and 409 for revoking a used one', async () => {
    expect((await api.http().delete(`${TOKENS}/${randomUUID()}`).set('Authorization', org.auth).expect(404)).body.code).toBe('REGISTRATION_TOKEN_NOT_FOUND');
    const issued = await issueToken(api, org);
    expect((await provision(api, issued.token)).status).toBe(201);
    const res = await api.http().delete(`${TOKENS}/${tokenId(issued.token)}`).set('Authorization', org.auth).expect(409);
    expect(res.body.code).toBe('REGISTRATION_TOKEN_USED');
  });
});

describeWithOpenssl(`provisioning${needs}`, () => {
  it('exchanges the token and a CSR for a client certificate openssl verifies, CN = device id, and activates the device', async () => {
    const issued = await issueToken(api, org, { deviceName: 'enrolled' });
    const { deviceId } = issued;
    const res = await provision(api, issued.token);
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.body as { certificate: string; caChain: string; serialNumber: string; notBefore: string; notAfter: string };
    expect(Object.keys(res.body).sort()).toEqual(['caChain', 'certificate', 'deviceId', 'mqtt', 'notAfter', 'notBefore', 'serialNumber']);
    expect(res.body.mqtt).toEqual({ url: 'mqtts://iotplane.test:8883', clientId: deviceId, topics: deviceTopics(deviceId) });
    expect(body.caChain).toBe(api.deps.deviceCa.certificatePem);

    expect(verifyClientCertificate(body.certificate, body.caChain)).toContain('cert.pem: OK');
    const text = certificateText(body.certificate);
    expect(text).toMatch(new RegExp(`Subject: CN ?= ?${deviceId}, O ?= ?${org.orgId}\\n`));
    expect(text).toContain(`URI:urn:iotplane:org:${org.orgId}:device:${deviceId}`);
    expect(text).toMatch(/CA:FALSE/);
    const x509 = new X509Certificate(body.certificate);
    expect(x509.serialNumber.toLowerCase()).toBe(body.serialNumber);
    expect(Date.parse(body.notAfter) - Date.parse(body.notBefore)).toBe(90 * 86_400_000 + 5 * 60_000);

    expect((await get(`/api/v1/devices/${deviceId}`).expect(200)).body.status).toBe('ACTIVE');
    expect((await get(`${TOKENS}?deviceId=${deviceId}&status=REDEEMED`).expect(200)).body.items).toHaveLength(1);
    expect(await certificatesOf(deviceId)).toEqual([
      expect.objectContaining({
        serialNumber: body.serialNumber,
        status: 'ACTIVE',
        fingerprintSha256: x509.fingerprint256.replace(/:/g, '').toLowerCase(),
        notAfter: body.notAfter,
      }),
    ]);
    // The device acted, in its token's organization.
    for (const stream of [registrationTokenStream(tokenId(issued.token)), deviceCertificatesStream(deviceId), deviceStream(deviceId)]) {
      const last = (await api.deps.store.readStream(stream)).pop();
      expect({ stream, actor: last?.metadata.actor, orgId: last?.metadata.orgId }).toEqual({ stream, actor: `device:${deviceId}`, orgId: org.orgId });
    }
  });

  it('ignores what the CSR asks for: CA:TRUE, another CN, other names', async () => {
    const issued = await issueToken(api, org);
    const csr = deviceCsr({
      subject: `/CN=${randomUUID()}/O=${other.orgId}`,
      extra: ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'subjectAltName=DNS:evil.example'],
    });
    const res = await provision(api, issued.token, csr);
    expect(res.status).toBe(201);
    const text = certificateText(res.body.certificate as string);
    expect(text).toMatch(/CA:FALSE/);
    expect(text).not.toMatch(/CA:TRUE|evil\.example/);
    expect(text).toMatch(new RegExp(`Subject: CN ?= ?${issued.deviceId}, O ?= ?${org.orgId}\\n`));
  });

  it('refuses a replayed token with 409 REGISTRATION_TOKEN_USED and records no second certificate', async () => {
    const issued = await issueToken(api, org);
    expect((await provision(api, issued.token)).status).toBe(201);
    const replay = await provision(api, issued.token);
    expect({ status: replay.status, code: replay.body.code }).toEqual({ status: 409, code: 'REGISTRATION_TOKEN_USED' });
    expect(await recorded(issued.deviceId)).toEqual({ events: 1, rows: 1 });
  });

  it.each([
    ['its own request id', () => ({})],
    ['one shared X-Request-Id (same event-id seed)', () => ({ 'X-Request-Id': 'same-request' })],
  ])('gives exactly one certificate to 10 concurrent redemptions, each with %s', async (_what, headers) => {
    const issued = await issueToken(api, org);
    const csrs = Array.from({ length: 10 }, () => deviceCsr());
    const answers = await Promise.all(csrs.map((csr) => api.http().post('/api/v1/devices/provision').set(headers()).send({ token: issued.token, csr })));
    const outcomes = answers.map((res) => `${res.status} ${res.status === 201 ? '' : String(res.body.code)}`).sort();
    expect(outcomes).toEqual(['201 ', ...Array.from({ length: 9 }, () => '409 REGISTRATION_TOKEN_USED')]);
    expect(await recorded(issued.deviceId)).toEqual({ events: 1, rows: 1 });
  });

  it('refuses an expired token with 401 REGISTRATION_TOKEN_EXPIRED and lists it as EXPIRED', async () => {
    const device = await createDevice(api, org);
    const context = { orgId: org.orgId, actor: 'system' as const, correlationId: randomUUID() };
    const issued = await issueRegistrationToken(
      api.deps.store,
      context,
      { deviceId: device.id, deviceName: device.name as string, deviceCreated: false, expiresInSeconds: 60 },
      new Date(Date.now() - 61_000),
    );
    const res = await provision(api, issued.token);
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 401, code: 'REGISTRATION_TOKEN_EXPIRED' });
    expect(await recorded(device.id)).toEqual({ events: 0, rows: 0 });
    if (issued.result.position) await api.deps.watcher.waitFor(['registration-tokens'], issued.result.position, 10_000);
    expect((await get(`${TOKENS}?deviceId=${device.id}&status=EXPIRED`).expect(200)).body.items).toEqual([
      expect.objectContaining({ id: issued.tokenId, status: 'EXPIRED' }),
    ]);
    expect((await get(`${TOKENS}?deviceId=${device.id}`).expect(200)).body.items).toEqual([]);
  });

  it('refuses forged tokens with 401 REGISTRATION_TOKEN_INVALID and spends nothing: the real token still works', async () => {
    const issued = await issueToken(api, org);
    const [id = '', deviceId = ''] = issued.token.split('.');
    const theirs = await createDevice(api, other);
    const secret = () => randomBytes(32).toString('base64url');
    for (const forged of [
      `${id}.${deviceId}.${secret()}`, // guessed secret
      `${randomUUID()}.${deviceId}.${secret()}`, // unknown token id
      `${id}.${theirs.id}.${issued.token.split('.')[2] ?? ''}`, // the real secret, pointed at another organization's device
    ]) {
      const res = await provision(api, forged);
      expect({ forged, status: res.status, code: res.body.code }).toEqual({ forged, status: 401, code: 'REGISTRATION_TOKEN_INVALID' });
    }
    expect((await provision(api, issued.token)).status).toBe(201);
    expect((await get(`/api/v1/devices/${theirs.id}`, other).expect(200)).body.status).toBe('PENDING');
    expect(await recorded(theirs.id)).toEqual({ events: 0, rows: 0 });
  });

  it('refuses malformed tokens with 401 REGISTRATION_TOKEN_INVALID before reading anything', async () => {
    const csr = deviceCsr();
    const readStream = jest.spyOn(api.deps.store, 'readStream');
    try {
      for (const token of ['x', 'a.b.c', `${randomUUID()}.${randomUUID()}`, `${randomUUID().toUpperCase()}.${randomUUID()}.${'A'.repeat(43)}`, 'sk_live_abc']) {
        const res = await provision(api, token, csr);
        expect({ token, status: res.status, code: res.body.code }).toEqual({ token, status: 401, code: 'REGISTRATION_TOKEN_INVALID' });
      }
      expect(readStream).not.toHaveBeenCalled();
    } finally {
      readStream.mockRestore();
    }
  });

  it('refuses a weak or broken CSR without spending the token', async () => {
    const issued = await issueToken(api, org);
    const good = deviceCsr();
    const tampered = good.replace(/\n([A-Za-z0-9+/]{10})/, (_m, chars: string) => `\n${chars.split('').reverse().join('')}`);
    for (const [csr, status, code] of [
      [deviceCsr({ key: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-521'] }), 422, 'CSR_KEY_REJECTED'],
      [deviceCsr({ key: ['-newkey', 'rsa:1024'] }), 422, 'CSR_KEY_REJECTED'],
      ['-----BEGIN CERTIFICATE REQUEST-----\nnot base64\n-----END CERTIFICATE REQUEST-----\n', 400, 'CSR_INVALID'],
      [tampered, 400, 'CSR_INVALID'],
    ] as const) {
      const res = await provision(api, issued.token, csr);
      expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
    }
    expect((await get(`${TOKENS}?deviceId=${issued.deviceId}`).expect(200)).body.items).toHaveLength(1);
    expect((await provision(api, issued.token, good)).status).toBe(201);
  });

  it('enrols an existing device again with a new token (a second certificate), leaving a DISABLED device DISABLED', async () => {
    const first = await provisionNewDevice(api, org);
    await api.http().patch(`/api/v1/devices/${first.deviceId}`).set('Authorization', org.auth).send({ status: 'DISABLED' }).expect(200);
    const again = await issueToken(api, org, { deviceId: first.deviceId });
    const res = await provision(api, again.token);
    expect(res.status).toBe(201);
    expect((await get(`/api/v1/devices/${first.deviceId}`).expect(200)).body.status).toBe('DISABLED');
    expect((await certificatesOf(first.deviceId)).map((c) => c.serialNumber)).toEqual([first.serialNumber, res.body.serialNumber]);
  });

  it.each([
    // Reads: the token, the device check, the redemption's load, the certificates' load, the activation's load.
    ['before the redemption: the decommission revokes the token, nothing is issued', 3, 'REGISTRATION_TOKEN_REVOKED', []],
    // Its revocation finds no certificate yet and the token already spent; the activation finds the device gone.
    ['after the redemption: the certificate is recorded, then withdrawn', 4, 'DEVICE_DECOMMISSIONED', ['DeviceCertificateIssued', 'DeviceCertificateRevoked']],
  ])('leaves no certificate in force when the device is decommissioned during provisioning, %s', async (_when, strikeAfterRead, code, types) => {
    const issued = await issueToken(api, org);
    const store = new InterleavingEventStore(api.deps.store);
    for (let read = 1; read < strikeAfterRead; read += 1) store.afterNextRead(async () => undefined);
    store.afterNextRead(() => api.http().delete(`/api/v1/devices/${issued.deviceId}`).set('Authorization', org.auth).expect(204));
    const provisioning = provisionDevice({ store, ca: api.deps.deviceCa, validityDays: 90 }, { token: issued.token, csr: deviceCsr(), correlationId: randomUUID() });
    await expect(provisioning).rejects.toMatchObject({ code });
    const events = await api.deps.store.readStream(deviceCertificatesStream(issued.deviceId));
    expect(events.map((e) => e.type)).toEqual(types);
    if (events[1]) expect(events[1].data).toMatchObject({ reason: 'CESSATION_OF_OPERATION' });
  });

  it('refuses a token for a device decommissioned since (409), and a new token for it (422)', async () => {
    const issued = await issueToken(api, org);
    await api.http().delete(`/api/v1/devices/${issued.deviceId}`).set('Authorization', org.auth).expect(204);
    // Decommissioning revoked the pending token too.
    expect((await provision(api, issued.token)).body.code).toBe('REGISTRATION_TOKEN_REVOKED');
    const refused = await postToken({ deviceId: issued.deviceId }).expect(422);
    expect(refused.body.errors).toEqual([{ path: '/body/deviceId', message: 'is decommissioned' }]);
  });
});

describeWithOpenssl(`device certificates${needs}`, () => {
  it('lists a device’s certificates with a derived status and revokes one by serial number, once', async () => {
    const { deviceId, serialNumber } = await provisionNewDevice(api, org);
    const url = `/api/v1/devices/${deviceId}/certificates/${serialNumber}`;
    expect((await get(url).expect(200)).body).toMatchObject({ deviceId, serialNumber, status: 'ACTIVE', revokedAt: null, revocationReason: null });

    const revoked = await api.http().post(`${url}/revoke`).set('Authorization', org.auth).send({ reason: 'KEY_COMPROMISE' }).expect(200);
    expect(revoked.body).toMatchObject({ status: 'REVOKED', revocationReason: 'KEY_COMPROMISE', revokedAt: expect.any(String) });
    const again = await api.http().post(`${url}/revoke`).set('Authorization', org.auth).send({}).expect(200);
    expect(again.body).toEqual(revoked.body);
    expect((await get(`/api/v1/devices/${deviceId}/certificates?status=REVOKED`).expect(200)).body.items).toEqual([revoked.body]);
    expect((await get(`/api/v1/devices/${deviceId}/certificates?status=ACTIVE`).expect(200)).body.items).toEqual([]);

    // What the broker subscribes to: one event, its organization in the metadata.
    const events = (await api.deps.store.readStream(deviceCertificatesStream(deviceId))).filter((e) => e.type === 'DeviceCertificateRevoked');
    expect(events.map((e) => ({ orgId: e.metadata.orgId, data: e.data }))).toEqual([
      { orgId: org.orgId, data: expect.objectContaining({ deviceId, serialNumber, reason: 'KEY_COMPROMISE' }) },
    ]);
  });

  it('answers 404 for an unknown serial or device and 403 to a viewer', async () => {
    const { deviceId, serialNumber } = await provisionNewDevice(api, org);
    for (const serial of ['0abc', 'not-hex', serialNumber.toUpperCase().replace(/.$/, 'Z')]) {
      const res = await api.http().post(`/api/v1/devices/${deviceId}/certificates/${serial}/revoke`).set('Authorization', org.auth).send({});
      expect({ serial, status: res.status, code: res.body.code }).toEqual({ serial, status: 404, code: 'DEVICE_CERTIFICATE_NOT_FOUND' });
    }
    expect((await get(`/api/v1/devices/${randomUUID()}/certificates`).expect(404)).body.code).toBe('DEVICE_NOT_FOUND');
    // Upper-case hex names the same certificate.
    expect((await get(`/api/v1/devices/${deviceId}/certificates/${serialNumber.toUpperCase()}`).expect(200)).body.serialNumber).toBe(serialNumber);
    const viewer = `Bearer ${await org.jwt('viewer')}`;
    await api.http().post(`/api/v1/devices/${deviceId}/certificates/${serialNumber}/revoke`).set('Authorization', viewer).send({}).expect(403);
  });

  it('revokes every active certificate and pending token when the device is decommissioned', async () => {
    const first = await provisionNewDevice(api, org);
    const second = await provision(api, (await issueToken(api, org, { deviceId: first.deviceId })).token);
    const pending = await issueToken(api, org, { deviceId: first.deviceId });
    await api.http().delete(`/api/v1/devices/${first.deviceId}`).set('Authorization', org.auth).expect(204);

    const certificates = await certificatesOf(first.deviceId);
    expect(certificates.map((c) => ({ serial: c.serialNumber, status: c.status, reason: c.revocationReason }))).toEqual(
      [first.serialNumber, second.body.serialNumber].map((serial) => ({ serial, status: 'REVOKED', reason: 'CESSATION_OF_OPERATION' })),
    );
    expect((await get(`${TOKENS}?deviceId=${first.deviceId}&status=REVOKED`).expect(200)).body.items).toEqual([
      expect.objectContaining({ id: tokenId(pending.token) }),
    ]);
    // A repeated DELETE is still a conflict, and revokes nothing twice.
    await api.http().delete(`/api/v1/devices/${first.deviceId}`).set('Authorization', org.auth).expect(409);
    expect(await certificatesOf(first.deviceId)).toEqual(certificates);
  });
});

