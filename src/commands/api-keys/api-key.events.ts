import type { Role } from '../roles';
import type { DomainEvent } from '../decider';

/** Only the lookup prefix and a hash of the key are recorded, never the key. */
export type ApiKeyCreated = DomainEvent<
  'ApiKeyCreated',
  { keyId: string; name: string; role: Role; prefix: string; secretHash: string; expiresAt: string | null; createdAt: string }
>;
export type ApiKeyRevoked = DomainEvent<'ApiKeyRevoked', { keyId: string; revokedAt: string }>;
export type ApiKeyEvent = ApiKeyCreated | ApiKeyRevoked;

export const API_KEY_EVENT_TYPES: ApiKeyEvent['type'][] = ['ApiKeyCreated', 'ApiKeyRevoked'];

export function apiKeyStream(keyId: string): string {
  return `apiKey-${keyId}`;
}
