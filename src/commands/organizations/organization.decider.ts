import { ConflictError, NotFoundError } from '../../platform/errors';
import { assertNever, type Decider } from '../decider';
import type { OrganizationEvent } from './organization.events';

/** `UpdateOrganization` changes what it names (undefined: unchanged; retention null: back to the platform default). */
export type OrganizationCommand =
  | { type: 'CreateOrganization'; data: { orgId: string; name: string; now: string } }
  | { type: 'RenameOrganization'; data: { orgId: string; name: string; now: string } }
  | { type: 'UpdateOrganization'; data: { orgId: string; name?: string; readingsRetentionDays?: number | null; now: string } };

export type OrganizationState =
  | { status: 'absent' }
  | { status: 'active'; orgId: string; name: string; readingsRetentionDays: number | null };

type Active = Extract<OrganizationState, { status: 'active' }>;

function rename(state: Active, orgId: string, name: string | undefined, now: string): OrganizationEvent[] {
  if (name === undefined || name === state.name) return [];
  return [{ type: 'OrganizationRenamed', data: { orgId, name, renamedAt: now } }];
}

function setRetention(state: Active, orgId: string, days: number | null | undefined, now: string): OrganizationEvent[] {
  if (days === undefined || days === state.readingsRetentionDays) return [];
  return [{ type: 'OrganizationReadingsRetentionSet', data: { orgId, days, setAt: now } }];
}

export const organizationDecider: Decider<OrganizationCommand, OrganizationEvent, OrganizationState> = {
  initialState: { status: 'absent' },

  decide(command, state) {
    if (command.type === 'CreateOrganization') {
      if (state.status !== 'absent') throw new ConflictError('CONFLICT', 'The organization already exists.');
      return [{ type: 'OrganizationCreated', data: { orgId: command.data.orgId, name: command.data.name, createdAt: command.data.now } }];
    }
    if (state.status === 'absent') throw new NotFoundError('ORGANIZATION_NOT_FOUND');
    const { orgId, now } = command.data;
    switch (command.type) {
      case 'RenameOrganization':
        return rename(state, orgId, command.data.name, now);
      case 'UpdateOrganization':
        return [...rename(state, orgId, command.data.name, now), ...setRetention(state, orgId, command.data.readingsRetentionDays, now)];
      default:
        return assertNever(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'OrganizationCreated':
        return { status: 'active', orgId: event.data.orgId, name: event.data.name, readingsRetentionDays: null };
      case 'OrganizationRenamed':
        return state.status === 'active' ? { ...state, name: event.data.name } : state;
      case 'OrganizationReadingsRetentionSet':
        return state.status === 'active' ? { ...state, readingsRetentionDays: event.data.days } : state;
      default:
        return assertNever(event);
    }
  },
};
