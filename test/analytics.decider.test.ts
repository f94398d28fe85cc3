import { annotationClassDecider, annotationClassStream, type AnnotationClassFields } from '../src/commands/annotation-classes/annotation-class.decider';
import { annotationDecider, annotationStream, type AnnotationFields } from '../src/commands/annotations/annotation.decider';
import {
  referencePairDecider,
  referencePairStream,
  type ReferencePairEvent,
  type ReferencePairFields,
} from '../src/commands/reference-pairs/reference-pair.decider';
import { spec } from './support/decider-spec';

const AT = '2025-01-01T00:00:00.000Z';
const LATER = '2025-01-01T00:05:00.000Z';

describe('AnnotationClass', () => {
  const annotationClass = spec(annotationClassDecider);
  const fields: AnnotationClassFields = { name: 'Door open', colour: '#FF8800', description: null, allowedScopeTypes: ['DEVICE', 'SITE'] };

  it('lives in annotationClass-<id>', () => {
    expect(annotationClassStream('c1')).toBe('annotationClass-c1');
  });

  it('is created, changed and deleted with its own event names', () => {
    const created = { type: 'AnnotationClassCreated' as const, data: { id: 'c1', ...fields, createdAt: AT } };
    annotationClass.given([]).when({ type: 'Create', data: { id: 'c1', fields, now: AT } }).then([created]);
    annotationClass
      .given([created])
      .when({ type: 'Update', data: { id: 'c1', changes: { allowedScopeTypes: ['SENSOR'] }, now: LATER } })
      .then([{ type: 'AnnotationClassUpdated', data: { id: 'c1', changes: { allowedScopeTypes: ['SENSOR'] }, updatedAt: LATER } }]);
    annotationClass.given([created]).when({ type: 'Delete', data: { id: 'c1', now: LATER } }).then([{ type: 'AnnotationClassDeleted', data: { id: 'c1', deletedAt: LATER } }]);
    annotationClass.given([]).when({ type: 'Delete', data: { id: 'c1', now: LATER } }).thenThrows({ code: 'ANNOTATION_CLASS_NOT_FOUND', status: 404 });
  });
});

describe('Annotation', () => {
  const annotation = spec(annotationDecider);
  const fields: AnnotationFields = {
    classId: 'c1',
    scopeType: 'SENSOR',
    scopeId: 's1',
    startsAt: '2025-01-01T10:00:00Z',
    endsAt: '2025-01-01T11:00:00Z',
    note: 'defrost',
    author: 'apiKey:k1',
    value: null,
    confidence: 0.8,
  };
  const created = { type: 'AnnotationCreated' as const, data: { id: 'a1', ...fields, createdAt: AT } };

  it('lives in annotation-<id>', () => {
    expect(annotationStream('a1')).toBe('annotation-a1');
  });

  describe('when absent', () => {
    it('creates an annotation of one instant (startsAt = endsAt)', () => {
      const instant = { ...fields, endsAt: fields.startsAt };
      annotation.given([]).when({ type: 'Create', data: { id: 'a1', fields: instant, now: AT } }).then([
        { type: 'AnnotationCreated', data: { id: 'a1', ...instant, createdAt: AT } },
      ]);
    });

    it('refuses a range that ends before it starts, whatever the offsets say (422)', () => {
      const reversed = { ...fields, startsAt: '2025-01-01T10:00:00+02:00', endsAt: '2025-01-01T07:59:59Z' };
      annotation.given([]).when({ type: 'Create', data: { id: 'a1', fields: reversed, now: AT } }).thenThrows({
        code: 'UNPROCESSABLE',
        errors: [{ path: '/body/endsAt', message: 'must not be before startsAt' }],
      });
    });
  });

  describe('when active', () => {
    it('moves the end, checked against the stored start', () => {
      annotation.given([created]).when({ type: 'Update', data: { id: 'a1', changes: { endsAt: '2025-01-01T09:59:59Z' }, now: LATER } }).thenThrows({ code: 'UNPROCESSABLE' });
      annotation
        .given([created])
        .when({ type: 'Update', data: { id: 'a1', changes: { endsAt: '2025-01-01T12:00:00Z' }, now: LATER } })
        .then([{ type: 'AnnotationUpdated', data: { id: 'a1', changes: { endsAt: '2025-01-01T12:00:00Z' }, updatedAt: LATER } }]);
    });

    it('never changes its author', () => {
      annotation.given([created]).when({ type: 'Update', data: { id: 'a1', changes: { author: 'user:someone' }, now: LATER } }).thenThrows({ code: 'UNPROCESSABLE' });
    });
  });

  describe('when deleted', () => {
    it('answers 404 to an update', () => {
      annotation
        .given([created, { type: 'AnnotationDeleted', data: { id: 'a1', deletedAt: LATER } }])
        .when({ type: 'Update', data: { id: 'a1', changes: { note: 'x' }, now: LATER } })
        .thenThrows({ code: 'ANNOTATION_NOT_FOUND', status: 404 });
    });
  });
});

