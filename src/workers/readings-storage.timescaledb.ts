import { utcDay } from './readings-retention';
import { addDeleted, type DeletedRows, type ReadingsStorage } from './readings-storage';
import { transaction } from './readings-storage.queries';

const SLICE_MS = 3_600_000;

/**
 * TimescaleDB hypertable (migration 0013 when the extension is preloaded).
 * Chunks are created by TimescaleDB on insert; expired ones go with
 * drop_chunks. Per-organization deletes run in one-hour slices of a chunk
 * (the hypertable's time index finds them; ctid ranges mean nothing in a
 * compressed chunk). Not exercised by the test suite: no TimescaleDB server
 * can be installed on the machine this was built on.
 */
export const timescaleStorage: ReadingsStorage = {
  mode: 'timescaledb',

  async windows(client) {
    const { rows } = await client.query<{ name: string; range_start: Date; range_end: Date; approx_rows: number; bytes: number }>(
      `SELECT format('%I.%I', ch.chunk_schema, ch.chunk_name) AS name, ch.range_start, ch.range_end,
              GREATEST(c.reltuples, 0)::bigint AS approx_rows, pg_relation_size(c.oid) AS bytes
         FROM timescaledb_information.chunks ch
         JOIN pg_class c ON c.oid = format('%I.%I', ch.chunk_schema, ch.chunk_name)::regclass
        WHERE ch.hypertable_schema = current_schema() AND ch.hypertable_name = 'readings'
        ORDER BY ch.range_start`,
    );
    return rows.map((r) => ({
      name: r.name,
      day: utcDay(r.range_start),
      start: r.range_start,
      end: r.range_end,
      attached: true,
      detachPending: false,
      approxRows: r.approx_rows,
      bytes: r.bytes,
    }));
  },

  ensureDays() {
    return Promise.resolve([]);
  },

  async dropBefore(client, _windows, before, attempt) {
    const dropped = await attempt('drop chunks', `older than ${before.toISOString()}`, async () => {
      const { rows } = await client.query<{ name: string }>(`SELECT drop_chunks('readings', older_than => $1::timestamptz)::text AS name`, [before]);
      return rows.map((r) => r.name);
    });
    return dropped ?? [];
  },

  async purge(client, window, orgIds) {
    const deleted: DeletedRows = new Map();
    for (let from = window.start.getTime(); from < window.end.getTime(); from += SLICE_MS) {
      const to = Math.min(from + SLICE_MS, window.end.getTime());
      const { rows } = await transaction(
        client,
        () =>
          client.query<{ org_id: string; n: number }>(
            `WITH gone AS (DELETE FROM readings WHERE ts >= $1 AND ts < $2 AND org_id = ANY ($3::uuid[]) RETURNING org_id)
             SELECT org_id, count(*)::bigint AS n FROM gone GROUP BY org_id`,
            [new Date(from), new Date(to), orgIds],
          ),
        { asWriter: true },
      );
      addDeleted(deleted, rows);
    }
    return deleted;
  },
};
