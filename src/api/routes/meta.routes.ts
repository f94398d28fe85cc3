import { NotFoundError } from '../../platform/errors';
import { buildOpenApi } from '../openapi';
import { defineRoutes, type RouteSpec } from '../route';
import { renderReference } from './reference-page';

/**
 * Documents about the API itself: the OpenAPI document (hidden when
 * OPENAPI_ENABLED=false), its HTML reference, and the JSON Schemas.
 * `allRoutes` is read lazily so the document includes these routes too.
 */
export function metaRoutes(allRoutes: () => readonly RouteSpec[]): RouteSpec[] {
  return defineRoutes([
    {
      method: 'get',
      path: '/v3/api-docs',
      operationId: 'getOpenApi',
      summary: 'OpenAPI 3.1 document',
      tag: 'Meta',
      auth: 'public',
      responses: { 200: 'meta#/$defs/JsonDocument' },
      async handler(ctx) {
        if (!ctx.deps.config.openApiEnabled) throw new NotFoundError('ROUTE_NOT_FOUND', 'No such route.');
        return { status: 200, body: buildOpenApi(allRoutes(), ctx.deps.schemas, ctx.deps.config.publicUrl) };
      },
    },
    {
      method: 'get',
      path: '/docs',
      operationId: 'getReference',
      summary: 'Human-readable API reference',
      tag: 'Meta',
      auth: 'public',
      produces: 'text/html',
      responses: { 200: 'meta#/$defs/JsonDocument' },
      async handler(ctx) {
        if (!ctx.deps.config.openApiEnabled) throw new NotFoundError('ROUTE_NOT_FOUND', 'No such route.');
        const html = renderReference(buildOpenApi(allRoutes(), ctx.deps.schemas, ctx.deps.config.publicUrl));
        return { status: 200, body: html };
      },
    },
    {
      method: 'get',
      path: '/schemas',
      operationId: 'listSchemas',
      summary: 'JSON Schemas of API bodies, events and MQTT payloads',
      tag: 'Meta',
      auth: 'public',
      responses: { 200: 'meta#/$defs/SchemaList' },
      async handler(ctx) {
        const items = ctx.deps.schemas.documents.map(({ name, document }) => ({
          name,
          title: typeof document.title === 'string' ? document.title : name,
          url: `/api/schemas/${name}`,
        }));
        return { status: 200, body: { items } };
      },
    },
    {
      method: 'get',
      path: '/schemas/{name}',
      operationId: 'getSchema',
      summary: 'One JSON Schema document',
      tag: 'Meta',
      auth: 'public',
      textParams: ['name'],
      responses: { 200: 'meta#/$defs/JsonDocument' },
      async handler(ctx) {
        const doc = ctx.deps.schemas.document(ctx.params.name as string);
        if (!doc) throw new NotFoundError('NOT_FOUND', 'No schema with this name.');
        return { status: 200, body: doc.document };
      },
    },
  ]);
}
