import { randomUUID } from 'node:crypto';
import { asWriter, withTenant } from '../src/platform/db/roles';
import { signatureValid } from './support/notification.builders';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver';

/** The API side of notification channels; the alert-driven delivery is in notification-delivery.test.ts. */
let api: TestApi;
let org: TestOrg;
let receiver: WebhookReceiver;
beforeAll(async () => {
  // The loopback receiver needs both allowances; everything else keeps the default rules.
  api = await startTestApi({ NOTIFY_ALLOWED_NETWORKS: '127.0.0.0/8', NOTIFY_ALLOW_HTTP: 'true', NOTIFY_TIMEOUT_MS: '2000' });
  org = await api.createOrg();
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  await receiver.close();
  await api.close();
});

const BASE = '/api/v1/notification-channels';
const as = (authorization: string) => ({
  get: (path: string) => api.http().get(path).set('Authorization', authorization),
  post: (path: string, body?: object) => api.http().post(path).set('Authorization', authorization).send(body),
  patch: (path: string, body: object, ifMatch?: string) => {
    const req = api.http().patch(path).set('Authorization', authorization);
    return (ifMatch ? req.set('If-Match', ifMatch) : req).send(body);
  },
  delete: (path: string) => api.http().delete(path).set('Authorization', authorization),
});
const admin = () => as(org.auth);
const path = () => `/hook-${randomUUID().slice(0, 8)}`;

/** Rows of a table whose text holds `needle`: the event store through the owner's pool (no role reaches it), tenant tables as the writer. */
async function rowsHolding(table: 'es_events' | 'notification_channels' | 'notification_channel_secrets', needle: string): Promise<number | undefined> {
  const sql = `SELECT count(*)::int AS n FROM ${table} t WHERE t::text LIKE $1`;
  const { rows } =
    table === 'es_events'
      ? await api.platform.pool.query<{ n: number }>(sql, [`%${needle}%`])
      : await asWriter(api.platform.pool, (tx) => tx.query<{ n: number }>(sql, [`%${needle}%`]));
  return rows[0]?.n;
}

async function aWebhook(url = receiver.url(path()), extra: object = {}): Promise<{ id: string; signingSecret: string; url: string }> {
  const res = await admin().post(BASE, { name: `hook ${randomUUID().slice(0, 6)}`, type: 'WEBHOOK', config: { url }, ...extra }).expect(201);
  return { id: res.body.id, signingSecret: res.body.signingSecret, url };
}

