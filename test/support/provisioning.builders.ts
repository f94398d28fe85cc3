import { randomUUID } from 'node:crypto';
import type { DeviceCertificateIssued, DeviceCertificateRevoked } from '../../src/commands/device-certificates/device-certificate.events';
import type { RegistrationTokenCommand } from '../../src/commands/registration-tokens/registration-token.decider';
import type {
  RegistrationTokenIssued,
  RegistrationTokenRedeemed,
  RegistrationTokenRevoked,
} from '../../src/commands/registration-tokens/registration-token.events';

/** Builders for registration-token and device-certificate deciders: issued at ISSUED_AT, expiring at EXPIRES_AT. */
export const ISSUED_AT = '2025-01-02T03:00:00.000Z';
export const BEFORE_EXPIRY = '2025-01-02T12:00:00.000Z';
export const EXPIRES_AT = '2025-01-03T03:00:00.000Z';

type IssueData = Extract<RegistrationTokenCommand, { type: 'IssueRegistrationToken' }>['data'];

export function anIssueRegistrationToken(data: Partial<IssueData> = {}): RegistrationTokenCommand {
  return {
    type: 'IssueRegistrationToken',
    data: {
      tokenId: randomUUID(),
      deviceId: randomUUID(),
      deviceName: 'gateway',
      secretHash: 'ab'.repeat(32),
      expiresAt: EXPIRES_AT,
      deviceCreated: true,
      now: ISSUED_AT,
      ...data,
    },
  };
}

export function aRedeemRegistrationToken(tokenId: string, now = BEFORE_EXPIRY, redemptionId = randomUUID()): RegistrationTokenCommand {
  return { type: 'RedeemRegistrationToken', data: { tokenId, redemptionId, now } };
}

export function aRevokeRegistrationToken(tokenId: string, now = BEFORE_EXPIRY): RegistrationTokenCommand {
  return { type: 'RevokeRegistrationToken', data: { tokenId, now } };
}

export function aRegistrationTokenIssued(data: Partial<RegistrationTokenIssued['data']> = {}): RegistrationTokenIssued {
  return {
    type: 'RegistrationTokenIssued',
    data: {
      tokenId: randomUUID(),
      deviceId: randomUUID(),
      deviceName: 'gateway',
      secretHash: 'ab'.repeat(32),
      expiresAt: EXPIRES_AT,
      deviceCreated: true,
      issuedAt: ISSUED_AT,
      ...data,
    },
  };
}

export function aRegistrationTokenRedeemed(issued: RegistrationTokenIssued, data: Partial<RegistrationTokenRedeemed['data']> = {}): RegistrationTokenRedeemed {
  const { tokenId, deviceId } = issued.data;
  return { type: 'RegistrationTokenRedeemed', data: { tokenId, deviceId, redemptionId: randomUUID(), redeemedAt: BEFORE_EXPIRY, ...data } };
}

export function aRegistrationTokenRevoked(issued: RegistrationTokenIssued, revokedAt = BEFORE_EXPIRY): RegistrationTokenRevoked {
  const { tokenId, deviceId } = issued.data;
  return { type: 'RegistrationTokenRevoked', data: { tokenId, deviceId, revokedAt } };
}

export function aDeviceCertificateIssued(data: Partial<DeviceCertificateIssued['data']> = {}): DeviceCertificateIssued {
  return {
    type: 'DeviceCertificateIssued',
    data: {
      deviceId: randomUUID(),
      serialNumber: randomUUID().replace(/-/g, ''),
      notBefore: ISSUED_AT,
      notAfter: '2025-04-02T03:00:00.000Z',
      fingerprintSha256: 'cd'.repeat(32),
      tokenId: randomUUID(),
      issuedAt: ISSUED_AT,
      ...data,
    },
  };
}

export function aDeviceCertificateRevoked(issued: DeviceCertificateIssued, data: Partial<DeviceCertificateRevoked['data']> = {}): DeviceCertificateRevoked {
  const { deviceId, serialNumber } = issued.data;
  return { type: 'DeviceCertificateRevoked', data: { deviceId, serialNumber, reason: 'UNSPECIFIED', revokedAt: BEFORE_EXPIRY, ...data } };
}
