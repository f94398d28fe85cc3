import { ConflictError, NotFoundError } from '../../platform/errors';
import { canonicalJson } from '../config-artefacts/config-artefact.content';
import { assertNever, type Decider } from '../decider';
import type { CommandError, DeviceCommandEvent, FinalCommandStatus } from './device-command.events';

/** What a command is, as the API accepted it (times as ISO strings). */
export interface QueuedCommandFields {
  id: string;
  deviceId: string;
  name: string;
  params: Record<string, unknown>;
  timeoutSeconds: number;
  expiresAt: string;
  batchId: string | null;
}

/** A device's answer on …/commands/{id}/ack (schemas/mqtt/command-ack.json). */
export type CommandAnswer =
  | { status: 'ACKNOWLEDGED' }
  | { status: 'SUCCEEDED'; result?: Record<string, unknown> }
  | { status: 'FAILED'; error: CommandError };

export type DeviceCommandCommand =
  | { type: 'QueueCommand'; data: QueuedCommandFields & { now: string } }
  | { type: 'SendCommand'; data: { now: string } }
  | { type: 'RecordCommandAnswer'; data: { deviceId: string; answer: CommandAnswer; now: string } }
  | { type: 'TimeOutCommand'; data: { now: string } }
  | { type: 'ExpireCommand'; data: { now: string } }
  | { type: 'CancelCommand'; data: { now: string } };

type Known = QueuedCommandFields;

export type DeviceCommandState =
  | { status: 'absent' }
  | (Known & { status: 'QUEUED' })
  | (Known & { status: 'SENT' | 'ACKNOWLEDGED'; sentAt: string })
  | (Known & { status: FinalCommandStatus });

export const commandNotFound = (): NotFoundError => new NotFoundError('COMMAND_NOT_FOUND', 'No command with this id.');

const finished = (status: FinalCommandStatus): ConflictError => new ConflictError('COMMAND_FINISHED', `The command is already ${status}.`);

/** Same device, name, params, timeout and batch: a retry of the request that queued it. */
function sameRequest(state: Known, fields: QueuedCommandFields): boolean {
  return (
    state.deviceId === fields.deviceId &&
    state.name === fields.name &&
    state.timeoutSeconds === fields.timeoutSeconds &&
    state.batchId === fields.batchId &&
    canonicalJson(state.params) === canonicalJson(fields.params)
  );
}

const at = (iso: string): number => Date.parse(iso);

function answerEvent(id: string, answer: CommandAnswer, now: string): DeviceCommandEvent {
  switch (answer.status) {
    case 'ACKNOWLEDGED':
      return { type: 'CommandAcknowledged', data: { id, at: now } };
    case 'SUCCEEDED':
      return { type: 'CommandSucceeded', data: { id, at: now, result: answer.result ?? null } };
    case 'FAILED':
      return { type: 'CommandFailed', data: { id, at: now, error: answer.error } };
    default:
      return assertNever(answer);
  }
}

/**
 * A command to a device. The dispatcher sends, times out and expires it,
 * the device answers, the API queues and cancels it; every step that does
 * not fit the status is refused with its own code, so the dispatcher can
 * tell "someone else did it" from a fault and count ignored answers by reason.
 */
