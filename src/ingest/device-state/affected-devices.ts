import { CONFIG_ARTEFACT_EVENT_TYPES, type ConfigArtefactVersionAdded } from '../../commands/config-artefacts/config-artefact.decider';
import { DESIRED_STATE_BINDING_EVENT_TYPES } from '../../commands/desired-state/desired-state-binding.decider';
import { DEVICE_GROUP_EVENT_TYPES } from '../../commands/device-groups/device-group.decider';
import { deviceDecider } from '../../commands/devices/device.decider';
import { bindingApplies } from '../../api/routes/desired-state.queries';
import type { Queryable } from '../../platform/db/pool';
import type { RecordedEvent } from '../../platform/event-store/event-store.port';

/** The events that can change some device's desired state. */
export const DESIRED_STATE_INPUTS: readonly string[] = [
  ...deviceDecider.eventTypes,
  ...DEVICE_GROUP_EVENT_TYPES,
  ...DESIRED_STATE_BINDING_EVENT_TYPES,
  ...CONFIG_ARTEFACT_EVENT_TYPES,
];

/**
 * Devices a binding selection applies to now, plus those whose last
 * published state came from a source matching `sourced` — a device that
 * left a group, or lost a binding, is found through the second half.
 */
async function devicesOf(tx: Queryable, bindings: string, id: string, sourced: Record<string, string>): Promise<string[]> {
  const { rows } = await tx.query<{ id: string }>(
    `SELECT d.id FROM desired_state_bindings b JOIN devices d ON ${bindingApplies('b', 'd')} WHERE ${bindings}
     UNION
     SELECT device_id FROM device_states WHERE desired_sources @> $2::jsonb`,
    [id, JSON.stringify([sourced])],
  );
  return rows.map((r) => r.id);
}

/**
 * The devices whose desired state an event may change, read under the
 * event's organization once the read models include it. An over-estimate is
 * harmless (the publisher compares versions); a device left out would miss
 * its update, hence the published-sources half of each lookup.
 */
export async function affectedDevices(tx: Queryable, event: RecordedEvent): Promise<string[]> {
  const data = event.data as { id: string };
  if ((deviceDecider.eventTypes as readonly string[]).includes(event.type)) return [data.id];
  switch (event.type) {
    case 'DeviceGroupMembersAdded':
      return (event.data as { deviceIds: string[] }).deviceIds;
    case 'DeviceGroupMemberRemoved':
      return [(event.data as { deviceId: string }).deviceId];
    case 'DesiredStateBound':
    case 'DesiredStateUnbound':
      // Unbound bindings keep their row, so the binding still names its devices.
      return devicesOf(tx, 'b.id = $1', data.id, { bindingId: data.id });
    case 'ConfigArtefactVersionAdded':
      return devicesOf(tx, 'b.artefact_id = $1 AND b.unbound_at IS NULL', (event.data as ConfigArtefactVersionAdded['data']).id, { artefactId: data.id });
    default:
      // A group created, changed (a dynamic group's selector) or deleted.
      if ((DEVICE_GROUP_EVENT_TYPES as readonly string[]).includes(event.type)) {
        return devicesOf(tx, "b.target_type = 'DEVICE_GROUP' AND b.target_id = $1 AND b.unbound_at IS NULL", data.id, { targetId: data.id });
      }
      // Other artefact events change no content.
      return [];
  }
}
