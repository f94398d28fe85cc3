import { randomUUID } from 'node:crypto';
import {
  desiredStateBindingDecider,
  desiredStateBindingStream,
  type DesiredStateBindingEvent,
  type DesiredStateBindingFields,
} from '../src/commands/desired-state/desired-state-binding.decider';
import { spec } from './support/decider-spec';

const AT = '2025-01-01T00:00:00.000Z';
const LATER = '2025-01-02T00:00:00.000Z';
const binding = spec(desiredStateBindingDecider);
const fields: DesiredStateBindingFields = { artefactId: randomUUID(), version: 'latest', targetType: 'DEVICE', targetId: randomUUID(), priority: 0 };
const bound = (id: string): DesiredStateBindingEvent => ({ type: 'DesiredStateBound', data: { id, ...fields, boundAt: AT } });

describe('DesiredStateBinding', () => {
  it('lives in the stream desired-state-binding-<id>', () => {
    expect(desiredStateBindingStream('abc')).toBe('desired-state-binding-abc');
  });

  it('binds when absent', () => {
    const id = randomUUID();
    binding.given([]).when({ type: 'BindDesiredState', data: { id, ...fields, now: AT } }).then([bound(id)]);
  });

  it('refuses to bind the same id twice', () => {
    const id = randomUUID();
    binding.given([bound(id)]).when({ type: 'BindDesiredState', data: { id, ...fields, now: LATER } }).thenThrows({ code: 'CONFLICT', status: 409 });
  });

  it('unbinds a bound binding, and unbinding again appends nothing', () => {
    const id = randomUUID();
    const unbound: DesiredStateBindingEvent = { type: 'DesiredStateUnbound', data: { id, unboundAt: LATER } };
    binding.given([bound(id)]).when({ type: 'UnbindDesiredState', data: { now: LATER } }).then([unbound]);
    binding.given([bound(id), unbound]).when({ type: 'UnbindDesiredState', data: { now: LATER } }).then([]);
  });

  it('refuses to unbind a binding that does not exist', () => {
    binding.given([]).when({ type: 'UnbindDesiredState', data: { now: AT } }).thenThrows({ code: 'DESIRED_STATE_BINDING_NOT_FOUND', status: 404 });
  });
});
