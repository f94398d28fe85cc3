import { randomUUID } from 'node:crypto';
import { alertCommands } from '../src/commands/alerts/alert.handler';
import { deviceHealthStream } from '../src/commands/device-health/device-health.events';
import type { DashboardWidget } from '../src/commands/dashboards/dashboard.layout';
import { aCameraTile, aStat, aTimeSeries, at } from './support/dashboards.builders';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';
import { created, createDevice, createSensor } from './support/topology.http';

type Body = Record<string, unknown>;
interface Known {
  readonly sensorId: string;
  readonly ms: number;
  readonly value: number;
}

const HOUR = 3_600_000;
/** Two whole hours ending three hours before the test started: inside the HTTP door's back-fill window. */
const FROM_MS = Math.floor(Date.now() / HOUR) * HOUR - 5 * HOUR;
const TO_MS = FROM_MS + 2 * HOUR;
const FROM = new Date(FROM_MS).toISOString();
const TO = new Date(TO_MS).toISOString();

let api: TestApi;
let org: TestOrg;
const known: Known[] = [];
/** Devices A (two sensors, connected) and B (one sensor) in the site, C with no site; sensor `gone` is deleted after the dashboard is saved. */
const ids = { site: '', a: '', b: '', c: '', s1: '', s2: '', s3: '', gone: '', dashboard: '', alertA: '', alertC: '' };

const http = (method: 'get' | 'post' | 'delete', path: string, body?: object) => api.http()[method](path).set('Authorization', org.auth).send(body);

/** Readings through the HTTP door, as devices' back-fill would arrive. */
async function send(sensorId: string, points: readonly { ms: number; value: number }[]): Promise<void> {
  for (let i = 0; i < points.length; i += 5000) {
    const readings = points.slice(i, i + 5000).map((p) => ({ sensorId, ts: new Date(p.ms).toISOString(), value: p.value }));
    const res = await http('post', '/api/v1/readings/batch', { readings }).expect(202);
    expect(res.body.accepted).toBe(readings.length);
  }
  known.push(...points.map((p) => ({ sensorId, ...p })));
}

async function raiseAlert(sensorId: string, deviceId: string): Promise<string> {
  const id = randomUUID();
  const ruleId = randomUUID();
  const facts = { id, ruleId, ruleName: 'too warm', severity: 'WARNING' as const, sensorId, deviceId, channelIds: [] };
  const ctx = { orgId: org.orgId, actor: 'system' as const, correlationId: randomUUID() };
  const result = await alertCommands.raise(api.platform.store, ctx, ruleId, sensorId, { facts, message: 'too warm', reading: { ts: new Date().toISOString(), value: 30 }, now: new Date().toISOString() });
  if (result.position) await api.deps.watcher.waitFor(['alerts'], result.position, 10_000);
  return id;
}

async function connect(deviceId: string): Promise<void> {
  const at = new Date().toISOString();
  const metadata = { orgId: org.orgId, actor: `device:${deviceId}` as const, correlationId: randomUUID(), causationId: null, schemaVersion: 1 };
  const result = await api.platform.store.appendToStream(deviceHealthStream(deviceId), [
    { id: randomUUID(), type: 'DeviceConnected', data: { deviceId, at, clientId: deviceId }, metadata },
    { id: randomUUID(), type: 'DeviceHealthReported', data: { deviceId, at, firmwareVersion: '1.0.0', signalDbm: -60, batteryPercent: 90, uptimeSeconds: 10 }, metadata },
  ]);
  await api.deps.watcher.waitFor(['device-health'], result.position, 10_000);
}

const widgets: DashboardWidget[] = [];