describe('ReferencePair', () => {
  const pair = spec(referencePairDecider);
  const manual: ReferencePairFields = {
    name: 'handheld',
    description: null,
    sensorId: 's1',
    referenceType: 'MANUAL',
    referenceSensorId: null,
    validFrom: '2025-01-01T00:00:00Z',
    validTo: null,
    toleranceSeconds: 30,
  };
  const bySensor: ReferencePairFields = { ...manual, referenceType: 'SENSOR', referenceSensorId: 's2' };
  const createdManual: ReferencePairEvent = { type: 'ReferencePairCreated', data: { id: 'p1', ...manual, createdAt: AT } };
  const createdBySensor: ReferencePairEvent = { type: 'ReferencePairCreated', data: { id: 'p1', ...bySensor, createdAt: AT } };
  const readings = [{ ts: '2025-01-01T00:00:10Z', value: 20.5 }];

  it('lives in referencePair-<id>', () => {
    expect(referencePairStream('p1')).toBe('referencePair-p1');
  });

  describe('when absent', () => {
    it('creates a MANUAL pair and a SENSOR pair', () => {
      pair.given([]).when({ type: 'Create', data: { id: 'p1', fields: manual, now: AT } }).then([createdManual]);
      pair.given([]).when({ type: 'Create', data: { id: 'p1', fields: bySensor, now: AT } }).then([createdBySensor]);
    });

    it.each([
      { name: 'a SENSOR pair without reference sensor', fields: { ...bySensor, referenceSensorId: null }, path: '/body/referenceSensorId' },
      { name: 'a MANUAL pair with a reference sensor', fields: { ...manual, referenceSensorId: 's2' }, path: '/body/referenceSensorId' },
      { name: 'a sensor that is its own reference (any case)', fields: { ...bySensor, referenceSensorId: 'S1' }, path: '/body/referenceSensorId' },
      { name: 'a window that ends where it starts', fields: { ...manual, validTo: manual.validFrom }, path: '/body/validTo' },
    ])('refuses $name (422)', ({ fields, path }) => {
      pair.given([]).when({ type: 'Create', data: { id: 'p1', fields, now: AT } }).thenThrows({ code: 'UNPROCESSABLE', errors: [expect.objectContaining({ path })] });
    });

    it('answers 404 to recorded readings', () => {
      pair.given([]).when({ type: 'RecordReferenceReadings', data: { readings, now: LATER } }).thenThrows({ code: 'REFERENCE_PAIR_NOT_FOUND', status: 404 });
    });
  });

  describe('when active', () => {
    it('records readings of a MANUAL pair', () => {
      pair.given([createdManual]).when({ type: 'RecordReferenceReadings', data: { readings, now: LATER } }).then([
        { type: 'ReferenceReadingsRecorded', data: { id: 'p1', readings, recordedAt: LATER } },
      ]);
    });

    it('refuses readings for a pair whose reference is a sensor (409)', () => {
      pair.given([createdBySensor]).when({ type: 'RecordReferenceReadings', data: { readings, now: LATER } }).thenThrows({ code: 'REFERENCE_PAIR_NOT_MANUAL', status: 409 });
    });

    it('keeps its reference type, and checks an update on the merged pair', () => {
      pair.given([createdManual]).when({ type: 'Update', data: { id: 'p1', changes: { referenceType: 'SENSOR', referenceSensorId: 's2' }, now: LATER } }).thenThrows({ code: 'UNPROCESSABLE' });
      pair.given([createdBySensor]).when({ type: 'Update', data: { id: 'p1', changes: { referenceSensorId: null }, now: LATER } }).thenThrows({ code: 'UNPROCESSABLE' });
      pair.given([createdManual]).when({ type: 'Update', data: { id: 'p1', changes: { validTo: '2024-12-31T00:00:00Z' }, now: LATER } }).thenThrows({ code: 'UNPROCESSABLE' });
      pair
        .given([createdManual, { type: 'ReferenceReadingsRecorded', data: { id: 'p1', readings, recordedAt: LATER } }])
        .when({ type: 'Update', data: { id: 'p1', changes: { toleranceSeconds: 5 }, now: LATER } })
        .then([{ type: 'ReferencePairUpdated', data: { id: 'p1', changes: { toleranceSeconds: 5 }, updatedAt: LATER } }]);
    });
  });

  describe('when deleted', () => {
    it('takes no more readings (404)', () => {
      pair
        .given([createdManual, { type: 'ReferencePairDeleted', data: { id: 'p1', deletedAt: LATER } }])
        .when({ type: 'RecordReferenceReadings', data: { readings, now: LATER } })
        .thenThrows({ code: 'REFERENCE_PAIR_NOT_FOUND', status: 404 });
    });
  });
});