describe('notification channels', () => {
  it('creates a webhook channel and shows its signing secret once, keeping it out of the log, the read model and the API role’s reach', async () => {
    const url = receiver.url(path());
    const res = await admin().post(BASE, { name: 'ops webhook', type: 'WEBHOOK', config: { url } }).expect(201);
    expect(res.body).toMatchObject({ name: 'ops webhook', type: 'WEBHOOK', enabled: true, config: { url }, version: 0 });
    expect(res.body.signingSecret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(res.headers.location).toBe(`${BASE}/${res.body.id}`);
    const secret = res.body.signingSecret as string;

    const read = await admin().get(`${BASE}/${res.body.id}`).expect(200);
    expect(read.body).toEqual({ ...res.body, signingSecret: undefined });
    expect(read.headers.etag).toBe('"0"');
    const list = await admin().get(BASE).expect(200);
    for (const text of [read.text, list.text]) expect(text).not.toContain(secret);

    expect(await rowsHolding('es_events', secret)).toBe(0);
    expect(await rowsHolding('notification_channels', secret)).toBe(0);
    expect(await rowsHolding('notification_channel_secrets', secret)).toBe(1);
    await expect(withTenant(api.platform.pool, org.orgId, (tx) => tx.query('SELECT secret FROM notification_channel_secrets'))).rejects.toThrow(/permission denied/);
  });

  it('refuses an Idempotency-Key on creation: a stored replay would keep the secret', async () => {
    const res = await api
      .http()
      .post(BASE)
      .set('Authorization', org.auth)
      .set('Idempotency-Key', randomUUID())
      .send({ name: 'x', type: 'WEBHOOK', config: { url: receiver.url() } })
      .expect(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ path: '/headers/idempotency-key' })]);
  });

  it('lists channels in pages without their config, to members too; config and writes are for admins', async () => {
    const made = [await aWebhook(), await aWebhook(), await aWebhook()];
    const ids = made.map((m) => m.id);
    const member = as(`Bearer ${await org.jwt('member')}`);
    const seen: { id: string }[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { id: string }[]; nextCursor: string | null } } = await member.get(`${BASE}?type=WEBHOOK&limit=2${cursor ? `&cursor=${cursor}` : ''}`).expect(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.map((c) => c.id)).toEqual(expect.arrayContaining(ids));
    expect(Object.keys(seen[0] ?? {}).sort()).toEqual(['createdAt', 'enabled', 'id', 'name', 'type', 'updatedAt', 'version']);

    expect((await member.get(`${BASE}/${ids[0]}`).expect(403)).body.code).toBe('INSUFFICIENT_ROLE');
    await member.post(BASE, { name: 'x', type: 'WEBHOOK', config: { url: receiver.url() } }).expect(403);
    await member.post(`${BASE}/${ids[0]}/test`).expect(403);
    await member.get(`${BASE}/${ids[0]}/deliveries`).expect(403);
    await as(`Bearer ${await org.jwt('viewer')}`).get(BASE).expect(403);
  });

  it('updates with If-Match, refuses a stale version, a config of another type and a refused URL', async () => {
    const { id } = await aWebhook();
    const url = receiver.url(path());
    const updated = await admin().patch(`${BASE}/${id}`, { name: 'renamed', enabled: false, config: { url } }, '"0"').expect(200);
    expect(updated.body).toMatchObject({ name: 'renamed', enabled: false, config: { url }, version: 1 });
    expect(updated.headers.etag).toBe('"1"');
    expect((await admin().patch(`${BASE}/${id}`, { enabled: true }, '"0"').expect(412)).body.code).toBe('PRECONDITION_FAILED');
    const mismatch = await admin().patch(`${BASE}/${id}`, { config: { to: ['ops@example.com'] } }).expect(422);
    expect(mismatch.body).toMatchObject({ code: 'NOTIFICATION_CHANNEL_TYPE_MISMATCH', errors: [{ path: '/body/config' }] });
    const refused = await admin().patch(`${BASE}/${id}`, { config: { url: 'https://169.254.169.254/latest' } }).expect(422);
    expect(refused.body).toMatchObject({ code: 'NOTIFICATION_URL_REFUSED', errors: [{ path: '/body/config/url' }] });
    expect(refused.body.detail).toContain('link-local');
    expect((await admin().get(`${BASE}/${id}`).expect(200)).body).toMatchObject({ name: 'renamed', enabled: false, config: { url }, version: 1 });
  });

  it('deletes a channel and erases its secrets', async () => {
    const { id } = await aWebhook();
    await admin().delete(`${BASE}/${id}`).expect(204);
    expect((await admin().get(`${BASE}/${id}`).expect(404)).body.code).toBe('NOTIFICATION_CHANNEL_NOT_FOUND');
    await admin().delete(`${BASE}/${id}`).expect(404);
    const { rows } = await asWriter(api.platform.pool, (tx) => tx.query('SELECT 1 FROM notification_channel_secrets WHERE channel_id = $1', [id]));
    expect(rows).toEqual([]);
  });

  it.each([
    ['no config', { name: 'x', type: 'WEBHOOK' }, '/body/config'],
    ['a Slack config for a webhook', { name: 'x', type: 'WEBHOOK', config: { webhookUrl: 'https://hooks.example.com/a' } }, '/body/config/url'],
    ['an unknown type', { name: 'x', type: 'PAGER', config: {} }, '/body/type'],
    ['an address that is not one', { name: 'x', type: 'EMAIL', config: { to: ['not-an-address'] } }, '/body/config/to/0'],
    ['no recipient', { name: 'x', type: 'EMAIL', config: { to: [] } }, '/body/config/to'],
    ['a URL that is not one', { name: 'x', type: 'WEBHOOK', config: { url: 'hooks' } }, '/body/config/url'],
    ['an empty name', { name: ' ', type: 'WEBHOOK', config: { url: 'https://hooks.example.com/a' } }, '/body/name'],
  ])('refuses %s with 400 problem+json', async (_what, body, at) => {
    const res = await admin().post(BASE, body).expect(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(res.body.errors[0].path).toBe(at);
  });

  it('refuses an EMAIL channel while SMTP is not configured, saying so', async () => {
    const res = await admin().post(BASE, { name: 'mail', type: 'EMAIL', config: { to: ['ops@example.com'] } }).expect(422);
    expect(res.body).toMatchObject({ code: 'SMTP_NOT_CONFIGURED', errors: [{ path: '/body/type' }] });
    expect(res.body.detail).toContain('SMTP_URL');
  });

  it.each([
    ['https://10.1.2.3/hook', 'private (RFC 1918)'],
    ['https://172.20.0.1/hook', 'private (RFC 1918)'],
    ['https://192.168.0.10/hook', 'private (RFC 1918)'],
    ['https://100.100.100.100/hook', 'CGNAT'],
    ['https://169.254.169.254/latest/meta-data', 'link-local'],
    ['https://0.0.0.0/hook', 'this network'],
    ['https://224.0.0.251/hook', 'multicast'],
    ['https://[::1]/hook', 'loopback'],
    ['https://[::]/hook', 'unspecified'],
    ['https://[fd00::5]/hook', 'unique local'],
    ['https://[fe80::1]/hook', 'link-local'],
    ['https://[::ffff:192.168.1.1]/hook', 'carries 192.168.1.1'],
    ['https://[::ffff:169.254.169.254]/hook', 'carries 169.254.169.254'],
  ])('refuses the webhook URL %s at creation (%s)', async (url, reason) => {
    const res = await admin().post(BASE, { name: 'x', type: 'WEBHOOK', config: { url } }).expect(422);
    expect(res.body).toMatchObject({ code: 'NOTIFICATION_URL_REFUSED', errors: [{ path: '/body/config/url' }] });
    expect(res.body.errors[0].message).toContain(reason);
  });

  it('refuses a Slack URL on a refused address the same way', async () => {
    const res = await admin().post(BASE, { name: 'x', type: 'SLACK', config: { webhookUrl: 'https://[fc00::1]/services/T/B/X' } }).expect(422);
    expect(res.body).toMatchObject({ code: 'NOTIFICATION_URL_REFUSED', errors: [{ path: '/body/config/webhookUrl' }] });
  });
});