beforeAll(async () => {
  api = await startTestApi({ INGEST_FLUSH_MS: '10' });
  org = await api.createOrg();
  ids.site = (await created(api, org, '/api/v1/sites', { name: 'Plant', location: { latitude: 52.37, longitude: 4.9 } })).id;
  ids.a = (await createDevice(api, org, { name: 'A pump', siteId: ids.site })).id;
  ids.b = (await createDevice(api, org, { name: 'B pump', siteId: ids.site })).id;
  ids.c = (await createDevice(api, org, { name: 'C remote' })).id;
  ids.s1 = (await createSensor(api, org, ids.a, { key: 'temp' })).id;
  ids.s2 = (await createSensor(api, org, ids.a, { key: 'hum' })).id;
  ids.s3 = (await createSensor(api, org, ids.b, { key: 'temp' })).id;
  ids.gone = (await createSensor(api, org, ids.c, { key: 'temp' })).id;
  // s1 every 7 s with irregular values, and a reading on each side of the range; s2 every 53 s; s3 every minute.
  const s1 = Array.from({ length: 1030 }, (_, i) => ({ ms: FROM_MS + i * 7000, value: Math.round((20 + 5 * Math.sin(i / 9) + (i % 13) * 0.37) * 1000) / 1000 }));
  await send(ids.s1, [{ ms: FROM_MS - 1000, value: 99 }, ...s1.filter((p) => p.ms < TO_MS), { ms: TO_MS, value: -99 }]);
  await send(ids.s2, Array.from({ length: 135 }, (_, i) => ({ ms: FROM_MS + 10_000 + i * 53_000, value: 40 + ((i * 7919) % 101) / 10 })));
  await send(ids.s3, Array.from({ length: 120 }, (_, i) => ({ ms: FROM_MS + i * 60_000, value: i })));
  await connect(ids.a);
  ids.alertA = await raiseAlert(ids.s1, ids.a);
  ids.alertC = await raiseAlert(ids.gone, ids.c);
  widgets.push(
    aTimeSeries([ids.s1, ids.s2], at(0, 0, 12, 6), {}, 'chart'),
    aTimeSeries([ids.s1], at(12, 0, 2, 6), { functions: ['count'] }, 'narrow'),
    aTimeSeries([ids.s2], at(14, 0, 10, 6), { functions: ['last'], bucket: 600 }, 'coarse'),
    aStat(ids.s1, at(0, 6, 4, 3), 'avg', 'stat'),
    { id: 'gauge', type: 'GAUGE', title: 'B', position: at(4, 6, 4, 3), config: { sensorId: ids.s3, function: 'last', min: 0, max: 200 } },
    { id: 'table', type: 'TABLE', title: 'Temperatures', position: at(8, 6, 8, 6), config: { siteId: ids.site, sensorKey: 'temp' } },
    { id: 'map', type: 'MAP', title: 'Plant', position: at(16, 6, 8, 6), config: { siteId: ids.site } },
    { id: 'alerts', type: 'ALERT_LIST', title: 'Plant alerts', position: at(0, 12, 12, 4), config: { siteId: ids.site } },
    aCameraTile(ids.a, at(12, 12, 6, 4), 'camera'),
    aStat(ids.gone, at(18, 12, 6, 4), 'last', 'gone'),
    { id: 'everything', type: 'TABLE', title: 'All of A', position: at(0, 16, 24, 4), config: { deviceIds: [ids.a] } },
  );
  ids.dashboard = (await created(api, org, '/api/v1/dashboards', { name: 'Plant', siteId: ids.site, layout: { widgets } })).id;
  await http('delete', `/api/v1/sensors/${ids.gone}`).expect(204);
});
afterAll(async () => {
  await api.close();
});

async function data(query: Record<string, unknown>): Promise<Map<string, Body>> {
  const res = await http('get', `/api/v1/dashboards/${ids.dashboard}/data`).query(query).expect(200);
  expect(res.body).toMatchObject({ dashboardId: ids.dashboard, version: 0 });
  const byId = new Map((res.body.widgets as Body[]).map((w) => [w.id as string, w]));
  expect([...byId.keys()]).toEqual(widgets.map((w) => w.id));
  return byId;
}

/** The expected buckets of a sensor, computed here from the readings sent. */
function expectedBuckets(sensorId: string, seconds: number, fns: readonly string[]): Body[] {
  const groups = new Map<number, Known[]>();
  for (const k of known.filter((r) => r.sensorId === sensorId && r.ms >= FROM_MS && r.ms < TO_MS).sort((x, y) => x.ms - y.ms)) {
    const start = Math.floor(k.ms / (seconds * 1000)) * seconds * 1000;
    groups.set(start, [...(groups.get(start) ?? []), k]);
  }
  return [...groups].map(([start, rows]) => {
    const values = rows.map((r) => r.value);
    const all: Body = {
      ts: new Date(start).toISOString(),
      avg: expect.closeTo(values.reduce((s, v) => s + v, 0) / values.length, 9),
      sum: expect.closeTo(values.reduce((s, v) => s + v, 0), 9),
      min: Math.min(...values),
      max: Math.max(...values),
      count: values.length,
      first: values[0],
      last: values[values.length - 1],
    };
    return Object.fromEntries(['ts', ...fns].map((fn) => [fn, all[fn]]));
  });
}

const inRange = (sensorId: string) => known.filter((k) => k.sensorId === sensorId && k.ms >= FROM_MS && k.ms < TO_MS).sort((x, y) => x.ms - y.ms);

