import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeHttpServer } from '../src/api/server';
import { alertStreamOf, anAlert, anAlertRaised, appendAs } from './support/activity-events.builders';
import { SseClient } from './support/sse-client';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';
import { waitUntil } from './support/wait-until';

interface Entry {
  id: string;
  cursor: string;
  type: string;
  summary: string;
  deviceId: string | null;
}

/** The API on a real port: Server-Sent Events are read the way curl -N reads them. */
async function listen(api: TestApi): Promise<{ server: Server; base: string }> {
  const server: Server = await new Promise((resolve) => {
    const listening = api.app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('GET /v1/events/stream', () => {
  let api: TestApi;
  let server: Server;
  let base: string;
  const clients: SseClient[] = [];

  beforeAll(async () => {
    // A poll far beyond every wait below: entries can only arrive because the projection's checkpoint notification woke the stream.
    api = await startTestApi({ EVENTS_STREAM_HEARTBEAT_MS: '250', EVENTS_STREAM_POLL_MS: '60000' });
    ({ server, base } = await listen(api));
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await api.close();
    await closeServer(server);
  });

  async function stream(org: TestOrg, query: Record<string, string | string[]> = {}, headers: Record<string, string> = {}): Promise<SseClient> {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) for (const v of [value].flat()) params.append(name, v);
    const client = await SseClient.open(`${base}/api/v1/events/stream?${params.toString()}`, { Authorization: org.auth, ...headers });
    clients.push(client);
    return client;
  }

  async function created(org: TestOrg, url: string, body: object): Promise<string> {
    const res = await api.http().post(`/api${url}`).set('Authorization', org.auth).send(body).expect(201);
    return res.body.id as string;
  }

  async function feed(org: TestOrg): Promise<Entry[]> {
    const res = await api.http().get('/api/v1/events').query({ limit: 500 }).set('Authorization', org.auth).expect(200);
    return (res.body as { items: Entry[] }).items;
  }

  const received = (client: SseClient): Entry[] => client.entries<Entry>();

  it('sends each new entry live as id, event and data, and nothing from before it connected', async () => {
    const org = await api.createOrg();
    await created(org, '/v1/sites', { name: 'Before' });
    const client = await stream(org);
    expect(client.status).toBe(200);
    expect(client.response.headers['content-type']).toBe('text/event-stream');
    await client.live();

    const deviceId = await created(org, '/v1/devices', { name: 'Live one' });
    await client.until('the device arrives', (c) => c.events.length >= 1);
    const [listed] = await feed(org);
    const [event] = client.events;
    expect(event).toEqual({ id: listed?.cursor, event: 'DEVICE_CREATED', data: JSON.stringify(listed) });
    expect(listed).toMatchObject({ deviceId, summary: "Device 'Live one' created" });
    await new Promise((r) => setTimeout(r, 300));
    expect(client.events).toHaveLength(1);
  });

  it('resumes after Last-Event-ID without losing or repeating an entry', async () => {
    const org = await api.createOrg();
    const first = await stream(org);
    await first.live();
    for (const name of ['one', 'two', 'three']) await created(org, '/v1/sites', { name });
    await first.until('three entries', (c) => c.events.length === 3);
    first.close();
    const lastSeen = first.events[2]?.id ?? '';
    // Missed while disconnected.
    for (const name of ['four', 'five']) await created(org, '/v1/sites', { name });

    const resumed = await stream(org, {}, { 'Last-Event-ID': lastSeen });
    await resumed.live();
    await created(org, '/v1/sites', { name: 'six' });
    await resumed.until('the missed entries and the new one', (c) => c.events.length >= 3);
    await new Promise((r) => setTimeout(r, 300));
    const all = (await feed(org)).reverse();
    expect(received(resumed).map((e) => e.summary)).toEqual(["Site 'four' created", "Site 'five' created", "Site 'six' created"]);
    expect(resumed.events.map((e) => e.id)).toEqual(all.slice(3).map((e) => e.cursor));

    // ?lastEventId= for clients that cannot send the header; the header wins when both come.
    const byQuery = await stream(org, { lastEventId: first.events[0]?.id ?? '' });
    await byQuery.live();
    expect(received(byQuery).map((e) => e.id)).toEqual(all.slice(1).map((e) => e.id));
    const both = await stream(org, { lastEventId: first.events[0]?.id ?? '' }, { 'Last-Event-ID': all[4]?.cursor ?? '' });
    await both.live();
    expect(received(both).map((e) => e.id)).toEqual([all[5]?.id]);
  });

  it('refuses a Last-Event-ID that is not one of its ids, as problem+json', async () => {
    const org = await api.createOrg();
    const client = await stream(org, {}, { 'Last-Event-ID': 'not-an-id' });
    await client.until('the answer ends', (c) => c.ended);
    expect(client.status).toBe(400);
    expect(client.response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(client.text)).toMatchObject({ code: 'INVALID_CURSOR', errors: [{ path: '/headers/last-event-id' }] });
  });

  it('applies the filters of the list', async () => {
    const org = await api.createOrg();
    const deviceId = await created(org, '/v1/devices', { name: 'Watched' });
    const sensorId = await created(org, '/v1/sensors', { deviceId, key: 'temp' });
    const alerts = await stream(org, { type: ['ALERT_RAISED', 'ALERT_RESOLVED'], deviceId });
    await alerts.live();
    await created(org, '/v1/sensors', { deviceId, key: 'humidity' });
    const other = await created(org, '/v1/devices', { name: 'Unwatched' });
    const otherSensor = await created(org, '/v1/sensors', { deviceId: other, key: 'temp' });
    await appendAs(api.platform.store, org.orgId, 'alert-unwatched', [anAlertRaised(anAlert({ sensorId: otherSensor, deviceId: other }))]);
    const alert = anAlert({ sensorId, deviceId });
    await appendAs(api.platform.store, org.orgId, alertStreamOf(alert), [anAlertRaised(alert)]);
    await alerts.until('the alert arrives', (c) => c.events.length >= 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(received(alerts).map((e) => [e.type, e.deviceId])).toEqual([['ALERT_RAISED', deviceId]]);
  });

  it('only ever sends an organization its own entries, whatever position it resumes from', async () => {
    const orgA = await api.createOrg('A');
    const orgB = await api.createOrg('B');
    const streamA = await stream(orgA);
    const streamB = await stream(orgB);
    await Promise.all([streamA.live(), streamB.live()]);
    const deviceB = await created(orgB, '/v1/devices', { name: 'B device' });
    const deviceA = await created(orgA, '/v1/devices', { name: 'A device' });
    await created(orgB, '/v1/sites', { name: 'B site' });
    await streamA.until('A’s device', (c) => c.events.length >= 1);
    await streamB.until('B’s two entries', (c) => c.events.length >= 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(received(streamA).map((e) => e.deviceId)).toEqual([deviceA]);
    expect(received(streamB).map((e) => e.summary)).toEqual(["Device 'B device' created", "Site 'B site' created"]);
    expect(streamA.text).not.toContain(deviceB);

    // B's cursor given to A is only a position: A gets its own entries after it.
    const resumed = await stream(orgA, {}, { 'Last-Event-ID': streamB.events[0]?.id ?? '' });
    await resumed.live();
    expect(received(resumed).map((e) => e.deviceId)).toEqual([deviceA]);
  });

  it('sends a comment heartbeat while idle', async () => {
    const org = await api.createOrg();
    const client = await stream(org);
    await client.until('two heartbeats', (c) => c.comments.filter((t) => t === 'keep-alive').length >= 2, 5000);
    expect(client.ended).toBe(false);
  });

  it('ends at the next heartbeat once its API key is revoked', async () => {
    const org = await api.createOrg();
    const key = await api.http().post('/api/v1/api-keys').set('Authorization', org.auth).send({ name: 'dashboard', role: 'viewer' }).expect(201);
    const client = await SseClient.open(`${base}/api/v1/events/stream`, { Authorization: `Bearer ${key.body.apiKey as string}` });
    clients.push(client);
    await client.live();
    await api.http().delete(`/api/v1/api-keys/${key.body.id as string}`).set('Authorization', org.auth).expect(204);
    await client.until('the stream ends', (c) => c.ended, 5000);
  });

  it('stops following when the client goes away', async () => {
    const org = await api.createOrg();
    const before = api.deps.streams.size;
    const client = await stream(org);
    await client.live();
    expect(api.deps.streams.size).toBe(before + 1);
    client.close();
    await waitUntil('the stream is forgotten', () => api.deps.streams.size === before);
  });
});

describe('without checkpoint notifications', () => {
  it('still delivers new entries, by polling', async () => {
    const api = await startTestApi({ EVENTS_STREAM_POLL_MS: '200' });
    const { server, base } = await listen(api);
    try {
      const org = await api.createOrg();
      const res = await api.http().post('/api/v1/devices').set('Authorization', org.auth).send({ name: 'Quiet' }).expect(201);
      const deviceId = res.body.id as string;
      const sensor = await api.http().post('/api/v1/sensors').set('Authorization', org.auth).send({ deviceId, key: 'temp' }).expect(201);
      // As if its LISTEN connection were lost; nothing below asks it to reconnect (only command routes do).
      await api.deps.watcher.stop();
      const client = await SseClient.open(`${base}/api/v1/events/stream`, { Authorization: org.auth });
      await client.live();
      const alert = anAlert({ sensorId: sensor.body.id as string, deviceId });
      await appendAs(api.platform.store, org.orgId, alertStreamOf(alert), [anAlertRaised(alert)]);
      await client.until('the alert arrives', (c) => c.events.length === 1, 5000);
      expect(client.events[0]?.event).toBe('ALERT_RAISED');
    } finally {
      await closeHttpServer(server, api.deps.streams);
      await api.close();
    }
  });
});

describe('shutting down with open streams', () => {
  it('ends every stream so that the server closes at once, and ends streams opened afterwards at once', async () => {
    const api = await startTestApi();
    const { server, base } = await listen(api);
    try {
      const org = await api.createOrg();
      const open = (): Promise<SseClient> => SseClient.open(`${base}/api/v1/events/stream`, { Authorization: org.auth });
      const clients = [await open(), await open()];
      await Promise.all(clients.map((c) => c.live()));
      const started = Date.now();
      await closeHttpServer(server, api.deps.streams);
      // Well before the 5 s keep-alive timeout that an idle connection would otherwise hold it for.
      expect(Date.now() - started).toBeLessThan(2000);
      await waitUntil('both clients see the end', () => clients.every((c) => c.ended));
      expect(api.deps.streams.size).toBe(0);
      const late = await api.http().get('/api/v1/events/stream').set('Authorization', org.auth);
      expect({ status: late.status, text: late.text }).toEqual({ status: 200, text: 'retry: 3000\n\n' });
    } finally {
      await api.close();
    }
  });
});
