import type { DomainEvent } from '../commands/decider';
import type { RecordedEvent } from '../platform/event-store/event-store.port';
import type { Subject, SubjectDirectory } from './activity-events.directory';

/**
 * Types of feed entries (docs/events.md). They are stored in rows, sent as
 * SSE event names and accepted by `?type=`: add new ones, never rename.
 */
export const ACTIVITY_TYPES = [
  'DEVICE_CREATED',
  'DEVICE_UPDATED',
  'DEVICE_STATUS_CHANGED',
  'DEVICE_DECOMMISSIONED',
  'DEVICE_PROVISIONED',
  'CERTIFICATE_RENEWED',
  'CERTIFICATE_REVOKED',
  'SITE_CREATED',
  'SITE_DELETED',
  'SENSOR_CREATED',
  'SENSOR_DELETED',
  'CONFIG_ARTEFACT_CREATED',
  'CONFIG_ARTEFACT_VERSION_ADDED',
  'CONFIG_ARTEFACT_ARCHIVED',
  'DESIRED_STATE_BOUND',
  'DESIRED_STATE_UNBOUND',
  'ALERT_RAISED',
  'ALERT_ACKNOWLEDGED',
  'ALERT_RESOLVED',
  'COMMAND_SUCCEEDED',
  'COMMAND_FAILED',
  'COMMAND_TIMED_OUT',
  'COMMAND_EXPIRED',
  'COMMAND_CANCELLED',
  'QUARANTINE_RELEASED',
  'QUARANTINE_DISCARDED',
  'READINGS_SEQUENCE_GAP',
  'EXPORT_REQUESTED',
  'EXPORT_READY',
  'EXPORT_FAILED',
] as const;
export type ActivityType = (typeof ACTIVITY_TYPES)[number];

export type SubjectType =
  | 'DEVICE'
  | 'SITE'
  | 'SENSOR'
  | 'CERTIFICATE'
  | 'CONFIG_ARTEFACT'
  | 'DESIRED_STATE_BINDING'
  | 'ALERT'
  | 'COMMAND'
  | 'QUARANTINE_ENTRY'
  | 'EXPORT';

/** One feed entry as a handler builds it from one event; the projection adds the event's id, position and actor. */
export interface ActivityEntry {
  readonly type: ActivityType;
  readonly occurredAt: string;
  readonly deviceId: string | null;
  readonly siteId: string | null;
  readonly subject: { readonly type: SubjectType; readonly id: string };
  /** A sentence built only from the event and the projection's own subject directory. */
  readonly summary: string;
  /** A few relevant fields of the event, never its whole payload. */
  readonly data: Readonly<Record<string, unknown>>;
}

export interface HandlerContext {
  readonly recorded: RecordedEvent;
  readonly directory: SubjectDirectory;
}

/**
 * What the feed does with one event type: reads the directory as it was
 * before the event (a rename's old name), records what the event teaches it,
 * and returns an entry or null (the event only informs later sentences).
 */
export type ActivityHandler<E extends DomainEvent> = (event: E, ctx: HandlerContext) => Promise<ActivityEntry | null>;

/** Handlers for some of a union's event types, each typed with its own event. */
export type ActivityHandlers<E extends DomainEvent> = { readonly [T in E['type']]?: ActivityHandler<Extract<E, { type: T }>> };

/** `device 'Freezer 3'`, or the id's first block when the subject was never seen. */
export function label(kind: string, subject: Subject | undefined, id: string): string {
  return subject?.name ? `${kind} '${subject.name}'` : `${kind} ${id.slice(0, 8)}`;
}

/** A sensor's key (what readings and alerts call it), or its id's first block. */
export function sensorKey(sensor: Subject | undefined, sensorId: string): string {
  return sensor?.name ?? sensorId.slice(0, 8);
}

/** `sensor temp of device 'Freezer 3'`. */
export function sensorLabel(sensor: Subject | undefined, sensorId: string, device: Subject | undefined, deviceId: string): string {
  return `sensor ${sensorKey(sensor, sensorId)} of ${label('device', device, deviceId)}`;
}
