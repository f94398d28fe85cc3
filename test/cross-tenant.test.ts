import { randomUUID } from 'node:crypto';
import type { RouteSpec } from '../src/api/route';
import { pathParams } from '../src/api/router';
import { API_ROUTES } from '../src/api/routes/index';
import { SchemaRegistry } from '../src/api/schema-registry';
import type { ProbeFixture } from './support/fixtures/fixture';
import {
  bodyFor,
  fillPath,
  fixtureForPath,
  itemReadRoute,
  loadFixtures,
  observe,
  queryFixtureFor,
  randomParams,
  requiredQuery,
  routeName,
  send,
  uuidBodyProperties,
  uuidQueryParams,
  uuidsIn,
} from './support/probe-routes';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';

/**
 * The cross-tenant probe suite, generated from the route registry and the
 * fixtures under test/support/fixtures: a new route is probed without anyone
 * touching this file, and a route no fixture can serve fails here by name.
 */
const FIXTURES = loadFixtures();
const SCHEMAS = new SchemaRegistry();
const PROTECTED = API_ROUTES.filter((r) => r.auth !== 'public');
const named = (route: RouteSpec) => ({ name: routeName(route), route });

const ITEM_ROUTES = PROTECTED.filter((r) => pathParams(r.path).length > 0).map(named);
const LIST_ROUTES = PROTECTED.filter((r) => r.method === 'get' && pathParams(r.path).length === 0).map(named);
// Public routes with path parameters whose credential is in the query (a signed download URL): a fixture supplies it.
const SIGNED_ROUTES = API_ROUTES.filter((r) => r.auth === 'public' && pathParams(r.path).length > 0 && queryFixtureFor(FIXTURES, r)).map(named);
const FILTER_PROBES = LIST_ROUTES.flatMap(({ route }) =>
  uuidQueryParams(SCHEMAS, route).map((param) => ({ name: `${routeName(route)} ?${param}=`, route, param })),
);
// Public routes with a body too: an unauthenticated body must not choose an organization either.
const BODY_ROUTES = API_ROUTES.filter((r) => r.body !== undefined && ['post', 'put', 'patch'].includes(r.method)).map(named);
const REFERENCE_PROBES = BODY_ROUTES.flatMap(({ route }) =>
  uuidBodyProperties(SCHEMAS, route).map((property) => ({ name: `${routeName(route)} body.${property.name}`, route, property })),
);

let api: TestApi;
let orgA: TestOrg;
let orgB: TestOrg;
/** Org A as both kinds of principal the API accepts. */
let callersA: { readonly kind: string; readonly authorization: string }[];
/** Every id org B owns; none may ever appear in a response to org A. */
const idsOfB = new Set<string>();
/** One resource of org B per fixture, for the probes that change nothing. */
const sharedOfB = new Map<ProbeFixture, Promise<Record<string, string>>>();

beforeAll(async () => {
  // The suite sends a few requests per route with one key; rate limits are tested elsewhere.
  api = await startTestApi({ RATE_LIMIT_PER_KEY: '10000000', RATE_LIMIT_PER_ORG: '10000000' });
  orgA = await api.createOrg('Org A');
  orgB = await api.createOrg('Org B');
  idsOfB.add(orgB.orgId);
  callersA = [
    { kind: 'admin API key', authorization: orgA.auth },
    { kind: 'admin JWT', authorization: `Bearer ${await orgA.jwt('admin')}` },
  ];
});
afterAll(async () => {
  await api.close();
});

async function createIn(org: TestOrg, fixture: ProbeFixture): Promise<Record<string, string>> {
  const record = await fixture.create(api, org);
  if (org === orgB) for (const id of uuidsIn(Object.values(record))) idsOfB.add(id);
  return record;
}

function sharedOfOrgB(fixture: ProbeFixture): Promise<Record<string, string>> {
  let record = sharedOfB.get(fixture);
  if (!record) {
    record = createIn(orgB, fixture);
    sharedOfB.set(fixture, record);
  }
  return record;
}

function requireFixture(route: RouteSpec): ProbeFixture {
  const fixture = fixtureForPath(FIXTURES, route.path);
  if (!fixture) {
    throw new Error(
      `${routeName(route)} has path parameters but no fixture serves them: add test/support/fixtures/<feature>.fixture.ts ` +
        `with a collection that prefixes ${route.path}`,
    );
  }
  return fixture;
}

