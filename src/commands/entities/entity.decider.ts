import { AppError, ConflictError } from '../../platform/errors';
import { assertNever, type Decider } from '../decider';

/**
 * Most configuration resources (sites, components, sensors, profiles…) have
 * the same life: created with fields, updated by a partial change, deleted.
 * This factory gives each its own event names (`SiteCreated`, `SiteUpdated`,
 * `SiteDeleted`) over one tested decider; a resource adds its own rules via
 * `check`.
 */
export type EntityEvent<Name extends string, Fields> =
  | { type: `${Name}Created`; data: Fields & { id: string; createdAt: string } }
  | { type: `${Name}Updated`; data: { id: string; changes: Partial<Fields>; updatedAt: string } }
  | { type: `${Name}Deleted`; data: { id: string; deletedAt: string } };

export type EntityCommand<Fields> =
  | { type: 'Create'; data: { id: string; fields: Fields; now: string } }
  | { type: 'Update'; data: { id: string; changes: Partial<Fields>; now: string } }
  | { type: 'Delete'; data: { id: string; now: string } };

export type EntityState<Fields> =
  | { status: 'absent' }
  | { status: 'active'; id: string; fields: Fields }
  | { status: 'deleted'; id: string };

export interface EntityRules<Fields> {
  /** Throws when the fields (after a create or an update) break a rule of the resource; `previous` is given on an update. */
  readonly check?: (fields: Fields, previous?: Fields) => void;
  /** Throws when the entity may not be deleted in this state. */
  readonly checkDelete?: (fields: Fields) => void;
  /**
   * The error for an update or a delete of a deleted entity (default: the
   * not-found error). A resource whose deleted rows stay readable (a
   * decommissioned device) answers a conflict instead.
   */
  readonly whenDeleted?: () => Error;
  /** Fields fixed at creation (e.g. the key a device publishes under): an update that changes one is refused with 422. */
  readonly immutable?: readonly (keyof Fields & string)[];
}

export interface EntityDecider<Name extends string, Fields>
  extends Decider<EntityCommand<Fields>, EntityEvent<Name, Fields>, EntityState<Fields>> {
  readonly name: Name;
  readonly eventTypes: readonly [`${Name}Created`, `${Name}Updated`, `${Name}Deleted`];
}

/** Object keys sorted, arrays kept in order. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  return Object.fromEntries(Object.keys(record).sort().map((key) => [key, canonical(record[key])]));
}

/**
 * Equal as JSON whatever the key order: state is rebuilt from jsonb, which
 * reorders keys, so `{ b, a }` from a client must equal a stored `{ a, b }`.
 */
function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

export function entityDecider<Name extends string, Fields extends object>(
  name: Name,
  notFound: () => Error,
  rules: EntityRules<Fields> = {},
): EntityDecider<Name, Fields> {
  const created = `${name}Created` as const;
  const updated = `${name}Updated` as const;
  const deleted = `${name}Deleted` as const;
  const gone = (state: EntityState<Fields>): Error => (state.status === 'deleted' && rules.whenDeleted ? rules.whenDeleted() : notFound());
  return {
    name,
    eventTypes: [created, updated, deleted],
    initialState: { status: 'absent' },

    decide(command, state) {
      switch (command.type) {
        case 'Create':
          if (state.status !== 'absent') throw new ConflictError('CONFLICT', `The ${name.toLowerCase()} already exists.`);
          rules.check?.(command.data.fields);
          return [{ type: created, data: { ...command.data.fields, id: command.data.id, createdAt: command.data.now } }];
        case 'Update': {
          if (state.status !== 'active') throw gone(state);
          const current = state.fields as Record<string, unknown>;
          const changes = Object.fromEntries(
            Object.entries(command.data.changes).filter(([key, value]) => value !== undefined && !sameJson(current[key], value)),
          ) as Partial<Fields>;
          if (Object.keys(changes).length === 0) return [];
          const fixed = rules.immutable?.find((field) => field in changes);
          if (fixed) throw new AppError('UNPROCESSABLE', `${fixed} cannot change after creation.`, [{ path: `/body/${fixed}`, message: 'cannot change' }]);
          rules.check?.({ ...state.fields, ...changes }, state.fields);
          return [{ type: updated, data: { id: state.id, changes, updatedAt: command.data.now } }];
        }
        case 'Delete':
          if (state.status !== 'active') throw gone(state);
          rules.checkDelete?.(state.fields);
          return [{ type: deleted, data: { id: state.id, deletedAt: command.data.now } }];
        default:
          return assertNever(command);
      }
    },

    evolve(state, event) {
      switch (event.type) {
        case created: {
          const { id, createdAt: _createdAt, ...fields } = event.data as Fields & { id: string; createdAt: string };
          return { status: 'active', id, fields: fields as unknown as Fields };
        }
        case updated: {
          const data = event.data as { changes: Partial<Fields> };
          return state.status === 'active' ? { ...state, fields: { ...state.fields, ...data.changes } } : state;
        }
        case deleted:
          return state.status === 'absent' ? state : { status: 'deleted', id: state.id };
        default:
          return state;
      }
    },
  };
}
