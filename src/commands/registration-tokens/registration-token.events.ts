import type { DomainEvent } from '../decider';

/**
 * A registration token's life. Only a SHA-256 hash of the secret is ever
 * recorded; the token itself is shown once, in the response that issues it.
 * The organization is in each event's metadata, which is how provisioning
 * (which has no caller organization) learns it.
 */
export type RegistrationTokenIssued = DomainEvent<
  'RegistrationTokenIssued',
  {
    tokenId: string;
    deviceId: string;
    deviceName: string;
    secretHash: string;
    expiresAt: string;
    /** Whether issuing the token created the device (rather than naming an existing one). */
    deviceCreated: boolean;
    issuedAt: string;
  }
>;
/** `redemptionId` is fresh per attempt, so two attempts never share event ids and both "succeed" as one idempotent append. */
export type RegistrationTokenRedeemed = DomainEvent<
  'RegistrationTokenRedeemed',
  { tokenId: string; deviceId: string; redemptionId: string; redeemedAt: string }
>;
export type RegistrationTokenRevoked = DomainEvent<'RegistrationTokenRevoked', { tokenId: string; deviceId: string; revokedAt: string }>;

export type RegistrationTokenEvent = RegistrationTokenIssued | RegistrationTokenRedeemed | RegistrationTokenRevoked;

export const REGISTRATION_TOKEN_EVENT_TYPES: RegistrationTokenEvent['type'][] = [
  'RegistrationTokenIssued',
  'RegistrationTokenRedeemed',
  'RegistrationTokenRevoked',
];

export function registrationTokenStream(tokenId: string): string {
  return `registrationToken-${tokenId}`;
}
