import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import type { Response, Test } from 'supertest';
import type { RouteSpec } from '../../src/api/route';
import type { SchemaRegistry } from '../../src/api/schema-registry';
import { pathParams } from '../../src/api/router';
import type { ProbeFixture } from './fixtures/fixture';
import type { TestApi } from './test-api';

export const FIXTURES_DIR = path.join(__dirname, 'fixtures');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function routeName(route: RouteSpec): string {
  return `${route.method.toUpperCase()} /api${route.path} (${route.operationId})`;
}

/**
 * Every `fixtures/*.fixture.ts`. Loaded synchronously (jest's module
 * registry, so they are transformed like any test file) because the test
 * cases are built from them at collection time.
 */
export function loadFixtures(dir = FIXTURES_DIR): ProbeFixture[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.fixture.ts'))
    .sort()
    .flatMap((file) => {
      const loaded = jest.requireActual<{ fixtures?: unknown }>(path.join(dir, file));
      if (!Array.isArray(loaded.fixtures)) throw new Error(`${file} must export \`fixtures: ProbeFixture[]\``);
      return loaded.fixtures as ProbeFixture[];
    });
}

/** The fixture whose collection is the longest literal prefix of the route's path. */
export function fixtureForPath(fixtures: readonly ProbeFixture[], routePath: string): ProbeFixture | undefined {
  return fixtures
    .filter((f) => routePath === f.collection || routePath.startsWith(`${f.collection}/`))
    .sort((a, b) => b.collection.length - a.collection.length)[0];
}

/** A valid body for the route's operation, from whichever fixture declares it. */
export function bodyFor(fixtures: readonly ProbeFixture[], route: RouteSpec): unknown {
  const owner = fixtures.find((f) => Object.prototype.hasOwnProperty.call(f.bodies, route.operationId));
  if (!owner) {
    throw new Error(
      `${routeName(route)} takes a body but no fixture declares bodies.${route.operationId}: ` +
        'add a valid body to the fixture of its feature in test/support/fixtures/',
    );
  }
  return owner.bodies[route.operationId];
}

export function fillPath(routePath: string, values: Readonly<Record<string, string>>): string {
  return `/api${routePath.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(values[name] ?? `missing-${name}`))}`;
}

/** Fresh random uuids for every path parameter: "a resource that does not exist". */
export function randomParams(route: RouteSpec): Record<string, string> {
  return Object.fromEntries(pathParams(route.path).map((name) => [name, randomUUID()]));
}

export function uuidsIn(values: Iterable<string>): string[] {
  return [...values].filter((v) => UUID.test(v)).map((v) => v.toLowerCase());
}

export function send(api: TestApi, route: RouteSpec, url: string, authorization: string, body?: unknown): Test {
  const request = api.http()[route.method](url).set('Authorization', authorization);
  if (route.produces === 'text/event-stream') return request.buffer(true).parse((res, done) => readUntilLive(res as unknown as IncomingMessage, done));
  return body === undefined ? request : request.send(body as object);
}

/** The longest a probe reads an event stream that never says it is live. */
const STREAM_READ_MS = 5000;

/**
 * An event stream never ends by itself: read its backlog, up to the `: live`
 * comment that follows it (docs/events.md), and let go. `res.text` is what was read.
 */
function readUntilLive(res: IncomingMessage & { text?: string }, done: (err: Error | null, body: unknown) => void): void {
  let text = '';
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    res.text = text;
    done(null, text);
    res.destroy();
  };
  const timer = setTimeout(finish, STREAM_READ_MS);
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    text += chunk;
    if (/(^|\n): live\n/.test(text)) finish();
  });
  res.on('end', finish);
}

/** What a client can observe of a response, for "indistinguishable from" comparisons. */
export interface Observed {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

/** `replace` turns a known id into a placeholder, so an echoed id does not count as a difference. */
export function observe(res: Response, replace: readonly string[] = []): Observed {
  let text = res.text ?? '';
  for (const id of replace) text = text.split(id).join('<id>');
  return { status: res.status, contentType: String(res.headers['content-type'] ?? ''), text };
}

/** The GET of one resource of the fixture: `${collection}/{param}` with a path the record fills. */
export function itemReadRoute(routes: readonly RouteSpec[], fixture: ProbeFixture, record: Readonly<Record<string, string>>): RouteSpec | undefined {
  return routes.find(
    (r) =>
      r.method === 'get' &&
      r.path.startsWith(`${fixture.collection}/{`) &&
      /^\{\w+\}$/.test(r.path.slice(fixture.collection.length + 1)) &&
      pathParams(r.path).every((p) => p in record),
  );
}

export type SchemaNode = Record<string, unknown>;

function definition(schemas: SchemaRegistry, ref: string | undefined): { properties?: Record<string, SchemaNode> } | undefined {
  if (!ref) return undefined;
  const [file = '', def = ''] = ref.split('#/$defs/');
  const defs = schemas.document(file)?.document.$defs as Record<string, { properties?: Record<string, SchemaNode> }> | undefined;
  return defs?.[def];
}

/** The top-level properties of a route's body or query schema (`file#/$defs/Name`), by name. */
export function schemaProperties(schemas: SchemaRegistry, ref: string | undefined): Record<string, SchemaNode> {
  return definition(schemas, ref)?.properties ?? {};
}

/** A uuid, possibly nullable (`oneOf`/`anyOf` with null): a reference to another resource. */
function isUuid(schema: SchemaNode): boolean {
  if (schema.format === 'uuid' || (typeof schema.$ref === 'string' && schema.$ref.endsWith('#/$defs/Uuid'))) return true;
  const options = (schema.oneOf ?? schema.anyOf) as SchemaNode[] | undefined;
  return Array.isArray(options) && options.some(isUuid);
}

/** Query parameters whose value is a uuid, or a list of uuids (the parameter repeated). */
export function uuidQueryParams(schemas: SchemaRegistry, route: RouteSpec): string[] {
  return Object.entries(schemaProperties(schemas, route.query))
    .filter(([, schema]) => isUuid(schema) || (schema.type === 'array' && isUuid((schema.items ?? {}) as SchemaNode)))
    .map(([name]) => name);
}

/** The fixture that declares the query parameters this route needs (`queries[operationId]`), if any. */
export function queryFixtureFor(fixtures: readonly ProbeFixture[], route: RouteSpec): ProbeFixture | undefined {
  return fixtures.find((f) => f.queries !== undefined && Object.prototype.hasOwnProperty.call(f.queries, route.operationId));
}

/** The query a fixture builds for the route from one of its resources; none for routes that need none. */
export function requiredQuery(fixture: ProbeFixture | undefined, route: RouteSpec, record: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const build = fixture?.queries?.[route.operationId];
  return build && record ? build(record) : {};
}

/** Top-level body properties that hold a uuid or a list of uuids. */
export function uuidBodyProperties(schemas: SchemaRegistry, route: RouteSpec): { name: string; list: boolean }[] {
  return Object.entries(schemaProperties(schemas, route.body)).flatMap(([name, schema]): { name: string; list: boolean }[] => {
    if (isUuid(schema)) return [{ name, list: false }];
    const items = schema.items as SchemaNode | undefined;
    return schema.type === 'array' && items && isUuid(items) ? [{ name, list: true }] : [];
  });
}
