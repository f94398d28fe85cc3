import { ConflictError, NotFoundError } from '../../platform/errors';
import { assertNever, type Decider } from '../decider';
import type { Role } from '../roles';
import type { ApiKeyEvent } from './api-key.events';

/** The one 404 for a key: a missing key and another organization's key must answer alike. */
export const apiKeyNotFound = (): NotFoundError => new NotFoundError('API_KEY_NOT_FOUND', 'No API key with this id.');

export type ApiKeyCommand =
  | {
      type: 'CreateApiKey';
      data: { keyId: string; name: string; role: Role; prefix: string; secretHash: string; expiresAt: string | null; now: string };
    }
  | { type: 'RevokeApiKey'; data: { keyId: string; now: string } };

export type ApiKeyState = { status: 'absent' } | { status: 'active'; keyId: string } | { status: 'revoked'; keyId: string };

export const apiKeyDecider: Decider<ApiKeyCommand, ApiKeyEvent, ApiKeyState> = {
  initialState: { status: 'absent' },

  decide(command, state) {
    switch (command.type) {
      case 'CreateApiKey': {
        if (state.status !== 'absent') throw new ConflictError('CONFLICT', 'The API key already exists.');
        const { now, ...data } = command.data;
        return [{ type: 'ApiKeyCreated', data: { ...data, createdAt: now } }];
      }
      case 'RevokeApiKey':
        if (state.status === 'absent') throw apiKeyNotFound();
        if (state.status === 'revoked') return [];
        return [{ type: 'ApiKeyRevoked', data: { keyId: command.data.keyId, revokedAt: command.data.now } }];
      default:
        return assertNever(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'ApiKeyCreated':
        return { status: 'active', keyId: event.data.keyId };
      case 'ApiKeyRevoked':
        return state.status === 'absent' ? state : { status: 'revoked', keyId: state.keyId };
      default:
        return assertNever(event);
    }
  },
};
