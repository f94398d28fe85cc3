import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { ConfigError } from '../src/platform/config';
import { AppError } from '../src/platform/errors';
import { issueDeviceCertificate, issueInternalClientCertificate, issueServerCertificate } from '../src/platform/pki/certificate-issuer';
import { buildCrl } from '../src/platform/pki/crl';
import { checkCsr } from '../src/platform/pki/csr';
import { loadOrCreateDeviceCa, type DeviceCa } from '../src/platform/pki/device-ca';
import { x509 } from '../src/platform/pki/keys';

/** Every certificate is checked by real openssl, the way devices and Mosquitto will see it. */
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
const describeWithOpenssl = hasOpenssl ? describe : describe.skip;
const needs = hasOpenssl ? '' : ' (skipped: no openssl binary on PATH)';
let work: string;
let ca: DeviceCa;
const orgId = randomUUID();

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'iotplane-pki-'));
  ca = await loadOrCreateDeviceCa({ dataDir: path.join(work, 'data') });
  writeFileSync(path.join(work, 'ca.crt'), ca.certificatePem);
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

function run(args: string[]): { status: number | null; output: string } {
  const result = spawnSync('openssl', args, { cwd: work, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}
function openssl(args: string[]): string {
  const result = run(args);
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${result.output}`);
  return result.output;
}
function file(name: string, content: string): string {
  writeFileSync(path.join(work, name), content);
  return name;
}
function unique(stem: string): string {
  return `${stem}-${randomUUID().slice(0, 8)}`;
}
/** A CSR as a device would make it, asking for CN=evil; returns the PEM and the device's key file. */
function makeCsr(keyArgs: string[], extra: string[] = []): { csrPem: string; keyFile: string } {
  const keyFile = `${unique('device')}.key`;
  const csrPem = openssl(['req', '-new', ...keyArgs, '-nodes', '-keyout', keyFile, '-subj', '/CN=evil', ...extra]);
  return { csrPem, keyFile };
}
const P256 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
const P384 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'];

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}
async function expectAppError(promise: Promise<unknown>, code: string, status: number): Promise<AppError> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(AppError);
  expect(error).toMatchObject({ code, status });
  return error as AppError;
}

async function issueFromCsr(csrPem: string, deviceId = randomUUID(), onCa: DeviceCa = ca): Promise<{ certFile: string; deviceId: string; serialNumber: string }> {
  const { publicKey } = await checkCsr(csrPem);
  const issued = await issueDeviceCertificate(onCa, { publicKey, deviceId, orgId, now: new Date() });
  return { certFile: file(`${unique('device')}.crt`, issued.certificatePem), deviceId, serialNumber: issued.serialNumber };
}
function text(certFile: string): string {
  return openssl(['x509', '-in', certFile, '-noout', '-text']);
}
function extensionValue(certText: string, name: string): string {
  const lines = certText.split('\n');
  const at = lines.findIndex((line) => line.includes(name));
  return (lines[at + 1] ?? '').trim();
}

describeWithOpenssl(`device CA${needs}`, () => {
  it('is generated once with tight permissions and reloaded identical', async () => {
    const pki = path.join(work, 'data', 'pki');
    expect(statSync(pki).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(pki, 'device-ca.key')).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(pki, 'device-ca.crt')).mode & 0o777).toBe(0o644);
    expect(readdirSync(pki).sort()).toEqual(['device-ca.crt', 'device-ca.key']);
    const again = await loadOrCreateDeviceCa({ dataDir: path.join(work, 'data') });
    expect(again.certificatePem).toBe(ca.certificatePem);

    const certText = text('ca.crt');
    expect(certText).toContain('Subject: CN = iotplane device CA');
    expect(certText).toMatch(/Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(certText).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
    expect(certText).toContain('ASN1 OID: prime256v1');
    const years = (ca.certificate.notAfter.getTime() - Date.now()) / (365.25 * 24 * 3600 * 1000);
    expect(years).toBeGreaterThan(9.9);
  });

  it('ends with one CA when several starts race on an empty data folder', async () => {
    const dataDir = path.join(work, unique('race'));
    const cas = await Promise.all([1, 2, 3, 4, 5].map(() => loadOrCreateDeviceCa({ dataDir })));
    expect(new Set(cas.map((c) => c.certificatePem)).size).toBe(1);
    expect(readdirSync(path.join(dataDir, 'pki')).sort()).toEqual(['device-ca.crt', 'device-ca.key']);
  });

  it('refuses a key left without its certificate by an interrupted start, naming the file', async () => {
    const dataDir = path.join(work, unique('interrupted'));
    mkdirSync(path.join(dataDir, 'pki'), { recursive: true });
    writeFileSync(path.join(dataDir, 'pki', 'device-ca.key'), 'left over');
    const error = await rejection(loadOrCreateDeviceCa({ dataDir }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).toContain('device-ca.crt: is missing while');
  });

  it("uses an operator's CA as given and writes nothing, and refuses a key that does not match it", async () => {
    openssl(['req', '-x509', ...P384, '-nodes', '-keyout', 'operator.key', '-out', 'operator.crt', '-subj', '/CN=Operator Device CA/O=Acme', '-days', '30',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    const certPem = openssl(['x509', '-in', 'operator.crt']);
    const keyPem = openssl(['pkey', '-in', 'operator.key']);
    const dataDir = path.join(work, unique('operator'));
    const operatorCa = await loadOrCreateDeviceCa({ dataDir, certPem, keyPem });
    expect(operatorCa.source).toBe('operator');
    expect(operatorCa.certificatePem.trim()).toBe(certPem.trim());
    expect(() => statSync(path.join(dataDir, 'pki'))).toThrow();

    const { csrPem } = makeCsr(P256);
    const { certFile } = await issueFromCsr(csrPem, randomUUID(), operatorCa);
    expect(openssl(['verify', '-CAfile', 'operator.crt', certFile])).toContain(': OK');

    const mismatched = await rejection(loadOrCreateDeviceCa({ dataDir, certPem, keyPem: openssl(['pkey', '-in', path.join(work, 'data', 'pki', 'device-ca.key')]) }));
    expect(mismatched).toBeInstanceOf(ConfigError);
    expect(mismatched).toMatchObject({ variable: 'DEVICE_CA_KEY' });
    expect(String(mismatched)).toContain('does not match');
    await expect(loadOrCreateDeviceCa({ dataDir, certPem })).rejects.toMatchObject({ variable: 'DEVICE_CA_KEY' });
  });

  it("accepts an operator's RSA CA, whose certificates and CRL verify", async () => {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'operator-rsa.key', '-out', 'operator-rsa.crt', '-subj', '/CN=Operator RSA CA', '-days', '30',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    const rsaCa = await loadOrCreateDeviceCa({ dataDir: work, certPem: openssl(['x509', '-in', 'operator-rsa.crt']), keyPem: openssl(['pkey', '-in', 'operator-rsa.key']) });
    const { certFile, serialNumber } = await issueFromCsr(makeCsr(P256).csrPem, randomUUID(), rsaCa);
    const now = new Date();
    const crlFile = file(`${unique('crl')}.pem`, await buildCrl(rsaCa, [{ serialNumber, revokedAt: now.toISOString() }], { thisUpdate: now, nextUpdate: new Date(now.getTime() + 60_000) }));
    expect(openssl(['verify', '-CAfile', 'operator-rsa.crt', certFile])).toContain(': OK');
    expect(run(['verify', '-crl_check', '-CRLfile', crlFile, '-CAfile', 'operator-rsa.crt', certFile]).output).toContain('certificate revoked');
  });

  it('refuses a supplied certificate that is not a CA', async () => {
    const server = await issueServerCertificate(ca, { hostnames: ['localhost'] });
    const error = await rejection(loadOrCreateDeviceCa({ dataDir: work, certPem: server.certificatePem, keyPem: server.privateKeyPem }));
    expect(error).toMatchObject({ variable: 'DEVICE_CA_CERT' });
    expect(String(error)).toContain('not a CA certificate');
  });
});

describeWithOpenssl(`CSR check${needs}`, () => {
  it.each([
    ['EC P-256', P256],
    ['EC P-384', P384],
    ['RSA 2048', ['-newkey', 'rsa:2048']],
  ])('accepts %s', async (description, keyArgs) => {
    const { csrPem } = makeCsr(keyArgs);
    await expect(checkCsr(csrPem)).resolves.toMatchObject({ keyDescription: description });
  });

  it.each([
    ['RSA 1024', ['-newkey', 'rsa:1024']],
    ['EC P-521', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-521']],
  ])('refuses %s with CSR_KEY_REJECTED', async (description, keyArgs) => {
    const { csrPem } = makeCsr(keyArgs);
    const error = await expectAppError(checkCsr(csrPem), 'CSR_KEY_REJECTED', 422);
    expect(error.message).toContain(description);
  });

  it('refuses Ed25519 with CSR_KEY_REJECTED', async () => {
    const keyFile = `${unique('ed25519')}.key`;
    openssl(['genpkey', '-algorithm', 'ed25519', '-out', keyFile]);
    const csrPem = openssl(['req', '-new', '-key', keyFile, '-subj', '/CN=evil']);
    const error = await expectAppError(checkCsr(csrPem), 'CSR_KEY_REJECTED', 422);
    expect(error.message).toContain('Ed25519');
  });

  it('refuses a CSR whose signature or signed content was tampered with, as CSR_INVALID', async () => {
    const { csrPem } = makeCsr(P256);
    const der = Buffer.from(x509.PemConverter.decodeFirst(csrPem));
    const signatureFlipped = Buffer.from(der);
    signatureFlipped[der.length - 1] = (der[der.length - 1] ?? 0) ^ 0x01;
    const subjectFlipped = Buffer.from(der);
    const cn = der.indexOf(Buffer.from('evil'));
    subjectFlipped[cn] = 'd'.charCodeAt(0);
    for (const tampered of [signatureFlipped, subjectFlipped]) {
      const pem = x509.PemConverter.encode(tampered, 'CERTIFICATE REQUEST');
      const error = await expectAppError(checkCsr(pem), 'CSR_INVALID', 400);
      expect(error.message).toContain('signature');
    }
  });

  it('refuses garbage, a certificate, and two CSRs as CSR_INVALID', async () => {
    const { csrPem } = makeCsr(P256);
    for (const garbage of [
      'hello',
      '',
      '-----BEGIN CERTIFICATE REQUEST-----\nbm90IGEgY3Ny\n-----END CERTIFICATE REQUEST-----\n',
      ca.certificatePem,
      `${csrPem}${csrPem}`,
      'A'.repeat(20_000),
    ]) {
      await expectAppError(checkCsr(garbage), 'CSR_INVALID', 400);
    }
  });
});

describeWithOpenssl(`device certificates${needs}`, () => {
  it('verify against the CA with the device id as CN, CA:FALSE, client auth only and the SAN URI', async () => {
    const { csrPem, keyFile } = makeCsr(P256);
    const { certFile, deviceId, serialNumber } = await issueFromCsr(csrPem);
    expect(openssl(['verify', '-CAfile', 'ca.crt', '-purpose', 'sslclient', certFile])).toContain(`${certFile}: OK`);
    const certText = text(certFile);
    expect(certText).toContain(`Subject: CN = ${deviceId}, O = ${orgId}`);
    expect(certText).not.toContain('evil');
    expect(certText).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(extensionValue(certText, 'X509v3 Key Usage: critical')).toBe('Digital Signature');
    expect(extensionValue(certText, 'X509v3 Extended Key Usage')).toBe('TLS Web Client Authentication');
    expect(extensionValue(certText, 'X509v3 Subject Alternative Name')).toBe(`URI:urn:iotplane:org:${orgId}:device:${deviceId}`);
    expect(extensionValue(certText, 'X509v3 Authority Key Identifier')).toContain(ca.keyIdentifier.slice(0, 2).toUpperCase());
    expect(certText).toContain('X509v3 Subject Key Identifier');
    expect(openssl(['x509', '-in', certFile, '-noout', '-serial']).trim()).toBe(`serial=${serialNumber.toUpperCase()}`);
    // The issued certificate belongs to the key the device kept.
    expect(openssl(['x509', '-in', certFile, '-noout', '-pubkey'])).toBe(openssl(['pkey', '-in', keyFile, '-pubout']));
  });

  it('ignores CA:TRUE and extra SANs requested in the CSR', async () => {
    const { csrPem } = makeCsr(P256, ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'subjectAltName=DNS:evil.example,URI:urn:iotplane:org:x:device:y']);
    const { certFile, deviceId } = await issueFromCsr(csrPem);
    const certText = text(certFile);
    expect(certText).toMatch(/CA:FALSE/);
    expect(certText).not.toMatch(/CA:TRUE|evil|DNS:|device:y/);
    expect(extensionValue(certText, 'X509v3 Subject Alternative Name')).toBe(`URI:urn:iotplane:org:${orgId}:device:${deviceId}`);
  });

  it('adds key encipherment for RSA keys, and accepts P-384', async () => {
    const rsa = await issueFromCsr(makeCsr(['-newkey', 'rsa:2048']).csrPem);
    expect(extensionValue(text(rsa.certFile), 'X509v3 Key Usage: critical')).toBe('Digital Signature, Key Encipherment');
    const p384 = await issueFromCsr(makeCsr(P384).csrPem);
    expect(openssl(['verify', '-CAfile', 'ca.crt', rsa.certFile, p384.certFile])).toMatch(/OK[\s\S]*OK/);
  });

  it('stamps 90 days by default, 5 minutes back for skew, and bounds the validity', async () => {
    const { publicKey } = await checkCsr(makeCsr(P256).csrPem);
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    const issued = await issueDeviceCertificate(ca, { publicKey, deviceId: randomUUID(), orgId, now });
    expect(issued.notBefore).toBe(new Date(now.getTime() - 5 * 60_000).toISOString());
    expect(issued.notAfter).toBe(new Date(now.getTime() + 90 * 86_400_000).toISOString());
    for (const validityDays of [0, 826, 1.5]) {
      await expectAppError(issueDeviceCertificate(ca, { publicKey, deviceId: randomUUID(), orgId, validityDays, now }), 'VALIDATION_FAILED', 400);
    }
    // A CN that is not a device UUID could impersonate an internal identity.
    await expectAppError(issueDeviceCertificate(ca, { publicKey, deviceId: 'iotplane:ingest', orgId, now }), 'VALIDATION_FAILED', 400);
  });

  it('never repeats a serial number over 1,000 issues', async () => {
    const { publicKey } = await checkCsr(makeCsr(P256).csrPem);
    const serials: string[] = [];
    for (let i = 0; i < 1000; i += 1) {
      serials.push((await issueDeviceCertificate(ca, { publicKey, deviceId: randomUUID(), orgId, now: new Date() })).serialNumber);
    }
    expect(new Set(serials).size).toBe(1000);
    // 16 bytes, positive, never a leading zero byte that DER would strip.
    expect(serials.filter((serial) => !/^[4-7][0-9a-f]{31}$/.test(serial))).toEqual([]);
  });

  it('from another CA with a valid-looking CN fail verification against ours', async () => {
    const otherCa = await loadOrCreateDeviceCa({ dataDir: path.join(work, unique('other')) });
    expect(otherCa.certificate.subject).toBe(ca.certificate.subject);
    const { certFile } = await issueFromCsr(makeCsr(P256).csrPem, randomUUID(), otherCa);
    const result = run(['verify', '-CAfile', 'ca.crt', certFile]);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/unable to get local issuer certificate|certificate signature failure/);
  });
});

describeWithOpenssl(`CRL${needs}`, () => {
  it('is signed by the CA and revokes exactly the listed certificate', async () => {
    const revoked = await issueFromCsr(makeCsr(P256).csrPem);
    const kept = await issueFromCsr(makeCsr(P256).csrPem);
    const thisUpdate = new Date();
    const crlPem = await buildCrl(ca, [
      { serialNumber: revoked.serialNumber, revokedAt: new Date().toISOString(), reason: 'keyCompromise' },
      { serialNumber: revoked.serialNumber, revokedAt: new Date(Date.now() + 1000).toISOString() },
    ], { thisUpdate, nextUpdate: new Date(thisUpdate.getTime() + 86_400_000) });
    const crlFile = file(`${unique('crl')}.pem`, crlPem);
    expect(openssl(['crl', '-in', crlFile, '-CAfile', 'ca.crt', '-noout'])).toContain('verify OK');
    const crlText = openssl(['crl', '-in', crlFile, '-noout', '-text']);
    expect(crlText).toContain(`X509v3 CRL Number: \n                ${thisUpdate.getTime()}`);
    expect(crlText).toContain('X509v3 Authority Key Identifier');
    expect(crlText).toContain('Key Compromise');
    expect(crlText.match(/Serial Number:/g)).toHaveLength(1);

    const check = ['verify', '-crl_check', '-CRLfile', crlFile, '-CAfile', 'ca.crt'];
    const refused = run([...check, revoked.certFile]);
    expect(refused.status).not.toBe(0);
    expect(refused.output).toContain('certificate revoked');
    expect(openssl([...check, kept.certFile])).toContain(`${kept.certFile}: OK`);
  });

  it('can be empty', async () => {
    const kept = await issueFromCsr(makeCsr(P256).csrPem);
    const crlFile = file(`${unique('crl')}.pem`, await buildCrl(ca, [], { thisUpdate: new Date(), nextUpdate: new Date(Date.now() + 60_000) }));
    expect(openssl(['verify', '-crl_check', '-CRLfile', crlFile, '-CAfile', 'ca.crt', kept.certFile])).toContain(': OK');
  });
});

describeWithOpenssl(`platform certificates${needs}`, () => {
  it('give the broker a server certificate valid for its hostnames and IPs only', async () => {
    const server = await issueServerCertificate(ca, { hostnames: ['localhost', 'mqtt.example.com'], ips: ['127.0.0.1'], validityDays: 30 });
    expect(server.privateKeyPem).toContain('-----BEGIN PRIVATE KEY-----');
    const certFile = file(`${unique('server')}.crt`, server.certificatePem);
    const verify = ['verify', '-CAfile', 'ca.crt', '-purpose', 'sslserver'];
    expect(openssl([...verify, '-verify_hostname', 'localhost', certFile])).toContain(': OK');
    expect(openssl([...verify, '-verify_ip', '127.0.0.1', certFile])).toContain(': OK');
    expect(run([...verify, '-verify_hostname', 'evil.example', certFile]).status).not.toBe(0);
    expect(extensionValue(text(certFile), 'X509v3 Extended Key Usage')).toBe('TLS Web Server Authentication');
    await expectAppError(issueServerCertificate(ca, { hostnames: ['bad host'] }), 'VALIDATION_FAILED', 400);
    await expectAppError(issueServerCertificate(ca, { hostnames: [] }), 'VALIDATION_FAILED', 400);
  });

  it('give internal clients a CN no device can have', async () => {
    const internal = await issueInternalClientCertificate(ca, { name: 'ingest' });
    const certFile = file(`${unique('internal')}.crt`, internal.certificatePem);
    expect(openssl(['verify', '-CAfile', 'ca.crt', '-purpose', 'sslclient', certFile])).toContain(': OK');
    expect(text(certFile)).toContain('Subject: CN = iotplane:ingest');
    await expectAppError(issueInternalClientCertificate(ca, { name: 'Ingest:x' }), 'VALIDATION_FAILED', 400);
  });

  it('complete a mutual TLS handshake with a device certificate', async () => {
    const server = await issueServerCertificate(ca, { hostnames: ['localhost'] });
    const { csrPem, keyFile } = makeCsr(P256);
    const device = await issueFromCsr(csrPem);
    const listener = tls.createServer({ key: server.privateKeyPem, cert: server.certificatePem, ca: ca.certificatePem, requestCert: true, rejectUnauthorized: true });
    const serverSaw = new Promise<string>((resolve, reject) => {
      listener.on('secureConnection', (socket) => resolve(String(socket.getPeerCertificate().subject.CN)));
      listener.on('tlsClientError', reject);
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const address = listener.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const client = tls.connect({
      host: '127.0.0.1', port: address.port, servername: 'localhost', ca: ca.certificatePem,
      key: openssl(['pkey', '-in', keyFile]), cert: openssl(['x509', '-in', device.certFile]),
    });
    const clientReady = new Promise<void>((resolve, reject) => {
      client.once('secureConnect', resolve);
      client.once('error', reject);
    });
    try {
      await clientReady;
      expect(client.authorized).toBe(true);
      expect(await serverSaw).toBe(device.deviceId);
    } finally {
      client.destroy();
    }
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  });
});
