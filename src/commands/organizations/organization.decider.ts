import { ConflictError, NotFoundError } from '../../platform/errors';
import { assertNever, type Decider } from '../decider';
import type { OrganizationEvent } from './organization.events';

export type OrganizationCommand =
  | { type: 'CreateOrganization'; data: { orgId: string; name: string; now: string } }
  | { type: 'RenameOrganization'; data: { orgId: string; name: string; now: string } };

export type OrganizationState = { status: 'absent' } | { status: 'active'; orgId: string; name: string };

export const organizationDecider: Decider<OrganizationCommand, OrganizationEvent, OrganizationState> = {
  initialState: { status: 'absent' },

  decide(command, state) {
    switch (command.type) {
      case 'CreateOrganization':
        if (state.status !== 'absent') throw new ConflictError('CONFLICT', 'The organization already exists.');
        return [{ type: 'OrganizationCreated', data: { orgId: command.data.orgId, name: command.data.name, createdAt: command.data.now } }];
      case 'RenameOrganization':
        if (state.status === 'absent') throw new NotFoundError('ORGANIZATION_NOT_FOUND');
        if (state.name === command.data.name) return [];
        return [{ type: 'OrganizationRenamed', data: { orgId: command.data.orgId, name: command.data.name, renamedAt: command.data.now } }];
      default:
        return assertNever(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'OrganizationCreated':
        return { status: 'active', orgId: event.data.orgId, name: event.data.name };
      case 'OrganizationRenamed':
        return state.status === 'active' ? { ...state, name: event.data.name } : state;
      default:
        return assertNever(event);
    }
  },
};
