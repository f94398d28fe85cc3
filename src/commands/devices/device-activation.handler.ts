import type { EventStore } from '../../platform/event-store/event-store.port';
import { handleCommand, type CommandResult } from '../command-handler';
import type { CommandContext, Decider } from '../decider';
import type { EntityEvent, EntityState } from '../entities/entity.decider';
import { deviceDecider, deviceDecommissioned, deviceNotFound, deviceStream, type DeviceFields } from './device.decider';

type DeviceEvent = EntityEvent<'Device', DeviceFields>;
type DeviceState = EntityState<DeviceFields>;
type ActivateOnProvisioning = { type: 'ActivateOnProvisioning'; data: { id: string; now: string } };

/**
 * Provisioning moves a PENDING device to ACTIVE and leaves ACTIVE or DISABLED
 * alone (an operator's DISABLED stands). Decided on the state at append time,
 * so a concurrent change is re-decided rather than overwritten.
 */
const activationDecider: Decider<ActivateOnProvisioning, DeviceEvent, DeviceState> = {
  initialState: deviceDecider.initialState,
  evolve: deviceDecider.evolve,
  decide(command, state) {
    if (state.status === 'active' && state.fields.status !== 'PENDING') return [];
    return deviceDecider.decide({ type: 'Update', data: { id: command.data.id, changes: { status: 'ACTIVE' }, now: command.data.now } }, state);
  },
};

export function activateProvisionedDevice(
  store: EventStore,
  context: CommandContext,
  deviceId: string,
  now = new Date(),
): Promise<CommandResult<DeviceEvent>> {
  return handleCommand(
    store,
    activationDecider,
    deviceStream(deviceId),
    { type: 'ActivateOnProvisioning', data: { id: deviceId, now: now.toISOString() } },
    context,
    { notFound: deviceNotFound, retries: 3 },
  );
}

/** Throws unless the device exists in `orgId` and is not decommissioned: checked before a token is spent on it. */
export async function assertDeviceProvisionable(store: EventStore, orgId: string, deviceId: string): Promise<void> {
  const history = await store.readStream(deviceStream(deviceId));
  if (history.length === 0 || history[0]?.metadata.orgId !== orgId) throw deviceNotFound();
  const state = history.reduce((s, e) => deviceDecider.evolve(s, { type: e.type, data: e.data } as DeviceEvent), deviceDecider.initialState);
  if (state.status === 'deleted') throw deviceDecommissioned();
  if (state.status !== 'active') throw deviceNotFound();
}
