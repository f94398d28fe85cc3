import { randomUUID } from 'node:crypto';
import { Counter, type Registry } from 'prom-client';
import type { Pool } from '../platform/db/pool';
import { asWriter } from '../platform/db/roles';
import type { Logger } from '../platform/logger';
import {
  channelForDelivery,
  claimDueDeliveries,
  insertAttemptedDelivery,
  recordOutcome,
  type ClaimedDelivery,
  type DeliveryOutcome,
} from './notification-deliveries.queries';
import { testContent } from './notification-payload';
import { sendNotification, type AttemptResult, type TransportOptions } from './notification-transport';

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}

/** Wait after failed attempt n (1-based): base · 2^(n−1), capped. */
export function backoffMs(attempt: number, policy: RetryPolicy): number {
  return Math.min(policy.backoffBaseMs * 2 ** Math.min(attempt - 1, 40), policy.backoffMaxMs);
}

/** DELIVERED; DEAD when the failure is permanent or this was the last attempt; else PENDING again after the backoff. */
export function nextStep(result: AttemptResult, attempt: number, policy: RetryPolicy): DeliveryOutcome {
  const { statusCode, error } = result;
  if (result.delivered) return { status: 'DELIVERED', statusCode, error: null, retryInMs: 0 };
  if (result.permanent || attempt >= policy.maxAttempts) return { status: 'DEAD', statusCode, error, retryInMs: 0 };
  return { status: 'PENDING', statusCode, error, retryInMs: backoffMs(attempt, policy) };
}

export interface NotificationDeliveryOptions extends TransportOptions {
  /** Writer-role transactions through this pool (deliveries of every organization). */
  readonly pool: Pool;
  readonly log: Logger;
  readonly retry: RetryPolicy;
  /** Pause when nothing is due (a wake() ends it early). */
  readonly pollMs: number;
  readonly batchSize?: number;
  readonly registry?: Registry;
}

export interface NotificationDelivery {
  /** Look for due deliveries now (the fan-out calls it after recording new ones). */
  wake(): void;
  stop(): Promise<void>;
}

const DEFAULT_BATCH = 16;
const LEASE_MARGIN_MS = 30_000;

/**
 * The delivery loop: claims due PENDING deliveries (SKIP LOCKED, so several
 * workers share them), sends each once, and records the outcome with
 * exponential backoff; after the last attempt, or a permanent refusal, the
 * delivery is DEAD — the dead-letter record, kept in the delivery log.
 * A deleted or disabled channel ends its pending deliveries as DEAD.
 */
export function startNotificationDelivery(options: NotificationDeliveryOptions): NotificationDelivery {
  const { pool, log, retry } = options;
  const attempts = new Counter({
    name: 'iotplane_notification_attempts_total',
    help: 'Notification delivery attempts by channel type and outcome (delivered, retry, dead).',
    labelNames: ['channel_type', 'outcome'],
    registers: options.registry ? [options.registry] : [],
  });
  const leaseMs = options.timeoutMs + LEASE_MARGIN_MS;
  let stopped = false;
  let wakeUp: (() => void) | undefined;
  let woken = false;

  const pause = (): Promise<void> =>
    new Promise<void>((resolve) => {
      if (woken || stopped) {
        woken = false;
        resolve();
        return;
      }
      const timer = setTimeout(done, options.pollMs);
      function done(): void {
        clearTimeout(timer);
        wakeUp = undefined;
        woken = false;
        resolve();
      }
      wakeUp = done;
    });

  const attempt = async (claimed: ClaimedDelivery): Promise<void> => {
    const channel = await asWriter(pool, (tx) => channelForDelivery(tx, claimed.orgId, claimed.channelId));
    let result: AttemptResult;
    if (!channel) result = { delivered: false, permanent: true, statusCode: null, error: 'the channel was deleted' };
    else if (!channel.enabled) result = { delivered: false, permanent: true, statusCode: null, error: 'the channel is disabled' };
    else result = await sendNotification(channel, claimed.id, claimed.content, options);
    const outcome = nextStep(result, claimed.attempt, retry);
    const recorded = await asWriter(pool, (tx) => recordOutcome(tx, claimed.orgId, claimed.id, claimed.attempt, outcome));
    attempts.inc({ channel_type: channel?.type ?? 'unknown', outcome: outcome.status === 'DELIVERED' ? 'delivered' : outcome.status === 'DEAD' ? 'dead' : 'retry' });
    const fields = { orgId: claimed.orgId, deliveryId: claimed.id, channelId: claimed.channelId, attempt: claimed.attempt, status: outcome.status };
    if (!recorded) log.warn(fields, 'delivery outcome not recorded: the lease ran out and another attempt took the delivery');
    else if (outcome.status === 'DEAD') log.warn({ ...fields, error: outcome.error, statusCode: outcome.statusCode }, 'notification delivery gave up (DEAD)');
    else if (outcome.status === 'PENDING') log.info({ ...fields, error: outcome.error, statusCode: outcome.statusCode, retryInMs: outcome.retryInMs }, 'notification delivery failed; will retry');
  };

  const run = async (): Promise<void> => {
    while (!stopped) {
      let claimed: ClaimedDelivery[] = [];
      try {
        claimed = await asWriter(pool, (tx) => claimDueDeliveries(tx, options.batchSize ?? DEFAULT_BATCH, leaseMs));
      } catch (err) {
        if (!stopped) log.error({ err }, 'claiming due notification deliveries failed');
      }
      if (claimed.length === 0) {
        await pause();
        continue;
      }
      await Promise.all(
        claimed.map((c) => attempt(c).catch((err: unknown) => log.error({ err, deliveryId: c.id }, 'notification delivery attempt failed; due again after its lease'))),
      );
    }
  };
  const running = run();

  return {
    wake() {
      woken = true;
      wakeUp?.();
    },
    async stop() {
      stopped = true;
      wakeUp?.();
      await running;
      if (options.registry) options.registry.removeSingleMetric('iotplane_notification_attempts_total');
    },
  };
}

export interface TestDeliveryResult {
  readonly deliveryId: string;
  readonly status: 'DELIVERED' | 'DEAD';
  readonly statusCode: number | null;
  readonly error: string | null;
}

/**
 * The test-send: one attempt now, answered and recorded in the delivery log
 * (DELIVERED or DEAD; a test is never retried). A disabled channel may be
 * tested, so that it can be checked before it is enabled.
 */
export async function sendTestNotification(
  pool: Pool,
  orgId: string,
  channelId: string,
  options: TransportOptions,
): Promise<TestDeliveryResult | undefined> {
  const channel = await asWriter(pool, (tx) => channelForDelivery(tx, orgId, channelId));
  if (!channel) return undefined;
  const id = randomUUID();
  const content = testContent((options.now ?? (() => new Date()))().toISOString());
  const result = await sendNotification(channel, id, content, options);
  const status = result.delivered ? 'DELIVERED' : 'DEAD';
  await asWriter(pool, (tx) =>
    insertAttemptedDelivery(tx, { orgId, id, channelId, alertId: null, eventId: null, content }, { status, statusCode: result.statusCode, error: result.error, retryInMs: 0 }),
  );
  return { deliveryId: id, status, statusCode: result.statusCode, error: result.error };
}
