import { ALERT_EVENT_TYPES, type AlertEvent } from '../commands/alerts/alert.events';
import { deterministicId } from '../commands/command-handler';
import { advanceCheckpoint, readCheckpoint } from '../platform/checkpoints/checkpoints';
import type { CheckpointWatcher } from '../platform/checkpoints/checkpoint-watcher';
import { inTransaction, type Pool } from '../platform/db/pool';
import { WRITER_ROLE } from '../platform/db/roles';
import type { EventStore, Position, RecordedEvent, Subscription } from '../platform/event-store/event-store.port';
import type { Logger } from '../platform/logger';
import { enabledChannels, insertDelivery } from './notification-deliveries.queries';
import { alertContent } from './notification-payload';

/** Its checkpoint's name in projection_checkpoints. */
export const FANOUT_NAME = 'notification-fanout';
/** The read model of channels must include each batch, so that a channel disabled before an alert gets nothing. */
const READ_MODELS = ['notification-channels'];
const RETRY_AFTER_MS = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface NotificationFanoutOptions {
  readonly pool: Pool;
  readonly store: EventStore;
  readonly watcher: CheckpointWatcher;
  readonly log: Logger;
  /** Called after new deliveries were recorded. */
  readonly onRecorded?: () => void;
}

export interface NotificationFanout {
  stop(): Promise<void>;
}

/** The deliveries of one alert event: one per enabled channel of the event's organization that the alert names. */
async function recordDeliveries(tx: Parameters<typeof insertDelivery>[0], event: RecordedEvent): Promise<number> {
  const orgId = event.metadata.orgId;
  const alert = { type: event.type, data: event.data } as AlertEvent;
  const ids = (alert.data.channelIds ?? []).filter((id) => UUID.test(id));
  if (!orgId || ids.length === 0) return 0;
  let added = 0;
  for (const channelId of await enabledChannels(tx, orgId, ids)) {
    const id = deterministicId('notification-delivery', event.id, channelId);
    const content = alertContent(alert, event.createdAt.toISOString());
    if (await insertDelivery(tx, { orgId, id, channelId, alertId: alert.data.id, eventId: event.id, content })) added += 1;
  }
  return added;
}

/**
 * Follows AlertRaised, AlertAcknowledged and AlertResolved from its own
 * checkpoint and records one PENDING delivery per (event, channel), in the
 * same transaction as the checkpoint. Deliveries are keyed on (event,
 * channel), so a second fan-out, or one that re-reads after a crash,
 * records nothing twice; several workers may run it.
 */
export function startNotificationFanout(options: NotificationFanoutOptions): NotificationFanout {
  const { pool, store, watcher, log } = options;
  let stopped = false;
  let subscription: Subscription | undefined;

  const handle = async (events: readonly RecordedEvent[], from: Position, to: Position): Promise<boolean> => {
    while (!(await watcher.waitFor(READ_MODELS, to, 10_000))) {
      if (stopped) return false;
      log.warn({ position: `${to.commit}:${to.prepare}` }, 'the notification-channels read model is behind; the notification fan-out waits');
    }
    const { added, moved } = await inTransaction(pool, async (tx) => {
      // Deliveries as the writer role (explicit org ids), the checkpoint as the owner, as projectors do.
      await tx.query(`SET LOCAL ROLE ${WRITER_ROLE}`);
      let count = 0;
      for (const event of events) count += await recordDeliveries(tx, event);
      await tx.query('RESET ROLE');
      // Recorded even when another worker moved the checkpoint: the rows are idempotent.
      return { added: count, moved: await advanceCheckpoint(tx, FANOUT_NAME, from, to, events.length) };
    });
    if (added > 0) {
      log.info({ deliveries: added, events: events.length }, 'notification deliveries recorded');
      options.onRecorded?.();
    }
    return moved;
  };

  const follow = async (): Promise<void> => {
    while (!stopped) {
      try {
        let from = await readCheckpoint(pool, FANOUT_NAME);
        subscription = store.subscribeToAll({ fromPosition: from, filter: { eventTypes: ALERT_EVENT_TYPES } });
        // stop() may have come while the checkpoint was read, before there was a subscription to close.
        if (stopped) await subscription.close();
        for await (const batch of subscription) {
          if (stopped) break;
          if (batch.events.length === 0) continue;
          from = (await handle(batch.events, from, batch.checkpoint)) ? batch.checkpoint : await readCheckpoint(pool, FANOUT_NAME);
        }
        return;
      } catch (err) {
        if (stopped) return;
        log.error({ err }, 'notification fan-out failed; following again from its checkpoint');
        await subscription?.close().catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, RETRY_AFTER_MS));
      }
    }
  };
  const following = follow();

  return {
    async stop() {
      stopped = true;
      await subscription?.close();
      await following;
    },
  };
}
