import { randomUUID } from 'node:crypto';
import type { CommandContext } from '../../commands/decider';
import { deviceCommandCommands } from '../../commands/device-commands/device-command.handler';
import type { Pool } from '../../platform/db/pool';
import { AppError } from '../../platform/errors';
import type { EventStore } from '../../platform/event-store/event-store.port';
import type { Logger } from '../../platform/logger';
import type { CommandMetrics } from './command-metrics';
import {
  expiredCommands,
  inFlightForConnectedDevices,
  queuedForConnectedDevices,
  timedOutCommands,
  type CommandRef,
  type DeliverableCommand,
} from './dispatcher.queries';

export interface CommandDispatchDeps {
  readonly store: EventStore;
  readonly pool: Pool;
  readonly log: Logger;
  readonly metrics: CommandMetrics;
  /** Whether a publish can go out now: a command is never marked SENT when it cannot. */
  canPublish(): boolean;
  /** Publishes the mqtt-command payload on devices/{id}/commands (QoS 1); rejects when the broker did not take it. */
  publish(deviceId: string, payload: Record<string, unknown>): Promise<void>;
  readonly now: () => Date;
  /** A SENT command without ACKNOWLEDGED is published again after this long (same session). */
  readonly redeliverAfterMs: number;
}

const PAGE = 500;
/** Devices served at once; one device's commands go out one after another, in the order they were queued. */
const PARALLEL_DEVICES = 16;
/** Longest timeout (86,400 s) and a margin: a command published before this has certainly finished. */
const FORGET_AFTER_MS = (86_400 + 3_600) * 1000;

/** Refusals meaning another dispatcher, the API or a device got there first: nothing to do. */
const OVERTAKEN = new Set(['CONCURRENT_MODIFICATION', 'COMMAND_NOT_QUEUED', 'COMMAND_FINISHED', 'COMMAND_NOT_SENT', 'COMMAND_NOT_DUE', 'COMMAND_PAST_EXPIRY']);

function system(orgId: string): CommandContext {
  // Random: two dispatchers deciding the same step write different event ids, so the loser's append conflicts.
  return { orgId, actor: 'system', correlationId: randomUUID() };
}

function payloadOf(command: DeliverableCommand): Record<string, unknown> {
  return { commandId: command.id, name: command.name, params: command.params, expiresAt: command.expiresAt.toISOString() };
}

/**
 * One dispatcher's work over the read model, round after round: expire
 * QUEUED commands past expiresAt, time out sent ones, send QUEUED commands
 * of online devices, and publish in-flight commands again where a delivery
 * may have been lost (docs/commands.md, "Delivery"). What was published in
 * which device session is kept in memory only to avoid needless repeats:
 * after a restart every in-flight command of an online device goes once
 * more, which devices handle (they execute a commandId once).
 */
export class CommandDispatch {
  private readonly published = new Map<string, { session: string; at: number }>();
  /** Look at every in-flight command (at start, and after a failed publish), not only those a query can tell need a repeat. */
  private sweep = true;

  constructor(private readonly deps: CommandDispatchDeps) {}

  async round(): Promise<void> {
    const now = this.deps.now();
    await this.finishDue(await expiredCommands(this.deps.pool, now, PAGE), 'EXPIRED', now);
    await this.finishDue(await timedOutCommands(this.deps.pool, now, PAGE), 'TIMED_OUT', now);
    if (!this.deps.canPublish()) return;
    await this.sendQueued(now);
    await this.redeliver(now);
    for (const [id, entry] of this.published) if (now.getTime() - entry.at > FORGET_AFTER_MS) this.published.delete(id);
  }

  /** The command reached a final status: nothing of it is published again. */
  forget(commandId: string): void {
    this.published.delete(commandId);
  }

