import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { asWriter } from '../src/platform/db/roles';
import { START, type RecordedEvent } from '../src/platform/event-store/event-store.port';
import { ACTIVITY_TYPES } from '../src/projections/activity-events.entry';
import { activityEventsProjection } from '../src/projections/activity-events.projection';
import { liveTables } from '../src/projections/projection';
import { rebuildProjection } from '../src/projections/projection-rebuild';
import {
  aCommandQueued,
  alertStreamOf,
  anAlert,
  anAlertAcknowledged,
  anAlertRaised,
  anAlertResolved,
  appendAs,
  commandStreamOf,
} from './support/activity-events.builders';
import { hasOpenssl, provisionNewDevice } from './support/provisioning.http';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';
import { waitUntil } from './support/wait-until';

interface Entry {
  id: string;
  cursor: string;
  type: string;
  occurredAt: string;
  summary: string;
  deviceId: string | null;
  siteId: string | null;
  subject: { type: string; id: string };
  actor: string;
  data: Record<string, unknown>;
}

const itWithOpenssl = hasOpenssl ? it : it.skip;

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api.close();
});

const send = (method: 'post' | 'patch' | 'delete', url: string, org: TestOrg, body?: object) =>
  api.http()[method](`/api${url}`).set('Authorization', org.auth).send(body);

async function created(url: string, org: TestOrg, body: object): Promise<string> {
  const res = await send('post', url, org, body);
  if (res.status !== 201) throw new Error(`POST ${url} answered ${res.status}: ${res.text}`);
  return res.body.id as string;
}

async function feed(org: TestOrg, query: Record<string, unknown> = {}, auth = org.auth): Promise<Entry[]> {
  const res = await api.http().get('/api/v1/events').query({ limit: 500, ...query }).set('Authorization', auth).expect(200);
  return (res.body as { items: Entry[] }).items;
}

/** The feed once it holds `count` entries (events appended straight to the store are projected asynchronously). */
async function feedOf(org: TestOrg, count: number, query: Record<string, unknown> = {}): Promise<Entry[]> {
  await waitUntil(`the feed holds ${count} entries`, async () => (await feed(org, query)).length >= count);
  return feed(org, query);
}

/** A site, a device at it and a sensor `temp` on the device. */
async function aFreezer(org: TestOrg): Promise<{ siteId: string; deviceId: string; sensorId: string }> {
  const siteId = await created('/v1/sites', org, { name: 'Cold store' });
  const deviceId = await created('/v1/devices', org, { name: 'Freezer 3', siteId });
  const sensorId = await created('/v1/sensors', org, { deviceId, key: 'temp' });
  return { siteId, deviceId, sensorId };
}

