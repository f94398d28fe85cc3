import type { MqttClient } from 'mqtt';
import type { Registry } from 'prom-client';
import type { Pool } from '../platform/db/pool';
import type { EventStore } from '../platform/event-store/event-store.port';
import type { Logger } from '../platform/logger';
import { connectInternalClient } from '../platform/mqtt/internal-client';
import { COMMAND_ACK_SUBSCRIPTION, commandAckOf, deviceTopic } from '../platform/mqtt/topics';
import type { DeviceCa } from '../platform/pki/device-ca';
import { commandAckHandler } from './commands/command-acks';
import { CommandDispatch } from './commands/command-dispatch';
import { CommandMetrics } from './commands/command-metrics';

export interface CommandDispatcherOptions {
  /** `mqtts://…` of the embedded broker or of Mosquitto. */
  readonly url: string;
  readonly ca: DeviceCa;
  readonly store: EventStore;
  readonly pool: Pool;
  readonly log: Logger;
  readonly registry: Registry;
  /** Pause between rounds over the read model (COMMANDS_POLL_MS). */
  readonly pollMs: number;
  /** Internal client name; dispatchers side by side need distinct ones (default "commands"). */
  readonly name?: string;
  /** A SENT command not acknowledged within this is published again (default 30 s). */
  readonly redeliverAfterMs?: number;
  /** A publish the broker has not acknowledged within this counts as failed (default 10 s). */
  readonly publishTimeoutMs?: number;
  readonly now?: () => Date;
}

export interface CommandDispatcher {
  /** One round now (tests); rounds also run every pollMs. */
  round(): Promise<void>;
  /** Resolves when every answer received so far is handled. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Delivers device commands (docs/commands.md). Rounds over the read model
 * send, time out and expire commands; answers arrive on a shared
 * subscription, so several ingest processes split them. All it decides is
 * appended as events at the revision it read; nothing it keeps in memory is
 * needed after a restart.
 */
export async function startCommandDispatcher(options: CommandDispatcherOptions): Promise<CommandDispatcher> {
  const { log } = options;
  const now = options.now ?? (() => new Date());
  const metrics = CommandMetrics.of(options.registry);
  const publishTimeoutMs = options.publishTimeoutMs ?? 10_000;
  const client: MqttClient = await connectInternalClient({ url: options.url, ca: options.ca, name: options.name ?? 'commands' });

  const publish = async (deviceId: string, payload: Record<string, unknown>): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no PUBACK within ${publishTimeoutMs} ms`)), publishTimeoutMs);
    });
    try {
      await Promise.race([client.publishAsync(deviceTopic(deviceId, 'commands'), JSON.stringify(payload), { qos: 1 }), timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
  const dispatch = new CommandDispatch({
    store: options.store,
    pool: options.pool,
    log,
    metrics,
    // MQTT.js would hold a publish while disconnected; a command is marked SENT only when it can go out now.
    canPublish: () => client.connected,
    publish,
    now,
    redeliverAfterMs: options.redeliverAfterMs ?? 30_000,
  });
  const handleAck = commandAckHandler({ store: options.store, log, metrics, now, onFinished: (id) => dispatch.forget(id) });

  // One chain per command: its answers are recorded in the order they arrived.
  const chains = new Map<string, Promise<unknown>>();
  client.on('message', (topic, payload) => {
    const target = commandAckOf(topic);
    if (target === undefined) return;
    const next = (chains.get(target.commandId) ?? Promise.resolve())
      .then(() => handleAck(target.deviceId, target.commandId, payload))
      .catch((err: unknown) => log.error({ err, topic }, 'command answer failed'));
    chains.set(target.commandId, next);
    void next.then(() => {
      if (chains.get(target.commandId) === next) chains.delete(target.commandId);
    });
  });
  await client.subscribeAsync(COMMAND_ACK_SUBSCRIPTION, { qos: 1 });
  log.info({ subscription: COMMAND_ACK_SUBSCRIPTION, pollMs: options.pollMs }, 'command dispatcher listening');

  let stopped = false;
  let wake: (() => void) | undefined;
  let current: Promise<void> = Promise.resolve();
  const round = (): Promise<void> => {
    // Rounds never overlap: a round asked for while one runs waits for it.
    current = current.then(() => dispatch.round()).catch((err: unknown) => log.error({ err }, 'command dispatch round failed'));
    return current;
  };
  const loop = async (): Promise<void> => {
    while (!stopped) {
      await round();
      if (stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  };
  const looping = loop();

  const drain = async (): Promise<void> => {
    while (chains.size > 0) await Promise.all(chains.values());
  };
  return {
    round,
    drain,
    async stop() {
      stopped = true;
      wake?.();
      await looping;
      await client.unsubscribeAsync(COMMAND_ACK_SUBSCRIPTION).catch(() => undefined);
      await drain();
      await client.endAsync();
    },
  };
}