function requireParams(route: RouteSpec, fixture: ProbeFixture, record: Record<string, string>): void {
  const missing = pathParams(route.path).filter((p) => !(p in record));
  if (missing.length > 0) {
    throw new Error(`${routeName(route)}: the fixture of ${fixture.collection} does not return path parameter(s) ${missing.join(', ')}`);
  }
}

/** One id of every kind org B owns (its organization and one resource per fixture). */
async function everyKindOfB(): Promise<string[]> {
  const records = await Promise.all(FIXTURES.map(sharedOfOrgB));
  return [...new Set([orgB.orgId, ...records.flatMap((r) => uuidsIn(Object.values(r)))])];
}

/** The route's URL on a fresh resource of org A, so a refusal cannot come from the path. */
async function urlOnOwnResource(route: RouteSpec): Promise<string> {
  if (pathParams(route.path).length === 0) return fillPath(route.path, {});
  const fixture = requireFixture(route);
  const record = await createIn(orgA, fixture);
  requireParams(route, fixture, record);
  return fillPath(route.path, record);
}

function objectBody(route: RouteSpec): Record<string, unknown> {
  const body = bodyFor(FIXTURES, route);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new Error(`${routeName(route)}: the fixture body must be a JSON object`);
  return body as Record<string, unknown>;
}

it('has a fixture for every route with path parameters and a body for every route that takes one', () => {
  const unserved = ITEM_ROUTES.filter(({ route }) => !fixtureForPath(FIXTURES, route.path)).map(({ name }) => name);
  const probed = new Set([...ITEM_ROUTES, ...BODY_ROUTES].map(({ route }) => route));
  const bodiless = [...probed].filter((r) => r.body && !FIXTURES.some((f) => r.operationId in f.bodies)).map(routeName);
  expect({ unserved, bodiless }).toEqual({ unserved: [], bodiless: [] });
});

describe('routes with path parameters, called by org A with org B’s ids', () => {
  it.each(ITEM_ROUTES)('$name answers exactly like a missing id and leaves B’s resource unchanged', async ({ route }) => {
    const fixture = requireFixture(route);
    const body = route.body ? bodyFor(FIXTURES, route) : undefined;
    // A route that may change something gets a resource of its own.
    const record = route.method === 'get' ? await sharedOfOrgB(fixture) : await createIn(orgB, fixture);
    requireParams(route, fixture, record);
    const read = itemReadRoute(API_ROUTES, fixture, record);
    if (!read) throw new Error(`${routeName(route)}: no GET ${fixture.collection}/{id} route to check that B’s resource is unchanged`);
    const snapshot = async () => {
      const res = await send(api, read, fillPath(read.path, record), orgB.auth);
      return { status: res.status, etag: res.headers.etag, body: res.body as unknown };
    };
    const before = await snapshot();
    expect(before.status).toBe(200);

    for (const caller of callersA) {
      const missing = await send(api, route, fillPath(route.path, randomParams(route)), caller.authorization, body);
      const probed = await send(api, route, fillPath(route.path, record), caller.authorization, body);
      expect({ caller: caller.kind, status: missing.status }).toEqual({ caller: caller.kind, status: 404 });
      expect({ caller: caller.kind, ...observe(probed) }).toEqual({ caller: caller.kind, ...observe(missing) });
      expect(await snapshot()).toEqual(before);
    }
  });
});

describe('list routes, called by org A', () => {
  /** Every page of a list as text (follows nextCursor). */
  async function readAll(route: RouteSpec, authorization: string, query: Record<string, string>): Promise<string[]> {
    const pages: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await send(api, route, fillPath(route.path, {}), authorization).query({ ...query, ...(cursor ? { cursor } : {}) });
      if (res.status !== 200) {
        throw new Error(
          `${routeName(route)} answered ${res.status} ${res.text} to ${JSON.stringify(query)}; ` +
            'a route that needs query parameters gets them from a fixture’s queries',
        );
      }
      pages.push(res.text);
      const next = (res.body as { nextCursor?: unknown }).nextCursor;
      cursor = typeof next === 'string' ? next : undefined;
    } while (cursor && pages.length < 100);
    return pages;
  }

  it.each(LIST_ROUTES)('$name holds none of org B’s ids', async ({ route }) => {
    const needs = queryFixtureFor(FIXTURES, route);
    const fixture = needs ?? FIXTURES.find((f) => f.collection === route.path);
    // B holds one resource of every kind, so a list that joins another read model would show it too.
    await everyKindOfB();
    const fresh = fixture ? await createIn(orgB, fixture) : undefined;
    if (fresh) {
      // The list must show the new resource (its `id`; the record may hold ids of others, like a
      // group's member device) to its own org, or "A does not see it" proves nothing.
      const own = (await readAll(route, orgB.auth, requiredQuery(needs, route, fresh))).join('').toLowerCase();
      expect({ id: fresh.id, listedToB: own.includes(String(fresh.id).toLowerCase()) }).toEqual({ id: fresh.id, listedToB: true });
    }
    // Parameters the route cannot do without come from a resource of A's own.
    const query = requiredQuery(needs, route, needs ? await createIn(orgA, needs) : undefined);
    for (const caller of callersA) {
      const text = (await readAll(route, caller.authorization, query)).join('').toLowerCase();
      expect({ caller: caller.kind, leaked: [...idsOfB].filter((id) => text.includes(id)) }).toEqual({ caller: caller.kind, leaked: [] });
    }
  });
});

