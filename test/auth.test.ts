import { generateKeyPairSync, createSecretKey, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';

let api: TestApi;
let org: TestOrg;
beforeAll(async () => {
  api = await startTestApi();
  org = await api.createOrg();
});
afterAll(async () => {
  await api.close();
});

const SECRET = 'test-secret-that-is-at-least-32-characters-long';
function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('API keys', () => {
  it('accepts the organization key and refuses a missing or malformed one', async () => {
    await api.http().get('/api/v1/organization').set('Authorization', org.auth).expect(200);
    const missing = await api.http().get('/api/v1/organization').expect(401);
    expect(missing.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(missing.body).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    const malformed = await api.http().get('/api/v1/organization').set('Authorization', 'Bearer sk_live_nope').expect(401);
    expect(malformed.body.code).toBe('INVALID_API_KEY');
  });

  it('refuses a well-formed key with a wrong secret', async () => {
    const forged = `${org.apiKey.slice(0, -4)}AAAA`;
    await api.http().get('/api/v1/organization').set('Authorization', `Bearer ${forged}`).expect(401);
  });

  it('shows a new key once, lists it without the secret, and refuses it after revocation', async () => {
    const created = await api.http().post('/api/v1/api-keys').set('Authorization', org.auth).send({ name: 'cli', role: 'viewer' }).expect(201);
    expect(created.body.apiKey).toMatch(/^sk_live_/);
    expect(created.headers.location).toBe(`/api/v1/api-keys/${created.body.id}`);
    const key = `Bearer ${created.body.apiKey}`;
    await api.http().get('/api/v1/organization').set('Authorization', key).expect(200);

    const list = await api.http().get('/api/v1/api-keys').set('Authorization', org.auth).expect(200);
    const listed = list.body.items.find((k: { id: string }) => k.id === created.body.id);
    expect(listed).toMatchObject({ name: 'cli', role: 'viewer', prefix: created.body.prefix });
    expect(JSON.stringify(list.body)).not.toContain(created.body.apiKey);

    const dump = await api.platform.pool.query(`SELECT data::text FROM es_events UNION ALL SELECT row_to_json(k)::text FROM api_keys k`);
    expect(dump.rows.map((r) => Object.values(r).join()).join()).not.toContain(created.body.apiKey);

    await api.http().delete(`/api/v1/api-keys/${created.body.id}`).set('Authorization', org.auth).expect(204);
    const refused = await api.http().get('/api/v1/organization').set('Authorization', key).expect(401);
    expect(refused.body.code).toBe('INVALID_API_KEY');
  });

  it('refuses an Idempotency-Key on key creation: a stored replay would keep the key in clear', async () => {
    const res = await api.http().post('/api/v1/api-keys').set('Authorization', org.auth).set('Idempotency-Key', 'k-1').send({ name: 'x' }).expect(400);
    expect(res.body.errors).toEqual([{ path: '/headers/idempotency-key', message: 'is not accepted on this operation' }]);
    const stored = await api.platform.pool.query('SELECT count(*)::int AS n FROM idempotency_keys');
    expect(stored.rows[0].n).toBe(0);
  });

  it('refuses an expired key', async () => {
    const created = await api
      .http()
      .post('/api/v1/api-keys')
      .set('Authorization', org.auth)
      .send({ name: 'short', expiresAt: new Date(Date.now() + 1500).toISOString() })
      .expect(201);
    await api.http().get('/api/v1/organization').set('Authorization', `Bearer ${created.body.apiKey}`).expect(200);
    await new Promise((r) => setTimeout(r, 1600));
    await api.http().get('/api/v1/organization').set('Authorization', `Bearer ${created.body.apiKey}`).expect(401);
  });

  it('lets only admins manage keys', async () => {
    const viewer = await api.http().post('/api/v1/api-keys').set('Authorization', org.auth).send({ name: 'v', role: 'viewer' }).expect(201);
    const refused = await api
      .http()
      .post('/api/v1/api-keys')
      .set('Authorization', `Bearer ${viewer.body.apiKey}`)
      .send({ name: 'escalate', role: 'admin' })
      .expect(403);
    expect(refused.body.code).toBe('INSUFFICIENT_ROLE');
  });
});

describe('user JWTs', () => {
  it('accepts a valid token with the organization and role claims', async () => {
    const token = await org.jwt('viewer');
    const res = await api.http().get('/api/v1/organization').set('Authorization', `Bearer ${token}`).expect(200);
    expect(res.body.id).toBe(org.orgId);
  });

  const claims = () => ({ sub: 'u1', org_id: org.orgId, role: 'admin', exp: Math.floor(Date.now() / 1000) + 600 });

  it('refuses alg none', async () => {
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`;
    await api.http().get('/api/v1/organization').set('Authorization', `Bearer ${token}`).expect(401);
  });

  it('refuses an HS256 token signed with a public key as the secret', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const withKey = await startTestApi({ JWT_PUBLIC_KEY: pem, JWT_SECRET: '' });
    try {
      const orgB = await withKey.createOrg();
      const token = await new SignJWT({ ...claims(), org_id: orgB.orgId })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(createSecretKey(Buffer.from(pem)));
      await withKey.http().get('/api/v1/organization').set('Authorization', `Bearer ${token}`).expect(401);
    } finally {
      await withKey.close();
    }
  });

  it('refuses an expired token, a token without exp, and a tampered org_id', async () => {
    const key = createSecretKey(Buffer.from(SECRET));
    const expired = await new SignJWT({ ...claims(), exp: Math.floor(Date.now() / 1000) - 10 }).setProtectedHeader({ alg: 'HS256' }).sign(key);
    const { exp: _exp, ...noExp } = claims();
    const withoutExp = await new SignJWT(noExp).setProtectedHeader({ alg: 'HS256' }).sign(key);
    const valid = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256' }).sign(key);
    const [h, , s] = valid.split('.');
    const tampered = `${h}.${b64({ ...claims(), org_id: randomUUID() })}.${s}`;
    for (const token of [expired, withoutExp, tampered]) {
      await api.http().get('/api/v1/organization').set('Authorization', `Bearer ${token}`).expect(401);
    }
  });

  it('checks issuer and audience when configured', async () => {
    const strict = await startTestApi({ JWT_ISSUER: 'https://app.example', JWT_AUDIENCE: 'iotplane' });
    try {
      const orgB = await strict.createOrg();
      const key = createSecretKey(Buffer.from(SECRET));
      const sign = (iss: string, aud: string) =>
        new SignJWT({ ...claims(), org_id: orgB.orgId }).setProtectedHeader({ alg: 'HS256' }).setIssuer(iss).setAudience(aud).sign(key);
      await strict.http().get('/api/v1/organization').set('Authorization', `Bearer ${await sign('https://app.example', 'iotplane')}`).expect(200);
      await strict.http().get('/api/v1/organization').set('Authorization', `Bearer ${await sign('https://evil.example', 'iotplane')}`).expect(401);
      await strict.http().get('/api/v1/organization').set('Authorization', `Bearer ${await sign('https://app.example', 'other')}`).expect(401);
    } finally {
      await strict.close();
    }
  });

  it('accepts EdDSA and ES256 tokens when the matching public key is configured', async () => {
    for (const [type, alg] of [['ed25519', 'EdDSA'], ['ec', 'ES256']] as const) {
      const pair = type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
      const pem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const withKey = await startTestApi({ JWT_PUBLIC_KEY: pem, JWT_SECRET: '' });
      try {
        const orgB = await withKey.createOrg();
        const token = await new SignJWT({ ...claims(), org_id: orgB.orgId }).setProtectedHeader({ alg }).sign(pair.privateKey);
        await withKey.http().get('/api/v1/organization').set('Authorization', `Bearer ${token}`).expect(200);
      } finally {
        await withKey.close();
      }
    }
  });
});

describe('rate limits', () => {
  it('answers 429 naming the limit, with RateLimit headers and Retry-After', async () => {
    const limited = await startTestApi({ RATE_LIMIT_PER_KEY: '3' });
    try {
      const orgB = await limited.createOrg();
      const ok = await limited.http().get('/api/v1/organization').set('Authorization', orgB.auth).expect(200);
      expect(ok.headers['ratelimit-limit']).toBe('3');
      await limited.http().get('/api/v1/organization').set('Authorization', orgB.auth).expect(200);
      await limited.http().get('/api/v1/organization').set('Authorization', orgB.auth).expect(200);
      const refused = await limited.http().get('/api/v1/organization').set('Authorization', orgB.auth).expect(429);
      expect(refused.headers['retry-after']).toBeDefined();
      expect(refused.body).toMatchObject({ code: 'RATE_LIMITED', limit: 'apiKey' });
      expect(refused.body.detail).toContain('apiKey');
    } finally {
      await limited.close();
    }
  });
});