describe('the test-send', () => {
  it('sends a signed test notification now, answers the outcome and records it in the delivery log', async () => {
    const hook = await aWebhook();
    const res = await admin().post(`${BASE}/${hook.id}/test`).expect(200);
    expect(res.body).toEqual({ deliveryId: expect.any(String), status: 'DELIVERED', statusCode: 200, error: null });
    const [request] = await receiver.waitForRequests(1, new URL(hook.url).pathname);
    expect(request?.headers).toMatchObject({
      'content-type': 'application/json',
      'x-iotplane-delivery': res.body.deliveryId,
      'x-iotplane-event': 'NotificationTest',
    });
    expect(request && signatureValid(request, hook.signingSecret)).toBe(true);
    expect(request && signatureValid(request, 'whsec_someone-else')).toBe(false);
    expect(JSON.parse(request?.body ?? '')).toEqual({ id: res.body.deliveryId, type: 'NotificationTest', createdAt: expect.any(String), alert: null });

    const log = await admin().get(`${BASE}/${hook.id}/deliveries`).expect(200);
    expect(log.body).toEqual({
      items: [
        expect.objectContaining({
          id: res.body.deliveryId,
          channelId: hook.id,
          alertId: null,
          eventType: 'NotificationTest',
          status: 'DELIVERED',
          attempts: 1,
          lastStatusCode: 200,
          nextAttemptAt: null,
          deliveredAt: expect.any(String),
        }),
      ],
      nextCursor: null,
    });
  });

  it('answers a failed test-send as DEAD with the receiver’s status, without retrying it', async () => {
    const hook = await aWebhook();
    const hookPath = new URL(hook.url).pathname;
    receiver.answer((request) => (request.path === hookPath ? { status: 500, body: 'boom' } : { status: 200 }));
    try {
      const res = await admin().post(`${BASE}/${hook.id}/test`).expect(200);
      expect(res.body).toMatchObject({ status: 'DEAD', statusCode: 500, error: 'HTTP 500: boom' });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(receiver.on(hookPath)).toHaveLength(1);
      const dead = await admin().get(`${BASE}/${hook.id}/deliveries?status=DEAD`).expect(200);
      expect(dead.body.items).toEqual([expect.objectContaining({ id: res.body.deliveryId, lastStatusCode: 500, lastError: 'HTTP 500: boom' })]);
      expect((await admin().get(`${BASE}/${hook.id}/deliveries?status=DELIVERED`).expect(200)).body.items).toEqual([]);
    } finally {
      receiver.answer(() => ({ status: 200 }));
    }
  });

  it('pages the delivery log newest first', async () => {
    const hook = await aWebhook();
    const sent: string[] = [];
    for (let i = 0; i < 3; i += 1) sent.push((await admin().post(`${BASE}/${hook.id}/test`).expect(200)).body.deliveryId);
    const first = await admin().get(`${BASE}/${hook.id}/deliveries?limit=2`).expect(200);
    const second = await admin().get(`${BASE}/${hook.id}/deliveries?limit=2&cursor=${first.body.nextCursor}`).expect(200);
    expect([...first.body.items, ...second.body.items].map((d: { id: string }) => d.id)).toEqual([...sent].reverse());
    expect(second.body.nextCursor).toBeNull();
    expect((await admin().get(`${BASE}/${hook.id}/deliveries?alertId=${randomUUID()}`).expect(200)).body.items).toEqual([]);
  });

  it('rotates a webhook’s secret: shown once, the old one no longer signs', async () => {
    const hook = await aWebhook();
    const hookPath = new URL(hook.url).pathname;
    const rotated = await admin().post(`${BASE}/${hook.id}/rotate-secret`).expect(200);
    expect(rotated.body.signingSecret).toMatch(/^whsec_/);
    expect(rotated.body.signingSecret).not.toBe(hook.signingSecret);
    expect(rotated.body.version).toBe(1);
    expect((await admin().get(`${BASE}/${hook.id}`).expect(200)).text).not.toContain(rotated.body.signingSecret);
    await admin().post(`${BASE}/${hook.id}/test`).expect(200);
    const [request] = await receiver.waitForRequests(1, hookPath);
    expect(request && signatureValid(request, rotated.body.signingSecret)).toBe(true);
    expect(request && signatureValid(request, hook.signingSecret)).toBe(false);
    const { rows } = await asWriter(api.platform.pool, (tx) => tx.query('SELECT 1 FROM notification_channel_secrets WHERE channel_id = $1', [hook.id]));
    expect(rows).toHaveLength(1);
  });

  it('posts { text } to a Slack incoming webhook, whose URL is shown only masked and kept out of the log', async () => {
    const slackPath = `/services/T0123ABCD/B0456EFGH/${randomUUID().replace(/-/g, '')}`;
    const webhookUrl = receiver.url(slackPath);
    const res = await admin().post(BASE, { name: 'slack', type: 'SLACK', config: { webhookUrl } }).expect(201);
    expect(res.body).toMatchObject({ type: 'SLACK', config: { webhookUrlMasked: `http://127.0.0.1:${receiver.port}/services/T0…/…` }, signingSecret: null });
    const token = slackPath.split('/').pop() ?? '';
    expect(await rowsHolding('es_events', token)).toBe(0);
    expect(await rowsHolding('notification_channels', token)).toBe(0);
    expect(await rowsHolding('notification_channel_secrets', token)).toBe(1);

    expect((await admin().post(`${BASE}/${res.body.id}/test`).expect(200)).body.status).toBe('DELIVERED');
    const [request] = await receiver.waitForRequests(1, slackPath);
    const body = JSON.parse(request?.body ?? '{}') as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['text']);
    expect(body.text).toContain('Test notification from iotplane');
    expect((await admin().post(`${BASE}/${res.body.id}/rotate-secret`).expect(422)).body.code).toBe('NOTIFICATION_CHANNEL_TYPE_MISMATCH');
  });
});

