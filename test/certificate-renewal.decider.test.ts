import { randomUUID } from 'node:crypto';
import { RENEWAL_MIN_INTERVAL_MS, type RenewalCommand } from '../src/commands/device-certificates/certificate-renewal.rules';
import { deviceCertificateDecider } from '../src/commands/device-certificates/device-certificate.decider';
import type { DeviceCertificateIssued } from '../src/commands/device-certificates/device-certificate.events';
import { spec } from './support/decider-spec';
import { BEFORE_EXPIRY, aDeviceCertificateIssued, aDeviceCertificateRevoked } from './support/provisioning.builders';

const certificates = spec(deviceCertificateDecider);
const deviceId = randomUUID();
const later = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

function aRenew(requestId: string, now = BEFORE_EXPIRY, serialNumber = randomUUID().replace(/-/g, '')): Extract<RenewalCommand, { type: 'RenewDeviceCertificate' }> {
  const certificate = { serialNumber, notBefore: now, notAfter: '2025-06-01T00:00:00.000Z', fingerprintSha256: 'ef'.repeat(32), certificatePem: `PEM ${serialNumber}` };
  return { type: 'RenewDeviceCertificate', data: { deviceId, requestId, certificate, now } };
}

/** The event a renewal command decides when it replaces `replaces`. */
function renewedBy(command: ReturnType<typeof aRenew>, replaces: string[]): DeviceCertificateIssued {
  const { certificatePem, ...identity } = command.data.certificate;
  return { type: 'DeviceCertificateIssued', data: { deviceId, ...identity, issuedAt: command.data.now, renewal: { requestId: command.data.requestId, replaces, certificatePem } } };
}

describe('DeviceCertificates renewal', () => {
  const current = aDeviceCertificateIssued({ deviceId });
  const expired = aDeviceCertificateIssued({ deviceId, notAfter: '2025-01-02T06:00:00.000Z' });
  const gone = aDeviceCertificateIssued({ deviceId });
  const history = [current, expired, gone, aDeviceCertificateRevoked(gone)];
  const first = aRenew('first');
  const firstIssued = renewedBy(first, [current.data.serialNumber]);

  describe('when the device has a valid certificate', () => {
    it('issues one that replaces only the valid ones', () => {
      certificates.given(history).when(first).then([firstIssued]);
    });

    it('refuses a device with no valid certificate with DEVICE_CERTIFICATE_NOT_FOUND', () => {
      certificates.given([]).when(first).thenThrows({ code: 'DEVICE_CERTIFICATE_NOT_FOUND' });
      certificates.given([expired]).when(first).thenThrows({ code: 'DEVICE_CERTIFICATE_NOT_FOUND' });
    });
  });

  describe('when a renewal is pending', () => {
    const pending = [...history, firstIssued];

    it('decides nothing for the same requestId (the handler answers with the recorded certificate)', () => {
      certificates.given(pending).when(aRenew('first')).then([]);
    });

    it('refuses another request within the interval with CERTIFICATE_RENEWAL_TOO_SOON (429)', () => {
      certificates.given(pending).when(aRenew('second', later(BEFORE_EXPIRY, 60_000))).thenThrows({ code: 'CERTIFICATE_RENEWAL_TOO_SOON', status: 429 });
    });

    it('after the interval, supersedes the pending one and replaces the original again', () => {
      const second = aRenew('second', later(BEFORE_EXPIRY, RENEWAL_MIN_INTERVAL_MS));
      certificates.given(pending).when(second).then([
        aDeviceCertificateRevoked(firstIssued, { reason: 'SUPERSEDED', revokedAt: second.data.now, supersededBy: second.data.certificate.serialNumber }),
        renewedBy(second, [current.data.serialNumber]),
      ]);
    });

    it('revokes what it replaces once it is used, and only once', () => {
      const supersede: RenewalCommand = { type: 'SupersedeReplacedCertificates', data: { deviceId, serialNumber: firstIssued.data.serialNumber, now: BEFORE_EXPIRY } };
      const superseded = aDeviceCertificateRevoked(current, { reason: 'SUPERSEDED', supersededBy: firstIssued.data.serialNumber });
      certificates.given(pending).when(supersede).then([superseded]);
      certificates.given([...pending, superseded]).when(supersede).then([]);
    });

    it('supersedes nothing through a renewal that was itself revoked, or a certificate that is no renewal', () => {
      const withdrawn = [...pending, aDeviceCertificateRevoked(firstIssued)];
      const data = { deviceId, serialNumber: firstIssued.data.serialNumber, now: BEFORE_EXPIRY };
      certificates.given(withdrawn).when({ type: 'SupersedeReplacedCertificates', data }).then([]);
      certificates.given(pending).when({ type: 'SupersedeReplacedCertificates', data: { ...data, serialNumber: current.data.serialNumber } }).then([]);
    });

    it('refuses to answer a requestId whose certificate was revoked with CONFLICT', () => {
      certificates.given([...pending, aDeviceCertificateRevoked(firstIssued)]).when(aRenew('first')).thenThrows({ code: 'CONFLICT', status: 409 });
    });
  });
});
