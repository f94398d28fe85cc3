import { randomUUID } from 'node:crypto';
import { asWriter } from '../src/platform/db/roles';
import { FANOUT_NAME } from '../src/workers/notification-fanout';
import { startNotifications, type Notifications } from '../src/workers/notifications';
import { anAlert, anAlertAcknowledged, anAlertRaised, anAlertResolved, appendAlertEvents, signatureValid } from './support/notification.builders';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';
import { waitUntil } from './support/wait-until';
import { startWebhookReceiver, type Answer, type ReceivedRequest, type WebhookReceiver } from './support/webhook-receiver';

/**
 * Alert events appended to the event store as the alerting side writes them
 * (src/commands/alerts/alert.events.ts) → the worker's fan-out and delivery
 * loop → a real HTTP receiver on loopback. Backoff is small so that retries
 * and give-ups take well under a second.
 */
const MAX_ATTEMPTS = 3;
let api: TestApi;
let org: TestOrg;
let receiver: WebhookReceiver;
let notifications: Notifications;
const scripts = new Map<string, (request: ReceivedRequest, n: number) => Answer>();

const start = (config = api.platform.config.notify) => startNotifications({ platform: api.platform, config, log: api.platform.log });

beforeAll(async () => {
  api = await startTestApi({
    NOTIFY_ALLOWED_NETWORKS: '127.0.0.0/8',
    NOTIFY_ALLOW_HTTP: 'true',
    NOTIFY_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
    NOTIFY_BACKOFF_BASE_MS: '60',
    NOTIFY_BACKOFF_MAX_MS: '120',
    NOTIFY_POLL_MS: '20',
    NOTIFY_TIMEOUT_MS: '2000',
  });
  org = await api.createOrg();
  receiver = await startWebhookReceiver();
  // Each test scripts the answers of its own paths.
  receiver.answer((request, n) => scripts.get(request.path)?.(request, n) ?? { status: 200 });
  notifications = start();
});
afterAll(async () => {
  await notifications.stop();
  await receiver.close();
  await api.close();
});

const BASE = '/api/v1/notification-channels';

async function aChannel(
  owner: TestOrg,
  type: 'WEBHOOK' | 'SLACK',
  script?: (request: ReceivedRequest, n: number) => Answer,
  enabled = true,
): Promise<{ id: string; path: string; secret: string }> {
  const path = `/${type.toLowerCase()}-${randomUUID()}`;
  if (script) scripts.set(path, script);
  const config = type === 'WEBHOOK' ? { url: receiver.url(path) } : { webhookUrl: receiver.url(path) };
  const res = await api.http().post(BASE).set('Authorization', owner.auth).send({ name: `${type} ${path}`, type, enabled, config }).expect(201);
  return { id: res.body.id, path, secret: res.body.signingSecret };
}

interface Delivery {
  id: string;
  alertId: string | null;
  eventId: string | null;
  eventType: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
}

async function deliveriesOf(channelId: string, query = ''): Promise<Delivery[]> {
  const res = await api.http().get(`${BASE}/${channelId}/deliveries${query}`).set('Authorization', org.auth).expect(200);
  return res.body.items;
}

async function settled(channelId: string, count = 1): Promise<Delivery[]> {
  let items: Delivery[] = [];
  await waitUntil(`${count} finished deliveries on ${channelId}`, async () => {
    items = await deliveriesOf(channelId);
    return items.length >= count && items.every((d) => d.status !== 'PENDING');
  });
  return items;
}

const bodyOf = (request: ReceivedRequest | undefined) => JSON.parse(request?.body ?? '{}') as { id: string; type: string; createdAt: string; alert: Record<string, unknown> };

