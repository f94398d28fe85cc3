import type { DomainEvent } from '../decider';

/**
 * A command to one device and its life (docs/commands.md):
 * QUEUED → SENT → ACKNOWLEDGED → SUCCEEDED | FAILED, or TIMED_OUT, EXPIRED, CANCELLED.
 * Every event carries the command id, so a projection needs no stream name parsing.
 */
export type CommandStatus = 'QUEUED' | 'SENT' | 'ACKNOWLEDGED' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'EXPIRED' | 'CANCELLED';
export type FinalCommandStatus = Exclude<CommandStatus, 'QUEUED' | 'SENT' | 'ACKNOWLEDGED'>;

export const COMMAND_STATUSES: readonly CommandStatus[] = ['QUEUED', 'SENT', 'ACKNOWLEDGED', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'EXPIRED', 'CANCELLED'];

export interface CommandError {
  readonly code: string;
  readonly message: string;
}

export type CommandQueued = DomainEvent<
  'CommandQueued',
  {
    id: string;
    deviceId: string;
    name: string;
    params: Record<string, unknown>;
    timeoutSeconds: number;
    expiresAt: string;
    queuedAt: string;
    /** The bulk command (command-batch stream) it was created for, or null. */
    batchId: string | null;
  }
>;
export type CommandSent = DomainEvent<'CommandSent', { id: string; at: string }>;
export type CommandAcknowledged = DomainEvent<'CommandAcknowledged', { id: string; at: string }>;
export type CommandSucceeded = DomainEvent<'CommandSucceeded', { id: string; at: string; result: Record<string, unknown> | null }>;
export type CommandFailed = DomainEvent<'CommandFailed', { id: string; at: string; error: CommandError }>;
export type CommandTimedOut = DomainEvent<'CommandTimedOut', { id: string; at: string }>;
export type CommandExpired = DomainEvent<'CommandExpired', { id: string; at: string }>;
export type CommandCancelled = DomainEvent<'CommandCancelled', { id: string; at: string }>;

export type DeviceCommandEvent =
  | CommandQueued
  | CommandSent
  | CommandAcknowledged
  | CommandSucceeded
  | CommandFailed
  | CommandTimedOut
  | CommandExpired
  | CommandCancelled;

export const DEVICE_COMMAND_EVENT_TYPES: readonly DeviceCommandEvent['type'][] = [
  'CommandQueued',
  'CommandSent',
  'CommandAcknowledged',
  'CommandSucceeded',
  'CommandFailed',
  'CommandTimedOut',
  'CommandExpired',
  'CommandCancelled',
];

export function deviceCommandStream(id: string): string {
  return `device-command-${id}`;
}
