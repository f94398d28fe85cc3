import { REFERENCE_PAIR_EVENT_TYPES, referencePairEntity, type ReferencePairEvent } from '../commands/reference-pairs/reference-pair.decider';
import { entityProjection } from './entity.projection';
import { ident, orgIdOf, type Projection } from './projection';

/** Read-model columns of each field; the API's queries read the same map. */
export const referencePairColumns = {
  name: 'name',
  description: 'description',
  sensorId: 'sensor_id',
  referenceType: 'reference_type',
  referenceSensorId: 'reference_sensor_id',
  validFrom: 'valid_from',
  validTo: 'valid_to',
  toleranceSeconds: 'tolerance_seconds',
} as const;

const pairs = entityProjection({
  name: 'reference-pairs',
  table: 'reference_pairs',
  decider: referencePairEntity,
  columns: referencePairColumns,
});

/**
 * Pairs and their manual reference readings. Recording moves the pair's
 * version (it is a revision of the pair's stream, and If-Match compares
 * revisions); a deleted pair takes its readings with it. A reading row keeps
 * the revision that wrote it, so applying an older event again never
 * overwrites a newer value.
 */
export const referencePairsProjection: Projection = {
  name: 'reference-pairs',
  tables: ['reference_pairs', 'reference_readings'],
  eventTypes: REFERENCE_PAIR_EVENT_TYPES,
  async apply(tx, events, table) {
    const readings = ident(table('reference_readings'));
    for (const recorded of events) {
      const event = { type: recorded.type, data: recorded.data } as ReferencePairEvent;
      const orgId = orgIdOf(recorded);
      const revision = Number(recorded.revision);
      switch (event.type) {
        case 'ReferenceReadingsRecorded': {
          const { id, readings: items, recordedAt } = event.data;
          // The last item of a ts wins, as if the items were recorded one by one.
          await tx.query(
            `INSERT INTO ${readings} AS r (org_id, pair_id, ts, value, recorded_at, revision)
             SELECT DISTINCT ON (i.ts) $1::uuid, $2::uuid, i.ts, i.value, $5::timestamptz, $6::bigint
               FROM unnest($3::timestamptz[], $4::float8[]) WITH ORDINALITY AS i(ts, value, n)
              ORDER BY i.ts, i.n DESC
             ON CONFLICT (org_id, pair_id, ts) DO UPDATE SET value = excluded.value, recorded_at = excluded.recorded_at, revision = excluded.revision
              WHERE r.revision <= excluded.revision`,
            [orgId, id, items.map((i) => i.ts), items.map((i) => i.value), recordedAt, revision],
          );
          await tx.query(
            `UPDATE ${ident(table('reference_pairs'))} SET version = $3, updated_at = $4 WHERE org_id = $1 AND id = $2 AND version < $3`,
            [orgId, id, revision, recordedAt],
          );
          break;
        }
        case 'ReferencePairDeleted':
          await tx.query(`DELETE FROM ${readings} WHERE org_id = $1 AND pair_id = $2`, [orgId, event.data.id]);
          await pairs.apply(tx, [recorded], table);
          break;
        default:
          await pairs.apply(tx, [recorded], table);
      }
    }
  },
};