describe('GET /dashboards/{id}/data', () => {
  it('aggregates each chart to fit its widget’s width, in buckets computed independently here', async () => {
    const byId = await data({ from: FROM, to: TO, width: 1200 });
    // 12 of 24 columns of 1200 px: 600 px; 7200 s needs 12 s buckets, the next nice width is 15 s (480 points).
    expect(byId.get('chart')).toEqual({
      id: 'chart',
      type: 'TIME_SERIES',
      data: {
        bucket: 15,
        maxPoints: 600,
        functions: ['avg', 'max'],
        series: [
          { sensorId: ids.s1, buckets: expectedBuckets(ids.s1, 15, ['avg', 'max']) },
          { sensorId: ids.s2, buckets: expectedBuckets(ids.s2, 15, ['avg', 'max']) },
        ],
      },
    });
    // Two columns: 100 px, so 2-minute buckets (60 points).
    const narrow = byId.get('narrow')?.data as Body;
    expect(narrow).toEqual({ bucket: 120, maxPoints: 100, functions: ['count'], series: [{ sensorId: ids.s1, buckets: expectedBuckets(ids.s1, 120, ['count']) }] });
    expect((narrow.series as { buckets: unknown[] }[])[0]?.buckets).toHaveLength(60);
    // The configured bucket is a floor: 10 minutes although 500 px would allow 15 s.
    expect(byId.get('coarse')?.data).toEqual({ bucket: 600, maxPoints: 500, functions: ['last'], series: [{ sensorId: ids.s2, buckets: expectedBuckets(ids.s2, 600, ['last']) }] });
  });

  it('answers the latest value and statistics of gauges and stats', async () => {
    const byId = await data({ from: FROM, to: TO });
    const s1 = inRange(ids.s1).map((k) => k.value);
    const mean = s1.reduce((s, v) => s + v, 0) / s1.length;
    const first = inRange(ids.s1)[0];
    const last = inRange(ids.s1)[s1.length - 1];
    expect(byId.get('stat')).toEqual({
      id: 'stat',
      type: 'STAT',
      data: {
        sensorId: ids.s1,
        function: 'avg',
        value: expect.closeTo(mean, 9),
        latest: { ts: new Date(last?.ms ?? 0).toISOString(), value: last?.value },
        stats: {
          count: s1.length,
          min: Math.min(...s1),
          max: Math.max(...s1),
          avg: expect.closeTo(mean, 9),
          stddev: expect.closeTo(Math.sqrt(s1.reduce((s, v) => s + (v - mean) ** 2, 0) / (s1.length - 1)), 9),
          first: { ts: new Date(first?.ms ?? 0).toISOString(), value: first?.value },
          last: { ts: new Date(last?.ms ?? 0).toISOString(), value: last?.value },
        },
        min: null,
        max: null,
      },
    });
    // The readings just outside the range (99 before, -99 at `to`) count for nothing.
    expect(s1).not.toContain(99);
    expect(byId.get('gauge')?.data).toMatchObject({ sensorId: ids.s3, function: 'last', value: 119, latest: { value: 119 }, min: 0, max: 200, stats: { count: 120 } });
  });

  it('lists a row per device with its latest reading, maps devices at their site with their health, and lists the site’s alerts', async () => {
    const byId = await data({ from: FROM, to: TO });
    const latest = (sensorId: string) => {
      const k = inRange(sensorId).at(-1);
      return k ? { ts: new Date(k.ms).toISOString(), value: k.value } : null;
    };
    expect(byId.get('table')?.data).toEqual({
      rows: [
        { deviceId: ids.a, name: 'A pump', status: 'PENDING', readings: [{ sensorId: ids.s1, key: 'temp', unit: null, latest: latest(ids.s1) }] },
        { deviceId: ids.b, name: 'B pump', status: 'PENDING', readings: [{ sensorId: ids.s3, key: 'temp', unit: null, latest: latest(ids.s3) }] },
      ],
      truncated: false,
    });
    expect(byId.get('everything')?.data).toEqual({
      rows: [
        {
          deviceId: ids.a,
          name: 'A pump',
          status: 'PENDING',
          readings: [
            { sensorId: ids.s2, key: 'hum', unit: null, latest: latest(ids.s2) },
            { sensorId: ids.s1, key: 'temp', unit: null, latest: latest(ids.s1) },
          ],
        },
      ],
      truncated: false,
    });
    const location = { latitude: 52.37, longitude: 4.9 };
    expect(byId.get('map')?.data).toEqual({
      devices: [
        { deviceId: ids.a, name: 'A pump', status: 'PENDING', siteId: ids.site, location, health: { status: 'ONLINE', lastSeenAt: expect.any(String) } },
        { deviceId: ids.b, name: 'B pump', status: 'PENDING', siteId: ids.site, location, health: { status: 'UNKNOWN', lastSeenAt: null } },
      ],
      truncated: false,
    });
    const alerts = (byId.get('alerts')?.data as { alerts: Body[] }).alerts;
    expect(alerts.map((a) => a.id)).toEqual([ids.alertA]);
    expect(alerts[0]).toMatchObject({ status: 'OPEN', sensorId: ids.s1, deviceId: ids.a });
    expect(byId.get('camera')?.data).toEqual({ device: { id: ids.a, name: 'A pump', status: 'PENDING' }, streamUrl: 'https://cams.example.com/door.m3u8' });
  });

  it('gives a widget whose sensor was deleted an error entry, and the others their data', async () => {
    const byId = await data({ from: FROM, to: TO });
    expect(byId.get('gone')).toEqual({
      id: 'gone',
      type: 'STAT',
      error: { code: 'SENSOR_NOT_FOUND', detail: 'A sensor of the widget does not exist any more.', errors: [{ path: '/layout/widgets/9/config/sensorId', message: 'does not exist' }] },
    });
    expect(byId.get('stat')).toHaveProperty('data');
  });

  it('refuses only the chart a range is too long for, and defaults to the last day', async () => {
    const byId = await data({ from: '1990-01-01T00:00:00.000Z', to: TO, width: 240 });
    // 20 px cannot hold 35 years in 366-day buckets; 120 px can.
    expect(byId.get('narrow')).toMatchObject({ error: { code: 'TOO_MANY_POINTS' } });
    // 120 px: 90-day buckets give more than 120 points over 35 years, 182-day ones fewer.
    expect(byId.get('chart')?.data).toMatchObject({ bucket: 15_724_800, maxPoints: 120 });
    const lastDay = await http('get', `/api/v1/dashboards/${ids.dashboard}/data`).expect(200);
    expect(Date.parse(lastDay.body.to as string) - Date.parse(lastDay.body.from as string)).toBe(24 * HOUR);
    expect(lastDay.body.width).toBe(1920);
    const backwards = await http('get', `/api/v1/dashboards/${ids.dashboard}/data`).query({ from: TO, to: FROM }).expect(400);
    expect(backwards.body.code).toBe('VALIDATION_FAILED');
  });
});

