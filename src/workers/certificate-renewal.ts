import cron from 'node-cron';
import { deterministicId } from '../commands/command-handler';
import { supersedeReplacedCertificates } from '../commands/device-certificates/certificate-renewal.handler';
import type { DeviceConnected } from '../commands/device-health/device-health.events';
import type { Pool } from '../platform/db/pool';
import type { EventStore, RecordedEvent, Subscription } from '../platform/event-store/event-store.port';
import type { Logger } from '../platform/logger';
import { findDueRenewals } from './certificate-renewal.queries';

export interface CertificateSupersessionOptions {
  readonly store: EventStore;
  readonly pool: Pool;
  readonly log: Logger;
  /** How long a replaced certificate stays valid after its renewal was issued, if the new one is not used. */
  readonly graceSeconds: number;
  /** node-cron expression of the sweep (default: every minute). */
  readonly schedule?: string;
  readonly now?: () => Date;
}

export interface CertificateSupersession {
  /** One sweep now; resolves to the number of renewals whose replaced certificates it revoked. */
  sweep(): Promise<number>;
  stop(): Promise<void>;
}

const RETRY_MS = 1000;

/**
 * Ends the life of certificates a renewal replaced (docs/mqtt.md). Live: a
 * DeviceConnected carrying a renewal certificate's serial revokes what it
 * replaces at once. Scheduled: a sweep of the read model catches first uses
 * the live path missed (this process was down) and grace periods that ended.
 * Both go through the one idempotent command, so several workers may run.
 */
export function startCertificateSupersession(options: CertificateSupersessionOptions): CertificateSupersession {
  const { store, log } = options;
  const now = options.now ?? (() => new Date());
  let stopped = false;
  let subscription: Subscription | undefined;
  let wake: (() => void) | undefined;

  const onConnected = async (event: RecordedEvent): Promise<void> => {
    const { deviceId, serialNumber } = (event.data as DeviceConnected['data']);
    const orgId = event.metadata.orgId;
    if (serialNumber === undefined || !orgId) return;
    const context = { orgId, actor: 'system' as const, correlationId: event.metadata.correlationId, causationId: event.id };
    const result = await supersedeReplacedCertificates(store, context, deviceId, serialNumber, now());
    if (result.events.length > 0) log.info({ orgId, deviceId, serialNumber, revoked: result.events.length }, 'renewed certificate in use: replaced ones revoked');
  };

  const follow = async (): Promise<void> => {
    let position = await store.headPosition();
    while (!stopped) {
      try {
        subscription = store.subscribeToAll({ fromPosition: position, filter: { eventTypes: ['DeviceConnected'] } });
        for await (const batch of subscription) {
          for (const event of batch.events) {
            // One failure must not stop the rest; the sweep retries it from the read model.
            await onConnected(event).catch((err: unknown) => log.error({ err, eventId: event.id }, 'supersession after connect failed'));
          }
          position = batch.checkpoint;
          if (stopped) break;
        }
      } catch (err) {
        if (!stopped) log.error({ err }, 'following device connects failed; retrying');
      }
      if (!stopped) await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, RETRY_MS);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  };

  const sweep = async (): Promise<number> => {
    const at = now();
    const due = await findDueRenewals(options.pool, at, new Date(at.getTime() - options.graceSeconds * 1000));
    let done = 0;
    for (const renewal of due) {
      // The same id from every worker, so concurrent sweeps append each revocation once.
      const context = { orgId: renewal.orgId, actor: 'system' as const, correlationId: deterministicId('certificate-supersession', renewal.serialNumber) };
      const result = await supersedeReplacedCertificates(store, context, renewal.deviceId, renewal.serialNumber, at);
      if (result.events.length > 0) done += 1;
    }
    if (done > 0) log.info({ renewals: done }, 'replaced certificates revoked by the sweep');
    return done;
  };
  const sweepLogged = () => sweep().catch((err: unknown) => log.error({ err }, 'certificate supersession sweep failed'));

  const following = follow().catch((err: unknown) => log.error({ err }, 'following device connects stopped'));
  const task = cron.schedule(options.schedule ?? '* * * * *', sweepLogged, { noOverlap: true, name: 'certificate-supersession' });
  const first = sweepLogged();

  return {
    sweep,
    async stop() {
      stopped = true;
      wake?.();
      await task.destroy();
      await subscription?.close();
      await Promise.all([following, first]);
    },
  };
}