describe('without the operator’s allowances', () => {
  let strict: TestApi;
  let strictOrg: TestOrg;
  beforeAll(async () => {
    strict = await startTestApi({ SMTP_URL: 'smtp://mail.iotplane.invalid:25' });
    strictOrg = await strict.createOrg();
  });
  afterAll(async () => {
    await strict.close();
  });
  const create = (config: object, type = 'WEBHOOK') => strict.http().post(BASE).set('Authorization', strictOrg.auth).send({ name: 'x', type, config });

  it('refuses a host name that resolves to loopback', async () => {
    const res = await create({ url: `https://localhost:${receiver.port}/hook` }).expect(422);
    expect(res.body.errors[0].message).toBe('localhost resolves to a refused address: 127.0.0.1 is loopback');
  });

  it('refuses plain http', async () => {
    const res = await create({ url: 'http://hooks.iotplane.invalid/hook' }).expect(422);
    expect(res.body.errors[0].message).toBe('must use https://');
  });

  it('creates an EMAIL channel once SMTP is configured', async () => {
    const res = await create({ to: ['ops@example.com', 'oncall@example.com'] }, 'EMAIL').expect(201);
    expect(res.body).toMatchObject({ type: 'EMAIL', config: { to: ['ops@example.com', 'oncall@example.com'] }, signingSecret: null });
  });
});
