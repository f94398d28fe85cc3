import { randomUUID } from 'node:crypto';
import type { CommandContext } from '../../src/commands/decider';

/** A caller in a fresh organization, with a fresh correlation id. */
export function aCommandContext(overrides: Partial<CommandContext> = {}): CommandContext {
  return { orgId: randomUUID(), actor: `apiKey:${randomUUID()}`, correlationId: randomUUID(), ...overrides };
}
