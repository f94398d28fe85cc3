/** A command as the platform sends it (schemas/mqtt/command.json). */
interface Command {
  readonly commandId: string;
  readonly name: string;
  readonly params: Record<string, unknown>;
  readonly expiresAt: string;
}

export type CommandAck =
  | { readonly status: 'ACKNOWLEDGED' }
  | { readonly status: 'SUCCEEDED'; readonly result: Record<string, unknown> }
  | { readonly status: 'FAILED'; readonly error: { readonly code: string; readonly message: string } };

const COMMAND_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function asCommand(value: unknown): Command | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { commandId, name, params, expiresAt } = value as Record<string, unknown>;
  if (typeof commandId !== 'string' || !COMMAND_ID.test(commandId) || typeof name !== 'string' || typeof expiresAt !== 'string') return undefined;
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return undefined;
  return { commandId, name, params: params as Record<string, unknown>, expiresAt };
}

/**
 * What a simulated device answers, in order: ACKNOWLEDGED on receipt, then
 * SUCCEEDED echoing the command (the simulator has nothing to execute), or
 * FAILED with EXPIRED past expiresAt. Undefined for a message without a
 * readable commandId: there is no topic to answer it on.
 */
export function answerCommand(value: unknown, now: Date): { commandId: string; acks: CommandAck[] } | undefined {
  const command = asCommand(value);
  if (!command) return undefined;
  const expiresAt = Date.parse(command.expiresAt);
  if (Number.isNaN(expiresAt) || expiresAt <= now.getTime()) {
    return { commandId: command.commandId, acks: [{ status: 'FAILED', error: { code: 'EXPIRED', message: `The command expired at ${command.expiresAt}.` } }] };
  }
  return {
    commandId: command.commandId,
    acks: [{ status: 'ACKNOWLEDGED' }, { status: 'SUCCEEDED', result: { name: command.name, params: command.params, simulated: true } }],
  };
}
