import { AppError } from '../../platform/errors';
import { canonicalJson } from '../config-artefacts/config-artefact.content';

/** Defaults and limits of a command request (documented in docs/commands.md and schemas/api/device-commands.json). */
export const COMMAND_LIMITS = {
  defaultTimeoutSeconds: 60,
  defaultExpirySeconds: 24 * 3600,
  maxExpirySeconds: 30 * 24 * 3600,
  /** `params` as canonical JSON: the command travels in one MQTT message. */
  maxParamsBytes: 8 * 1024,
  /** Members a bulk command reaches at most. */
  maxBatchDevices: 1000,
} as const;

export interface CommandRequest {
  readonly name: string;
  readonly params?: Record<string, unknown>;
  readonly timeoutSeconds?: number;
  readonly expiresAt?: string;
}

export interface CheckedCommand {
  name: string;
  params: Record<string, unknown>;
  timeoutSeconds: number;
  expiresAt: string;
}

/**
 * A command request (schema-valid) with its defaults filled in and the
 * rules a schema cannot state: `expiresAt` in the future and at most
 * 30 days ahead (422), `params` at most 8 KB (413).
 */
export function checkCommandRequest(body: CommandRequest, now: Date): CheckedCommand {
  const params = body.params ?? {};
  if (Buffer.byteLength(canonicalJson(params), 'utf8') > COMMAND_LIMITS.maxParamsBytes) {
    throw new AppError('PAYLOAD_TOO_LARGE', `params is larger than ${COMMAND_LIMITS.maxParamsBytes} bytes as JSON.`, [
      { path: '/body/params', message: `must be at most ${COMMAND_LIMITS.maxParamsBytes} bytes` },
    ]);
  }
  const expiresAt = body.expiresAt === undefined ? now.getTime() + COMMAND_LIMITS.defaultExpirySeconds * 1000 : Date.parse(body.expiresAt);
  if (expiresAt <= now.getTime()) {
    throw new AppError('UNPROCESSABLE', 'expiresAt is not in the future.', [{ path: '/body/expiresAt', message: 'must be in the future' }]);
  }
  if (expiresAt > now.getTime() + COMMAND_LIMITS.maxExpirySeconds * 1000) {
    throw new AppError('UNPROCESSABLE', 'expiresAt is more than 30 days ahead.', [{ path: '/body/expiresAt', message: 'must be at most 30 days ahead' }]);
  }
  return {
    name: body.name,
    params,
    timeoutSeconds: body.timeoutSeconds ?? COMMAND_LIMITS.defaultTimeoutSeconds,
    expiresAt: new Date(expiresAt).toISOString(),
  };
}
