import { setTimeout as sleep } from 'node:timers/promises';
import type { EventStore } from '../event-store/event-store.port';
import type { Logger } from '../logger';
import { buildCrl, type RevokedCertificateEntry } from '../pki/crl';
import type { DeviceCa } from '../pki/device-ca';
import { normalizeSerial } from './broker-identity';
import { followRevocationRecords, readRevocations, type RevocationRecord } from './crl-revocations';
import { replaceFile } from './mosquitto-reload';
import type { SessionKicker } from './mosquitto-session-kick';

export interface CrlPublisherOptions {
  readonly ca: DeviceCa;
  readonly store: EventStore;
  /** The broker's `crlfile`. */
  readonly crlFile: string;
  /** Makes the broker re-read the file, e.g. `reloadByPidFile(pid_file)`. */
  readonly reloadBroker: () => Promise<void>;
  /** Without it a revoked device keeps its live session until it reconnects (docs/brokers.md). */
  readonly kickSession?: SessionKicker;
  readonly log: Logger;
  /** thisUpdate to nextUpdate; past nextUpdate Mosquitto refuses every client. Default 30 days. */
  readonly validityDays?: number;
  /** How often an unchanged CRL is re-signed with a new nextUpdate. Default daily. */
  readonly refreshIntervalMs?: number;
  /** Time the broker gets to act on the reload before the kick. Default 500 ms. */
  readonly settleMs?: number;
  readonly now?: () => Date;
}

export interface CrlPublisher {
  /** CRLs written so far (the first one at start). */
  published(): number;
  stop(): Promise<void>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Keeps a running Mosquitto's crl.pem equal to the revocations in the event
 * log: written at start, again at each DeviceCertificateRevoked and daily,
 * each time atomically and followed by a reload. A revoked device's live
 * session is then cut with `kickSession`, except for SUPERSEDED: a renewed
 * device's live session already uses its new certificate, so a kick would
 * only cut that.
 */
export async function startCrlPublisher(options: CrlPublisherOptions): Promise<CrlPublisher> {
  const { log } = options;
  const now = options.now ?? (() => new Date());
  const validityMs = (options.validityDays ?? 30) * DAY_MS;
  const entries = new Map<string, RevokedCertificateEntry>();
  let lastCrlNumber = 0n;
  let count = 0;
  let queue: Promise<void> = Promise.resolve();

  const publish = async (): Promise<void> => {
    const thisUpdate = now();
    // Strictly growing even when two CRLs are signed within one millisecond.
    const byClock = BigInt(thisUpdate.getTime());
    lastCrlNumber = byClock > lastCrlNumber ? byClock : lastCrlNumber + 1n;
    const pem = await buildCrl(options.ca, [...entries.values()], { thisUpdate, nextUpdate: new Date(thisUpdate.getTime() + validityMs), crlNumber: lastCrlNumber });
    await replaceFile(options.crlFile, pem, 0o644);
    count += 1;
    await options.reloadBroker();
    log.info({ revoked: entries.size, crlNumber: lastCrlNumber.toString() }, 'crl published and broker reloaded');
  };
  /** One publication at a time, in order; a failure is logged and the next change or refresh tries again. */
  const enqueue = (task: () => Promise<void>): Promise<void> => {
    queue = queue.then(task).catch((err: unknown) => log.error({ err }, 'crl publication failed'));
    return queue;
  };

  /** False when the serial was already listed (a decommission after a manual revoke): nothing changes. */
  const add = (entry: RevokedCertificateEntry): boolean => {
    const key = normalizeSerial(entry.serialNumber) ?? entry.serialNumber;
    if (entries.has(key)) return false;
    entries.set(key, entry);
    return true;
  };

  const cut = async (record: RevocationRecord): Promise<void> => {
    if (options.kickSession === undefined || record.reason === 'superseded') return;
    if (record.orgId === undefined) return void log.warn({ deviceId: record.deviceId }, 'revocation without an org: live session not cut');
    await sleep(options.settleMs ?? 500);
    let kickSerial: string;
    try {
      kickSerial = await options.kickSession({ deviceId: record.deviceId, orgId: record.orgId });
    } catch (err) {
      return void log.error({ err, deviceId: record.deviceId }, 'could not cut the live session of a revoked certificate');
    }
    log.info({ deviceId: record.deviceId, serialNumber: record.serialNumber, kickSerial }, 'live session of a revoked certificate cut');
    add({ serialNumber: kickSerial, revokedAt: now().toISOString(), reason: 'cessationOfOperation' });
    await publish();
  };

  const onRevoked = (record: RevocationRecord): Promise<void> =>
    enqueue(async () => {
      if (!add(record)) return;
      await publish();
      await cut(record);
    });

  const { records, checkpoint } = await readRevocations(options.store);
  for (const record of records) add(record);
  await publish(); // a failure here fails the start: the broker would run on a stale list
  const follower = followRevocationRecords(options.store, checkpoint, onRevoked, log);
  const refresh = setInterval(() => void enqueue(publish), options.refreshIntervalMs ?? DAY_MS);
  refresh.unref();

  return {
    published: () => count,
    async stop() {
      clearInterval(refresh);
      await follower.stop();
      await queue;
    },
  };
}
