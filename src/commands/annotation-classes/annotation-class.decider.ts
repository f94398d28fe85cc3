import { NotFoundError } from '../../platform/errors';
import { entityDecider } from '../entities/entity.decider';

/** What an annotation can label: one sensor, one device or one site. */
export type AnnotationScopeType = 'SENSOR' | 'DEVICE' | 'SITE';

export interface AnnotationClassFields {
  /** Unique in the organization, compared without case (checked by the API in the read model). */
  name: string;
  /** `#RRGGBB` */
  colour: string;
  description: string | null;
  /** The scope types its annotations may have; at least one. */
  allowedScopeTypes: AnnotationScopeType[];
}

export const annotationClassNotFound = (): NotFoundError => new NotFoundError('ANNOTATION_CLASS_NOT_FOUND', 'No annotation class with this id.');

export const annotationClassDecider = entityDecider<'AnnotationClass', AnnotationClassFields>('AnnotationClass', annotationClassNotFound);

export function annotationClassStream(id: string): string {
  return `annotationClass-${id}`;
}
