import { AppError, ConflictError, NotFoundError, type FieldError } from '../../platform/errors';
import { assertNever, type Decider, type DomainEvent } from '../decider';
import { entityDecider, type EntityCommand, type EntityEvent, type EntityState } from '../entities/entity.decider';

export type ReferenceType = 'SENSOR' | 'MANUAL';

export interface ReferencePairFields {
  name: string;
  description: string | null;
  /** The sensor under test. */
  sensorId: string;
  /** SENSOR: another sensor is the reference; MANUAL: reference readings entered through the API. */
  referenceType: ReferenceType;
  /** The reference sensor of a SENSOR pair; null for MANUAL. */
  referenceSensorId: string | null;
  /** The pair holds for sensor readings in [validFrom, validTo); validTo null: open-ended. */
  validFrom: string;
  validTo: string | null;
  /** A sensor reading is paired with the nearest reference reading at most this far away in time. */
  toleranceSeconds: number;
}

export interface ReferenceReading {
  readonly ts: string;
  readonly value: number;
}

export const referencePairNotFound = (): NotFoundError => new NotFoundError('REFERENCE_PAIR_NOT_FOUND', 'No reference pair with this id.');

function pairErrors(fields: ReferencePairFields): FieldError[] {
  const errors: FieldError[] = [];
  if (fields.referenceType === 'SENSOR' && fields.referenceSensorId === null) {
    errors.push({ path: '/body/referenceSensorId', message: 'is required when referenceType is SENSOR' });
  }
  if (fields.referenceType === 'MANUAL' && fields.referenceSensorId !== null) {
    errors.push({ path: '/body/referenceSensorId', message: 'must be null when referenceType is MANUAL' });
  }
  if (fields.referenceSensorId !== null && fields.referenceSensorId.toLowerCase() === fields.sensorId.toLowerCase()) {
    errors.push({ path: '/body/referenceSensorId', message: 'must be another sensor than sensorId' });
  }
  if (fields.validTo !== null && !(Date.parse(fields.validFrom) < Date.parse(fields.validTo))) {
    errors.push({ path: '/body/validTo', message: 'must be after validFrom' });
  }
  return errors;
}

const entity = entityDecider<'ReferencePair', ReferencePairFields>('ReferencePair', referencePairNotFound, {
  // Checked on the merged fields, so an update cannot leave a pair inconsistent.
  check(fields) {
    const errors = pairErrors(fields);
    if (errors.length > 0) throw new AppError('UNPROCESSABLE', 'The reference pair is inconsistent.', errors);
  },
  // Manual readings belong to a MANUAL pair; switching kinds would orphan or ignore them.
  immutable: ['referenceType'],
});

export type ReferenceReadingsRecorded = DomainEvent<'ReferenceReadingsRecorded', { id: string; readings: ReferenceReading[]; recordedAt: string }>;
export type ReferencePairEvent = EntityEvent<'ReferencePair', ReferencePairFields> | ReferenceReadingsRecorded;

export type ReferencePairCommand =
  | EntityCommand<ReferencePairFields>
  /** Records (or, for a ts already recorded, replaces) reference readings of a MANUAL pair. */
  | { type: 'RecordReferenceReadings'; data: { readings: ReferenceReading[]; now: string } };

export type ReferencePairState = EntityState<ReferencePairFields>;

export const REFERENCE_PAIR_EVENT_TYPES = [...entity.eventTypes, 'ReferenceReadingsRecorded'] as const;

/** Reference pairs: the entity life, plus manual reference readings (kept in the read model only, not in the state). */
export const referencePairDecider: Decider<ReferencePairCommand, ReferencePairEvent, ReferencePairState> = {
  initialState: entity.initialState,

  decide(command, state) {
    switch (command.type) {
      case 'Create':
      case 'Update':
      case 'Delete':
        return entity.decide(command, state);
      case 'RecordReferenceReadings':
        if (state.status !== 'active') throw referencePairNotFound();
        if (state.fields.referenceType !== 'MANUAL') {
          throw new ConflictError('REFERENCE_PAIR_NOT_MANUAL', 'The reference of this pair is a sensor; only a MANUAL pair takes reference readings.');
        }
        return [{ type: 'ReferenceReadingsRecorded', data: { id: state.id, readings: command.data.readings, recordedAt: command.data.now } }];
      default:
        return assertNever(command);
    }
  },

  evolve(state, event) {
    return event.type === 'ReferenceReadingsRecorded' ? state : entity.evolve(state, event);
  },
};

export const referencePairEntity = entity;

export function referencePairStream(id: string): string {
  return `referencePair-${id}`;
}
