import type { CertificateRenewal, CertificateRevocationReason, DeviceCertificateEvent } from './device-certificate.events';

export interface HeldCertificate {
  readonly notBefore: string;
  readonly notAfter: string;
  readonly issuedAt: string;
  readonly revoked: boolean;
  readonly renewal?: CertificateRenewal;
}

/** The certificates a device has been issued, by serial number. */
export type DeviceCertificatesState =
  | { readonly status: 'none' }
  | { readonly status: 'issued'; readonly deviceId: string; readonly certificates: Readonly<Record<string, HeldCertificate>> };

/** Own keys only: a serial number from a URL must not reach Object.prototype. */
export function heldCertificate(state: DeviceCertificatesState, serialNumber: string): HeldCertificate | undefined {
  if (state.status !== 'issued' || !Object.prototype.hasOwnProperty.call(state.certificates, serialNumber)) return undefined;
  return state.certificates[serialNumber];
}

/** Not revoked and not expired at `now` (ISO): it still authenticates. */
export function stillValid(held: HeldCertificate, now: string): boolean {
  return !held.revoked && Date.parse(held.notAfter) > Date.parse(now);
}

export function revoked(
  deviceId: string,
  serialNumber: string,
  reason: CertificateRevocationReason,
  now: string,
  supersededBy?: string,
): DeviceCertificateEvent {
  const data = { deviceId, serialNumber, reason, revokedAt: now };
  return { type: 'DeviceCertificateRevoked', data: supersededBy === undefined ? data : { ...data, supersededBy } };
}
