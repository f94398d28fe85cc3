import { AppError, ConflictError, NotFoundError } from '../../platform/errors';
import { assertNever, type Decider, type DomainEvent } from '../decider';
import { entityDecider, type EntityCommand, type EntityEvent, type EntityState } from '../entities/entity.decider';

export interface TagSelector {
  allOf?: string[];
  anyOf?: string[];
}

export interface DeviceGroupFields {
  name: string;
  description: string | null;
  kind: 'STATIC' | 'DYNAMIC';
  tagSelector: TagSelector | null;
  labels: Record<string, string>;
}

export const deviceGroupNotFound = (): NotFoundError => new NotFoundError('DEVICE_GROUP_NOT_FOUND', 'No device group with this id.');

/** A dynamic group needs a selector naming at least one tag; a static one has none. */
function checkSelector(fields: DeviceGroupFields): void {
  const tags = (fields.tagSelector?.allOf?.length ?? 0) + (fields.tagSelector?.anyOf?.length ?? 0);
  if (fields.kind === 'DYNAMIC' && tags === 0) {
    throw new AppError('UNPROCESSABLE', 'A DYNAMIC group needs a tagSelector with at least one tag.', [
      { path: '/body/tagSelector', message: 'must name at least one tag' },
    ]);
  }
  if (fields.kind === 'STATIC' && fields.tagSelector !== null) {
    throw new AppError('UNPROCESSABLE', 'A STATIC group has explicit members, not a tagSelector.', [
      { path: '/body/tagSelector', message: 'must be null for a STATIC group' },
    ]);
  }
}

const entity = entityDecider<'DeviceGroup', DeviceGroupFields>('DeviceGroup', deviceGroupNotFound, { check: checkSelector });

export type DeviceGroupMembersAdded = DomainEvent<'DeviceGroupMembersAdded', { id: string; deviceIds: string[]; addedAt: string }>;
export type DeviceGroupMemberRemoved = DomainEvent<'DeviceGroupMemberRemoved', { id: string; deviceId: string; removedAt: string }>;
export type DeviceGroupEvent = EntityEvent<'DeviceGroup', DeviceGroupFields> | DeviceGroupMembersAdded | DeviceGroupMemberRemoved;

export type DeviceGroupCommand =
  | EntityCommand<DeviceGroupFields>
  | { type: 'AddMembers'; data: { deviceIds: string[]; now: string } }
  | { type: 'RemoveMember'; data: { deviceId: string; now: string } };

export interface DeviceGroupState {
  readonly entity: EntityState<DeviceGroupFields>;
  readonly members: ReadonlySet<string>;
}

export const DEVICE_GROUP_EVENT_TYPES = [...entity.eventTypes, 'DeviceGroupMembersAdded', 'DeviceGroupMemberRemoved'] as const;

function activeStatic(state: DeviceGroupState): string {
  if (state.entity.status !== 'active') throw deviceGroupNotFound();
  if (state.entity.fields.kind !== 'STATIC') {
    throw new ConflictError('GROUP_IS_DYNAMIC', 'Members of a DYNAMIC group follow its tagSelector; change the selector instead.');
  }
  return state.entity.id;
}

/** Device groups: the entity life of any resource, plus static membership. */
export const deviceGroupDecider: Decider<DeviceGroupCommand, DeviceGroupEvent, DeviceGroupState> = {
  initialState: { entity: entity.initialState, members: new Set() },

  decide(command, state) {
    switch (command.type) {
      case 'Create':
      case 'Update':
      case 'Delete':
        return entity.decide(command, state.entity);
      case 'AddMembers': {
        const id = activeStatic(state);
        const added = command.data.deviceIds.filter((d) => !state.members.has(d));
        return added.length === 0 ? [] : [{ type: 'DeviceGroupMembersAdded', data: { id, deviceIds: added, addedAt: command.data.now } }];
      }
      case 'RemoveMember': {
        const id = activeStatic(state);
        if (!state.members.has(command.data.deviceId)) {
          throw new NotFoundError('GROUP_MEMBER_NOT_FOUND', 'The device is not a member of this group.');
        }
        return [{ type: 'DeviceGroupMemberRemoved', data: { id, deviceId: command.data.deviceId, removedAt: command.data.now } }];
      }
      default:
        return assertNever(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'DeviceGroupMembersAdded':
        return { ...state, members: new Set([...state.members, ...event.data.deviceIds]) };
      case 'DeviceGroupMemberRemoved': {
        const members = new Set(state.members);
        members.delete(event.data.deviceId);
        return { ...state, members };
      }
      default:
        return { ...state, entity: entity.evolve(state.entity, event) };
    }
  },
};

export const deviceGroupEntity = entity;

export function deviceGroupStream(id: string): string {
  return `deviceGroup-${id}`;
}