describe('list filters, sent by org A with org B’s ids', () => {
  // it.each refuses an empty table; while no list filters by a uuid there is nothing to probe.
  if (FILTER_PROBES.length === 0) return;
  it.each(FILTER_PROBES)('$name answers exactly like a missing id', async ({ route, param }) => {
    // The route's required parameters from a resource of A, but for its uuids: the probed id stands alone.
    const needs = queryFixtureFor(FIXTURES, route);
    const uuids = uuidQueryParams(SCHEMAS, route);
    const required = requiredQuery(needs, route, needs ? await createIn(orgA, needs) : undefined);
    const base = Object.fromEntries(Object.entries(required).filter(([name]) => !uuids.includes(name)));
    for (const id of await everyKindOfB()) {
      const unknown = randomUUID();
      const missing = await send(api, route, fillPath(route.path, {}), orgA.auth).query({ ...base, [param]: unknown });
      const probed = await send(api, route, fillPath(route.path, {}), orgA.auth).query({ ...base, [param]: id });
      expect({ id, ...observe(probed, [id]) }).toEqual({ id, ...observe(missing, [unknown]) });
    }
  });
});

describe('signed URLs: org A’s signature on org B’s ids', () => {
  // it.each refuses an empty table; while no public route takes an id there is nothing to probe.
  if (SIGNED_ROUTES.length === 0) return;
  it.each(SIGNED_ROUTES)('$name answers exactly like a missing id', async ({ route }) => {
    const fixture = requireFixture(route);
    const own = await createIn(orgA, fixture);
    const query = requiredQuery(queryFixtureFor(FIXTURES, route), route, own);
    const get = (record: Record<string, string>) => api.http()[route.method](fillPath(route.path, record)).query(query);
    const missing = await get(randomParams(route));
    const ofB = await sharedOfOrgB(fixture);
    expect(observe(await get(ofB), Object.values(ofB))).toEqual(observe(missing, []));
    // Not vacuous: on A's own resource the same signature gets past the check.
    expect(observe(await get(own)).status).not.toBe(missing.status);
  });
});

describe('bodies that try to choose the organization or the id', () => {
  it.each(BODY_ROUTES)('$name refuses orgId and id with 400', async ({ route }) => {
    const body = objectBody(route);
    const url = await urlOnOwnResource(route);
    for (const [field, value] of [
      ['orgId', orgB.orgId],
      ['id', randomUUID()],
    ] as const) {
      const res = await send(api, route, url, orgA.auth, { ...body, [field]: value });
      const paths = ((res.body as { errors?: { path: string }[] }).errors ?? []).map((e) => e.path);
      expect({ field, status: res.status, rejected: paths.includes(`/body/${field}`) }).toEqual({ field, status: 400, rejected: true });
    }
  });
});

describe('bodies that reference another resource, sent by org A with org B’s ids', () => {
  // it.each refuses an empty table; while no body holds a uuid there is nothing to probe.
  if (REFERENCE_PROBES.length === 0) return;
  it.each(REFERENCE_PROBES)('$name answers exactly like a missing id', async ({ route, property }) => {
    const body = objectBody(route);
    const url = await urlOnOwnResource(route);
    const value = (id: string) => (property.list ? [id] : id);
    for (const id of await everyKindOfB()) {
      const unknown = randomUUID();
      const missing = await send(api, route, url, orgA.auth, { ...body, [property.name]: value(unknown) });
      const probed = await send(api, route, url, orgA.auth, { ...body, [property.name]: value(id) });
      // Two successes differ in generated ids and versions; a refusal must not differ at all.
      const seen = (res: typeof probed, known: string) => (res.status < 300 ? { status: res.status } : observe(res, [known]));
      expect({ id, ...seen(probed, id) }).toEqual({ id, ...seen(missing, unknown) });
    }
  });
});
