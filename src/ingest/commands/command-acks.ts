import { randomUUID } from 'node:crypto';
import type { CommandAnswer } from '../../commands/device-commands/device-command.decider';
import { deviceCommandCommands } from '../../commands/device-commands/device-command.handler';
import { AppError, type ErrorCode } from '../../platform/errors';
import type { EventStore } from '../../platform/event-store/event-store.port';
import type { Logger } from '../../platform/logger';
import { mqttSchema, readDevicePayload } from '../../platform/mqtt/mqtt-schemas';
import type { CommandMetrics, IgnoredAckReason } from './command-metrics';

const MAX_ACK_BYTES = 16 * 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The decider's refusals of an answer, as reasons of iotplane_command_acks_ignored_total. */
const REASONS: Partial<Record<ErrorCode, IgnoredAckReason>> = {
  COMMAND_NOT_FOUND: 'unknown_command',
  COMMAND_OF_ANOTHER_DEVICE: 'other_device',
  COMMAND_NOT_SENT: 'not_sent',
  COMMAND_FINISHED: 'already_finished',
};

export interface AckHandlerDeps {
  readonly store: EventStore;
  readonly log: Logger;
  readonly metrics: CommandMetrics;
  readonly now: () => Date;
  /** Told when an answer made a command final. */
  onFinished(commandId: string): void;
}

export type AckOutcome = { recorded: CommandAnswer['status'] } | { ignored: IgnoredAckReason };

/**
 * Records a device's answer to a command (docs/mqtt.md, Commands). The
 * device is the topic's id — the broker lets a device publish only under
 * its own certificate's CN — and the decider refuses it unless the command
 * is addressed to that device. Whatever changes nothing is logged and
 * counted by reason, never an error for the device.
 */
export function commandAckHandler(deps: AckHandlerDeps): (deviceId: string, commandId: string, payload: Buffer) => Promise<AckOutcome> {
  const validate = mqttSchema<CommandAnswer>('command-ack');
  const ignore = (reason: IgnoredAckReason, about: Record<string, unknown>): AckOutcome => {
    deps.metrics.ignoredAcks.inc({ reason });
    deps.log.warn({ ...about, reason }, 'command answer ignored');
    return { ignored: reason };
  };

  return async (deviceId, rawCommandId, payload) => {
    // A commandId that is no uuid names no command; lowercase as the API writes ids.
    if (!UUID.test(rawCommandId)) return ignore('unknown_command', { deviceId, commandId: rawCommandId });
    const commandId = rawCommandId.toLowerCase();
    const about = { deviceId, commandId };
    const read = readDevicePayload(payload, validate, MAX_ACK_BYTES);
    if ('error' in read) return ignore('invalid_payload', { ...about, error: read.error });
    const answer = read.value;
    try {
      const result = await deviceCommandCommands.recordAnswer(deps.store, deviceId, commandId, answer, randomUUID(), deps.now());
      if (result.events.length === 0) return ignore('duplicate', { ...about, status: answer.status });
      if (answer.status !== 'ACKNOWLEDGED') {
        deps.metrics.finished.inc({ outcome: answer.status });
        deps.onFinished(commandId);
      }
      deps.log.info({ ...about, status: answer.status }, 'command answer recorded');
      return { recorded: answer.status };
    } catch (err) {
      const reason = err instanceof AppError ? REASONS[err.code] : undefined;
      if (reason !== undefined) return ignore(reason, { ...about, status: answer.status });
      // The store failed: this answer is lost. A repeat of the command (dispatcher start, device reconnect) gets it again; else it times out.
      deps.log.error({ err, ...about }, 'command answer not recorded');
      return ignore('not_recorded', about);
    }
  };
}
