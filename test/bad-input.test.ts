import type { Response } from 'supertest';
import type { RouteSpec } from '../src/api/route';
import { pathParams } from '../src/api/router';
import { API_ROUTES } from '../src/api/routes/index';
import { SchemaRegistry } from '../src/api/schema-registry';
import { PROJECTIONS } from '../src/projections/index';
import type { ProbeFixture } from './support/fixtures/fixture';
import {
  bodyFor,
  fillPath,
  fixtureForPath,
  loadFixtures,
  queryFixtureFor,
  requiredQuery,
  routeName,
  schemaProperties,
  send,
} from './support/probe-routes';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';

/**
 * Bad input on every route, generated from the route registry and the probe
 * fixtures like the cross-tenant suite: malformed and wrongly typed bodies,
 * path and query parameters and headers. Whatever a client sends, the answer is
 * a 4xx problem+json, or a success where the value happens to be acceptable;
 * never a 5xx, never an answer in another shape.
 */
const FIXTURES = loadFixtures();
const SCHEMAS = new SchemaRegistry();
const ROUTES = API_ROUTES.map((route) => ({ name: routeName(route), route }));

/** Values of the wrong type, size or shape for a body property. */
const WRONG_VALUES: readonly unknown[] = [null, true, -1, 1e308, 0.5, '', 'x'.repeat(5000), '\u0000', [], {}, [null], [{}], { nested: { deeper: [1] } }];
/** JSON text nested deeper than any recursive step after the edge could follow (JSON.parse itself does not recurse). */
const DEEP_JSON = `${'{"a":['.repeat(25_000)}1${']}'.repeat(25_000)}`;
/** Query parameter values a hand-typed URL may carry. */
const WRONG_QUERY_VALUES: readonly (string | string[])[] = [
  '',
  'x',
  '-1',
  '0',
  '1.5',
  '1e309',
  'NaN',
  '99999999999999999999',
  '2026-02-30T25:61:00Z',
  '2026-12-31T23:59:60Z',
  '\u0000',
  '0000-01-01T00:00:00Z',
  'P1000000Y',
  'x'.repeat(3000),
  ['a', 'b'],
];
/** Path segments in place of an id. */
const WRONG_SEGMENTS: readonly string[] = ['not-an-id', '00000000-0000-0000-0000-00000000000g', 'x'.repeat(600), "' OR 1=1 --", '%E0%A4%A', '%00'];
/** Whole bodies that are not the JSON object a route takes. */
const WRONG_BODIES: readonly { readonly contentType: string; readonly text: string }[] = [
  { contentType: 'application/json', text: '{"unterminated' },
  { contentType: 'application/json', text: '[]' },
  { contentType: 'application/json', text: 'null' },
  { contentType: 'application/json', text: '"text"' },
  { contentType: 'application/json', text: '42' },
  { contentType: 'application/json', text: `${'['.repeat(5000)}${']'.repeat(5000)}` },
  { contentType: 'text/plain', text: '{}' },
];

let api: TestApi;
let org: TestOrg;

beforeAll(async () => {
  // Thousands of requests with one key; rate limits are tested elsewhere.
  api = await startTestApi({ RATE_LIMIT_PER_KEY: '10000000', RATE_LIMIT_PER_ORG: '10000000' });
  org = await api.createOrg('Bad input');
});
afterAll(async () => {
  await api.close();
});

interface Sent {
  readonly what: string;
  readonly res: Response;
}

/** What is wrong with an answer to bad input, or undefined when it is a 2xx/3xx or a 4xx problem. */
function fault({ what, res }: Sent): string | undefined {
  const type = String(res.headers['content-type'] ?? '');
  if (res.status >= 500) return `${what}: ${res.status} ${res.text.slice(0, 300)}`;
  if (res.status >= 400 && !type.startsWith('application/problem+json')) return `${what}: ${res.status} as ${type || 'no content type'}`;
  return undefined;
}

/** Path parameters of a fresh resource of the org, when the route has any. */
async function ownParams(route: RouteSpec): Promise<Record<string, string>> {
  if (pathParams(route.path).length === 0) return {};
  const fixture: ProbeFixture | undefined = fixtureForPath(FIXTURES, route.path);
  // A public route no fixture serves (a schema by name) is probed with placeholders.
  if (!fixture && route.auth === 'public') return {};
  if (!fixture) throw new Error(`${routeName(route)}: no fixture serves its path parameters (see the cross-tenant suite)`);
  return fixture.create(api, org);
}

