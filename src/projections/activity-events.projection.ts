import type { DomainEvent } from '../commands/decider';
import { alertHandlers } from './activity-events.alerts';
import { exportHandlers } from './activity-events.exports';
import { certificateHandlers, deviceHandlers, readingsHandlers } from './activity-events.devices';
import { SubjectDirectory, uuidOrNull } from './activity-events.directory';
import type { ActivityHandler, ActivityHandlers } from './activity-events.entry';
import { commandHandlers, configArtefactHandlers, desiredStateHandlers } from './activity-events.operations';
import { deviceGroupHandlers, sensorHandlers, siteHandlers } from './activity-events.topology';
import { ident, orgIdOf, type Projection } from './projection';

function register<E extends DomainEvent>(handlers: ActivityHandlers<E>): [string, ActivityHandler<DomainEvent>][] {
  return Object.entries(handlers) as [string, ActivityHandler<DomainEvent>][];
}

/**
 * Every event type the feed reads, with what it makes of it (docs/events.md).
 * A feature adds its own handlers module here.
 */
const HANDLERS: ReadonlyMap<string, ActivityHandler<DomainEvent>> = new Map([
  ...register(deviceHandlers),
  ...register(certificateHandlers),
  ...register(readingsHandlers),
  ...register(siteHandlers),
  ...register(sensorHandlers),
  ...register(deviceGroupHandlers),
  ...register(configArtefactHandlers),
  ...register(desiredStateHandlers),
  ...register(alertHandlers),
  ...register(commandHandlers),
  ...register(exportHandlers),
]);

const isTime = (text: string): boolean => typeof text === 'string' && !Number.isNaN(Date.parse(text));

/**
 * The organization's activity feed: one row per event worth a sentence,
 * keyed by the event id (a replay inserts nothing) and ordered by the
 * event's position. Its subject directory follows the same events in the
 * same order, so a sentence never waits for, or races, another projection.
 */
export const activityEventsProjection: Projection = {
  name: 'activity-events',
  tables: ['activity_events', 'activity_subjects'],
  eventTypes: [...HANDLERS.keys()],
  async apply(tx, events, table) {
    const entries = ident(table('activity_events'));
    for (const recorded of events) {
      const handler = HANDLERS.get(recorded.type);
      if (!handler) continue;
      const orgId = orgIdOf(recorded);
      const directory = new SubjectDirectory(tx, table('activity_subjects'), orgId);
      const entry = await handler({ type: recorded.type, data: recorded.data }, { recorded, directory });
      if (!entry) continue;
      await tx.query(
        `INSERT INTO ${entries} (org_id, id, commit_position, prepare_position, type, occurred_at, device_id, site_id,
                                 subject_type, subject_id, summary, actor, data)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (org_id, id) DO NOTHING`,
        [
          orgId,
          recorded.id,
          recorded.position.commit.toString(),
          recorded.position.prepare.toString(),
          entry.type,
          isTime(entry.occurredAt) ? entry.occurredAt : recorded.createdAt.toISOString(),
          uuidOrNull(entry.deviceId),
          uuidOrNull(entry.siteId),
          entry.subject.type,
          entry.subject.id,
          entry.summary,
          recorded.metadata.actor,
          JSON.stringify(entry.data),
        ],
      );
    }
  },
};
