import type { AnnotationScopeType } from '../../commands/annotation-classes/annotation-class.decider';
import { annotationNotFound, type AnnotationFields } from '../../commands/annotations/annotation.decider';
import { annotationCommands } from '../../commands/annotations/annotation.handler';
import type { PoolClient } from '../../platform/db/pool';
import { AppError, type FieldError } from '../../platform/errors';
import { unknownReferences, type EntityQueries } from '../entity.queries';
import { entityRoutes } from '../entity.routes';
import type { RouteContext, RouteResult, RouteSpec } from '../route';
import { annotationClassQueries } from './annotation-classes.routes';
import { annotationQueries, type AnnotationView } from './annotations.queries';
import { deviceQueries } from './devices.queries';
import { sensorQueries } from './sensors.routes';
import { siteQueries } from './sites.routes';

const SCOPES: Record<AnnotationScopeType, Pick<EntityQueries<unknown>, 'existing'>> = {
  SENSOR: sensorQueries,
  DEVICE: deviceQueries,
  SITE: siteQueries,
};

/**
 * The class must allow the annotation's scope type, on the merged
 * annotation of an update. A class the caller cannot see is left to the
 * reference check (422 "does not exist"), so another organization's class
 * answers like a random id.
 */
async function checkClassAllowsScope(tx: PoolClient, body: Partial<AnnotationFields>, id: string | undefined): Promise<void> {
  if (body.classId === undefined && body.scopeType === undefined) return;
  const stored = id === undefined ? undefined : await annotationQueries.find(tx, id);
  // An update of an annotation the caller cannot see: the command answers 404.
  if (id !== undefined && !stored) return;
  const classId = body.classId ?? stored?.classId;
  const scopeType = body.scopeType ?? stored?.scopeType;
  if (classId === undefined || scopeType === undefined) return;
  const annotationClass = await annotationClassQueries.find(tx, classId.toLowerCase());
  if (!annotationClass || annotationClass.allowedScopeTypes.includes(scopeType)) return;
  throw new AppError('UNPROCESSABLE', `The class '${annotationClass.name}' does not allow scope type ${scopeType}.`, [
    {
      path: body.scopeType !== undefined ? '/body/scopeType' : '/body/classId',
      message: `the class allows ${annotationClass.allowedScopeTypes.join(', ')}`,
    },
  ]);
}

function checkingClassScope(routes: readonly RouteSpec[]): RouteSpec[] {
  return routes.map((route) => {
    if (route.operationId !== 'createAnnotation' && route.operationId !== 'updateAnnotation') return route;
    return {
      ...route,
      async handler(ctx: RouteContext): Promise<RouteResult> {
        const id = route.operationId === 'updateAnnotation' ? (ctx.params.id as string) : undefined;
        await ctx.tenant((tx) => checkClassAllowsScope(tx, ctx.body as Partial<AnnotationFields>, id));
        return route.handler(ctx);
      },
    };
  });
}

export const annotationRoutes = checkingClassScope(
  entityRoutes<AnnotationFields, AnnotationView>({
    collection: '/v1/annotations',
    tag: 'Analytics',
    singular: 'Annotation',
    plural: 'Annotations',
    schema: 'annotations',
    commands: annotationCommands,
    queries: annotationQueries,
    notFound: annotationNotFound,
    // The author is whoever creates it, never the body.
    toFields: (body, command) => ({
      classId: (body.classId as string).toLowerCase(),
      scopeType: body.scopeType as AnnotationScopeType,
      scopeId: (body.scopeId as string).toLowerCase(),
      startsAt: body.startsAt as string,
      endsAt: body.endsAt as string,
      note: (body.note as string | null | undefined) ?? null,
      author: command.actor,
      value: (body.value as number | null | undefined) ?? null,
      confidence: (body.confidence as number | null | undefined) ?? null,
    }),
    // The scope's kind comes from the body or, on an update that changes only the id, from the stored annotation.
    async references(tx, fields, id) {
      const errors: FieldError[] = [];
      if (fields.classId !== undefined) errors.push(...(await unknownReferences(tx, annotationClassQueries, [{ path: '/body/classId', id: fields.classId }])));
      if (fields.scopeId !== undefined || fields.scopeType !== undefined) {
        const stored = id === undefined ? undefined : await annotationQueries.find(tx, id);
        const scopeType = fields.scopeType ?? stored?.scopeType;
        const scopeId = fields.scopeId ?? stored?.scopeId;
        if (scopeType !== undefined && scopeId !== undefined) {
          errors.push(...(await unknownReferences(tx, SCOPES[scopeType], [{ path: '/body/scopeId', id: scopeId }])));
        }
      }
      return errors;
    },
  }),
);
