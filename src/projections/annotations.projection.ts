import { annotationDecider } from '../commands/annotations/annotation.decider';
import { entityProjection } from './entity.projection';

/** Read-model columns of each field; the API's queries read the same map, and the exports read the table. */
export const annotationColumns = {
  classId: 'class_id',
  scopeType: 'scope_type',
  scopeId: 'scope_id',
  startsAt: 'starts_at',
  endsAt: 'ends_at',
  note: 'note',
  author: 'author',
  value: 'value',
  confidence: 'confidence',
} as const;

export const annotationsProjection = entityProjection({
  name: 'annotations',
  table: 'annotations',
  decider: annotationDecider,
  columns: annotationColumns,
});
