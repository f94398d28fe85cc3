import { randomUUID } from 'node:crypto';
import { apiKeyDecider } from '../src/commands/api-keys/api-key.decider';
import { spec } from './support/decider-spec';
import { aCreateApiKey, anApiKeyCreated, anApiKeyRevoked, aRevokeApiKey } from './support/api-key.builders';

const apiKey = spec(apiKeyDecider);

describe('ApiKey', () => {
  describe('when absent', () => {
    it('creates it with the lookup prefix and the hash, never a plaintext key, stamped with the command time', () => {
      const keyId = randomUUID();
      const command = aCreateApiKey({ keyId, name: 'deploy', role: 'admin', prefix: 'sk_live_abcdefghijkl', secretHash: 'cd'.repeat(32) });
      apiKey
        .given([])
        .when(command)
        .then([
          anApiKeyCreated({ keyId, name: 'deploy', role: 'admin', prefix: 'sk_live_abcdefghijkl', secretHash: 'cd'.repeat(32), createdAt: command.data.now }),
        ]);
    });

    it('keeps an expiry', () => {
      const keyId = randomUUID();
      const command = aCreateApiKey({ keyId, expiresAt: '2030-01-01T00:00:00.000Z' });
      const [event] = apiKeyDecider.decide(command, apiKeyDecider.initialState);
      expect(event).toMatchObject({ type: 'ApiKeyCreated', data: { keyId, expiresAt: '2030-01-01T00:00:00.000Z' } });
      expect(event?.data).not.toHaveProperty('now');
    });

    it('refuses a revocation with API_KEY_NOT_FOUND (404)', () => {
      apiKey.given([]).when(aRevokeApiKey()).thenThrows({ code: 'API_KEY_NOT_FOUND', status: 404 });
    });
  });

  describe('when active', () => {
    const keyId = randomUUID();
    const history = [anApiKeyCreated({ keyId })];

    it('refuses a second creation with CONFLICT (409)', () => {
      apiKey.given(history).when(aCreateApiKey({ keyId })).thenThrows({ code: 'CONFLICT', status: 409 });
    });

    it('revokes it, stamped with the command time', () => {
      apiKey
        .given(history)
        .when(aRevokeApiKey({ keyId, now: '2025-03-03T00:00:00.000Z' }))
        .then([anApiKeyRevoked({ keyId, revokedAt: '2025-03-03T00:00:00.000Z' })]);
    });
  });

  describe('when revoked', () => {
    const keyId = randomUUID();
    const history = [anApiKeyCreated({ keyId }), anApiKeyRevoked({ keyId })];

    it('decides nothing for a second revocation', () => {
      apiKey.given(history).when(aRevokeApiKey({ keyId })).then([]);
    });

    it('refuses a creation with CONFLICT (409): a revoked key id is never reused', () => {
      apiKey.given(history).when(aCreateApiKey({ keyId })).thenThrows({ code: 'CONFLICT', status: 409 });
    });
  });
});
