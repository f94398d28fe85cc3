import { randomUUID } from 'node:crypto';
import type { EventStore } from '../../platform/event-store/event-store.port';
import { handleCommand, type CommandResult } from '../command-handler';
import type { CommandContext } from '../decider';
import type { Role } from '../roles';
import { apiKeyDecider, apiKeyNotFound } from './api-key.decider';
import { apiKeyStream, type ApiKeyEvent } from './api-key.events';
import { generateApiKey, type ApiKeyMode } from './api-key.secret';

export interface CreateApiKeyInput {
  readonly name: string;
  readonly role: Role;
  readonly mode?: ApiKeyMode;
  readonly expiresAt?: string | null;
}

export interface CreatedApiKey {
  readonly keyId: string;
  /** Shown once; nothing stores it. */
  readonly apiKey: string;
  readonly prefix: string;
  readonly result: CommandResult<ApiKeyEvent>;
}

export async function createApiKey(store: EventStore, context: CommandContext, input: CreateApiKeyInput, now = new Date()): Promise<CreatedApiKey> {
  const keyId = randomUUID();
  const key = generateApiKey(input.mode ?? 'live');
  const result = await handleCommand(
    store,
    apiKeyDecider,
    apiKeyStream(keyId),
    {
      type: 'CreateApiKey',
      data: {
        keyId,
        name: input.name,
        role: input.role,
        prefix: key.prefix,
        secretHash: key.secretHash,
        expiresAt: input.expiresAt ?? null,
        now: now.toISOString(),
      },
    },
    context,
  );
  return { keyId, apiKey: key.plaintext, prefix: key.prefix, result };
}

export function revokeApiKey(store: EventStore, context: CommandContext, keyId: string, now = new Date()): Promise<CommandResult<ApiKeyEvent>> {
  return handleCommand(store, apiKeyDecider, apiKeyStream(keyId), { type: 'RevokeApiKey', data: { keyId, now: now.toISOString() } }, context, {
    notFound: apiKeyNotFound,
  });
}