  private async finishDue(due: CommandRef[], outcome: 'EXPIRED' | 'TIMED_OUT', now: Date): Promise<void> {
    for (const { orgId, id } of due) {
      const step = outcome === 'EXPIRED' ? deviceCommandCommands.expire : deviceCommandCommands.timeOut;
      if (!(await this.attempt(() => step(this.deps.store, system(orgId), id, now), { orgId, id, step: outcome }))) continue;
      this.forget(id);
      this.deps.metrics.finished.inc({ outcome });
      this.deps.log.info({ orgId, commandId: id, outcome }, 'command finished by the dispatcher');
    }
  }

  private async sendQueued(now: Date): Promise<void> {
    const byDevice = new Map<string, DeliverableCommand[]>();
    for await (const command of pages((after) => queuedForConnectedDevices(this.deps.pool, now, after, PAGE))) {
      if (!command.reachable) continue;
      const commands = byDevice.get(command.deviceId) ?? [];
      commands.push(command);
      byDevice.set(command.deviceId, commands);
    }
    const devices = [...byDevice.values()];
    const serve = async (): Promise<void> => {
      for (let commands = devices.shift(); commands; commands = devices.shift()) {
        for (const command of commands) {
          if (!this.deps.canPublish()) return;
          // Appended at the revision read: of two dispatchers only one sends. Stamped now, not at the round's start
          // (which can precede the connect that made the device reachable).
          const sent = await this.attempt(() => deviceCommandCommands.send(this.deps.store, system(command.orgId), command.id, this.deps.now()), {
            orgId: command.orgId,
            id: command.id,
            step: 'SENT',
          });
          if (!sent) continue;
          // The order of a device's commands is kept: after a failed publish the rest wait for the next round.
          if (!(await this.publish(command, 'first'))) break;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_DEVICES, devices.length) }, serve));
  }

  private async redeliver(now: Date): Promise<void> {
    const sweeping = this.sweep;
    const options = { now, all: sweeping, unackedBefore: new Date(now.getTime() - this.deps.redeliverAfterMs) };
    let failed = false;
    for await (const command of pages((after) => inFlightForConnectedDevices(this.deps.pool, options, after, PAGE))) {
      if (!command.reachable) continue;
      const last = this.published.get(command.id);
      const due =
        last === undefined ||
        last.session !== command.session ||
        (command.status === 'SENT' && now.getTime() - last.at >= this.deps.redeliverAfterMs);
      if (due && !(await this.publish(command, 'repeat'))) failed = true;
    }
    if (sweeping && !failed) this.sweep = false;
  }

  private async publish(command: DeliverableCommand, delivery: 'first' | 'repeat'): Promise<boolean> {
    try {
      await this.deps.publish(command.deviceId, payloadOf(command));
    } catch (err) {
      // SENT is recorded; the sweep of a later round publishes it once the broker takes messages again.
      this.sweep = true;
      this.deps.log.warn({ err, orgId: command.orgId, commandId: command.id, deviceId: command.deviceId }, 'command not published; retried next round');
      return false;
    }
    this.published.set(command.id, { session: command.session, at: this.deps.now().getTime() });
    this.deps.metrics.published.inc({ delivery });
    this.deps.log.info({ orgId: command.orgId, commandId: command.id, deviceId: command.deviceId, delivery }, 'command published');
    return true;
  }

  /** Runs one step; false when it was overtaken (logged at debug) or failed (logged as an error). */
  private async attempt(step: () => Promise<{ events: readonly unknown[] }>, about: { orgId: string; id: string; step: string }): Promise<boolean> {
    try {
      return (await step()).events.length > 0;
    } catch (err) {
      if (err instanceof AppError && OVERTAKEN.has(err.code)) {
        this.deps.log.debug({ ...about, code: err.code }, 'command step overtaken');
      } else {
        this.deps.log.error({ err, ...about }, 'command step failed');
      }
      return false;
    }
  }
}

/** Every row of a keyset-paged query. */
async function* pages(fetch: (after: DeliverableCommand | undefined) => Promise<DeliverableCommand[]>): AsyncGenerator<DeliverableCommand> {
  let after: DeliverableCommand | undefined;
  for (;;) {
    const page = await fetch(after);
    yield* page;
    if (page.length < PAGE) return;
    after = page[page.length - 1];
  }
}
