import type { ConfigArtefactEvent } from '../commands/config-artefacts/config-artefact.decider';
import type { DesiredStateBindingEvent, DesiredStateTargetType } from '../commands/desired-state/desired-state-binding.decider';
import type { DeviceCommandEvent } from '../commands/device-commands/device-command.events';
import type { HandlerContext } from './activity-events.entry';
import { label, type ActivityEntry, type ActivityHandlers } from './activity-events.entry';
import type { Subject, SubjectKind } from './activity-events.directory';

/** Config artefacts: created, a version added, archived; renames only rename later sentences. */
export const configArtefactHandlers: ActivityHandlers<ConfigArtefactEvent> = {
  async ConfigArtefactCreated({ data }, { recorded, directory }) {
    await directory.remember('CONFIG_ARTEFACT', data.id, recorded.revision, { name: data.name, deviceId: null, siteId: null, facts: {} });
    return {
      type: 'CONFIG_ARTEFACT_CREATED',
      occurredAt: data.createdAt,
      deviceId: null,
      siteId: null,
      subject: { type: 'CONFIG_ARTEFACT', id: data.id },
      summary: `Config artefact '${data.name}' created (version 1)`,
      data: { name: data.name, version: 1, contentHash: data.contentHash },
    };
  },

  async ConfigArtefactVersionAdded({ data }, { directory }) {
    const artefact = await directory.find('CONFIG_ARTEFACT', data.id);
    return {
      type: 'CONFIG_ARTEFACT_VERSION_ADDED',
      occurredAt: data.addedAt,
      deviceId: null,
      siteId: null,
      subject: { type: 'CONFIG_ARTEFACT', id: data.id },
      summary: `${label('Config artefact', artefact, data.id)}: version ${data.version} added`,
      data: { version: data.version, contentHash: data.contentHash },
    };
  },

  async ConfigArtefactUpdated({ data }, { recorded, directory }) {
    if (data.changes.name !== undefined) {
      await directory.change('CONFIG_ARTEFACT', data.id, recorded.revision, await directory.find('CONFIG_ARTEFACT', data.id), { name: data.changes.name });
    }
    return null;
  },

  async ConfigArtefactArchived({ data }, { directory }) {
    const artefact = await directory.find('CONFIG_ARTEFACT', data.id);
    return {
      type: 'CONFIG_ARTEFACT_ARCHIVED',
      occurredAt: data.archivedAt,
      deviceId: null,
      siteId: null,
      subject: { type: 'CONFIG_ARTEFACT', id: data.id },
      summary: `${label('Config artefact', artefact, data.id)} archived`,
      data: {},
    };
  },
};

const TARGETS: Readonly<Record<DesiredStateTargetType, { kind: SubjectKind; noun: string }>> = {
  DEVICE: { kind: 'DEVICE', noun: 'device' },
  DEVICE_GROUP: { kind: 'DEVICE_GROUP', noun: 'device group' },
  SITE: { kind: 'SITE', noun: 'site' },
};

interface BindingFacts {
  artefactId: string;
  version: number | 'latest';
  targetType: DesiredStateTargetType;
  targetId: string;
  priority: number;
}

/** `Config artefact 'thermostat' (version 2)` and `device 'Freezer 3'`, with the device and site the binding is about. */
async function describeBinding(facts: BindingFacts, { directory }: HandlerContext) {
  const artefact = await directory.find('CONFIG_ARTEFACT', facts.artefactId);
  const target = TARGETS[facts.targetType];
  const subject = await directory.find(target.kind, facts.targetId);
  const version = facts.version === 'latest' ? 'latest version' : `version ${facts.version}`;
  return {
    what: `${label('Config artefact', artefact, facts.artefactId)} (${version})`,
    to: label(target.noun, subject, facts.targetId),
    deviceId: facts.targetType === 'DEVICE' ? facts.targetId : null,
    siteId: facts.targetType === 'SITE' ? facts.targetId : facts.targetType === 'DEVICE' ? (subject?.siteId ?? null) : null,
  };
}

