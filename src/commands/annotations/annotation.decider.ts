import { AppError, NotFoundError } from '../../platform/errors';
import type { AnnotationScopeType } from '../annotation-classes/annotation-class.decider';
import { entityDecider } from '../entities/entity.decider';

export interface AnnotationFields {
  classId: string;
  scopeType: AnnotationScopeType;
  scopeId: string;
  /** RFC 3339; the range is closed: an annotation of one instant has startsAt = endsAt. */
  startsAt: string;
  endsAt: string;
  note: string | null;
  /** The actor who created it (`user:…`, `apiKey:…`), set by the platform. */
  author: string;
  /** An optional measured or estimated quantity the label carries. */
  value: number | null;
  /** 0..1 */
  confidence: number | null;
}

export const annotationNotFound = (): NotFoundError => new NotFoundError('ANNOTATION_NOT_FOUND', 'No annotation with this id.');

export const annotationDecider = entityDecider<'Annotation', AnnotationFields>('Annotation', annotationNotFound, {
  // Checked on the merged fields, so moving only the end before the stored start is refused too (compared to the millisecond).
  check({ startsAt, endsAt }) {
    if (Date.parse(startsAt) > Date.parse(endsAt)) {
      throw new AppError('UNPROCESSABLE', 'startsAt must not be after endsAt.', [{ path: '/body/endsAt', message: 'must not be before startsAt' }]);
    }
  },
  immutable: ['author'],
});

export function annotationStream(id: string): string {
  return `annotation-${id}`;
}
