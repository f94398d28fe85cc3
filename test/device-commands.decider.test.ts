import { randomUUID } from 'node:crypto';
import { commandBatchDecider } from '../src/commands/device-commands/command-batch.decider';
import { commandBatchStream } from '../src/commands/device-commands/command-batch.events';
import { batchCommandId } from '../src/commands/device-commands/command-batch.handler';
import { deviceCommandDecider, type DeviceCommandCommand } from '../src/commands/device-commands/device-command.decider';
import { deviceCommandStream } from '../src/commands/device-commands/device-command.events';
import { spec } from './support/decider-spec';
import { EXPIRES_AT, SENT_AT, aCommandQueued, aHistory, someCommandFields } from './support/device-commands.builders';

const command = spec(deviceCommandDecider);
const NOW = '2025-03-01T10:00:10.000Z';
/** SENT_AT + 60 s, the builders' timeout. */
const TIMEOUT_AT = '2025-03-01T10:01:05.000Z';

const send = (now = NOW): DeviceCommandCommand => ({ type: 'SendCommand', data: { now } });
const expire = (now = EXPIRES_AT): DeviceCommandCommand => ({ type: 'ExpireCommand', data: { now } });
const timeOut = (now = TIMEOUT_AT): DeviceCommandCommand => ({ type: 'TimeOutCommand', data: { now } });
const cancel: DeviceCommandCommand = { type: 'CancelCommand', data: { now: NOW } };
const answer = (deviceId: string, a: Extract<DeviceCommandCommand, { type: 'RecordCommandAnswer' }>['data']['answer']): DeviceCommandCommand => ({
  type: 'RecordCommandAnswer',
  data: { deviceId, answer: a, now: NOW },
});
const FAILURE = { code: 'INVALID_PARAMS', message: 'delaySeconds must be positive' };

