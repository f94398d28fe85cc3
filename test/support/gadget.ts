import { randomUUID } from 'node:crypto';
import { entityDecider, type EntityCommand, type EntityEvent } from '../../src/commands/entities/entity.decider';
import { AppError, ConflictError, NotFoundError } from '../../src/platform/errors';

/**
 * A test-only entity over the generic entity decider, with one rule for
 * fields (size ≥ 0) and one for deletion (a locked gadget stays).
 */
export interface GadgetFields {
  name: string;
  size: number;
  note: string | null;
  tags: string[];
  attributes: Record<string, string>;
  locked: boolean;
}

export type GadgetEvent = EntityEvent<'Gadget', GadgetFields>;
export type GadgetCommand = EntityCommand<GadgetFields>;

export const gadgetNotFound = (): NotFoundError => new NotFoundError('NOT_FOUND', 'No gadget with this id.');

export const gadgetDecider = entityDecider<'Gadget', GadgetFields>('Gadget', gadgetNotFound, {
  check(fields) {
    if (fields.size < 0) throw new AppError('UNPROCESSABLE', 'A gadget has no negative size.', [{ path: '/body/size', message: 'must be ≥ 0' }]);
  },
  checkDelete(fields) {
    if (fields.locked) throw new ConflictError('CONFLICT', 'A locked gadget cannot be deleted.');
  },
});

export function gadgetStream(id: string): string {
  return `gadget-${id}`;
}

export const AT = '2025-01-02T03:04:05.000Z';
export const LATER = '2025-02-03T04:05:06.000Z';

export function gadgetFields(overrides: Partial<GadgetFields> = {}): GadgetFields {
  return { name: 'Sprocket', size: 3, note: null, tags: ['a', 'b'], attributes: { colour: 'red', finish: 'matt' }, locked: false, ...overrides };
}

export function aGadgetCreated(id: string = randomUUID(), fields: Partial<GadgetFields> = {}, createdAt = AT): GadgetEvent {
  return { type: 'GadgetCreated', data: { ...gadgetFields(fields), id, createdAt } };
}

export function aGadgetUpdated(id: string, changes: Partial<GadgetFields>, updatedAt = LATER): GadgetEvent {
  return { type: 'GadgetUpdated', data: { id, changes, updatedAt } };
}

export function aGadgetDeleted(id: string, deletedAt = LATER): GadgetEvent {
  return { type: 'GadgetDeleted', data: { id, deletedAt } };
}

export function aCreateGadget(id: string = randomUUID(), fields: Partial<GadgetFields> = {}, now = AT): GadgetCommand {
  return { type: 'Create', data: { id, fields: gadgetFields(fields), now } };
}

export function anUpdateGadget(id: string, changes: Partial<GadgetFields>, now = LATER): GadgetCommand {
  return { type: 'Update', data: { id, changes, now } };
}

export function aDeleteGadget(id: string, now = LATER): GadgetCommand {
  return { type: 'Delete', data: { id, now } };
}
