import type { EventStore, Position } from '../../platform/event-store/event-store.port';
import { issueDeviceCertificate } from '../../platform/pki/certificate-issuer';
import { checkCsr } from '../../platform/pki/csr';
import type { DeviceCa } from '../../platform/pki/device-ca';
import type { CommandResult } from '../command-handler';
import type { CommandContext } from '../decider';
import { assertDeviceProvisionable } from '../devices/device-activation.handler';
import { renewalFor, renewalRefusal, type RenewedCertificate } from './certificate-renewal.rules';
import { deviceCertificateDecider, deviceCertificateNotFound, type DeviceCertificatesState } from './device-certificate.decider';
import { decideCertificates, revokeDeviceCertificate } from './device-certificate.handler';
import { deviceCertificatesStream, type DeviceCertificateEvent } from './device-certificate.events';
import { fingerprintSha256 } from './provision-device.handler';

export interface RenewalDeps {
  readonly store: EventStore;
  readonly ca: DeviceCa;
  readonly validityDays: number;
}

export interface RenewalInput {
  /** From the topic: the broker lets a device publish only under its own certificate's CN. */
  readonly deviceId: string;
  readonly requestId: string;
  readonly csr: string;
  readonly correlationId: string;
}

export interface Renewal {
  readonly orgId: string;
  readonly certificate: RenewedCertificate;
  /** false when the request repeated an answered one and got the same certificate again. */
  readonly issued: boolean;
  readonly position: Position | undefined;
}

async function loadCertificates(store: EventStore, deviceId: string): Promise<{ orgId: string; state: DeviceCertificatesState } | undefined> {
  const history = await store.readStream(deviceCertificatesStream(deviceId));
  const orgId = history[0]?.metadata.orgId;
  if (!orgId) return undefined;
  const state = history.reduce(
    (s, e) => deviceCertificateDecider.evolve(s, { type: e.type, data: e.data } as DeviceCertificateEvent),
    deviceCertificateDecider.initialState,
  );
  return { orgId, state };
}

function answered(state: DeviceCertificatesState, requestId: string): RenewedCertificate | undefined {
  const [serialNumber, held] = renewalFor(state, requestId) ?? [];
  if (serialNumber === undefined || held?.renewal === undefined) return undefined;
  const { certificatePem } = held.renewal;
  return { serialNumber, certificatePem, notBefore: held.notBefore, notAfter: held.notAfter, fingerprintSha256: fingerprintSha256(certificatePem) };
}

/**
 * Signs a new certificate for a device that asked with a CSR, authenticated
 * by the certificate it is connected with. The organization comes from the
 * device's own certificate events. Every refusal comes before the signature;
 * a device decommissioned while this ran has the new certificate revoked
 * before the refusal is answered, as provisioning does.
 */
export async function renewDeviceCertificate(deps: RenewalDeps, input: RenewalInput, now = new Date()): Promise<Renewal> {
  const loaded = await loadCertificates(deps.store, input.deviceId);
  if (!loaded) throw deviceCertificateNotFound();
  const { orgId, state } = loaded;
  const refusal = renewalRefusal(state, input.requestId, now.toISOString());
  if (refusal) throw refusal;
  const repeated = answered(state, input.requestId);
  if (repeated) return { orgId, certificate: repeated, issued: false, position: undefined };

  const csr = await checkCsr(input.csr);
  await assertDeviceProvisionable(deps.store, orgId, input.deviceId);
  const signed = await issueDeviceCertificate(deps.ca, { publicKey: csr.publicKey, deviceId: input.deviceId, orgId, validityDays: deps.validityDays, now });
  const certificate: RenewedCertificate = { ...signed, fingerprintSha256: fingerprintSha256(signed.certificatePem) };
  const context: CommandContext = { orgId, actor: `device:${input.deviceId}`, correlationId: input.correlationId };
  const result = await decideCertificates(deps.store, context, input.deviceId, {
    type: 'RenewDeviceCertificate',
    data: { deviceId: input.deviceId, requestId: input.requestId, certificate, now: now.toISOString() },
  });
  if (result.events.length === 0) {
    // The same request won a race with this one: answer with its certificate; this signature is never handed out.
    const winner = await loadCertificates(deps.store, input.deviceId);
    const theirs = winner && answered(winner.state, input.requestId);
    if (!theirs) throw deviceCertificateNotFound();
    return { orgId, certificate: theirs, issued: false, position: undefined };
  }
  await withdrawIfDecommissioned(deps.store, context, input.deviceId, certificate.serialNumber, now);
  return { orgId, certificate, issued: true, position: result.position };
}

async function withdrawIfDecommissioned(
  store: EventStore,
  context: CommandContext,
  deviceId: string,
  serialNumber: string,
  now: Date,
): Promise<void> {
  try {
    await assertDeviceProvisionable(store, context.orgId, deviceId);
  } catch (error) {
    await revokeDeviceCertificate(store, context, { deviceId, serialNumber, reason: 'CESSATION_OF_OPERATION' }, now);
    throw error;
  }
}

/** Revokes what a renewal certificate replaces: at its first use, or when its grace period is over. */
export function supersedeReplacedCertificates(
  store: EventStore,
  context: CommandContext,
  deviceId: string,
  serialNumber: string,
  now = new Date(),
): Promise<CommandResult<DeviceCertificateEvent>> {
  return decideCertificates(store, context, deviceId, { type: 'SupersedeReplacedCertificates', data: { deviceId, serialNumber, now: now.toISOString() } });
}
