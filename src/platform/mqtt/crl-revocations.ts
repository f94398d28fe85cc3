import { START, type EventStore, type Position, type RecordedEvent, type Subscription } from '../event-store/event-store.port';
import type { Logger } from '../logger';
import type { RevocationReason, RevokedCertificateEntry } from '../pki/crl';
import { x509 } from '../pki/keys';
import { normalizeSerial } from './broker-identity';
import { CERTIFICATE_REVOKED_EVENT } from './revocations';

/**
 * Revocations read from DeviceCertificateRevoked events (an index on type
 * makes this a short scan): the serial the embedded broker refuses, and the
 * revocation time and reason the CRL publishes, the device and org a
 * Mosquitto session kick must name. One reader and one follower for both
 * brokers.
 */
export interface RevocationRecord extends RevokedCertificateEntry {
  readonly deviceId: string;
  readonly orgId: string | undefined;
}

const PAGE = 1000;
const RETRY_MS = 1000;
const FILTER = { eventTypes: [CERTIFICATE_REVOKED_EVENT] };

/** The API's UPPERCASE reason ("KEY_COMPROMISE") as RFC 5280 names it ("keyCompromise"); unknown ones as unspecified. */
function crlReason(reason: unknown): RevocationReason | undefined {
  if (typeof reason !== 'string') return undefined;
  const name = reason.toLowerCase().replace(/_([a-z])/g, (_match, letter: string) => letter.toUpperCase());
  // The enum maps numbers back to names too: only a name that is a reason counts.
  const known = /^[a-z][a-zA-Z]+$/.test(name) && name !== 'removeFromCRL' && name in x509.X509CrlReason;
  return known ? (name as RevocationReason) : undefined;
}

export function revocationRecord(event: RecordedEvent): RevocationRecord | undefined {
  const data = event.data as { deviceId?: unknown; serialNumber?: unknown; revokedAt?: unknown; reason?: unknown } | null;
  const { deviceId, serialNumber, revokedAt } = data ?? {};
  if (typeof deviceId !== 'string' || typeof serialNumber !== 'string' || normalizeSerial(serialNumber) === undefined) return undefined;
  const at = typeof revokedAt === 'string' && !Number.isNaN(Date.parse(revokedAt)) ? revokedAt : event.createdAt.toISOString();
  const reason = crlReason(data?.reason);
  return { serialNumber, revokedAt: at, deviceId, orgId: event.metadata.orgId ?? undefined, ...(reason === undefined ? {} : { reason }) };
}

/**
 * Every revocation a reader can see now, and the position to follow later
 * ones from. On Postgres one committed a moment ago can still be held back
 * by an older transaction in flight: it comes with the next read, which is
 * why the publisher follows from the checkpoint.
 */
export async function readRevocations(store: EventStore): Promise<{ records: RevocationRecord[]; checkpoint: Position }> {
  const records: RevocationRecord[] = [];
  let checkpoint = START;
  for (;;) {
    const page = await store.readAll({ fromPosition: checkpoint, maxCount: PAGE, filter: FILTER });
    for (const event of page.events) {
      const record = revocationRecord(event);
      if (record !== undefined) records.push(record);
    }
    checkpoint = page.checkpoint;
    if (page.events.length < PAGE) return { records, checkpoint };
  }
}

/**
 * Later revocations, one at a time: the position moves past an event only
 * after `onRevoked` settled, and a store outage is retried from there, so
 * none is skipped.
 */
export function followRevocationRecords(
  store: EventStore,
  from: Position,
  onRevoked: (record: RevocationRecord) => Promise<void>,
  log: Logger,
): { stop(): Promise<void> } {
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
        subscription = store.subscribeToAll({ fromPosition: position, filter: FILTER });
        for await (const batch of subscription) {
          for (const event of batch.events) {
            const record = revocationRecord(event);
            if (record === undefined) log.warn({ eventId: event.id }, 'revocation event without device id or serial number ignored');
            else await onRevoked(record);
          }
          position = batch.checkpoint;
          if (stopped) break;
        }
      } catch (err) {
        if (!stopped) log.error({ err }, 'following certificate revocations failed; retrying');
      }
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
