import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { API_ROUTES } from '../src/api/routes/index';
import { SCHEMAS_DIR } from '../src/api/schema-registry';
import { formatProblem, lintOpenApi } from './support/openapi-lint';
import { startTestApi, type TestApi } from './support/test-api';

interface OpenApiDocument {
  readonly paths: Record<string, Record<string, { operationId?: string; summary?: string }>>;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

let api: TestApi;
let document: OpenApiDocument;
beforeAll(async () => {
  api = await startTestApi();
  const res = await api.http().get('/api/v3/api-docs').expect(200);
  document = res.body as OpenApiDocument;
});
afterAll(async () => {
  await api.close();
});

function operations(doc: OpenApiDocument): { path: string; method: string; operationId: string | undefined }[] {
  return Object.entries(doc.paths).flatMap(([p, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => ({ path: p, method, operationId: op.operationId })),
  );
}

/** Every `$ref` in the document with where it sits. */
function references(value: unknown, at = '#'): { at: string; ref: string }[] {
  if (Array.isArray(value)) return value.flatMap((inner, i) => references(inner, `${at}/${i}`));
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    key === '$ref' && typeof inner === 'string' ? [{ at, ref: inner }] : references(inner, `${at}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`),
  );
}

function resolvePointer(doc: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!node || typeof node !== 'object' || !Object.prototype.hasOwnProperty.call(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function schemaFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return schemaFiles(full);
    return entry.endsWith('.json') ? [full] : [];
  });
}

describe('the OpenAPI document at /api/v3/api-docs', () => {
  it('passes the Redocly recommended ruleset without errors', async () => {
    const problems = await lintOpenApi(document);
    // Warnings are advice (tag descriptions, components only ajv uses): summarised, not fatal.
    const byRule = new Map<string, string[]>();
    for (const p of problems.filter((w) => w.severity === 'warn')) byRule.set(p.ruleId, [...(byRule.get(p.ruleId) ?? []), ...p.pointers]);
    const summary = [...byRule].map(([rule, at]) => `  ${rule} ×${at.length} (first at ${at[0] ?? '?'})`);
    if (summary.length > 0) process.stdout.write(`OpenAPI lint warnings:\n${summary.join('\n')}\n`);
    expect(problems.filter((p) => p.severity === 'error').map(formatProblem)).toEqual([]);
  });

  it('would fail on a broken document (the linter really runs)', async () => {
    const broken = { ...document, paths: { '/x': { get: { operationId: 'x', summary: 'x', responses: { 200: { $ref: '#/nowhere' } } } } } };
    const problems = await lintOpenApi(broken);
    expect(problems.filter((p) => p.severity === 'error').map((p) => p.ruleId)).toContain('no-unresolved-refs');
  });

  it('documents every route of the registry with its method and operationId, and nothing else', () => {
    const documented = operations(document).map((o) => `${o.method.toUpperCase()} ${o.path} ${o.operationId ?? '(none)'}`);
    const registered = API_ROUTES.map((r) => `${r.method.toUpperCase()} /api${r.path} ${r.operationId}`);
    expect(documented.sort()).toEqual(registered.sort());
  });

  it('has unique operationIds', () => {
    const ids = operations(document).map((o) => o.operationId);
    expect(ids.filter((id) => id === undefined)).toEqual([]);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });

  it('resolves every $ref inside the document', () => {
    const refs = references(document);
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.filter(({ ref }) => resolvePointer(document, ref) === undefined).map(({ at, ref }) => `${at}: ${ref}`)).toEqual([]);
  });
});

