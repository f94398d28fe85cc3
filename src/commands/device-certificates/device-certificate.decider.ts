import { ConflictError, NotFoundError } from '../../platform/errors';
import { assertNever, type Decider } from '../decider';
import type { CertificateRevocationReason, DeviceCertificateEvent, DeviceCertificateIssued } from './device-certificate.events';

export const deviceCertificateNotFound = (): NotFoundError =>
  new NotFoundError('DEVICE_CERTIFICATE_NOT_FOUND', 'The device has no certificate with this serial number.');

export type DeviceCertificateCommand =
  | { type: 'RecordDeviceCertificate'; data: DeviceCertificateIssued['data'] }
  | { type: 'RevokeDeviceCertificate'; data: { deviceId: string; serialNumber: string; reason: CertificateRevocationReason; now: string } }
  | { type: 'RevokeAllDeviceCertificates'; data: { deviceId: string; reason: CertificateRevocationReason; now: string } };

interface Held {
  readonly notAfter: string;
  readonly revoked: boolean;
}

/** The certificates a device has been issued, by serial number. */
export type DeviceCertificatesState =
  | { readonly status: 'none' }
  | { readonly status: 'issued'; readonly deviceId: string; readonly certificates: Readonly<Record<string, Held>> };

/** Own keys only: a serial number from a URL must not reach Object.prototype. */
function heldCertificate(state: DeviceCertificatesState, serialNumber: string): Held | undefined {
  if (state.status !== 'issued' || !Object.prototype.hasOwnProperty.call(state.certificates, serialNumber)) return undefined;
  return state.certificates[serialNumber];
}

function revoked(deviceId: string, serialNumber: string, reason: CertificateRevocationReason, now: string): DeviceCertificateEvent {
  return { type: 'DeviceCertificateRevoked', data: { deviceId, serialNumber, reason, revokedAt: now } };
}

export const deviceCertificateDecider: Decider<DeviceCertificateCommand, DeviceCertificateEvent, DeviceCertificatesState> = {
  initialState: { status: 'none' },

  decide(command, state) {
    switch (command.type) {
      case 'RecordDeviceCertificate':
        if (heldCertificate(state, command.data.serialNumber)) {
          throw new ConflictError('CONFLICT', 'A certificate with this serial number is already recorded.');
        }
        return [{ type: 'DeviceCertificateIssued', data: command.data }];
      case 'RevokeDeviceCertificate': {
        const { deviceId, serialNumber, reason, now } = command.data;
        const held = heldCertificate(state, serialNumber);
        if (!held) throw deviceCertificateNotFound();
        // Revoking twice changes nothing: the first revocation (and its reason) stands.
        return held.revoked ? [] : [revoked(deviceId, serialNumber, reason, now)];
      }
      case 'RevokeAllDeviceCertificates': {
        if (state.status === 'none') return [];
        const { deviceId, reason, now } = command.data;
        // Expired certificates no longer authenticate; listing them in the CRL would only grow it.
        return Object.entries(state.certificates)
          .filter(([, held]) => !held.revoked && Date.parse(held.notAfter) > Date.parse(now))
          .map(([serialNumber]) => revoked(deviceId, serialNumber, reason, now));
      }
      default:
        return assertNever(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'DeviceCertificateIssued': {
        const certificates = state.status === 'issued' ? state.certificates : {};
        const held: Held = { notAfter: event.data.notAfter, revoked: false };
        return { status: 'issued', deviceId: event.data.deviceId, certificates: { ...certificates, [event.data.serialNumber]: held } };
      }
      case 'DeviceCertificateRevoked': {
        const held = heldCertificate(state, event.data.serialNumber);
        if (state.status !== 'issued' || !held) return state;
        return { ...state, certificates: { ...state.certificates, [event.data.serialNumber]: { ...held, revoked: true } } };
      }
      default:
        return assertNever(event);
    }
  },
};
