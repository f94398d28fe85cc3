import { ConflictError, NotFoundError } from '../../platform/errors';
import { assertNever, type Decider } from '../decider';
import { decideRenewal, decideSupersession, type RenewalCommand } from './certificate-renewal.rules';
import type { CertificateRevocationReason, DeviceCertificateEvent, DeviceCertificateIssued } from './device-certificate.events';
import { heldCertificate, revoked, stillValid, type DeviceCertificatesState, type HeldCertificate } from './device-certificate.state';

export type { DeviceCertificatesState } from './device-certificate.state';

export const deviceCertificateNotFound = (): NotFoundError =>
  new NotFoundError('DEVICE_CERTIFICATE_NOT_FOUND', 'The device has no certificate with this serial number.');

export type DeviceCertificateCommand =
  | { type: 'RecordDeviceCertificate'; data: DeviceCertificateIssued['data'] }
  | { type: 'RevokeDeviceCertificate'; data: { deviceId: string; serialNumber: string; reason: CertificateRevocationReason; now: string } }
  | { type: 'RevokeAllDeviceCertificates'; data: { deviceId: string; reason: CertificateRevocationReason; now: string } }
  | RenewalCommand;

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
          .filter(([, held]) => stillValid(held, now))
          .map(([serialNumber]) => revoked(deviceId, serialNumber, reason, now));
      }
      case 'RenewDeviceCertificate':
        return decideRenewal(command, state);
      case 'SupersedeReplacedCertificates':
        return decideSupersession(command, state);
      default:
        return assertNever(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'DeviceCertificateIssued': {
        const certificates = state.status === 'issued' ? state.certificates : {};
        const d = event.data;
        const held: HeldCertificate = {
          notBefore: d.notBefore,
          notAfter: d.notAfter,
          issuedAt: d.issuedAt,
          revoked: false,
          ...('renewal' in d ? { renewal: d.renewal } : {}),
        };
        return { status: 'issued', deviceId: d.deviceId, certificates: { ...certificates, [d.serialNumber]: held } };
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
