import { Counter, type Registry } from 'prom-client';

/** Why an answer on …/commands/{id}/ack changed nothing. */
export type IgnoredAckReason =
  | 'invalid_payload'
  | 'unknown_command'
  | 'other_device'
  | 'not_sent'
  | 'already_finished'
  | 'duplicate'
  | 'not_recorded';

export type CommandOutcome = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'EXPIRED' | 'CANCELLED';

/**
 * The command metrics of a process (served on /metrics). Registered once
 * per registry and shared: a dispatcher restarted in the same process, or
 * the API counting cancellations, reuses the same counters.
 */
export class CommandMetrics {
  readonly ignoredAcks: Counter<'reason'>;
  readonly finished: Counter<'outcome'>;
  readonly published: Counter<'delivery'>;

  private constructor(registry: Registry) {
    const registers = [registry];
    this.ignoredAcks = new Counter({
      name: 'iotplane_command_acks_ignored_total',
      help: 'Command answers from devices that changed nothing, by reason (unknown command, another device’s command, invalid payload, final already…).',
      labelNames: ['reason'],
      registers,
    });
    this.finished = new Counter({
      name: 'iotplane_commands_finished_total',
      help: 'Commands that reached a final status, by outcome, counted by the process that recorded it.',
      labelNames: ['outcome'],
      registers,
    });
    this.published = new Counter({
      name: 'iotplane_command_publishes_total',
      help: 'Commands published to devices: first delivery, or a repeat (after a dispatcher start, a device reconnect, or no acknowledgement).',
      labelNames: ['delivery'],
      registers,
    });
  }

  private static readonly byRegistry = new WeakMap<Registry, CommandMetrics>();

  static of(registry: Registry): CommandMetrics {
    let metrics = CommandMetrics.byRegistry.get(registry);
    if (!metrics) {
      metrics = new CommandMetrics(registry);
      CommandMetrics.byRegistry.set(registry, metrics);
    }
    return metrics;
  }
}
