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

/**
 * A renewal requested by the device over MQTT (docs/mqtt.md). The new
 * certificate replaces the ones valid when it was issued: they are revoked
 * (SUPERSEDED) at its first use or when the grace period ends. Its PEM is
 * kept (a certificate is public) so a repeated request gets the same answer.
 */
export interface CertificateRenewal {
  readonly requestId: string;
  readonly replaces: readonly string[];
  readonly certificatePem: string;
}

interface IssuedCertificateData {
  deviceId: string;
  /** Lowercase hex, as openssl, the CRL and the broker show it. */
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  /** SHA-256 of the DER certificate, lowercase hex. */
  fingerprintSha256: string;
  issuedAt: string;
}

/**
 * Issued against a registration token (provisioning), or as a renewal. Apart
 * from renewals the certificate itself is not recorded (the device holds it);
 * its serial and fingerprint identify it.
 */
export type DeviceCertificateIssued = DomainEvent<
  typeof DEVICE_CERTIFICATE_ISSUED,
  IssuedCertificateData & ({ tokenId: string } | { renewal: CertificateRenewal })
>;
export type DeviceCertificateRevoked = DomainEvent<
  typeof DEVICE_CERTIFICATE_REVOKED,
  {
    deviceId: string;
    serialNumber: string;
    reason: CertificateRevocationReason;
    revokedAt: string;
    /** For SUPERSEDED: the renewal certificate that replaced it. */
    supersededBy?: string;
  }
>;
export type DeviceCertificateEvent = DeviceCertificateIssued | DeviceCertificateRevoked;

export const DEVICE_CERTIFICATE_EVENT_TYPES: DeviceCertificateEvent['type'][] = [DEVICE_CERTIFICATE_ISSUED, DEVICE_CERTIFICATE_REVOKED];

/** One stream per device holds all its certificates, so "revoke all" is one atomic decision. */
export function deviceCertificatesStream(deviceId: string): string {
  return `deviceCertificates-${deviceId}`;
}