export const deviceCommandDecider: Decider<DeviceCommandCommand, DeviceCommandEvent, DeviceCommandState> = {
  initialState: { status: 'absent' },

  decide(command, state) {
    if (state.status === 'absent') {
      if (command.type !== 'QueueCommand') throw commandNotFound();
      const { now, ...fields } = command.data;
      return [{ type: 'CommandQueued', data: { ...fields, queuedAt: now } }];
    }
    const { id } = state;
    switch (command.type) {
      case 'QueueCommand':
        // Ids of retried requests are derived, not random: the same request again queues nothing.
        if (sameRequest(state, command.data)) return [];
        throw new ConflictError('CONFLICT', 'Another command with this id exists.');
      case 'SendCommand':
        if (state.status === 'SENT' || state.status === 'ACKNOWLEDGED') throw new ConflictError('COMMAND_NOT_QUEUED', `The command is already ${state.status}.`);
        if (state.status !== 'QUEUED') throw finished(state.status);
        if (at(command.data.now) >= at(state.expiresAt)) throw new ConflictError('COMMAND_PAST_EXPIRY', `The command expired at ${state.expiresAt}; it is not sent.`);
        return [{ type: 'CommandSent', data: { id, at: command.data.now } }];
      case 'RecordCommandAnswer': {
        const { deviceId, answer, now } = command.data;
        // Checked first: another device learns nothing about the command's state.
        if (deviceId !== state.deviceId) throw new NotFoundError('COMMAND_OF_ANOTHER_DEVICE', 'The command belongs to another device.');
        if (state.status === 'QUEUED') throw new ConflictError('COMMAND_NOT_SENT', 'The command has not been sent.');
        if (state.status === 'SENT' || state.status === 'ACKNOWLEDGED') {
          if (answer.status === 'ACKNOWLEDGED' && state.status === 'ACKNOWLEDGED') return [];
          return [answerEvent(id, answer, now)];
        }
        // A repeated delivery answered with the outcome already recorded (docs/mqtt.md).
        if (answer.status === state.status) return [];
        throw finished(state.status);
      }
      case 'TimeOutCommand': {
        if (state.status === 'QUEUED') throw new ConflictError('COMMAND_NOT_SENT', 'The command has not been sent.');
        if (state.status !== 'SENT' && state.status !== 'ACKNOWLEDGED') throw finished(state.status);
        const deadline = at(state.sentAt) + state.timeoutSeconds * 1000;
        if (at(command.data.now) < deadline) throw new ConflictError('COMMAND_NOT_DUE', `The command times out at ${new Date(deadline).toISOString()}.`);
        return [{ type: 'CommandTimedOut', data: { id, at: command.data.now } }];
      }
      case 'ExpireCommand':
        if (state.status === 'SENT' || state.status === 'ACKNOWLEDGED') throw new ConflictError('COMMAND_NOT_QUEUED', `The command is already ${state.status}.`);
        if (state.status !== 'QUEUED') throw finished(state.status);
        if (at(command.data.now) < at(state.expiresAt)) throw new ConflictError('COMMAND_NOT_DUE', `The command expires at ${state.expiresAt}.`);
        return [{ type: 'CommandExpired', data: { id, at: command.data.now } }];
      case 'CancelCommand':
        if (state.status !== 'QUEUED') {
          throw new ConflictError('COMMAND_NOT_CANCELLABLE', `Only a QUEUED command can be cancelled; this one is ${state.status}.`);
        }
        return [{ type: 'CommandCancelled', data: { id, at: command.data.now } }];
      default:
        return assertNever(command);
    }
  },

  evolve(state, event) {
    if (event.type === 'CommandQueued') {
      const { queuedAt: _queuedAt, ...fields } = event.data;
      return { status: 'QUEUED', ...fields };
    }
    if (state.status === 'absent') return state;
    const known: Known = {
      id: state.id,
      deviceId: state.deviceId,
      name: state.name,
      params: state.params,
      timeoutSeconds: state.timeoutSeconds,
      expiresAt: state.expiresAt,
      batchId: state.batchId,
    };
    switch (event.type) {
      case 'CommandSent':
        return { ...known, status: 'SENT', sentAt: event.data.at };
      case 'CommandAcknowledged':
        return state.status === 'SENT' ? { ...known, status: 'ACKNOWLEDGED', sentAt: state.sentAt } : state;
      case 'CommandSucceeded':
        return { ...known, status: 'SUCCEEDED' };
      case 'CommandFailed':
        return { ...known, status: 'FAILED' };
      case 'CommandTimedOut':
        return { ...known, status: 'TIMED_OUT' };
      case 'CommandExpired':
        return { ...known, status: 'EXPIRED' };
      case 'CommandCancelled':
        return { ...known, status: 'CANCELLED' };
      default:
        return assertNever(event);
    }
  },
};