/** Bindings of artefacts to devices, groups and sites. What was published to devices is not in the feed (one entry per device). */
export const desiredStateHandlers: ActivityHandlers<DesiredStateBindingEvent> = {
  async DesiredStateBound({ data }, ctx) {
    const { id, boundAt, ...facts } = data;
    const binding = await describeBinding(facts, ctx);
    await ctx.directory.remember('DESIRED_STATE_BINDING', id, ctx.recorded.revision, { name: null, deviceId: binding.deviceId, siteId: binding.siteId, facts: { ...facts } });
    return {
      type: 'DESIRED_STATE_BOUND',
      occurredAt: boundAt,
      deviceId: binding.deviceId,
      siteId: binding.siteId,
      subject: { type: 'DESIRED_STATE_BINDING', id },
      summary: `${binding.what} bound to ${binding.to} with priority ${facts.priority}`,
      data: { ...facts },
    };
  },

  async DesiredStateUnbound({ data }, ctx) {
    const known = await ctx.directory.find('DESIRED_STATE_BINDING', data.id);
    const facts = known?.facts as BindingFacts | undefined;
    const binding = facts ? await describeBinding(facts, ctx) : undefined;
    return {
      type: 'DESIRED_STATE_UNBOUND',
      occurredAt: data.unboundAt,
      deviceId: binding?.deviceId ?? null,
      siteId: binding?.siteId ?? null,
      subject: { type: 'DESIRED_STATE_BINDING', id: data.id },
      summary: binding ? `${binding.what} unbound from ${binding.to}` : `Desired-state binding ${data.id.slice(0, 8)} unbound`,
      data: facts ? { ...facts } : {},
    };
  },
};

type Outcome = Exclude<DeviceCommandEvent, { type: 'CommandQueued' | 'CommandSent' | 'CommandAcknowledged' }>;

const OUTCOMES: { readonly [T in Outcome['type']]: { type: ActivityEntry['type']; says: (event: Extract<Outcome, { type: T }>, command: Subject | undefined) => string } } = {
  CommandSucceeded: { type: 'COMMAND_SUCCEEDED', says: () => 'succeeded' },
  CommandFailed: { type: 'COMMAND_FAILED', says: ({ data }) => `failed: ${data.error.message} (${data.error.code})` },
  CommandTimedOut: {
    type: 'COMMAND_TIMED_OUT',
    says: (_event, command) => (typeof command?.facts.timeoutSeconds === 'number' ? `timed out: no answer within ${command.facts.timeoutSeconds} s` : 'timed out'),
  },
  CommandExpired: { type: 'COMMAND_EXPIRED', says: () => 'expired before it could be sent' },
  CommandCancelled: { type: 'COMMAND_CANCELLED', says: () => 'cancelled' },
};

function outcome<T extends Outcome['type']>(type: T) {
  return async (event: Extract<Outcome, { type: T }>, { directory }: HandlerContext): Promise<ActivityEntry> => {
    const { id, at } = event.data;
    const command = await directory.find('COMMAND', id);
    const deviceId = command?.deviceId ?? null;
    const device = deviceId ? await directory.find('DEVICE', deviceId) : undefined;
    const to = deviceId ? ` to ${label('device', device, deviceId)}` : '';
    return {
      type: OUTCOMES[type].type,
      occurredAt: at,
      deviceId,
      siteId: device?.siteId ?? null,
      subject: { type: 'COMMAND', id },
      summary: `${label('Command', command, id)}${to} ${OUTCOMES[type].says(event, command)}`,
      data: { name: command?.name ?? null, batchId: command?.facts.batchId ?? null, ...('error' in event.data ? { error: event.data.error } : {}) },
    };
  };
}

/** Device commands: their final outcomes. Queuing is remembered for the names, not shown (a group command queues one per device). */
export const commandHandlers: ActivityHandlers<DeviceCommandEvent> = {
  async CommandQueued({ data }, { recorded, directory }) {
    const facts = { timeoutSeconds: data.timeoutSeconds, batchId: data.batchId };
    await directory.remember('COMMAND', data.id, recorded.revision, { name: data.name, deviceId: data.deviceId, siteId: null, facts });
    return null;
  },
  CommandSucceeded: outcome('CommandSucceeded'),
  CommandFailed: outcome('CommandFailed'),
  CommandTimedOut: outcome('CommandTimedOut'),
  CommandExpired: outcome('CommandExpired'),
  CommandCancelled: outcome('CommandCancelled'),
};