describe('a dashboard’s data under a statement timeout', () => {
  let slow: TestApi;
  let owner: TestOrg;
  let dashboardId: string;
  beforeAll(async () => {
    slow = await startTestApi({ READINGS_QUERY_TIMEOUT_MS: '300' });
    owner = await slow.createOrg();
    const deviceId = (await createDevice(slow, owner)).id;
    const sensorId = (await createSensor(slow, owner, deviceId)).id;
    const layout = { widgets: [aTimeSeries([sensorId], at(0)), aStat(sensorId, at(6)), aCameraTile(deviceId, at(12))] };
    dashboardId = (await created(slow, owner, '/api/v1/dashboards', { name: 'Slow', layout })).id;
  });
  afterAll(async () => {
    await slow.close();
  });

  it('answers QUERY_TIMEOUT for the widgets that read locked readings, within the budget, and the others their data', async () => {
    const get = () => slow.http().get(`/api/v1/dashboards/${dashboardId}/data`).set('Authorization', owner.auth);
    await get().expect(200);
    // The readings held under an exclusive lock: reading them waits, deterministically, until the timeout cancels it.
    const locker = await slow.platform.pool.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE readings IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      const res = await get().expect(200);
      const elapsed = Date.now() - started;
      const byId = new Map((res.body.widgets as Body[]).map((w) => [w.id, w]));
      expect(byId.get('chart')).toMatchObject({ error: { code: 'QUERY_TIMEOUT', detail: expect.stringContaining('took too long') } });
      // One budget for the call: the second widget that reads readings is not given another 300 ms.
      expect(byId.get('stat')).toMatchObject({ error: { code: 'QUERY_TIMEOUT', detail: expect.stringContaining('budget (300 ms) was spent') } });
      expect(byId.get('camera')).toHaveProperty('data.device.id');
      expect(elapsed).toBeGreaterThanOrEqual(250);
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
    const after = await get().expect(200);
    expect((after.body.widgets as Body[]).every((w) => 'data' in w)).toBe(true);
  });
});
