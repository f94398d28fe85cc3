import type { RevocationReason } from '../../platform/pki/crl';
import type { DomainEvent } from '../decider';

/** Event type names, for subscribers such as the broker's revoked-serial set and CRL. */
export const DEVICE_CERTIFICATE_ISSUED = 'DeviceCertificateIssued';
export const DEVICE_CERTIFICATE_REVOKED = 'DeviceCertificateRevoked';

/** Why a certificate was revoked, as the API spells it (UPPERCASE); `crlReason` maps it to RFC 5280. */
export const REVOCATION_REASONS = [
  'UNSPECIFIED',
  'KEY_COMPROMISE',
  'AFFILIATION_CHANGED',
  'SUPERSEDED',
  'CESSATION_OF_OPERATION',
  'PRIVILEGE_WITHDRAWN',
] as const;
export type CertificateRevocationReason = (typeof REVOCATION_REASONS)[number];

const CRL_REASONS: Readonly<Record<CertificateRevocationReason, RevocationReason>> = {
  UNSPECIFIED: 'unspecified',
  KEY_COMPROMISE: 'keyCompromise',
  AFFILIATION_CHANGED: 'affiliationChanged',
  SUPERSEDED: 'superseded',
  CESSATION_OF_OPERATION: 'cessationOfOperation',
  PRIVILEGE_WITHDRAWN: 'privilegeWithdrawn',
};

export function crlReason(reason: CertificateRevocationReason): RevocationReason {
  return CRL_REASONS[reason];
}

/** The certificate itself is not recorded (the device holds it); its serial and fingerprint identify it. */
export type DeviceCertificateIssued = DomainEvent<
  typeof DEVICE_CERTIFICATE_ISSUED,
  {
    deviceId: string;
    /** Lowercase hex, as openssl, the CRL and the broker show it. */
    serialNumber: string;
    notBefore: string;
    notAfter: string;
    /** SHA-256 of the DER certificate, lowercase hex. */
    fingerprintSha256: string;
    /** The registration token it was issued against. */
    tokenId: string;
    issuedAt: string;
  }
>;
export type DeviceCertificateRevoked = DomainEvent<
  typeof DEVICE_CERTIFICATE_REVOKED,
  { deviceId: string; serialNumber: string; reason: CertificateRevocationReason; revokedAt: string }
>;
export type DeviceCertificateEvent = DeviceCertificateIssued | DeviceCertificateRevoked;

export const DEVICE_CERTIFICATE_EVENT_TYPES: DeviceCertificateEvent['type'][] = [DEVICE_CERTIFICATE_ISSUED, DEVICE_CERTIFICATE_REVOKED];

/** One stream per device holds all its certificates, so "revoke all" is one atomic decision. */
export function deviceCertificatesStream(deviceId: string): string {
  return `deviceCertificates-${deviceId}`;
}
