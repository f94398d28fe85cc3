import { contentVersion } from '../../commands/config-artefacts/config-artefact.content';
import {
  desiredStateStream,
  reportedStateStream,
  type DesiredStatePublished,
  type DeviceStateReported,
} from '../../commands/desired-state/device-state.events';
import { drift, type DriftEntry } from '../../commands/desired-state/drift';
import type { Queryable } from '../../platform/db/pool';
import type { EventStore } from '../../platform/event-store/event-store.port';
import { findDesiredState, type DesiredStateSource } from './desired-state.queries';

type Json = Record<string, unknown>;

export interface DeviceStateView {
  deviceId: string;
  /** Present when the view is historical. */
  at?: string;
  desired: Json;
  sources: DesiredStateSource[];
  version: string;
  published: { version: string; publishedAt: string } | null;
  reported: { state: Json; version: string; appliedVersion: string | null; reportedAt: string } | null;
  drift: DriftEntry[];
  inSync: boolean;
}

type Published = DesiredStatePublished['data'];
type Reported = DeviceStateReported['data'];

function compose(base: Omit<DeviceStateView, 'published' | 'reported' | 'drift' | 'inSync'>, published: Published | undefined, reported: Reported | undefined): DeviceStateView {
  const differences = drift(base.desired, reported?.reported ?? {});
  return {
    ...base,
    published: published ? { version: published.version, publishedAt: published.publishedAt } : null,
    reported: reported ? { state: reported.reported, version: reported.version, appliedVersion: reported.appliedVersion, reportedAt: reported.reportedAt } : null,
    drift: differences,
    inSync: differences.length === 0,
  };
}

/**
 * Now: the desired state merged from the read models, what was last
 * published, what the device last reported, and the drift between desired
 * and reported (undefined when the device does not exist under RLS).
 */
export async function currentDeviceState(tx: Queryable, deviceId: string): Promise<DeviceStateView | undefined> {
  const desired = await findDesiredState(tx, deviceId);
  if (!desired) return undefined;
  const { rows } = await tx.query<{
    desired_version: string | null;
    published_at: Date | null;
    reported: Json | null;
    reported_version: string | null;
    reported_applied_version: string | null;
    reported_at: Date | null;
  }>(
    'SELECT desired_version, published_at, reported, reported_version, reported_applied_version, reported_at FROM device_states WHERE device_id = $1',
    [deviceId],
  );
  const row = rows[0];
  const published = row?.desired_version && row.published_at ? { version: row.desired_version, publishedAt: row.published_at.toISOString() } : undefined;
  const reported =
    row?.reported && row.reported_version && row.reported_at
      ? { deviceId, reported: row.reported, version: row.reported_version, appliedVersion: row.reported_applied_version, reportedAt: row.reported_at.toISOString() }
      : undefined;
  return compose(desired, published as Published | undefined, reported);
}

/** The last event of a stream whose time (`timeOf`) is at or before `at`. */
async function asOf<T>(store: EventStore, stream: string, at: number, timeOf: (data: T) => string): Promise<T | undefined> {
  let found: T | undefined;
  for (const event of await store.readStream(stream)) {
    const data = event.data as T;
    if (Date.parse(timeOf(data)) > at) break;
    found = data;
  }
  return found;
}

/**
 * As of a past time, from the event store: the desired state last published
 * to the device at or before `at` (what the device had been told) and its
 * last report by then. The caller has checked the device under RLS.
 */
export async function deviceStateAt(store: EventStore, deviceId: string, at: Date): Promise<DeviceStateView> {
  const time = at.getTime();
  const [published, reported] = await Promise.all([
    asOf<Published>(store, desiredStateStream(deviceId), time, (d) => d.publishedAt),
    asOf<Reported>(store, reportedStateStream(deviceId), time, (d) => d.reportedAt),
  ]);
  const desired = published?.desired ?? {};
  return compose(
    { deviceId, at: at.toISOString(), desired, sources: published?.sources ?? [], version: published?.version ?? contentVersion(desired) },
    published,
    reported,
  );
}
