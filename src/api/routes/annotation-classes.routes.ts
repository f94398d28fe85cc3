import {
  annotationClassNotFound,
  type AnnotationClassFields,
  type AnnotationScopeType,
} from '../../commands/annotation-classes/annotation-class.decider';
import { annotationClassCommands } from '../../commands/annotation-classes/annotation-class.handler';
import type { Queryable } from '../../platform/db/pool';
import { ConflictError } from '../../platform/errors';
import { annotationClassColumns } from '../../projections/annotation-classes.projection';
import { entityQueries, textSearch } from '../entity.queries';
import { entityRoutes } from '../entity.routes';
import type { RouteContext, RouteResult, RouteSpec } from '../route';
import { classInUse, scopeTypesInUse } from './annotations.queries';

export interface AnnotationClassView extends AnnotationClassFields {
  id: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export const ALL_SCOPE_TYPES: readonly AnnotationScopeType[] = ['SENSOR', 'DEVICE', 'SITE'];

export const annotationClassQueries = entityQueries<AnnotationClassView>({
  table: 'annotation_classes',
  fields: annotationClassColumns,
  filters: [textSearch(), { param: 'scopeType', sql: (p) => `t.allowed_scope_types ? ${p}` }],
});

/** Another class of the organization (RLS) has this name, compared without case. */
async function nameTaken(db: Queryable, name: string, exceptId: string | undefined): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM annotation_classes WHERE lower(name) = lower($1) AND id IS DISTINCT FROM $2::uuid LIMIT 1', [
    name,
    exceptId ?? null,
  ]);
  return rows.length > 0;
}

const inUse = (message: string): ConflictError => new ConflictError('ANNOTATION_CLASS_IN_USE', message);

/**
 * Every annotation's class allows its scope type: deleting a class that
 * annotations still have, or removing a scope type they use, is refused
 * (409), checked in the read model before the command.
 */
async function checkUsage(ctx: RouteContext, operationId: string): Promise<void> {
  const id = ctx.params.id as string;
  if (operationId === 'deleteAnnotationClass') {
    if (await ctx.tenant((tx) => classInUse(tx, id))) throw inUse('Annotations still have this class; delete or reclassify them first.');
    return;
  }
  const allowed = (ctx.body as Partial<AnnotationClassFields>).allowedScopeTypes;
  if (allowed === undefined) return;
  const used = await ctx.tenant((tx) => scopeTypesInUse(tx, id, allowed));
  if (used.length > 0) throw inUse(`Annotations of this class have scope type ${used.join(', ')}, which allowedScopeTypes must keep.`);
}

function guardingUsage(routes: readonly RouteSpec[]): RouteSpec[] {
  return routes.map((route) => {
    // The generic summary would pluralise the noun as "classs".
    if (route.operationId === 'listAnnotationClasses') return { ...route, summary: 'List annotation classes' };
    if (route.operationId !== 'deleteAnnotationClass' && route.operationId !== 'updateAnnotationClass') return route;
    return {
      ...route,
      async handler(ctx: RouteContext): Promise<RouteResult> {
        await checkUsage(ctx, route.operationId);
        return route.handler(ctx);
      },
    };
  });
}

export const annotationClassRoutes = guardingUsage(
  entityRoutes<AnnotationClassFields, AnnotationClassView>({
    collection: '/v1/annotation-classes',
    tag: 'Analytics',
    singular: 'AnnotationClass',
    plural: 'AnnotationClasses',
    noun: 'annotation class',
    schema: 'annotation-classes',
    commands: annotationClassCommands,
    queries: annotationClassQueries,
    notFound: annotationClassNotFound,
    deleteSummary: 'Delete an annotation class that no annotation has (409 ANNOTATION_CLASS_IN_USE otherwise; If-Match supported)',
    toFields: (body) => ({
      name: body.name as string,
      colour: body.colour as string,
      description: (body.description as string | null | undefined) ?? null,
      allowedScopeTypes: (body.allowedScopeTypes as AnnotationScopeType[] | undefined) ?? [...ALL_SCOPE_TYPES],
    }),
    async conflicts(tx, fields, id) {
      if (fields.name === undefined || !(await nameTaken(tx, fields.name, id))) return undefined;
      return new ConflictError('ANNOTATION_CLASS_NAME_TAKEN', 'Another annotation class of the organization has this name.');
    },
  }),
);
