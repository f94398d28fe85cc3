import { DEVICE_STATE_EVENT_TYPES, type DeviceStateEvent } from '../commands/desired-state/device-state.events';
import { assertNever } from '../commands/decider';
import { ident, orgIdOf, type Projection } from './projection';

/**
 * Per device, the desired state last published and the state last reported.
 * Each half moves only forward by its stream's revision, so a replay
 * changes nothing.
 */
export const deviceStatesProjection: Projection = {
  name: 'device-states',
  tables: ['device_states'],
  eventTypes: DEVICE_STATE_EVENT_TYPES,
  async apply(tx, events, table) {
    const states = ident(table('device_states'));
    for (const recorded of events) {
      const event = { type: recorded.type, data: recorded.data } as DeviceStateEvent;
      const orgId = orgIdOf(recorded);
      const revision = Number(recorded.revision);
      switch (event.type) {
        case 'DesiredStatePublished': {
          const d = event.data;
          await tx.query(
            `INSERT INTO ${states} AS s (org_id, device_id, desired, desired_version, desired_sources, desired_revision, published_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (org_id, device_id) DO UPDATE
               SET desired = EXCLUDED.desired, desired_version = EXCLUDED.desired_version, desired_sources = EXCLUDED.desired_sources,
                   desired_revision = EXCLUDED.desired_revision, published_at = EXCLUDED.published_at
               WHERE s.desired_revision < EXCLUDED.desired_revision`,
            [orgId, d.deviceId, d.desired, d.version, JSON.stringify(d.sources), revision, d.publishedAt],
          );
          break;
        }
        case 'DeviceStateReported': {
          const d = event.data;
          await tx.query(
            `INSERT INTO ${states} AS s (org_id, device_id, reported, reported_version, reported_applied_version, reported_revision, reported_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (org_id, device_id) DO UPDATE
               SET reported = EXCLUDED.reported, reported_version = EXCLUDED.reported_version,
                   reported_applied_version = EXCLUDED.reported_applied_version, reported_revision = EXCLUDED.reported_revision,
                   reported_at = EXCLUDED.reported_at
               WHERE s.reported_revision < EXCLUDED.reported_revision`,
            [orgId, d.deviceId, d.reported, d.version, d.appliedVersion, revision, d.reportedAt],
          );
          break;
        }
        default:
          assertNever(event);
      }
    }
  },
};
