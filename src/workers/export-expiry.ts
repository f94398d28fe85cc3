import { randomUUID } from 'node:crypto';
import cron from 'node-cron';
import { exportBlobKey, parseExportBlobKey } from '../commands/exports/export.events';
import { exportCommands } from '../commands/exports/export.handler';
import type { BlobStore } from '../platform/blobs/blob-store.port';
import type { Pool } from '../platform/db/pool';
import { asWriter } from '../platform/db/roles';
import type { EventStore } from '../platform/event-store/event-store.port';
import type { Logger } from '../platform/logger';
import { pruneRuns } from './export-runs.queries';

export interface ExportExpiryOptions {
  readonly pool: Pool;
  readonly store: EventStore;
  readonly blobs: BlobStore;
  readonly log: Logger;
  /** A file younger than this is never swept as an orphan (it may belong to a write or a commit in flight); default 10 minutes. */
  readonly orphanGraceMs?: number;
  /** node-cron expression (default: every 5 minutes). */
  readonly schedule?: string;
}

export interface ExpiryReport {
  readonly ran: boolean;
  readonly expired: number;
  readonly filesDeleted: number;
  readonly runsPruned: number;
}

export interface ExportExpiry {
  runOnce(now?: Date): Promise<ExpiryReport>;
  stop(): Promise<void>;
}

const LOCK = 'iotplane:export-expiry';
const ORPHAN_GRACE_MS = 10 * 60_000;

interface FileOwner {
  status: string;
  attempt: number;
  blob_key: string | null;
  expires_at: Date | null;
}

/** Whether a file under exports/ still serves its export: the current attempt's, or a READY export's own until it expires. */
async function fileIsLive(pool: Pool, key: string, now: Date): Promise<boolean> {
  const parsed = parseExportBlobKey(key);
  if (!parsed) return false;
  const { rows } = await asWriter(pool, (tx) =>
    tx.query<FileOwner>('SELECT status, attempt, blob_key, expires_at FROM exports WHERE org_id = $1 AND id = $2', [parsed.orgId, parsed.id]),
  );
  const owner = rows[0];
  if (!owner) return false;
  if (owner.status === 'PENDING' || owner.status === 'RUNNING') return parsed.attempt >= owner.attempt;
  return owner.status === 'READY' && owner.blob_key === key && owner.expires_at !== null && owner.expires_at > now;
}

/**
 * The exports' scheduled housekeeping (worker role), under a session
 * advisory lock so that one worker process runs it at a time:
 * 1. READY exports past expiresAt: their file is deleted, then ExportExpired
 *    is appended (the API already shows them EXPIRED from expiresAt on);
 * 2. files under exports/ that no export needs any more (an attempt that
 *    died mid-write, a deletion that failed, a write's leftovers), once
 *    older than the grace period;
 * 3. leases of exports that are over.
 * Every step is idempotent: a run cut short is finished by the next.
 */
export function startExportExpiry(options: ExportExpiryOptions): ExportExpiry {
  const { pool, store, blobs, log } = options;
  const graceMs = options.orphanGraceMs ?? ORPHAN_GRACE_MS;

  const work = async (now: Date): Promise<Omit<ExpiryReport, 'ran'>> => {
    const { rows } = await asWriter(pool, (tx) =>
      tx.query<{ org_id: string; id: string; attempt: number }>(`SELECT org_id, id, attempt FROM exports WHERE status = 'READY' AND expires_at <= $1`, [now]),
    );
    let expired = 0;
    for (const row of rows) {
      for (let attempt = 1; attempt <= row.attempt; attempt++) await blobs.delete(exportBlobKey(row.org_id, row.id, attempt));
      const result = await exportCommands.expire(store, { orgId: row.org_id, actor: 'system', correlationId: randomUUID() }, row.id, now);
      expired += result.events.length;
    }
    let filesDeleted = 0;
    for await (const blob of blobs.list('exports/')) {
      if (blob.modifiedAt.getTime() > now.getTime() - graceMs) continue;
      if (await fileIsLive(pool, blob.key, now)) continue;
      await blobs.delete(blob.key);
      filesDeleted += 1;
    }
    const runsPruned = await asWriter(pool, (tx) => pruneRuns(tx));
    return { expired, filesDeleted, runsPruned };
  };

  const runOnce = async (now = new Date()): Promise<ExpiryReport> => {
    const client = await pool.connect();
    let healthy = false;
    try {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked', [LOCK]);
      if (rows[0]?.locked !== true) {
        healthy = true;
        return { ran: false, expired: 0, filesDeleted: 0, runsPruned: 0 };
      }
      const report = await work(now);
      await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [LOCK]);
      healthy = true;
      return { ran: true, ...report };
    } finally {
      // After a failure the session may still hold the lock: closing it frees the lock.
      client.release(!healthy);
    }
  };

  let current: Promise<void> = Promise.resolve();
  const runLogged = (): Promise<void> => {
    current = runOnce().then(
      (report) => {
        if (report.expired + report.filesDeleted > 0) log.info(report, 'exports expired and files swept');
      },
      (err: unknown) => log.error({ err }, 'export expiry failed'),
    );
    return current;
  };
  const task = cron.schedule(options.schedule ?? '*/5 * * * *', runLogged, { noOverlap: true, name: 'export-expiry' });
  return {
    runOnce,
    async stop() {
      await task.destroy();
      await current;
    },
  };
}
