import { ConflictError, NotFoundError } from '../../platform/errors';
import { assertNever, type Decider, type DomainEvent } from '../decider';

export type DesiredStateTargetType = 'DEVICE' | 'DEVICE_GROUP' | 'SITE';
/** A fixed artefact version, or `latest`: whatever the artefact's latest version is when the state is read. */
export type DesiredStateVersion = number | 'latest';

export interface DesiredStateBindingFields {
  artefactId: string;
  version: DesiredStateVersion;
  targetType: DesiredStateTargetType;
  targetId: string;
  priority: number;
}

export type DesiredStateBound = DomainEvent<'DesiredStateBound', DesiredStateBindingFields & { id: string; boundAt: string }>;
export type DesiredStateUnbound = DomainEvent<'DesiredStateUnbound', { id: string; unboundAt: string }>;
export type DesiredStateBindingEvent = DesiredStateBound | DesiredStateUnbound;

export const DESIRED_STATE_BINDING_EVENT_TYPES: readonly DesiredStateBindingEvent['type'][] = ['DesiredStateBound', 'DesiredStateUnbound'];

export type DesiredStateBindingCommand =
  | { type: 'BindDesiredState'; data: DesiredStateBindingFields & { id: string; now: string } }
  | { type: 'UnbindDesiredState'; data: { now: string } };

export type DesiredStateBindingState = { status: 'absent' } | { status: 'BOUND'; id: string } | { status: 'UNBOUND'; id: string };

export const desiredStateBindingNotFound = (): NotFoundError =>
  new NotFoundError('DESIRED_STATE_BINDING_NOT_FOUND', 'No desired-state binding with this id.');

/** A binding of an artefact (version) to a device, group or site. Bindings are not edited: unbind and bind again. */
export const desiredStateBindingDecider: Decider<DesiredStateBindingCommand, DesiredStateBindingEvent, DesiredStateBindingState> = {
  initialState: { status: 'absent' },

  decide(command, state) {
    switch (command.type) {
      case 'BindDesiredState': {
        if (state.status !== 'absent') throw new ConflictError('CONFLICT', 'The desired-state binding already exists.');
        const { now, ...data } = command.data;
        return [{ type: 'DesiredStateBound', data: { ...data, boundAt: now } }];
      }
      case 'UnbindDesiredState':
        if (state.status === 'absent') throw desiredStateBindingNotFound();
        if (state.status === 'UNBOUND') return [];
        return [{ type: 'DesiredStateUnbound', data: { id: state.id, unboundAt: command.data.now } }];
      default:
        return assertNever(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'DesiredStateBound':
        return { status: 'BOUND', id: event.data.id };
      case 'DesiredStateUnbound':
        return state.status === 'absent' ? state : { status: 'UNBOUND', id: state.id };
      default:
        return assertNever(event);
    }
  },
};

export function desiredStateBindingStream(id: string): string {
  return `desired-state-binding-${id}`;
}
