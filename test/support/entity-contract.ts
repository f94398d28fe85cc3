import { randomUUID } from 'node:crypto';
import type { TestApi, TestOrg } from './test-api';
import { created, ids, listAll, refusal } from './topology.http';

export interface EntityContract {
  /** e.g. `/api/v1/sensor-profiles` */
  readonly url: string;
  readonly api: () => TestApi;
  readonly org: () => TestOrg;
  /** Another organization, for the cross-tenant checks. */
  readonly other: () => TestOrg;
  /** A fresh valid create body in `org`; may create the resources it refers to there. */
  readonly body: (org: TestOrg) => Promise<Record<string, unknown>>;
  /** A valid PATCH body that changes something. */
  readonly change: Readonly<Record<string, unknown>>;
  /** A create body property with a value of the wrong type. */
  readonly wrongType: Readonly<Record<string, unknown>>;
  readonly notFoundCode: string;
  /** Deleted resources stay readable (a decommissioned device); the resource's own tests cover what DELETE leaves. */
  readonly keepsDeleted?: boolean;
  /** A property the resource does not have (default `colour`, which annotation classes do have). */
  readonly unknownProperty?: string;
}

/**
 * What every entity resource must do over HTTP: create/read/update/delete
 * with Location, ETag and If-Match, cursor pages, every class of bad input,
 * and another organization's id answered exactly like a random one.
 */
export function entityContract(c: EntityContract): void {
  const http = () => c.api().http();
  const auth = () => c.org().auth;
  const create = async (org = c.org()) => created(c.api(), org, c.url, await c.body(org));
  const unknown = c.unknownProperty ?? 'colour';

  describe('as an entity resource', () => {
    it('creates one (201, Location, ETag) and reads the same representation right after', async () => {
      const res = await http().post(c.url).set('Authorization', auth()).send(await c.body(c.org())).expect(201);
      expect(res.headers.location).toBe(`${c.url}/${res.body.id}`);
      expect(res.headers.etag).toBe('"0"');
      expect(res.body.version).toBe(0);
      const read = await http().get(res.headers.location as string).set('Authorization', auth()).expect(200);
      expect(read.body).toEqual(res.body);
      expect(read.headers.etag).toBe('"0"');
    });

    it('changes it with If-Match and refuses a stale version with 412', async () => {
      const item = await create();
      const url = `${c.url}/${item.id}`;
      const updated = await http().patch(url).set('Authorization', auth()).set('If-Match', '"0"').send(c.change).expect(200);
      expect(updated.body).toMatchObject({ ...c.change, version: 1 });
      expect(updated.headers.etag).toBe('"1"');
      const stale = await http().patch(url).set('Authorization', auth()).set('If-Match', '"0"').send(c.change).expect(412);
      expect(stale.body.code).toBe('PRECONDITION_FAILED');
      const read = await http().get(url).set('Authorization', auth()).expect(200);
      expect(read.body).toEqual(updated.body);
    });

    it('pages through the list with a cursor, in creation order, without repeats', async () => {
      const made = [await create(), await create(), await create()];
      const all = ids(await listAll(c.api(), c.org(), c.url));
      expect(new Set(all).size).toBe(all.length);
      expect(all.filter((id) => made.some((m) => m.id === id))).toEqual(made.map((m) => m.id));
    });

    if (!c.keepsDeleted) {
      it('deletes it; it is then 404', async () => {
        const url = `${c.url}/${(await create()).id}`;
        await http().delete(url).set('Authorization', auth()).expect(204);
        const gone = await http().get(url).set('Authorization', auth()).expect(404);
        expect(gone.body.code).toBe(c.notFoundCode);
        await http().delete(url).set('Authorization', auth()).expect(404);
        await http().patch(url).set('Authorization', auth()).send(c.change).expect(404);
      });
    }

    it.each([
      { name: 'malformed JSON', body: async () => '{"name":', code: 'MALFORMED_JSON' },
      { name: 'a wrong type', body: async () => JSON.stringify({ ...(await c.body(c.org())), ...c.wrongType }), code: 'VALIDATION_FAILED' },
      { name: 'an unknown property', body: async () => JSON.stringify({ ...(await c.body(c.org())), [unknown]: 'red' }), code: 'VALIDATION_FAILED' },
      { name: 'an orgId', body: async () => JSON.stringify({ ...(await c.body(c.org())), orgId: c.other().orgId }), code: 'VALIDATION_FAILED' },
      { name: 'an id', body: async () => JSON.stringify({ ...(await c.body(c.org())), id: randomUUID() }), code: 'VALIDATION_FAILED' },
    ])('refuses a create body with $name (400 problem+json)', async ({ body, code }) => {
      const res = await http().post(c.url).set('Authorization', auth()).set('Content-Type', 'application/json').send(await body()).expect(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body.code).toBe(code);
    });

    it('refuses unknown properties, orgId and id in a PATCH body', async () => {
      const url = `${c.url}/${(await create()).id}`;
      for (const extra of [{ [unknown]: 'red' }, { orgId: c.other().orgId }, { id: randomUUID() }]) {
        const res = await http().patch(url).set('Authorization', auth()).send({ ...c.change, ...extra }).expect(400);
        expect(res.body.errors).toEqual([{ path: `/body/${Object.keys(extra)[0] ?? ''}`, message: 'is not allowed' }]);
      }
    });

    it('answers a malformed id with 400, an unknown id with 404 and a page size out of range with 400', async () => {
      for (const method of ['get', 'patch', 'delete'] as const) {
        await http()[method](`${c.url}/not-a-uuid`).set('Authorization', auth()).send(c.change).expect(400);
        const missing = await http()[method](`${c.url}/${randomUUID()}`).set('Authorization', auth()).send(c.change).expect(404);
        expect(missing.body.code).toBe(c.notFoundCode);
      }
      for (const limit of ['0', '501', 'many']) await http().get(`${c.url}?limit=${limit}`).set('Authorization', auth()).expect(400);
    });

    it('answers another organization’s id exactly like a random id, and changes nothing', async () => {
      const theirs = await create(c.other());
      const url = (id: string) => `${c.url}/${id}`;
      for (const method of ['get', 'patch', 'delete'] as const) {
        const probed = await http()[method](url(theirs.id)).set('Authorization', auth()).send(c.change);
        const missing = await http()[method](url(randomUUID())).set('Authorization', auth()).send(c.change);
        expect({ method, ...refusal(probed) }).toEqual({ method, ...refusal(missing) });
        expect(probed.status).toBe(404);
      }
      const after = await http().get(url(theirs.id)).set('Authorization', c.other().auth).expect(200);
      expect(after.body).toEqual(theirs);
    });
  });
}