/** The query the route cannot do without, from a resource of the org. */
async function baseQuery(route: RouteSpec): Promise<Record<string, string>> {
  const needs = queryFixtureFor(FIXTURES, route);
  return requiredQuery(needs, route, needs ? await needs.create(api, org) : undefined);
}

function rawBody(route: RouteSpec, url: string, body: { contentType: string; text: string }) {
  return api.http()[route.method](url).set('Authorization', org.auth).set('Content-Type', body.contentType).send(body.text);
}

it.each(ROUTES)('$name answers bad input with a 4xx problem, never a 5xx', async ({ route }) => {
  const params = await ownParams(route);
  const url = fillPath(route.path, params);
  const query = await baseQuery(route);
  const sent: Sent[] = [];

  for (const name of pathParams(route.path)) {
    for (const segment of WRONG_SEGMENTS) {
      // Raw, not encoded: a malformed escape must reach the server as typed.
      const wrong = `/api${route.path.replace(/\{(\w+)\}/g, (_m, p: string) => (p === name ? segment : encodeURIComponent(params[p] ?? '')))}`;
      const res = await send(api, route, wrong, org.auth, route.body ? bodyFor(FIXTURES, route) : undefined).query(query);
      sent.push({ what: `path ${name}=${segment.slice(0, 40)}`, res });
    }
  }

  for (const name of [...Object.keys(schemaProperties(SCHEMAS, route.query)), 'unknownParameter']) {
    for (const value of WRONG_QUERY_VALUES) {
      const res = await send(api, route, url, org.auth, route.body ? bodyFor(FIXTURES, route) : undefined).query({ ...query, [name]: value });
      sent.push({ what: `query ${name}=${JSON.stringify(value).slice(0, 40)}`, res });
    }
  }

  if (route.body) {
    const valid = bodyFor(FIXTURES, route) as Record<string, unknown>;
    for (const body of WRONG_BODIES) {
      sent.push({ what: `body ${body.contentType} ${body.text.slice(0, 40)}`, res: await rawBody(route, url, body).query(query) });
    }
    for (const name of [...Object.keys(schemaProperties(SCHEMAS, route.body)), 'unknownProperty']) {
      for (const value of WRONG_VALUES) {
        const res = await send(api, route, url, org.auth, { ...valid, [name]: value }).query(query);
        sent.push({ what: `body.${name}=${JSON.stringify(value).slice(0, 40)}`, res });
      }
      const deep = JSON.stringify({ ...valid, [name]: 0 }).replace(`"${name}":0`, `${JSON.stringify(name)}:${DEEP_JSON}`);
      sent.push({ what: `body.${name}=[[[… 50,000 deep`, res: await rawBody(route, url, { contentType: 'application/json', text: deep }).query(query) });
    }
  }

  for (const [header, value] of [
    ['If-Match', 'garbage'],
    ['If-Match', '"not-a-version"'],
    ['If-Match', '"99999999999999999999999"'],
    ['Idempotency-Key', 'x'.repeat(1000)],
    ['Idempotency-Key', ''],
    ['Accept', 'application/xml'],
    ['Last-Event-ID', 'garbage'],
    ['Last-Event-ID', '99999999999999999999999:99999999999999999999999'],
    ['Range', 'bytes=999999999999999999999-'],
    ['Range', 'bytes=5-1'],
    ['Range', 'lines=1-2'],
  ] as const) {
    const res = await send(api, route, url, org.auth, route.body ? bodyFor(FIXTURES, route) : undefined)
      .query(query)
      .set(header, value);
    sent.push({ what: `header ${header}: ${value.slice(0, 40)}`, res });
  }

  expect(sent.map(fault).filter((f) => f !== undefined)).toEqual([]);
  // Not vacuous: bad input was refused somewhere on every route.
  expect(sent.some(({ res }) => res.status >= 400 && res.status < 500)).toBe(true);
});

// Whatever was accepted above is in the log: every projector must get past it (a value stored but refused by a read model would stop one for good).
it('leaves every projection following the log to its head', async () => {
  const head = await api.platform.store.headPosition();
  const behind = [];
  for (const { name } of PROJECTIONS) if (!(await api.deps.watcher.waitFor([name], head, 30_000))) behind.push(name);
  expect(behind).toEqual([]);
});
