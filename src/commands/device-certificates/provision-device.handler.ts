import { X509Certificate, createHash } from 'node:crypto';
import { AppError } from '../../platform/errors';
import type { EventStore, Position } from '../../platform/event-store/event-store.port';
import { issueDeviceCertificate, type IssuedCertificate } from '../../platform/pki/certificate-issuer';
import { checkCsr } from '../../platform/pki/csr';
import type { DeviceCa } from '../../platform/pki/device-ca';
import type { CommandContext, DomainEvent } from '../decider';
import { activateProvisionedDevice, assertDeviceProvisionable } from '../devices/device-activation.handler';
import { redeemRefusal, registrationTokenInvalid } from '../registration-tokens/registration-token.decider';
import { loadRegistrationToken, redeemRegistrationToken } from '../registration-tokens/registration-token.handler';
import { parseRegistrationToken, registrationSecretMatches } from '../registration-tokens/registration-token.secret';
import { recordDeviceCertificate, revokeDeviceCertificate } from './device-certificate.handler';

export interface ProvisioningDeps {
  readonly store: EventStore;
  readonly ca: DeviceCa;
  readonly validityDays: number;
}

export interface ProvisionedDevice {
  readonly deviceId: string;
  readonly orgId: string;
  readonly certificate: IssuedCertificate;
  /**
   * Each append, for read-your-writes: waited on one by one, since a
   * projection is only sure to reach the position of its own events.
   */
  readonly appended: readonly { readonly events: readonly DomainEvent[]; readonly position: Position | undefined }[];
}

/**
 * Exchanges a registration token and a CSR for a device certificate. Every
 * refusal that does not need the token spent (forged, used, expired, revoked
 * token; bad CSR; decommissioned device) comes before the redemption. The
 * redemption is the one decision that can be won only once; the certificate
 * is signed after it, so a losing attempt never gets one. The organization
 * is the token's own, from its events: nothing the caller sends chooses it.
 */
export async function provisionDevice(
  deps: ProvisioningDeps,
  input: { token: string; csr: string; correlationId: string },
  now = new Date(),
): Promise<ProvisionedDevice> {
  const parsed = parseRegistrationToken(input.token);
  if (!parsed) throw registrationTokenInvalid();
  const loaded = await loadRegistrationToken(deps.store, parsed.tokenId);
  if (!loaded || loaded.state.status === 'absent') throw registrationTokenInvalid();
  const { state, orgId } = loaded;
  if (!registrationSecretMatches(parsed.secret, state.secretHash) || state.deviceId !== parsed.deviceId) throw registrationTokenInvalid();
  const refusal = redeemRefusal(state, now.toISOString());
  if (refusal) throw refusal;

  const csr = await checkCsr(input.csr);
  const deviceId = state.deviceId;
  await assertDeviceProvisionable(deps.store, orgId, deviceId);
  const context: CommandContext = { orgId, actor: `device:${deviceId}`, correlationId: input.correlationId };

  const redeemed = await redeemRegistrationToken(deps.store, context, parsed.tokenId, now);
  const certificate = await issueDeviceCertificate(deps.ca, { publicKey: csr.publicKey, deviceId, orgId, validityDays: deps.validityDays, now });
  const recorded = await recordDeviceCertificate(deps.store, context, {
    deviceId,
    serialNumber: certificate.serialNumber,
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    fingerprintSha256: fingerprintSha256(certificate.certificatePem),
    tokenId: parsed.tokenId,
    issuedAt: now.toISOString(),
  });
  const activated = await activateOrWithdraw(deps.store, context, deviceId, certificate.serialNumber, now);
  return {
    deviceId,
    orgId,
    certificate,
    appended: [redeemed, recorded, activated],
  };
}

/**
 * A device decommissioned between the check above and now must not keep the
 * certificate just recorded: it is revoked before the refusal is answered
 * (the decommission's own revocation may have run before it was recorded).
 */
async function activateOrWithdraw(store: EventStore, context: CommandContext, deviceId: string, serialNumber: string, now: Date) {
  try {
    return await activateProvisionedDevice(store, context, deviceId, now);
  } catch (error) {
    if (error instanceof AppError && (error.code === 'DEVICE_DECOMMISSIONED' || error.code === 'DEVICE_NOT_FOUND')) {
      await revokeDeviceCertificate(store, context, { deviceId, serialNumber, reason: 'CESSATION_OF_OPERATION' }, now);
    }
    throw error;
  }
}

export function fingerprintSha256(certificatePem: string): string {
  return createHash('sha256').update(new X509Certificate(certificatePem).raw).digest('hex');
}
