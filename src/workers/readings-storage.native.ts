import type { PoolClient } from '../platform/db/pool';
import { addDays, dayStart } from './readings-retention';
import { addDeleted, type DeletedRows, type ReadingsStorage, type StorageWindow } from './readings-storage';
import { transaction } from './readings-storage.queries';

const PARTITION = /^readings_p(\d{4})(\d{2})(\d{2})$/;

function quoted(name: string): string {
  if (!PARTITION.test(name)) throw new Error(`not a readings partition: ${name}`);
  return `"${name}"`;
}

interface PartitionRow {
  name: string;
  attached: boolean;
  detach_pending: boolean;
  approx_rows: number;
  bytes: number;
}

async function partitions(client: PoolClient): Promise<StorageWindow[]> {
  const { rows } = await client.query<PartitionRow>(
    `SELECT c.relname AS name, i.inhrelid IS NOT NULL AS attached, COALESCE(i.inhdetachpending, false) AS detach_pending,
            COALESCE(s.n_live_tup, GREATEST(c.reltuples, 0))::bigint AS approx_rows, pg_relation_size(c.oid) AS bytes
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_inherits i ON i.inhrelid = c.oid AND i.inhparent = 'readings'::regclass
       LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
      WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname ~ '^readings_p[0-9]{8}$'
      ORDER BY c.relname`,
  );
  return rows.flatMap((row) => {
    const [, y, m, d] = PARTITION.exec(row.name) ?? [];
    const day = `${y}-${m}-${d}`;
    const start = dayStart(day);
    if (Number.isNaN(start.getTime())) return [];
    const { name, attached, approx_rows: approxRows, bytes } = row;
    return [{ name, day, start, end: dayStart(addDays(day, 1)), attached, detachPending: row.detach_pending, approxRows, bytes }];
  });
}

/**
 * Native daily partitions `readings_pYYYYMMDD` (migration 0013). Expired
 * partitions are detached CONCURRENTLY (no lock that stops readers or the
 * ingester) and then dropped; the session's lock_timeout bounds every wait,
 * and an interrupted detach is finalized by the next run. A table of that
 * name left detached (a run stopped between the two steps) is dropped too
 * once its day is past retention.
 */
export const nativeStorage: ReadingsStorage = {
  mode: 'native',

  windows: partitions,

  async ensureDays(client, days, attempt) {
    const created: string[] = [];
    for (const day of days) {
      // One statement each: the parent's lock is held for one CREATE at a time.
      const done = await attempt('create partition', day, async () => {
        const { rows } = await client.query<{ created: boolean }>('SELECT readings_ensure_partition($1::date) AS created', [day]);
        return rows[0]?.created === true;
      });
      if (done) created.push(`readings_p${day.replace(/-/g, '')}`);
    }
    return created;
  },

  async dropBefore(client, windows, before, attempt) {
    const dropped: string[] = [];
    for (const window of windows.filter((w) => w.end.getTime() <= before.getTime())) {
      const table = quoted(window.name);
      const done = await attempt('drop partition', window.name, async () => {
        if (window.detachPending) await client.query(`ALTER TABLE readings DETACH PARTITION ${table} FINALIZE`);
        else if (window.attached) await client.query(`ALTER TABLE readings DETACH PARTITION ${table} CONCURRENTLY`);
        await client.query(`DROP TABLE ${table}`);
        return true;
      });
      if (done) dropped.push(window.name);
    }
    return dropped;
  },

  async purge(client, window, orgIds, { batchBlocks }) {
    const { rows: size } = await client.query<{ blocks: number }>(
      `SELECT pg_relation_size($1::regclass) / current_setting('block_size')::bigint AS blocks`,
      [quoted(window.name)],
    );
    const blocks = size[0]?.blocks ?? 0;
    const deleted: DeletedRows = new Map();
    // Ranges of heap blocks (TID range scans) instead of `ctid IN (SELECT … LIMIT n)`: each statement reads a
    // bounded slice once, where a LIMIT batch would rescan the rows earlier batches left dead.
    for (let from = 0; from < blocks; from += batchBlocks) {
      const to = from + batchBlocks;
      const { rows } = await transaction(
        client,
        () =>
          client.query<{ org_id: string; n: number }>(
            `WITH gone AS (
               DELETE FROM readings r
                WHERE r.ts >= $1 AND r.ts < $2 AND r.org_id = ANY ($3::uuid[])
                  AND r.ctid >= $4::tid AND r.ctid < $5::tid
               RETURNING r.org_id)
             SELECT org_id, count(*)::bigint AS n FROM gone GROUP BY org_id`,
            [window.start, window.end, orgIds, `(${from},0)`, `(${to},0)`],
          ),
        { asWriter: true },
      );
      addDeleted(deleted, rows);
    }
    return deleted;
  },
};
