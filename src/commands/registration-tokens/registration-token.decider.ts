import { AppError, ConflictError, NotFoundError, UnauthenticatedError } from '../../platform/errors';
import { assertNever, type Decider } from '../decider';
import type { RegistrationTokenEvent } from './registration-token.events';

export const registrationTokenNotFound = (): NotFoundError =>
  new NotFoundError('REGISTRATION_TOKEN_NOT_FOUND', 'No registration token with this id.');
/** One answer for a malformed, unknown or forged token, so a guess learns nothing. */
export const registrationTokenInvalid = (): UnauthenticatedError =>
  new UnauthenticatedError('REGISTRATION_TOKEN_INVALID', 'The registration token is not valid.');
export const registrationTokenUsed = (): ConflictError =>
  new ConflictError('REGISTRATION_TOKEN_USED', 'The registration token has already been used; issue a new one.');

export type RegistrationTokenCommand =
  | {
      type: 'IssueRegistrationToken';
      data: { tokenId: string; deviceId: string; deviceName: string; secretHash: string; expiresAt: string; deviceCreated: boolean; now: string };
    }
  | { type: 'RedeemRegistrationToken'; data: { tokenId: string; redemptionId: string; now: string } }
  | { type: 'RevokeRegistrationToken'; data: { tokenId: string; now: string } };

interface Issued {
  readonly tokenId: string;
  readonly deviceId: string;
  readonly secretHash: string;
  readonly expiresAt: string;
}

/** Expiry is not a state: a PENDING token is refused once `now` passes `expiresAt`. */
export type RegistrationTokenState =
  | { readonly status: 'absent' }
  | (Issued & { readonly status: 'pending' })
  | (Issued & { readonly status: 'redeemed'; readonly redeemedAt: string })
  | (Issued & { readonly status: 'revoked'; readonly revokedAt: string });

/** Why the token cannot be redeemed at `now`, or undefined when it can. */
export function redeemRefusal(state: RegistrationTokenState, now: string): AppError | undefined {
  switch (state.status) {
    case 'absent':
      return registrationTokenInvalid();
    case 'pending':
      return Date.parse(now) >= Date.parse(state.expiresAt)
        ? new UnauthenticatedError('REGISTRATION_TOKEN_EXPIRED', `The registration token expired at ${state.expiresAt}; issue a new one.`)
        : undefined;
    case 'redeemed':
      return registrationTokenUsed();
    case 'revoked':
      return new UnauthenticatedError('REGISTRATION_TOKEN_REVOKED', 'The registration token has been revoked; issue a new one.');
    default:
      return assertNever(state);
  }
}

export const registrationTokenDecider: Decider<RegistrationTokenCommand, RegistrationTokenEvent, RegistrationTokenState> = {
  initialState: { status: 'absent' },

  decide(command, state) {
    switch (command.type) {
      case 'IssueRegistrationToken': {
        if (state.status !== 'absent') throw new ConflictError('CONFLICT', 'The registration token already exists.');
        const { now, ...data } = command.data;
        return [{ type: 'RegistrationTokenIssued', data: { ...data, issuedAt: now } }];
      }
      case 'RedeemRegistrationToken': {
        const refusal = redeemRefusal(state, command.data.now);
        if (refusal || state.status !== 'pending') throw refusal ?? registrationTokenInvalid();
        const { tokenId, redemptionId, now } = command.data;
        return [{ type: 'RegistrationTokenRedeemed', data: { tokenId, deviceId: state.deviceId, redemptionId, redeemedAt: now } }];
      }
      case 'RevokeRegistrationToken':
        if (state.status === 'absent') throw registrationTokenNotFound();
        if (state.status === 'revoked') return [];
        if (state.status === 'redeemed') {
          throw new ConflictError('REGISTRATION_TOKEN_USED', 'The token has been used; revoke the device’s certificate instead.');
        }
        return [{ type: 'RegistrationTokenRevoked', data: { tokenId: state.tokenId, deviceId: state.deviceId, revokedAt: command.data.now } }];
      default:
        return assertNever(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'RegistrationTokenIssued': {
        const { tokenId, deviceId, secretHash, expiresAt } = event.data;
        return { status: 'pending', tokenId, deviceId, secretHash, expiresAt };
      }
      case 'RegistrationTokenRedeemed':
        return state.status === 'pending' ? { ...state, status: 'redeemed', redeemedAt: event.data.redeemedAt } : state;
      case 'RegistrationTokenRevoked':
        return state.status === 'pending' ? { ...state, status: 'revoked', revokedAt: event.data.revokedAt } : state;
      default:
        return assertNever(event);
    }
  },
};