describe('the activity feed', () => {
  it('tells what was done through the API, newest first, with the names subjects had at the time', async () => {
    const org = await api.createOrg();
    const { siteId, deviceId, sensorId } = await aFreezer(org);
    const artefactId = await created('/v1/config-artefacts', org, { name: 'thermostat', content: { setpoint: -18 } });
    await send('post', `/v1/config-artefacts/${artefactId}/versions`, org, { content: { setpoint: -20 } }).expect(201);
    const bindingId = await created('/v1/desired-state-bindings', org, { artefactId, version: 2, targetType: 'DEVICE', targetId: deviceId });
    await send('patch', `/v1/devices/${deviceId}`, org, { status: 'DISABLED' }).expect(200);
    await send('patch', `/v1/devices/${deviceId}`, org, { name: 'Freezer 3b' }).expect(200);
    await send('delete', `/v1/desired-state-bindings/${bindingId}`, org).expect(204);
    await send('delete', `/v1/devices/${deviceId}`, org).expect(204);

    const entries = await feed(org);
    const actor = entries[0]?.actor;
    expect(actor).toMatch(/^apiKey:/);
    const atDevice = { deviceId, siteId, actor };
    expect(entries).toEqual([
      expect.objectContaining({ type: 'DEVICE_DECOMMISSIONED', summary: "Device 'Freezer 3b' decommissioned", ...atDevice }),
      expect.objectContaining({
        type: 'DESIRED_STATE_UNBOUND',
        summary: "Config artefact 'thermostat' (version 2) unbound from device 'Freezer 3b'",
        subject: { type: 'DESIRED_STATE_BINDING', id: bindingId },
        ...atDevice,
      }),
      expect.objectContaining({ type: 'DEVICE_UPDATED', summary: "Device 'Freezer 3' renamed to 'Freezer 3b'", data: { fields: ['name'], name: 'Freezer 3b' } }),
      expect.objectContaining({
        type: 'DEVICE_STATUS_CHANGED',
        summary: "Device 'Freezer 3' is now DISABLED (was PENDING)",
        data: { status: 'DISABLED', previousStatus: 'PENDING', fields: ['status'] },
      }),
      expect.objectContaining({
        type: 'DESIRED_STATE_BOUND',
        summary: "Config artefact 'thermostat' (version 2) bound to device 'Freezer 3' with priority 0",
        data: { artefactId, version: 2, targetType: 'DEVICE', targetId: deviceId, priority: 0 },
        ...atDevice,
      }),
      expect.objectContaining({ type: 'CONFIG_ARTEFACT_VERSION_ADDED', summary: "Config artefact 'thermostat': version 2 added", deviceId: null }),
      expect.objectContaining({ type: 'CONFIG_ARTEFACT_CREATED', summary: "Config artefact 'thermostat' created (version 1)", subject: { type: 'CONFIG_ARTEFACT', id: artefactId } }),
      expect.objectContaining({ type: 'SENSOR_CREATED', summary: "Sensor temp added to device 'Freezer 3'", subject: { type: 'SENSOR', id: sensorId }, ...atDevice }),
      expect.objectContaining({ type: 'DEVICE_CREATED', summary: "Device 'Freezer 3' created at site 'Cold store'", subject: { type: 'DEVICE', id: deviceId }, ...atDevice }),
      expect.objectContaining({ type: 'SITE_CREATED', summary: "Site 'Cold store' created", siteId, deviceId: null, subject: { type: 'SITE', id: siteId } }),
    ]);
    expect(new Set(entries.map((e) => e.cursor)).size).toBe(entries.length);
    // Each entry is one domain event: its id is the event's.
    const { rows } = await api.platform.pool.query<{ event_id: string }>('SELECT event_id FROM es_events WHERE event_id = ANY ($1::uuid[])', [entries.map((e) => e.id)]);
    expect(rows).toHaveLength(entries.length);
  });

  itWithOpenssl('tells provisioning and the certificate revocations of a decommission (needs openssl)', async () => {
    const org = await api.createOrg();
    const { deviceId, serialNumber } = await provisionNewDevice(api, org, { deviceName: 'gateway' });
    await send('delete', `/v1/devices/${deviceId}`, org).expect(204);
    const entries = await feed(org, { deviceId });
    expect(entries.map((e) => e.type)).toEqual(['CERTIFICATE_REVOKED', 'DEVICE_DECOMMISSIONED', 'DEVICE_PROVISIONED', 'DEVICE_CREATED']);
    expect(entries[0]).toMatchObject({
      summary: `Certificate ${serialNumber} of device 'gateway' revoked (CESSATION_OF_OPERATION)`,
      subject: { type: 'CERTIFICATE', id: serialNumber },
      data: { serialNumber, reason: 'CESSATION_OF_OPERATION' },
    });
    expect(entries[2]?.summary).toMatch(new RegExp(`^Device 'gateway' provisioned with certificate ${serialNumber}, valid until \\d{4}-\\d{2}-\\d{2}$`));
    // The device activates itself at provisioning; DEVICE_PROVISIONED already tells it.
    expect(entries[2]?.actor).toBe(`device:${deviceId}`);
  });

  it('tells a device’s move between sites, and files it under the new site', async () => {
    const org = await api.createOrg();
    const { deviceId } = await aFreezer(org);
    const dockId = await created('/v1/sites', org, { name: 'Dock' });
    await send('patch', `/v1/devices/${deviceId}`, org, { siteId: dockId }).expect(200);
    await send('patch', `/v1/devices/${deviceId}`, org, { siteId: null }).expect(200);
    const [off, moved] = await feed(org, { deviceId });
    expect(moved).toMatchObject({ summary: "Device 'Freezer 3' moved to site 'Dock'", siteId: dockId, data: { fields: ['siteId'], siteId: dockId } });
    expect(off).toMatchObject({ summary: "Device 'Freezer 3' taken off its site", siteId: null });
    expect((await feed(org, { siteId: dockId })).map((e) => e.type)).toEqual(['DEVICE_UPDATED', 'SITE_CREATED']);
  });

  it('tells alerts from their events, naming the sensor and the device as they were then', async () => {
    const org = await api.createOrg();
    const { siteId, deviceId, sensorId } = await aFreezer(org);
    const alert = anAlert({ sensorId, deviceId });
    await appendAs(api.platform.store, org.orgId, alertStreamOf(alert), [anAlertRaised(alert)]);
    await feedOf(org, 1, { type: 'ALERT_RAISED' });
    await send('patch', `/v1/devices/${deviceId}`, org, { name: 'Freezer 4' }).expect(200);
    await appendAs(api.platform.store, org.orgId, alertStreamOf(alert), [anAlertAcknowledged(alert), anAlertResolved(alert)]);

    const alerts = await feedOf(org, 3, { type: ['ALERT_RAISED', 'ALERT_ACKNOWLEDGED', 'ALERT_RESOLVED'] });
    const about = { deviceId, siteId, subject: { type: 'ALERT', id: alert.id }, actor: 'system' };
    const facts = { ruleId: alert.ruleId, ruleName: 'Freezer too warm', severity: 'CRITICAL', sensorId };
    expect(alerts).toEqual([
      expect.objectContaining({
        ...about,
        type: 'ALERT_RESOLVED',
        summary: "Alert 'Freezer too warm' on sensor temp of device 'Freezer 4' resolved: the condition cleared (7.9)",
        data: { ...facts, reason: 'CLEARED', reading: expect.objectContaining({ value: 7.9 }) },
      }),
      expect.objectContaining({
        ...about,
        type: 'ALERT_ACKNOWLEDGED',
        summary: "Alert 'Freezer too warm' on sensor temp of device 'Freezer 4' acknowledged: door was open",
        data: { ...facts, note: 'door was open' },
      }),
      expect.objectContaining({
        ...about,
        type: 'ALERT_RAISED',
        summary: "Alert 'Freezer too warm' (CRITICAL) raised on sensor temp of device 'Freezer 3': 12.4 > 8",
        data: { ...facts, message: '12.4 > 8', reading: expect.objectContaining({ value: 12.4 }) },
      }),
    ]);
  });

  it('tells the outcome of device commands, not their queuing', async () => {
    const org = await api.createOrg();
    const { siteId, deviceId } = await aFreezer(org);
    const failed = aCommandQueued(deviceId, { name: 'calibrate' });
    const timedOut = aCommandQueued(deviceId, { timeoutSeconds: 45 });
    const succeeded = aCommandQueued(deviceId, { name: 'ping' });
    const at = new Date().toISOString();
    const { store } = api.platform;
    await appendAs(store, org.orgId, commandStreamOf(failed), [failed, { type: 'CommandSent', data: { id: failed.data.id, at } }, {
      type: 'CommandFailed',
      data: { id: failed.data.id, at, error: { code: 'E_BUSY', message: 'sensor busy' } },
    }]);
    await appendAs(store, org.orgId, commandStreamOf(timedOut), [timedOut, { type: 'CommandTimedOut', data: { id: timedOut.data.id, at } }]);
    await appendAs(store, org.orgId, commandStreamOf(succeeded), [succeeded, { type: 'CommandSucceeded', data: { id: succeeded.data.id, at, result: { ok: true } } }]);
    const orphan = randomUUID();
    await appendAs(store, org.orgId, `device-command-${orphan}`, [{ type: 'CommandExpired', data: { id: orphan, at } }]);

    const commands = await feedOf(org, 4, { type: ['COMMAND_FAILED', 'COMMAND_TIMED_OUT', 'COMMAND_SUCCEEDED', 'COMMAND_EXPIRED'] });
    expect(commands.map((e) => [e.type, e.summary, e.deviceId, e.siteId])).toEqual([
      ['COMMAND_EXPIRED', `Command ${orphan.slice(0, 8)} expired before it could be sent`, null, null],
      ['COMMAND_SUCCEEDED', "Command 'ping' to device 'Freezer 3' succeeded", deviceId, siteId],
      ['COMMAND_TIMED_OUT', "Command 'reboot' to device 'Freezer 3' timed out: no answer within 45 s", deviceId, siteId],
      ['COMMAND_FAILED', "Command 'calibrate' to device 'Freezer 3' failed: sensor busy (E_BUSY)", deviceId, siteId],
    ]);
    expect(commands[3]?.data).toEqual({ name: 'calibrate', batchId: null, error: { code: 'E_BUSY', message: 'sensor busy' } });
    expect((await feed(org)).some((e) => e.subject.type === 'COMMAND' && e.subject.id === failed.data.id && e.type !== 'COMMAND_FAILED')).toBe(false);
  });

  it('tells exports requested, ready and failed', async () => {
    const org = await api.createOrg();
    const { deviceId } = await aFreezer(org);
    const ready = randomUUID();
    const failed = randomUUID();
    const request = (id: string) => ({
      type: 'ExportRequested',
      data: { id, scopeType: 'DEVICE', scopeId: deviceId, from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z', includes: ['READINGS', 'ALERTS'], format: 'CSV', requestedAt: new Date().toISOString() },
    });
    const at = new Date().toISOString();
    const { store } = api.platform;
    await appendAs(store, org.orgId, `export-${ready}`, [
      request(ready),
      { type: 'ExportStarted', data: { id: ready, attempt: 1, workerId: 'w', startedAt: at } },
      { type: 'ExportCompleted', data: { id: ready, attempt: 1, blobKey: 'k', sizeBytes: 2048, readingCount: 10, annotationCount: 0, alertCount: 1, eventCount: 0, completedAt: at, expiresAt: '2026-01-03T00:00:00.000Z' } },
    ]);
    await appendAs(store, org.orgId, `export-${failed}`, [request(failed), { type: 'ExportFailed', data: { id: failed, attempt: 3, reason: 'worker lost 3 times', failedAt: at } }]);
    const entries = await feedOf(org, 4, { type: ['EXPORT_REQUESTED', 'EXPORT_READY', 'EXPORT_FAILED'] });
    expect(entries.map((e) => e.type).sort()).toEqual(['EXPORT_FAILED', 'EXPORT_READY', 'EXPORT_REQUESTED', 'EXPORT_REQUESTED']);
    const done = entries.find((e) => e.type === 'EXPORT_READY');
    expect(done?.summary).toBe(`Export ${ready.slice(0, 8)} ready: 10 readings, 1 alerts, 0 events, 0 annotations (2.0 KB), until 2026-01-03T00:00:00.000Z`);
    expect(entries.find((e) => e.type === 'EXPORT_FAILED')?.summary).toBe(`Export ${failed.slice(0, 8)} failed: worker lost 3 times`);
    expect(entries.find((e) => e.type === 'EXPORT_REQUESTED')).toMatchObject({ deviceId, subject: { type: 'EXPORT' } });
  });

  it('never names another organization’s subjects, even for an id it knows', async () => {
    const org = await api.createOrg();
    const other = await api.createOrg('Other org');
    const theirs = await aFreezer(other);
    // An event of `org` that names `other`'s device and sensor: the directory is per organization.
    const alert = anAlert({ sensorId: theirs.sensorId, deviceId: theirs.deviceId });
    await appendAs(api.platform.store, org.orgId, alertStreamOf(alert), [anAlertRaised(alert)]);
    const [entry] = await feedOf(org, 1);
    expect(entry?.summary).toBe(
      `Alert 'Freezer too warm' (CRITICAL) raised on sensor ${theirs.sensorId.slice(0, 8)} of device ${theirs.deviceId.slice(0, 8)}: 12.4 > 8`,
    );
    expect(entry?.siteId).toBeNull();
    expect((await feed(other)).map((e) => e.type)).toEqual(['SENSOR_CREATED', 'DEVICE_CREATED', 'SITE_CREATED']);
  });
});

describe('GET /v1/events', () => {
  let org: TestOrg;
  let freezer: { siteId: string; deviceId: string; sensorId: string };
  let all: Entry[];
  beforeAll(async () => {
    org = await api.createOrg();
    freezer = await aFreezer(org);
    await created('/v1/devices', org, { name: 'Loose device' });
    const alert = anAlert({ sensorId: freezer.sensorId, deviceId: freezer.deviceId });
    await appendAs(api.platform.store, org.orgId, alertStreamOf(alert), [anAlertRaised(alert)]);
    all = await feedOf(org, 5);
  });

  it('filters by one type or several', async () => {
    expect((await feed(org, { type: 'DEVICE_CREATED' })).map((e) => e.summary)).toEqual(["Device 'Loose device' created", "Device 'Freezer 3' created at site 'Cold store'"]);
    const several = await feed(org, { type: ['SITE_CREATED', 'ALERT_RAISED'] });
    expect(several.map((e) => e.type)).toEqual(['ALERT_RAISED', 'SITE_CREATED']);
    const res = await api.http().get('/api/v1/events').query({ type: 'DEVICE_EXPLODED' }).set('Authorization', org.auth).expect(400);
    expect(res.body.errors[0].path).toMatch(/^\/query\/type/);
  });

  it('filters by device, by site and by time', async () => {
    expect((await feed(org, { deviceId: freezer.deviceId })).map((e) => e.type)).toEqual(['ALERT_RAISED', 'SENSOR_CREATED', 'DEVICE_CREATED']);
    expect((await feed(org, { siteId: freezer.siteId })).map((e) => e.type)).toEqual(['ALERT_RAISED', 'SENSOR_CREATED', 'DEVICE_CREATED', 'SITE_CREATED']);
    expect(await feed(org, { deviceId: randomUUID() })).toEqual([]);
    const oldest = all[all.length - 1];
    const newest = all[0];
    if (!oldest || !newest) throw new Error('no entries');
    expect(await feed(org, { from: newest.occurredAt })).toEqual(all.filter((e) => e.occurredAt >= newest.occurredAt));
    expect(await feed(org, { to: oldest.occurredAt })).toEqual([]);
    expect(await feed(org, { from: oldest.occurredAt, to: newest.occurredAt })).toEqual(all.filter((e) => e.occurredAt < newest.occurredAt));
  });

  it('pages newest first with cursors, without gaps or repeats', async () => {
    const seen: Entry[] = [];
    let cursor: string | undefined;
    do {
      const res = await api.http().get('/api/v1/events').query({ limit: 2, ...(cursor ? { cursor } : {}) }).set('Authorization', org.auth).expect(200);
      const page = res.body as { items: Entry[]; nextCursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(all);
    const bad = await api.http().get('/api/v1/events').query({ cursor: 'bm90LWEtY3Vyc29y' }).set('Authorization', org.auth).expect(400);
    expect(bad.body.code).toBe('INVALID_CURSOR');
  });

  it('is readable by a viewer and by nobody unauthenticated', async () => {
    expect(await feed(org, {}, `Bearer ${await org.jwt('viewer')}`)).toEqual(all);
    await api.http().get('/api/v1/events').expect(401);
  });
});

describe('the activity-events projection', () => {
  async function tables(): Promise<{ entries: unknown[]; subjects: unknown[] }> {
    return asWriter(api.platform.pool, async (tx) => ({
      entries: (await tx.query('SELECT * FROM activity_events ORDER BY commit_position, prepare_position')).rows,
      subjects: (await tx.query('SELECT * FROM activity_subjects ORDER BY org_id, kind, id')).rows,
    }));
  }

  async function everyEvent(): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    for (let from = START, more = true; more; ) {
      const page = await api.platform.store.readAll({ fromPosition: from, maxCount: 500, filter: { eventTypes: activityEventsProjection.eventTypes } });
      events.push(...page.events);
      from = page.checkpoint;
      more = page.events.length === 500;
    }
    return events;
  }

  /** Caught up: the projection has passed the store's head. */
  async function settled(): Promise<void> {
    const head = await api.platform.store.headPosition();
    expect(await api.deps.watcher.waitFor([activityEventsProjection.name], head, 10_000)).toBe(true);
  }

  it('changes nothing when every event is applied again, and a rebuild makes the same tables', async () => {
    const org = await api.createOrg();
    const { deviceId } = await aFreezer(org);
    // A rename between two events about the device: order matters to the sentences.
    await send('patch', `/v1/devices/${deviceId}`, org, { name: 'Freezer 9' }).expect(200);
    await send('delete', `/v1/devices/${deviceId}`, org).expect(204);
    await settled();
    const before = await tables();
    expect(before.entries.length).toBeGreaterThan(5);

    await asWriter(api.platform.pool, async (tx) => activityEventsProjection.apply(tx, await everyEvent(), liveTables));
    expect(await tables()).toEqual(before);

    await rebuildProjection(api.platform.pool, api.platform.store, activityEventsProjection, { batchSize: 7 });
    expect(await tables()).toEqual(before);
    expect((await feed(org)).map((e) => e.summary)).toContain("Device 'Freezer 3' renamed to 'Freezer 9'");
  });

  it('lists in schemas/api/activity-events.json exactly the types it makes', () => {
    const schema = JSON.parse(readFileSync(path.join(__dirname, '../schemas/api/activity-events.json'), 'utf8')) as {
      $defs: { ActivityEventType: { enum: string[] } };
    };
    expect(schema.$defs.ActivityEventType.enum).toEqual([...ACTIVITY_TYPES]);
  });
});
