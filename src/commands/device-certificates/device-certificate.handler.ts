import type { EventStore } from '../../platform/event-store/event-store.port';
import { handleCommand, type CommandResult } from '../command-handler';
import type { CommandContext } from '../decider';
import { deviceCertificateDecider, deviceCertificateNotFound, type DeviceCertificateCommand } from './device-certificate.decider';
import {
  deviceCertificatesStream,
  type CertificateRevocationReason,
  type DeviceCertificateEvent,
  type DeviceCertificateIssued,
} from './device-certificate.events';

// Certificates of one device share a stream; these decisions stay right on a newer state, so a concurrent write is retried.
const RETRIES = 3;

/** Every command on a device's certificates goes through here: one stream, bounded retries, one 404. */
export function decideCertificates(
  store: EventStore,
  context: CommandContext,
  deviceId: string,
  command: DeviceCertificateCommand,
): Promise<CommandResult<DeviceCertificateEvent>> {
  return handleCommand(store, deviceCertificateDecider, deviceCertificatesStream(deviceId), command, context, {
    retries: RETRIES,
    notFound: deviceCertificateNotFound,
  });
}

export function recordDeviceCertificate(
  store: EventStore,
  context: CommandContext,
  issued: DeviceCertificateIssued['data'],
): Promise<CommandResult<DeviceCertificateEvent>> {
  return decideCertificates(store, context, issued.deviceId, { type: 'RecordDeviceCertificate', data: issued });
}

export function revokeDeviceCertificate(
  store: EventStore,
  context: CommandContext,
  revocation: { deviceId: string; serialNumber: string; reason: CertificateRevocationReason },
  now = new Date(),
): Promise<CommandResult<DeviceCertificateEvent>> {
  return decideCertificates(store, context, revocation.deviceId, { type: 'RevokeDeviceCertificate', data: { ...revocation, now: now.toISOString() } });
}

/** Revokes every certificate of the device still valid at `now`; nothing when there is none. */
export function revokeAllDeviceCertificates(
  store: EventStore,
  context: CommandContext,
  deviceId: string,
  reason: CertificateRevocationReason,
  now = new Date(),
): Promise<CommandResult<DeviceCertificateEvent>> {
  return decideCertificates(store, context, deviceId, { type: 'RevokeAllDeviceCertificates', data: { deviceId, reason, now: now.toISOString() } });
}
