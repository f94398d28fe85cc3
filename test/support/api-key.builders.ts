import { randomUUID } from 'node:crypto';
import type { ApiKeyCommand } from '../../src/commands/api-keys/api-key.decider';
import type { ApiKeyCreated, ApiKeyRevoked } from '../../src/commands/api-keys/api-key.events';

const AT = '2025-01-02T03:04:05.000Z';

type CreateApiKeyData = Extract<ApiKeyCommand, { type: 'CreateApiKey' }>['data'];

export function aCreateApiKey(data: Partial<CreateApiKeyData> = {}): ApiKeyCommand {
  return {
    type: 'CreateApiKey',
    data: {
      keyId: randomUUID(),
      name: 'ci key',
      role: 'member',
      prefix: `sk_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`,
      secretHash: 'ab'.repeat(32),
      expiresAt: null,
      now: AT,
      ...data,
    },
  };
}

export function aRevokeApiKey(data: Partial<{ keyId: string; now: string }> = {}): ApiKeyCommand {
  return { type: 'RevokeApiKey', data: { keyId: randomUUID(), now: AT, ...data } };
}

/** The event a CreateApiKey with the same data decides. */
export function anApiKeyCreated(data: Partial<ApiKeyCreated['data']> = {}): ApiKeyCreated {
  return {
    type: 'ApiKeyCreated',
    data: {
      keyId: randomUUID(),
      name: 'ci key',
      role: 'member',
      prefix: `sk_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`,
      secretHash: 'ab'.repeat(32),
      expiresAt: null,
      createdAt: AT,
      ...data,
    },
  };
}

export function anApiKeyRevoked(data: Partial<ApiKeyRevoked['data']> = {}): ApiKeyRevoked {
  return { type: 'ApiKeyRevoked', data: { keyId: randomUUID(), revokedAt: AT, ...data } };
}
