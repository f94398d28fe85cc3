import { randomUUID } from 'node:crypto';
import { componentDecider, componentStream, type ComponentFields } from '../src/commands/components/component.decider';
import type { EntityEvent } from '../src/commands/entities/entity.decider';
import { spec } from './support/decider-spec';
import { AT, LATER, aCreate, aDelete, anUpdate, componentFields } from './support/topology.builders';

type Event = EntityEvent<'Component', ComponentFields>;
const component = spec(componentDecider);

describe('Component', () => {
  it('lives in the stream component-<id>', () => {
    expect(componentStream('abc')).toBe('component-abc');
  });

  describe('when active', () => {
    const id = randomUUID();
    const fields = componentFields();
    const history: Event[] = [{ type: 'ComponentCreated', data: { ...fields, id, createdAt: AT } }];

    it('records a firmware upgrade', () => {
      component
        .given(history)
        .when(anUpdate<ComponentFields>(id, { firmwareVersion: '1.1.0' }))
        .then([{ type: 'ComponentUpdated', data: { id, changes: { firmwareVersion: '1.1.0' }, updatedAt: LATER } }]);
    });

    it.each([
      { field: 'deviceId', changes: { deviceId: randomUUID() } },
      { field: 'key', changes: { key: 'other-board' } },
    ])('refuses a change of $field, fixed at creation (UNPROCESSABLE, 422)', ({ field, changes }) => {
      component
        .given(history)
        .when(anUpdate<ComponentFields>(id, changes))
        .thenThrows({ code: 'UNPROCESSABLE', status: 422, errors: [{ path: `/body/${field}`, message: 'cannot change' }] });
    });

    it('accepts the fixed fields when they are repeated unchanged', () => {
      component.given(history).when(anUpdate<ComponentFields>(id, { deviceId: fields.deviceId, key: fields.key })).then([]);
    });

    it('deletes it; it is then COMPONENT_NOT_FOUND', () => {
      component.given(history).when(aDelete(id)).then([{ type: 'ComponentDeleted', data: { id, deletedAt: LATER } }]);
      component
        .given([...history, { type: 'ComponentDeleted', data: { id, deletedAt: LATER } }])
        .when(aDelete(id))
        .thenThrows({ code: 'COMPONENT_NOT_FOUND', status: 404 });
    });
  });

  it('creates it with every field', () => {
    const id = randomUUID();
    const fields = componentFields({ kind: 'CAMERA' });
    component.given([]).when(aCreate(id, fields)).then([{ type: 'ComponentCreated', data: { ...fields, id, createdAt: AT } }]);
  });
});
