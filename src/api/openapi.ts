import type { RouteSpec } from './route';
import { pathParams } from './router';
import type { SchemaRegistry } from './schema-registry';

type Json = Record<string, unknown>;

const PROBLEM_STATUSES: Record<number, string> = {
  400: 'Invalid input',
  401: 'Missing or invalid credentials',
  403: 'Role not sufficient (or, on a signed download URL, the signature does not hold)',
  404: 'Not found (also for another organization’s ids)',
  409: 'Conflict',
  412: 'If-Match does not match the current version',
  413: 'Body too large',
  415: 'Body is not JSON',
  416: 'Range not satisfiable (Content-Range: bytes */size)',
  422: 'Unprocessable (business rule, Idempotency-Key reused)',
  429: 'Rate limit exceeded; the body names the limit',
  503: 'The query took too long (QUERY_TIMEOUT): narrow the range or aggregate more coarsely',
};

/** `file#/$defs/Name` and `#/$defs/Name` → `#/components/schemas/Name`. */
function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value && typeof value === 'object') {
    const out: Json = {};
    for (const [key, inner] of Object.entries(value)) {
      out[key] = key === '$ref' && typeof inner === 'string' ? componentRef(inner) : rewriteRefs(inner);
    }
    return out;
  }
  return value;
}

export function componentRef(ref: string): string {
  const name = ref.split('#/$defs/')[1];
  if (!name) throw new Error(`schema reference ${ref} is not of the form file#/$defs/Name`);
  return `#/components/schemas/${name}`;
}

function components(schemas: SchemaRegistry): Json {
  const out: Json = {};
  for (const { name, document } of schemas.documents) {
    for (const [defName, def] of Object.entries((document.$defs ?? {}) as Json)) {
      if (out[defName]) throw new Error(`schema name ${defName} is defined twice (${name})`);
      out[defName] = rewriteRefs(def);
    }
  }
  return out;
}

function queryParameters(route: RouteSpec, schemas: SchemaRegistry): Json[] {
  if (!route.query) return [];
  const [file, pointer] = route.query.split('#/$defs/');
  const doc = schemas.document(file ?? '')?.document as { $defs?: Record<string, { properties?: Json; required?: string[] }> } | undefined;
  const def = doc?.$defs?.[pointer ?? ''];
  if (!def) throw new Error(`unknown query schema ${route.query}`);
  return Object.entries(def.properties ?? {}).map(([name, schema]) => ({
    name,
    in: 'query',
    required: def.required?.includes(name) ?? false,
    schema: rewriteRefs(schema),
    ...(typeof (schema as Json).description === 'string' ? { description: (schema as Json).description } : {}),
  }));
}

/**
 * OpenAPI 3.1 cannot describe the events of a stream (3.2's `itemSchema`
 * can); the schema of each event's data goes in an extension until then.
 */
function eventStream(ref: string): Json {
  return {
    schema: { type: 'string', description: 'Server-Sent Events: `id:` (resume with Last-Event-ID), `event:` (the type) and `data:` (JSON, x-event-data).' },
    'x-event-data': { $ref: componentRef(ref) },
  };
}

/** A body in a media type of its own (a zip) is described by a string schema naming it in `contentMediaType`. */
function describesMedia(ref: string, mediaType: string, schemas: SchemaRegistry): boolean {
  const [file = '', name = ''] = ref.split('#/$defs/');
  const defs = schemas.document(file)?.document.$defs as Record<string, { contentMediaType?: unknown }> | undefined;
  return defs?.[name]?.contentMediaType === mediaType;
}

function operation(route: RouteSpec, schemas: SchemaRegistry): Json {
  const parameters: Json[] = pathParams(route.path).map((name) => ({
    name,
    in: 'path',
    required: true,
    schema: route.textParams?.includes(name) ? { type: 'string' } : { type: 'string', format: 'uuid' },
  }));
  parameters.push(...queryParameters(route, schemas));
  if (route.method === 'post' && route.auth !== 'public' && !route.showsSecretOnce) {
    parameters.push({ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 255 } });
  }
  // Single resources, including singletons such as /v1/organization.
  if (['put', 'patch', 'delete'].includes(route.method)) {
    parameters.push({ name: 'If-Match', in: 'header', required: false, schema: { type: 'string' } });
  }
  const responses: Json = {};
  for (const [status, ref] of Object.entries(route.responses)) {
    const description = Number(status) < 300 ? 'Success' : (PROBLEM_STATUSES[Number(status)] ?? 'Response');
    if (ref === null) responses[status] = { description };
    else if (route.produces === 'text/event-stream') responses[status] = { description, content: { [route.produces]: eventStream(ref) } };
    else if (route.produces && describesMedia(ref, route.produces, schemas)) responses[status] = { description, content: { [route.produces]: { schema: { $ref: componentRef(ref) } } } };
    else if (route.produces) responses[status] = { description, content: { [route.produces]: { schema: { type: 'string' } } } };
    else responses[status] = { description, content: { 'application/json': { schema: { $ref: componentRef(ref) } } } };
  }
  const problemStatuses = route.auth === 'public' ? [400] : [400, 401, 403, 404, 429];
  if (route.body) problemStatuses.push(413, 415);
  if (route.method !== 'get' && route.auth !== 'public') problemStatuses.push(409, 422);
  if (['put', 'patch', 'delete'].includes(route.method)) problemStatuses.push(412);
  problemStatuses.push(...(route.problems ?? []));
  for (const status of problemStatuses) {
    responses[String(status)] ??= {
      description: PROBLEM_STATUSES[status] ?? 'Error',
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
    };
  }
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    ...(route.auth === 'public' ? { security: [] } : { description: `Requires the ${route.auth} role or higher.` }),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: { $ref: componentRef(route.body) } } } } } : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document, generated from the route registry and `schemas/`. */
export function buildOpenApi(routes: readonly RouteSpec[], schemas: SchemaRegistry, serverUrl: string): Json {
  const paths: Record<string, Json> = {};
  for (const route of routes) {
    const path = `/api${route.path}`;
    paths[path] = { ...(paths[path] ?? {}), [route.method]: operation(route, schemas) };
  }
  const tags = [...new Set(routes.map((r) => r.tag))].sort().map((name) => ({ name }));
  return {
    openapi: '3.1.0',
    info: {
      title: 'iotplane API',
      version: '1.0.0',
      description:
        'Multi-tenant IoT device platform. Every request resolves to one organization; data access is filtered to it by row-level security.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: serverUrl }],
    security: [{ bearer: [] }],
    tags,
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'An organization API key (`sk_live_…` / `sk_test_…`) or a user JWT from the web app.',
        },
      },
      schemas: components(schemas),
    },
  };
}
