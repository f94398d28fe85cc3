import type { EventStore, Position, Subscription } from '../event-store/event-store.port';
import type { Logger } from '../logger';
import { normalizeSerial } from './broker-identity';

/** Provisioning's event (src/commands/device-certificates); only its name and `data.serialNumber` are read here. */
export const CERTIFICATE_REVOKED_EVENT = 'DeviceCertificateRevoked';
const RETRY_MS = 1000;

/** The live set of revoked certificate serials the broker checks at every connect. */
export class RevokedSerials {
  private readonly serials = new Set<string>();

  /** Adds a serial; false when it was already revoked or is not hex. */
  add(serial: string): boolean {
    const normalized = normalizeSerial(serial);
    if (normalized === undefined || this.serials.has(normalized)) return false;
    this.serials.add(normalized);
    return true;
  }

  has(serial: string): boolean {
    const normalized = normalizeSerial(serial);
    return normalized !== undefined && this.serials.has(normalized);
  }

  get size(): number {
    return this.serials.size;
  }
}

export interface RevocationFollower {
  stop(): Promise<void>;
}

/**
 * Follows DeviceCertificateRevoked from `from` and reports each serial. A
 * store outage is logged and retried from the last position reached, so no
 * revocation is skipped.
 */
export function followRevocations(store: EventStore, from: Position, onRevoked: (serial: string) => void, log: Logger): RevocationFollower {
  let stopped = false;
  let position = from;
  let subscription: Subscription | undefined;
  let wake: (() => void) | undefined;

  const pause = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, RETRY_MS);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const follow = async (): Promise<void> => {
    while (!stopped) {
      try {
        subscription = store.subscribeToAll({ fromPosition: position, filter: { eventTypes: [CERTIFICATE_REVOKED_EVENT] } });
        for await (const batch of subscription) {
          for (const event of batch.events) {
            const serial = serialOf(event.data);
            if (serial === undefined) log.warn({ eventId: event.id }, 'revocation event without a serial number ignored');
            else onRevoked(serial);
          }
          position = batch.checkpoint;
          if (stopped) break;
        }
      } catch (err) {
        if (!stopped) log.error({ err }, 'following certificate revocations failed; retrying');
      }
      // Also when the subscription ended by itself (store closing): never spin.
      if (!stopped) await pause();
    }
  };
  const running = follow();

  return {
    async stop() {
      stopped = true;
      wake?.();
      await subscription?.close();
      await running;
    },
  };
}

function serialOf(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null || !('serialNumber' in data)) return undefined;
  const serial = data.serialNumber;
  return typeof serial === 'string' && normalizeSerial(serial) !== undefined ? serial : undefined;
}
