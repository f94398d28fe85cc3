import type { EventStore } from '../../platform/event-store/event-store.port';
import { handleCommand, type CommandResult } from '../command-handler';
import type { CommandContext } from '../decider';
import { deviceCertificateDecider, deviceCertificateNotFound } from './device-certificate.decider';
import {
  deviceCertificatesStream,
  type CertificateRevocationReason,
  type DeviceCertificateEvent,
  type DeviceCertificateIssued,
} from './device-certificate.events';

// Certificates of one device share a stream; these decisions stay right on a newer state, so a concurrent write is retried.
const RETRIES = 3;

export function recordDeviceCertificate(
  store: EventStore,
  context: CommandContext,
  issued: DeviceCertificateIssued['data'],
): Promise<CommandResult<DeviceCertificateEvent>> {
  return handleCommand(
    store,
    deviceCertificateDecider,
    deviceCertificatesStream(issued.deviceId),
    { type: 'RecordDeviceCertificate', data: issued },
    context,
    { retries: RETRIES },
  );
}

export function revokeDeviceCertificate(
  store: EventStore,
  context: CommandContext,
  revocation: { deviceId: string; serialNumber: string; reason: CertificateRevocationReason },
  now = new Date(),
): Promise<CommandResult<DeviceCertificateEvent>> {
  return handleCommand(
    store,
    deviceCertificateDecider,
    deviceCertificatesStream(revocation.deviceId),
    { type: 'RevokeDeviceCertificate', data: { ...revocation, now: now.toISOString() } },
    context,
    { retries: RETRIES, notFound: deviceCertificateNotFound },
  );
}

/** Revokes every certificate of the device still valid at `now`; nothing when there is none. */
export function revokeAllDeviceCertificates(
  store: EventStore,
  context: CommandContext,
  deviceId: string,
  reason: CertificateRevocationReason,
  now = new Date(),
): Promise<CommandResult<DeviceCertificateEvent>> {
  return handleCommand(
    store,
    deviceCertificateDecider,
    deviceCertificatesStream(deviceId),
    { type: 'RevokeAllDeviceCertificates', data: { deviceId, reason, now: now.toISOString() } },
    context,
    { retries: RETRIES, notFound: deviceCertificateNotFound },
  );
}