/** Integer schemas without an upper bound reachable from `schema`, by where they sit (following `$ref`s once each). */
function unboundedIntegers(doc: unknown, schema: unknown, at: string, seen = new Set<string>()): string[] {
  if (Array.isArray(schema)) return schema.flatMap((inner, i) => unboundedIntegers(doc, inner, `${at}/${i}`, seen));
  if (!schema || typeof schema !== 'object') return [];
  const node = schema as Record<string, unknown>;
  const found: string[] = [];
  if (typeof node.$ref === 'string' && !seen.has(node.$ref)) {
    seen.add(node.$ref);
    found.push(...unboundedIntegers(doc, resolvePointer(doc, node.$ref), node.$ref, seen));
  }
  const types = Array.isArray(node.type) ? (node.type as unknown[]) : [node.type];
  if (types.includes('integer') && node.maximum === undefined && node.exclusiveMaximum === undefined) found.push(at);
  for (const [key, inner] of Object.entries(node)) if (key !== '$ref') found.push(...unboundedIntegers(doc, inner, `${at}/${key}`, seen));
  return found;
}

describe('request schemas', () => {
  // JSON and query strings carry integers of any size; Postgres columns do not, so the bound is checked here, not by a failed write.
  it('bound every integer a request can carry', () => {
    const requests = Object.entries(document.paths).flatMap(([p, item]) =>
      Object.entries(item as Record<string, { requestBody?: unknown; parameters?: unknown }>)
        .filter(([method]) => METHODS.includes(method))
        .map(([method, op]) => ({ at: `${method} ${p}`, schema: { body: op.requestBody, parameters: op.parameters } })),
    );
    expect(requests.length).toBeGreaterThan(0);
    const seen = new Set<string>();
    expect(requests.flatMap(({ at, schema }) => unboundedIntegers(document, schema, at, seen))).toEqual([]);
  });

  it('would find an unbounded one', () => {
    expect(unboundedIntegers(document, { properties: { n: { type: ['integer', 'null'] } } }, 'x')).toEqual(['x/properties/n']);
  });
});

describe('/api/docs', () => {
  it('is an HTML page with a row for every operation', async () => {
    const res = await api.http().get('/api/docs').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    const rows = res.text.split('<tr>');
    const missing = API_ROUTES.filter(
      (r) => !rows.some((row) => row.includes(`<b>${r.method.toUpperCase()}</b>`) && row.includes(`<code>/api${r.path}</code>`)),
    );
    expect(missing.map((r) => `${r.method.toUpperCase()} ${r.path}`)).toEqual([]);
  });
});

describe('/api/schemas', () => {
  const files = schemaFiles(SCHEMAS_DIR).map((file) => ({ file, document: JSON.parse(readFileSync(file, 'utf8')) as { $id?: string } }));

  it('lists every file under schemas/ and serves each at the URL it lists', async () => {
    const list = await api.http().get('/api/schemas').expect(200);
    const items = (list.body as { items: { name: string; url: string }[] }).items;
    expect(items.map((i) => i.name).sort()).toEqual(files.map((f) => f.document.$id).sort());
    for (const { file, document: expected } of files) {
      const item = items.find((i) => i.name === expected.$id);
      const served = await api.http().get(item?.url ?? `/api/schemas/${String(expected.$id)}`);
      expect({ file: path.relative(SCHEMAS_DIR, file), status: served.status, body: served.body as unknown }).toEqual({
        file: path.relative(SCHEMAS_DIR, file),
        status: 200,
        body: expected,
      });
    }
  });
});

describe('with OPENAPI_ENABLED=false', () => {
  let hidden: TestApi;
  beforeAll(async () => {
    hidden = await startTestApi({ OPENAPI_ENABLED: 'false' });
  });
  afterAll(async () => {
    await hidden.close();
  });

  it('answers /api/v3/api-docs and /api/docs like a route that does not exist', async () => {
    const nowhere = await hidden.http().get('/api/v3/no-such-document').expect(404);
    for (const url of ['/api/v3/api-docs', '/api/docs']) {
      const res = await hidden.http().get(url);
      expect({ url, status: res.status, body: res.body as unknown }).toEqual({ url, status: 404, body: nowhere.body as unknown });
    }
  });

  it('still serves /api/schemas', async () => {
    const list = await hidden.http().get('/api/schemas').expect(200);
    const first = (list.body as { items: { url: string }[] }).items[0];
    expect(first).toBeDefined();
    await hidden.http().get(first?.url ?? '/api/schemas/common').expect(200);
  });
});
