import { AppError, ConflictError, NotFoundError } from '../../platform/errors';
import type { DeviceCertificateEvent } from './device-certificate.events';
import { heldCertificate, revoked, stillValid, type DeviceCertificatesState, type HeldCertificate } from './device-certificate.state';

/** A device may start a new renewal this long after its last one; repeating the pending request is always answered. */
export const RENEWAL_MIN_INTERVAL_MS = 10 * 60 * 1000;

export interface RenewedCertificate {
  readonly serialNumber: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly fingerprintSha256: string;
  readonly certificatePem: string;
}

export type RenewalCommand =
  | { type: 'RenewDeviceCertificate'; data: { deviceId: string; requestId: string; certificate: RenewedCertificate; now: string } }
  | { type: 'SupersedeReplacedCertificates'; data: { deviceId: string; serialNumber: string; now: string } };

type Entry = readonly [serialNumber: string, held: HeldCertificate];

function entries(state: DeviceCertificatesState): Entry[] {
  return state.status === 'issued' ? Object.entries(state.certificates) : [];
}

/** The certificate issued for this renewal request, if any. */
export function renewalFor(state: DeviceCertificatesState, requestId: string): Entry | undefined {
  return entries(state).find(([, held]) => held.renewal?.requestId === requestId);
}

/** Valid renewal certificates some of whose replaced certificates still authenticate: not yet used, grace not over. */
export function pendingRenewals(state: DeviceCertificatesState, now: string): Entry[] {
  return entries(state).filter(
    ([, held]) =>
      stillValid(held, now) &&
      (held.renewal?.replaces ?? []).some((serial) => {
        const replaced = heldCertificate(state, serial);
        return replaced !== undefined && stillValid(replaced, now);
      }),
  );
}

/**
 * Why a renewal cannot be issued now; undefined when it can or when it repeats
 * an answered request. The handler asks before signing, so a refused request
 * costs no signature.
 */
export function renewalRefusal(state: DeviceCertificatesState, requestId: string, now: string): AppError | undefined {
  const earlier = renewalFor(state, requestId);
  if (earlier) {
    return earlier[1].revoked ? new ConflictError('CONFLICT', 'The certificate issued for this requestId has been revoked; send a new request.') : undefined;
  }
  if (!entries(state).some(([, held]) => stillValid(held, now))) {
    return new NotFoundError('DEVICE_CERTIFICATE_NOT_FOUND', 'The device has no valid certificate to renew.');
  }
  const latest = Math.max(...pendingRenewals(state, now).map(([, held]) => Date.parse(held.issuedAt)));
  const allowedAt = latest + RENEWAL_MIN_INTERVAL_MS;
  if (allowedAt > Date.parse(now)) {
    return new AppError('CERTIFICATE_RENEWAL_TOO_SOON', 'A renewal is pending: repeat its requestId, or send a new request later.', [], {
      retryAfterSeconds: Math.ceil((allowedAt - Date.parse(now)) / 1000),
    });
  }
  return undefined;
}

/**
 * A new certificate replacing every valid certificate except pending renewals,
 * which it supersedes at once: a device has at most one renewal in flight.
 */
export function decideRenewal(command: Extract<RenewalCommand, { type: 'RenewDeviceCertificate' }>, state: DeviceCertificatesState): DeviceCertificateEvent[] {
  const { deviceId, requestId, certificate, now } = command.data;
  const refusal = renewalRefusal(state, requestId, now);
  if (refusal) throw refusal;
  if (renewalFor(state, requestId)) return [];
  const pending = new Set(pendingRenewals(state, now).map(([serial]) => serial));
  const replaces = entries(state)
    .filter(([serial, held]) => stillValid(held, now) && !pending.has(serial))
    .map(([serial]) => serial);
  const { certificatePem, ...identity } = certificate;
  return [
    ...[...pending].map((serial) => revoked(deviceId, serial, 'SUPERSEDED', now, certificate.serialNumber)),
    { type: 'DeviceCertificateIssued', data: { deviceId, ...identity, issuedAt: now, renewal: { requestId, replaces, certificatePem } } },
  ];
}

/** The renewal certificate is in use (or its grace period is over): what it replaces is revoked. */
export function decideSupersession(
  command: Extract<RenewalCommand, { type: 'SupersedeReplacedCertificates' }>,
  state: DeviceCertificatesState,
): DeviceCertificateEvent[] {
  const { deviceId, serialNumber, now } = command.data;
  const renewal = heldCertificate(state, serialNumber);
  // A revoked renewal must not take the device's working certificate with it.
  if (renewal?.renewal === undefined || renewal.revoked) return [];
  return renewal.renewal.replaces
    .filter((serial) => {
      const replaced = heldCertificate(state, serial);
      return replaced !== undefined && stillValid(replaced, now);
    })
    .map((serial) => revoked(deviceId, serial, 'SUPERSEDED', now, serialNumber));
}