describe('DeviceCommand', () => {
  it('lives in the stream device-command-<id>', () => {
    expect(deviceCommandStream('abc')).toBe('device-command-abc');
  });

  describe('when absent', () => {
    it('queues it', () => {
      const fields = someCommandFields();
      command.given([]).when({ type: 'QueueCommand', data: { ...fields, now: NOW } }).then([{ type: 'CommandQueued', data: { ...fields, queuedAt: NOW } }]);
    });

    it.each([send(), expire(), timeOut(), cancel, answer(randomUUID(), { status: 'ACKNOWLEDGED' })])('refuses $type with COMMAND_NOT_FOUND (404)', (step) => {
      command.given([]).when(step).thenThrows({ code: 'COMMAND_NOT_FOUND', status: 404 });
    });
  });

  describe('when QUEUED', () => {
    const queued = aCommandQueued();
    const { id, deviceId } = queued.data;
    const history = aHistory(queued, 'QUEUED');

    it('is sent before it expires', () => {
      command.given(history).when(send()).then([{ type: 'CommandSent', data: { id, at: NOW } }]);
    });

    it('is not sent once expiresAt has come (COMMAND_PAST_EXPIRY)', () => {
      command.given(history).when(send(EXPIRES_AT)).thenThrows({ code: 'COMMAND_PAST_EXPIRY', status: 409 });
    });

    it('expires at expiresAt, not before (COMMAND_NOT_DUE)', () => {
      command.given(history).when(expire()).then([{ type: 'CommandExpired', data: { id, at: EXPIRES_AT } }]);
      command.given(history).when(expire(NOW)).thenThrows({ code: 'COMMAND_NOT_DUE', status: 409 });
    });

    it('is cancelled', () => {
      command.given(history).when(cancel).then([{ type: 'CommandCancelled', data: { id, at: NOW } }]);
    });

    it('takes no answer and no time-out before it was sent (COMMAND_NOT_SENT)', () => {
      command.given(history).when(answer(deviceId, { status: 'ACKNOWLEDGED' })).thenThrows({ code: 'COMMAND_NOT_SENT', status: 409 });
      command.given(history).when(timeOut()).thenThrows({ code: 'COMMAND_NOT_SENT' });
    });

    it('queues nothing for the same request again, and refuses another command under its id', () => {
      command.given(history).when({ type: 'QueueCommand', data: { ...queued.data, expiresAt: '2025-03-02T00:00:00.000Z', now: NOW } }).then([]);
      command.given(history).when({ type: 'QueueCommand', data: { ...queued.data, params: { delaySeconds: 6 }, now: NOW } }).thenThrows({ code: 'CONFLICT', status: 409 });
    });
  });

  describe('when SENT', () => {
    const queued = aCommandQueued();
    const { id, deviceId } = queued.data;
    const history = aHistory(queued, 'SENT');

    it('is acknowledged by its device', () => {
      command.given(history).when(answer(deviceId, { status: 'ACKNOWLEDGED' })).then([{ type: 'CommandAcknowledged', data: { id, at: NOW } }]);
    });

    it('succeeds or fails directly, with the result or the error', () => {
      command.given(history).when(answer(deviceId, { status: 'SUCCEEDED', result: { rebooted: true } })).then([
        { type: 'CommandSucceeded', data: { id, at: NOW, result: { rebooted: true } } },
      ]);
      command.given(history).when(answer(deviceId, { status: 'SUCCEEDED' })).then([{ type: 'CommandSucceeded', data: { id, at: NOW, result: null } }]);
      command.given(history).when(answer(deviceId, { status: 'FAILED', error: FAILURE })).then([{ type: 'CommandFailed', data: { id, at: NOW, error: FAILURE } }]);
    });

    it('refuses an answer from another device (COMMAND_OF_ANOTHER_DEVICE, 404)', () => {
      command.given(history).when(answer(randomUUID(), { status: 'SUCCEEDED' })).thenThrows({ code: 'COMMAND_OF_ANOTHER_DEVICE', status: 404 });
    });

    it('times out timeoutSeconds after it was sent, not before', () => {
      command.given(history).when(timeOut()).then([{ type: 'CommandTimedOut', data: { id, at: TIMEOUT_AT } }]);
      command.given(history).when(timeOut('2025-03-01T10:01:04.999Z')).thenThrows({ code: 'COMMAND_NOT_DUE', status: 409 });
    });

    it('can no longer be cancelled (COMMAND_NOT_CANCELLABLE, 409)', () => {
      command.given(history).when(cancel).thenThrows({ code: 'COMMAND_NOT_CANCELLABLE', status: 409 });
    });

    it('is neither sent again nor expired (COMMAND_NOT_QUEUED)', () => {
      command.given(history).when(send()).thenThrows({ code: 'COMMAND_NOT_QUEUED', status: 409 });
      command.given(history).when(expire()).thenThrows({ code: 'COMMAND_NOT_QUEUED' });
    });
  });

  describe('when ACKNOWLEDGED', () => {
    const queued = aCommandQueued();
    const { id, deviceId } = queued.data;
    const history = aHistory(queued, 'ACKNOWLEDGED');

    it('records a repeated acknowledgement once', () => {
      command.given(history).when(answer(deviceId, { status: 'ACKNOWLEDGED' })).then([]);
    });

    it('succeeds or fails', () => {
      command.given(history).when(answer(deviceId, { status: 'SUCCEEDED', result: {} })).then([{ type: 'CommandSucceeded', data: { id, at: NOW, result: {} } }]);
      command.given(history).when(answer(deviceId, { status: 'FAILED', error: FAILURE })).then([{ type: 'CommandFailed', data: { id, at: NOW, error: FAILURE } }]);
    });

    it('times out from when it was sent', () => {
      command.given(history).when(timeOut()).then([{ type: 'CommandTimedOut', data: { id, at: TIMEOUT_AT } }]);
    });

    it('can no longer be cancelled', () => {
      command.given(history).when(cancel).thenThrows({ code: 'COMMAND_NOT_CANCELLABLE' });
    });
  });

  describe('when final', () => {
    const queued = aCommandQueued();
    const { deviceId } = queued.data;

    it('takes the same outcome again as a repeat, and refuses any other answer (COMMAND_FINISHED)', () => {
      const history = aHistory(queued, 'SUCCEEDED');
      command.given(history).when(answer(deviceId, { status: 'SUCCEEDED', result: { again: true } })).then([]);
      command.given(history).when(answer(deviceId, { status: 'FAILED', error: FAILURE })).thenThrows({ code: 'COMMAND_FINISHED', status: 409 });
      command.given(history).when(answer(deviceId, { status: 'ACKNOWLEDGED' })).thenThrows({ code: 'COMMAND_FINISHED' });
    });

    it('ignores a late success after the time-out', () => {
      command.given(aHistory(queued, 'TIMED_OUT')).when(answer(deviceId, { status: 'SUCCEEDED' })).thenThrows({ code: 'COMMAND_FINISHED' });
    });

    it('is not sent, expired, timed out or cancelled once cancelled', () => {
      const history = aHistory(queued, 'CANCELLED');
      command.given(history).when(send()).thenThrows({ code: 'COMMAND_FINISHED' });
      command.given(history).when(expire()).thenThrows({ code: 'COMMAND_FINISHED' });
      command.given(history).when(timeOut()).thenThrows({ code: 'COMMAND_FINISHED' });
      command.given(history).when(cancel).thenThrows({ code: 'COMMAND_NOT_CANCELLABLE' });
    });
  });

  it('keeps sentAt through the acknowledgement, so the timeout counts from the send', () => {
    const queued = aCommandQueued();
    const state = aHistory(queued, 'ACKNOWLEDGED').reduce(deviceCommandDecider.evolve, deviceCommandDecider.initialState);
    expect(state).toMatchObject({ status: 'ACKNOWLEDGED', sentAt: SENT_AT });
  });
});

describe('CommandBatch', () => {
  const batch = spec(commandBatchDecider);
  const id = randomUUID();
  const groupId = randomUUID();
  const devices = [randomUUID(), randomUUID()];
  const commands = devices.map((deviceId) => ({ deviceId, commandId: batchCommandId(id, deviceId) }));
  const fields = { groupId, name: 'reboot', params: { delaySeconds: 1 }, timeoutSeconds: 30, expiresAt: EXPIRES_AT };
  const created = { type: 'CommandBatchCreated' as const, data: { id, ...fields, commands, createdAt: NOW } };

  it('lives in the stream command-batch-<id> and derives one command id per device', () => {
    expect(commandBatchStream('abc')).toBe('command-batch-abc');
    expect(batchCommandId(id, devices[0] ?? '')).toBe(commands[0]?.commandId);
    expect(new Set(commands.map((c) => c.commandId)).size).toBe(2);
    expect(batchCommandId(randomUUID(), devices[0] ?? '')).not.toBe(commands[0]?.commandId);
  });

  it('is created with its members', () => {
    batch.given([]).when({ type: 'CreateCommandBatch', data: { id, ...fields, commands, now: NOW } }).then([created]);
  });

  it('creates nothing for the same request again, even if the group changed meanwhile', () => {
    batch.given([created]).when({ type: 'CreateCommandBatch', data: { id, ...fields, commands: [], now: SENT_AT } }).then([]);
  });

  it('refuses another request under its id', () => {
    batch.given([created]).when({ type: 'CreateCommandBatch', data: { id, ...fields, name: 'other', commands, now: NOW } }).thenThrows({ code: 'CONFLICT', status: 409 });
  });
});
