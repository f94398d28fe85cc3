import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deviceCertificatesStream } from '../src/commands/device-certificates/device-certificate.events';
import { normalizeSerial } from '../src/platform/mqtt/broker-identity';
import { startCrlPublisher, type CrlPublisher, type CrlPublisherOptions } from '../src/platform/mqtt/crl-publisher';
import { loadOrCreateDeviceCa, type DeviceCa } from '../src/platform/pki/device-ca';
import { x509 } from '../src/platform/pki/keys';
import { capturedLogger } from './support/captured-logger';
import { createTestPlatform, type TestPlatform } from './support/test-platform';
import { waitUntil } from './support/wait-until';

interface Revoked {
  readonly deviceId: string;
  readonly orgId: string;
  readonly serialNumber: string;
  readonly revokedAt: string;
}

let platform: TestPlatform;
let work: string;
let ca: DeviceCa;
const running: CrlPublisher[] = [];

beforeAll(async () => {
  platform = await createTestPlatform();
  work = mkdtempSync(path.join(os.tmpdir(), 'iotplane-crl-'));
  ca = await loadOrCreateDeviceCa({ dataDir: path.join(work, 'ca') });
});

afterAll(async () => {
  await Promise.all(running.map((publisher) => publisher.stop()));
  await platform.close();
  rmSync(work, { recursive: true, force: true });
});

/** As provisioning records it; a fresh serial unless one is given. */
async function revoke(reason: string, serialNumber = randomUUID().replace(/-/g, '')): Promise<Revoked> {
  const revoked = { deviceId: randomUUID(), orgId: randomUUID(), serialNumber, revokedAt: '2025-03-01T10:00:00.000Z' };
  await platform.store.appendToStream(deviceCertificatesStream(revoked.deviceId), [
    {
      id: randomUUID(),
      type: 'DeviceCertificateRevoked',
      data: { deviceId: revoked.deviceId, serialNumber, reason, revokedAt: revoked.revokedAt },
      metadata: { orgId: revoked.orgId, actor: 'system', correlationId: randomUUID(), causationId: null, schemaVersion: 1 },
    },
  ]);
  return revoked;
}

async function start(overrides: Partial<CrlPublisherOptions> = {}): Promise<{ publisher: CrlPublisher; crlFile: string; reloads: () => number }> {
  const crlFile = path.join(mkdtempSync(path.join(work, 'out-')), 'crl.pem');
  let reloads = 0;
  const publisher = await startCrlPublisher({
    ca,
    store: platform.store,
    crlFile,
    reloadBroker: async () => void (reloads += 1),
    log: capturedLogger().log,
    settleMs: 0,
    ...overrides,
  });
  running.push(publisher);
  return { publisher, crlFile, reloads: () => reloads };
}

function crlOf(file: string): x509.X509Crl {
  return new x509.X509Crl(readFileSync(file, 'utf8'));
}

/** By value, as the broker compares serials: a serial whose first byte is 00 is listed without it. */
function entry(crl: x509.X509Crl, serialNumber: string): x509.X509CrlEntry | undefined {
  return crl.entries.find((e) => normalizeSerial(e.serialNumber) === normalizeSerial(serialNumber));
}

/** The CRL number extension is a short DER INTEGER: tag, length, big-endian bytes. */
function crlNumber(crl: x509.X509Crl): bigint {
  const der = Buffer.from(crl.getExtension('2.5.29.20')?.value ?? new ArrayBuffer(0));
  return BigInt(`0x${der.subarray(2, 2 + (der[1] ?? 0)).toString('hex') || '0'}`);
}

describe('CRL publisher', () => {
  it('publishes the revocations so far at start, with their time and reason, signed by the device CA', async () => {
    const before = await revoke('KEY_COMPROMISE');
    const { crlFile, reloads } = await start();
    expect(reloads()).toBeGreaterThanOrEqual(1);
    // Usually in the first CRL; later when another test's transaction held the event back from readers.
    await waitUntil('the revocation is listed', () => entry(crlOf(crlFile), before.serialNumber) !== undefined);
    const crl = crlOf(crlFile);
    expect(await crl.verify({ publicKey: ca.certificate.publicKey })).toBe(true);
    expect(entry(crl, before.serialNumber)).toMatchObject({ reason: x509.X509CrlReason.keyCompromise });
    expect(entry(crl, before.serialNumber)?.revocationDate.toISOString()).toBe(before.revokedAt);
  });

  it('follows later revocations, lists a repeated one once, and kicks all but SUPERSEDED', async () => {
    const kicked: string[] = [];
    const kickSerials: string[] = [];
    const { crlFile, reloads } = await start({
      kickSession: async ({ deviceId }) => {
        kicked.push(deviceId);
        const serial = randomUUID().replace(/-/g, '');
        kickSerials.push(serial);
        return serial;
      },
    });
    const compromised = await revoke('KEY_COMPROMISE');
    const superseded = await revoke('SUPERSEDED');
    await revoke('CESSATION_OF_OPERATION', compromised.serialNumber); // decommission after a manual revoke
    await waitUntil('both revocations are published', () => {
      const crl = crlOf(crlFile);
      return entry(crl, superseded.serialNumber) !== undefined && kickSerials.every((serial) => entry(crl, serial) !== undefined);
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(kicked).toEqual([compromised.deviceId]);
    const crl = crlOf(crlFile);
    expect(crl.entries.filter((e) => e.serialNumber.toLowerCase() === compromised.serialNumber)).toHaveLength(1);
    expect(entry(crl, compromised.serialNumber)?.reason).toBe(x509.X509CrlReason.keyCompromise);
    expect(entry(crl, superseded.serialNumber)?.reason).toBe(x509.X509CrlReason.superseded);
    // start, the compromise, the kick certificate, the supersession; the repeat changes nothing
    expect(reloads()).toBe(4);
  });

  it('re-signs an unchanged CRL on schedule with a later nextUpdate and a larger CRL number', async () => {
    const { crlFile } = await start({ refreshIntervalMs: 100 });
    const first = crlOf(crlFile);
    await waitUntil('the CRL is re-signed', () => crlOf(crlFile).thisUpdate > first.thisUpdate);
    const second = crlOf(crlFile);
    expect(second.nextUpdate?.getTime()).toBeGreaterThan(first.nextUpdate?.getTime() ?? Infinity);
    expect(crlNumber(second)).toBeGreaterThan(crlNumber(first));
  });

  it('keeps following when the broker cannot be reloaded, and says so', async () => {
    const log = capturedLogger();
    let failing = false;
    const { crlFile } = await start({
      log: log.log,
      reloadBroker: async () => {
        if (failing) throw new Error('no broker pid');
      },
    });
    failing = true;
    const first = await revoke('KEY_COMPROMISE');
    await waitUntil('the failure is logged', () => log.count('crl publication failed') === 1);
    failing = false;
    const second = await revoke('KEY_COMPROMISE');
    await waitUntil('the next revocation is published', () => entry(crlOf(crlFile), second.serialNumber) !== undefined);
    expect(entry(crlOf(crlFile), first.serialNumber)).toBeDefined();
  });
});
