import { annotationClassDecider } from '../commands/annotation-classes/annotation-class.decider';
import { entityProjection } from './entity.projection';

/** Read-model columns of each field; the API's queries read the same map. */
export const annotationClassColumns = {
  name: 'name',
  colour: 'colour',
  description: 'description',
  allowedScopeTypes: 'allowed_scope_types',
} as const;

export const annotationClassesProjection = entityProjection({
  name: 'annotation-classes',
  table: 'annotation_classes',
  decider: annotationClassDecider,
  columns: annotationClassColumns,
  // Names are unique per organization (without case): two creates racing past the API's check keep the first.
  skipUniqueViolations: true,
});