describe('notifications of alert events', () => {
  it('delivers AlertRaised, signed, to each enabled channel of the alert’s organization and to nothing else', async () => {
    const hook = await aChannel(org, 'WEBHOOK');
    const disabled = await aChannel(org, 'WEBHOOK', undefined, false);
    const other = await api.createOrg('Other org');
    const foreign = await aChannel(other, 'WEBHOOK');
    const facts = anAlert({ channelIds: [hook.id, disabled.id, foreign.id, randomUUID(), 'not-a-uuid'] });
    const [eventId] = await appendAlertEvents(api.platform.store, org.orgId, [anAlertRaised(facts)]);

    const [request] = await receiver.waitForRequests(1, hook.path);
    expect(request?.headers).toMatchObject({ 'content-type': 'application/json', 'x-iotplane-event': 'AlertRaised' });
    expect(request && signatureValid(request, hook.secret)).toBe(true);
    const body = bodyOf(request);
    expect(request?.headers['x-iotplane-delivery']).toBe(body.id);
    const { channelIds: _channels, ...shown } = facts;
    expect(body).toEqual({
      id: body.id,
      type: 'AlertRaised',
      createdAt: expect.any(String),
      alert: { ...shown, status: 'OPEN', message: 'temperature above 8 °C for 5 min', reading: { ts: expect.any(String), value: 9.5 }, raisedAt: expect.any(String) },
    });

    const [delivery] = await settled(hook.id);
    expect(delivery).toMatchObject({ id: body.id, alertId: facts.id, eventId, eventType: 'AlertRaised', status: 'DELIVERED', attempts: 1, lastStatusCode: 200 });
    expect(await deliveriesOf(hook.id, `?alertId=${facts.id}`)).toHaveLength(1);
    expect(await deliveriesOf(hook.id, `?alertId=${randomUUID()}`)).toEqual([]);
    // Nothing for the disabled channel, nor for the other organization's channel the event named.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await deliveriesOf(disabled.id)).toEqual([]);
    expect(receiver.on(disabled.path)).toEqual([]);
    expect(receiver.on(foreign.path)).toEqual([]);
    const foreignRows = await asWriter(api.platform.pool, (tx) => tx.query('SELECT 1 FROM notification_deliveries WHERE channel_id = $1', [foreign.id]));
    expect(foreignRows.rows).toEqual([]);
  });

  it('notifies acknowledgement and resolution with the alert’s status and what each adds', async () => {
    const hook = await aChannel(org, 'WEBHOOK');
    const facts = anAlert({ channelIds: [hook.id], severity: 'WARNING' });
    await appendAlertEvents(api.platform.store, org.orgId, [anAlertRaised(facts), anAlertAcknowledged(facts, 'looking'), anAlertResolved(facts)]);
    const requests = await receiver.waitForRequests(3, hook.path);
    const bodies = requests.map(bodyOf).sort((a, b) => ['AlertRaised', 'AlertAcknowledged', 'AlertResolved'].indexOf(a.type) - ['AlertRaised', 'AlertAcknowledged', 'AlertResolved'].indexOf(b.type));
    expect(bodies.map((b) => [b.type, b.alert.status])).toEqual([
      ['AlertRaised', 'OPEN'],
      ['AlertAcknowledged', 'ACKNOWLEDGED'],
      ['AlertResolved', 'RESOLVED'],
    ]);
    expect(bodies[1]?.alert).toMatchObject({ id: facts.id, note: 'looking', acknowledgedAt: expect.any(String) });
    expect(bodies[2]?.alert).toMatchObject({ id: facts.id, reason: 'CLEARED', reading: { value: 6.1 }, resolvedAt: expect.any(String) });
    expect(requests.every((r) => signatureValid(r, hook.secret))).toBe(true);
    expect((await settled(hook.id, 3)).map((d) => d.status)).toEqual(['DELIVERED', 'DELIVERED', 'DELIVERED']);
  });

  it('retries a 500 with growing waits, then delivers the same delivery', async () => {
    const hook = await aChannel(org, 'WEBHOOK', (_request, n) => (n < 2 ? { status: 500, body: 'busy' } : { status: 204 }));
    await appendAlertEvents(api.platform.store, org.orgId, [anAlertRaised(anAlert({ channelIds: [hook.id] }))]);
    const requests = await receiver.waitForRequests(3, hook.path);
    expect(new Set(requests.map((r) => r.headers['x-iotplane-delivery'])).size).toBe(1);
    expect(new Set(requests.map((r) => r.body)).size).toBe(1);
    expect(requests.every((r) => signatureValid(r, hook.secret))).toBe(true);
    const gaps = requests.slice(1).map((r, i) => r.at.getTime() - (requests[i] as ReceivedRequest).at.getTime());
    // Base 60 ms, doubled: the second wait is the longer (the poll adds at most 20 ms to each).
    expect(gaps[0]).toBeGreaterThanOrEqual(55);
    expect(gaps[1]).toBeGreaterThanOrEqual(115);
    const [delivery] = await settled(hook.id);
    expect(delivery).toMatchObject({ status: 'DELIVERED', attempts: 3, lastStatusCode: 204, lastError: null });
  });

  it('gives up after the last attempt and keeps the delivery as DEAD, with the last answer', async () => {
    const hook = await aChannel(org, 'WEBHOOK', () => ({ status: 503, body: 'down for maintenance' }));
    await appendAlertEvents(api.platform.store, org.orgId, [anAlertRaised(anAlert({ channelIds: [hook.id] }))]);
    const [delivery] = await settled(hook.id);
    expect(delivery).toMatchObject({ status: 'DEAD', attempts: MAX_ATTEMPTS, lastStatusCode: 503, lastError: 'HTTP 503: down for maintenance' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.on(hook.path)).toHaveLength(MAX_ATTEMPTS);
  });

  it('gives up at once on a permanent refusal (a 4xx other than 408 and 429)', async () => {
    const hook = await aChannel(org, 'WEBHOOK', () => ({ status: 410, body: 'gone' }));
    await appendAlertEvents(api.platform.store, org.orgId, [anAlertRaised(anAlert({ channelIds: [hook.id] }))]);
    const [delivery] = await settled(hook.id);
    expect(delivery).toMatchObject({ status: 'DEAD', attempts: 1, lastStatusCode: 410 });
  });

  it('does not follow redirects: each 3xx is a failed attempt', async () => {
    const target = `/redirected-${randomUUID()}`;
    const hook = await aChannel(org, 'WEBHOOK', () => ({ status: 307, headers: { Location: receiver.url(target) } }));
    await appendAlertEvents(api.platform.store, org.orgId, [anAlertRaised(anAlert({ channelIds: [hook.id] }))]);
    const [delivery] = await settled(hook.id);
    expect(delivery).toMatchObject({ status: 'DEAD', attempts: MAX_ATTEMPTS, lastStatusCode: 307, lastError: `HTTP 307: redirect to ${receiver.url(target)} not followed` });
    expect(receiver.on(target)).toEqual([]);
  });

  it('posts { text } to a Slack channel', async () => {
    const slack = await aChannel(org, 'SLACK');
    const facts = anAlert({ channelIds: [slack.id], ruleName: 'Door <open> & alarm' });
    await appendAlertEvents(api.platform.store, org.orgId, [anAlertRaised(facts)]);
    const [request] = await receiver.waitForRequests(1, slack.path);
    const body = JSON.parse(request?.body ?? '{}') as { text?: string };
    expect(Object.keys(body)).toEqual(['text']);
    expect(body.text?.split('\n')).toEqual([
      '*CRITICAL alert raised: Door &lt;open&gt; &amp; alarm*',
      'temperature above 8 °C for 5 min',
      `Sensor ${facts.sensorId} on device ${facts.deviceId}`,
      expect.stringMatching(/^Reading: 9\.5 at /),
    ]);
    expect(request?.headers['x-iotplane-signature']).toBeUndefined();
  });

  it('ends the pending deliveries of a channel that is deleted, without another attempt', async () => {
    // A worker that waits a second before retrying, so the delivery is surely still pending when it stops.
    await notifications.stop();
    notifications = start({ ...api.platform.config.notify, maxAttempts: 10, backoffBaseMs: 1000, backoffMaxMs: 1000 });
    const hook = await aChannel(org, 'WEBHOOK', () => ({ status: 500 }));
    await appendAlertEvents(api.platform.store, org.orgId, [anAlertRaised(anAlert({ channelIds: [hook.id] }))]);
    const stateOf = async () => {
      const { rows } = await asWriter(api.platform.pool, (tx) =>
        tx.query<{ status: string; last_error: string; attempts: number }>('SELECT status, last_error, attempts FROM notification_deliveries WHERE channel_id = $1', [hook.id]),
      );
      return rows[0];
    };
    await waitUntil('the first attempt failed', async () => (await stateOf())?.last_error === 'HTTP 500');
    // The worker is stopped while the delivery waits for its retry, so the delete lands before any further attempt.
    await notifications.stop();
    expect(await stateOf()).toMatchObject({ status: 'PENDING' });
    await api.http().delete(`${BASE}/${hook.id}`).set('Authorization', org.auth).expect(204);
    const sent = receiver.on(hook.path).length;
    notifications = start();
    await waitUntil('the delivery of the deleted channel ended', async () => (await stateOf())?.status === 'DEAD');
    expect(await stateOf()).toMatchObject({ status: 'DEAD', last_error: 'the channel was deleted', attempts: sent + 1 });
    expect(receiver.on(hook.path)).toHaveLength(sent);
  });

  it('records each (event, channel) once, even when the fan-out reads the log again from the start', async () => {
    const hook = await aChannel(org, 'WEBHOOK');
    await appendAlertEvents(api.platform.store, org.orgId, [anAlertRaised(anAlert({ channelIds: [hook.id] }))]);
    await settled(hook.id);
    await notifications.stop();
    await api.platform.pool.query('UPDATE projection_checkpoints SET commit_position = 0, prepare_position = 0 WHERE name = $1', [FANOUT_NAME]);
    notifications = start();
    const after = await aChannel(org, 'WEBHOOK');
    await appendAlertEvents(api.platform.store, org.orgId, [anAlertRaised(anAlert({ channelIds: [after.id] }))]);
    // The fan-out has passed every older event once the newest one is delivered.
    await settled(after.id);
    expect(await deliveriesOf(hook.id)).toHaveLength(1);
    expect(receiver.on(hook.path)).toHaveLength(1);
  });

  it('shares the due deliveries between two workers without sending one twice', async () => {
    const second = start();
    try {
      const hook = await aChannel(org, 'WEBHOOK');
      const events = Array.from({ length: 12 }, () => anAlertRaised(anAlert({ channelIds: [hook.id] })));
      await appendAlertEvents(api.platform.store, org.orgId, events);
      await settled(hook.id, 12);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const ids = receiver.on(hook.path).map((r) => r.headers['x-iotplane-delivery']);
      expect(ids).toHaveLength(12);
      expect(new Set(ids).size).toBe(12);
    } finally {
      await second.stop();
    }
  });

  it('checks the address again at connect time: a worker without the allowance sends nothing to loopback', async () => {
    await notifications.stop();
    // The channel was accepted under the allowance; the worker's own rules no longer allow its address.
    notifications = start({ ...api.platform.config.notify, allowedNetworks: [] });
    try {
      const hook = await aChannel(org, 'WEBHOOK');
      await appendAlertEvents(api.platform.store, org.orgId, [anAlertRaised(anAlert({ channelIds: [hook.id] }))]);
      const [delivery] = await settled(hook.id);
      expect(delivery).toMatchObject({ status: 'DEAD', attempts: MAX_ATTEMPTS, lastStatusCode: null });
      expect(delivery?.lastError).toBe('refused address: 127.0.0.1 is loopback');
      expect(receiver.on(hook.path)).toEqual([]);
    } finally {
      await notifications.stop();
      notifications = start();
    }
  });
});
