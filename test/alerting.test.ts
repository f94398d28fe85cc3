import { randomUUID } from 'node:crypto';
import { alertStream } from '../src/commands/alerts/alert.events';
import { AlertEvaluator } from '../src/ingest/alerts/alert-evaluator';
import { CheckpointWatcher } from '../src/platform/checkpoints/checkpoint-watcher';
import { PROJECTIONS } from '../src/projections/index';
import { startAlertAbsence } from '../src/workers/alert-absence';
import { capturedLogger } from './support/captured-logger';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';
import { createDevice, createSensor, createSensorProfile } from './support/topology.http';
import { waitUntil } from './support/wait-until';

type Body = Record<string, unknown>;
let api: TestApi;
let org: TestOrg;

beforeAll(async () => {
  api = await startTestApi({ INGEST_FLUSH_MS: '10' });
  org = await api.createOrg();
});
afterAll(async () => {
  await api?.close();
});

const http = (method: 'post' | 'get' | 'patch' | 'delete', path: string, body?: object, auth = org.auth) =>
  api.http()[method](path).set('Authorization', auth).send(body);
const minutesAgo = (m: number): string => new Date(Date.now() - m * 60_000).toISOString();

async function aRule(body: Body): Promise<Body> {
  const res = await http('post', '/api/v1/alert-rules', { name: `rule-${randomUUID().slice(0, 6)}`, ...body }).expect(201);
  return res.body as Body;
}

/** Readings through the HTTP door, then waits until every alert transition they caused is stored. */
async function send(sensorId: string, values: [number, number][]): Promise<void> {
  await http('post', '/api/v1/readings/batch', { readings: values.map(([minAgo, value]) => ({ sensorId, ts: minutesAgo(minAgo), value })) }).expect(202);
  await api.deps.readings.alerts.drain();
}

async function alertsOf(sensorId: string): Promise<Body[]> {
  return (await http('get', `/api/v1/alerts?sensorId=${sensorId}`).expect(200)).body.items as Body[];
}

async function aSensor(): Promise<{ deviceId: string; sensorId: string }> {
  const device = await createDevice(api, org);
  const sensor = await createSensor(api, org, device.id, { key: 'temp' });
  return { deviceId: device.id, sensorId: sensor.id };
}

/** Waits until the evaluator's index includes everything appended so far. */
async function indexed(): Promise<void> {
  expect(await api.deps.readings.alerts.caughtUp(await api.platform.store.headPosition(), 10_000)).toBe(true);
}

describe('alert rules and alerts', () => {
  it('raises on the triggering reading, is acknowledged with a note, and resolves past the hysteresis with the clearing reading', async () => {
    const { deviceId, sensorId } = await aSensor();
    const rule = await aRule({ scopeType: 'DEVICE', scopeId: deviceId, sensorKey: 'temp', conditions: [{ type: 'ABOVE', threshold: 8 }], hysteresis: 1, severity: 'CRITICAL' });
    expect(rule).toMatchObject({ enabled: true, operator: 'AND', forSeconds: 0, channelIds: [], version: 0 });
    await indexed();

    await send(sensorId, [[10, 7], [9, 9.5]]);
    await waitUntil('the alert is visible', async () => (await alertsOf(sensorId)).length === 1);
    const [raised] = await alertsOf(sensorId);
    expect(raised).toMatchObject({ ruleId: rule.id, deviceId, severity: 'CRITICAL', status: 'OPEN', triggeringReading: { value: 9.5 }, clearingReading: null });

    const ack = await http('post', `/api/v1/alerts/${raised?.id as string}/acknowledge`, { note: 'door was open' }).expect(200);
    expect(ack.body).toMatchObject({ status: 'ACKNOWLEDGED', note: 'door was open', acknowledgedBy: expect.stringMatching(/^apiKey:/) });
    await http('post', `/api/v1/alerts/${raised?.id as string}/acknowledge`, {}).expect(200);

    await send(sensorId, [[8, 7.5]]); // below 8 but inside the hysteresis: still open
    expect((await http('get', `/api/v1/alerts/${raised?.id as string}`).expect(200)).body.status).toBe('ACKNOWLEDGED');
    await send(sensorId, [[7, 6.9]]);
    await waitUntil('resolved', async () => (await http('get', `/api/v1/alerts/${raised?.id as string}`)).body.status === 'RESOLVED');
    const done = (await http('get', `/api/v1/alerts/${raised?.id as string}`).expect(200)).body;
    expect(done).toMatchObject({ resolveReason: 'CLEARED', clearingReading: { value: 6.9 }, note: 'door was open' });
    const late = await http('post', `/api/v1/alerts/${raised?.id as string}/acknowledge`, {}).expect(409);
    expect(late.body.code).toBe('ALERT_RESOLVED');

    // A new episode opens a new alert; filters find them.
    await send(sensorId, [[6, 12]]);
    await waitUntil('second alert', async () => (await alertsOf(sensorId)).length === 2);
    const open = (await http('get', `/api/v1/alerts?sensorId=${sensorId}&status=OPEN&status=ACKNOWLEDGED`).expect(200)).body.items as Body[];
    expect(open).toHaveLength(1);
    expect(open[0]?.triggeringReading).toMatchObject({ value: 12 });

    // Disabling the rule resolves its open alert.
    await http('patch', `/api/v1/alert-rules/${rule.id as string}`, { enabled: false }).expect(200);
    expect((await http('get', `/api/v1/alerts/${open[0]?.id as string}`).expect(200)).body).toMatchObject({ status: 'RESOLVED', resolveReason: 'RULE_CHANGED' });
  });

  it('applies a sensor-profile rule to every sensor of the profile, with for-duration by reading time', async () => {
    const profile = await createSensorProfile(api, org);
    const device = await createDevice(api, org);
    const watched = await createSensor(api, org, device.id, { key: 'cold', sensorProfileId: profile.id });
    const other = await createSensor(api, org, device.id, { key: 'warm' });
    await aRule({ scopeType: 'SENSOR_PROFILE', scopeId: profile.id, conditions: [{ type: 'BELOW', threshold: -20 }], forSeconds: 120 });
    await indexed();
    await send(watched.id, [[10, -25], [9, -25]]);
    await send(other.id, [[10, -30], [5, -30]]);
    expect(await alertsOf(watched.id)).toEqual([]);
    await send(watched.id, [[8, -26]]);
    await waitUntil('held two minutes', async () => (await alertsOf(watched.id)).length === 1);
    expect(await alertsOf(other.id)).toEqual([]);
  });

  it('refuses bad rules with problem+json', async () => {
    const { deviceId } = await aSensor();
    const missing = await http('post', '/api/v1/alert-rules', { name: 'x', scopeType: 'DEVICE', scopeId: randomUUID(), conditions: [{ type: 'ABOVE', threshold: 1 }] }).expect(422);
    expect(missing.body.errors).toEqual([expect.objectContaining({ path: '/body/scopeId' })]);
    const channel = await http('post', '/api/v1/alert-rules', { name: 'x', scopeType: 'DEVICE', scopeId: deviceId, conditions: [{ type: 'ABOVE', threshold: 1 }], channelIds: [randomUUID()] }).expect(422);
    expect(channel.body.errors).toEqual([expect.objectContaining({ path: '/body/channelIds/0' })]);
    await http('post', '/api/v1/alert-rules', { name: 'x', scopeType: 'DEVICE', scopeId: deviceId, conditions: [] }).expect(400);
    await http('post', '/api/v1/alert-rules', { name: 'x', scopeType: 'DEVICE', scopeId: deviceId, conditions: [{ type: 'ABOVE' }] }).expect(400);
    const mixed = await http('post', '/api/v1/alert-rules', {
      name: 'x', scopeType: 'DEVICE', scopeId: deviceId, conditions: [{ type: 'NO_DATA', seconds: 300 }, { type: 'ABOVE', threshold: 1 }],
    }).expect(422);
    expect(mixed.body.errors[0].path).toBe('/body/conditions/0');
    await http('get', `/api/v1/alerts/${randomUUID()}`).expect(404);
    await http('post', `/api/v1/alerts/${randomUUID()}/acknowledge`, {}).expect(404);
  });

  it('creates exactly one alert when two evaluators see the same condition at once', async () => {
    const { deviceId, sensorId } = await aSensor();
    const rule = await aRule({ scopeType: 'DEVICE', scopeId: deviceId, conditions: [{ type: 'ABOVE', threshold: 0 }] });
    await indexed();
    const log = capturedLogger('warn').log;
    const evaluators = [0, 1].map(() => new AlertEvaluator(api.platform.pool, api.platform.store, new CheckpointWatcher(api.platform.pool, api.platform.databaseUrl, PROJECTIONS), log));
    try {
      await Promise.all(evaluators.map((e) => e.start()));
      const ts = new Date().toISOString();
      for (const e of evaluators) e.observe(sensorId, ts, Date.parse(ts), 5);
      await Promise.all(evaluators.map((e) => e.drain()));
      const events = await api.platform.store.readStream(alertStream(rule.id as string, sensorId));
      expect(events.map((e) => e.type)).toEqual(['AlertRaised']);
    } finally {
      await Promise.all(evaluators.map((e) => e.stop()));
    }
  });

  it('raises a no-data alert for a silent sensor and resolves it when data arrives', async () => {
    const { deviceId, sensorId } = await aSensor();
    const rule = await aRule({ scopeType: 'DEVICE', scopeId: deviceId, conditions: [{ type: 'NO_DATA', seconds: 120 }] });
    await indexed();
    const absence = startAlertAbsence({ pool: api.platform.pool, store: api.platform.store, log: capturedLogger('warn').log, schedule: '0 0 1 1 *' });
    try {
      expect((await absence.runOnce(new Date())).raised).toBe(0); // watched for less than the window
      const later = new Date(Date.now() + 3 * 60_000);
      expect(await absence.runOnce(later)).toMatchObject({ raised: 1 });
      await waitUntil('no-data alert', async () => (await alertsOf(sensorId)).length === 1);
      expect((await alertsOf(sensorId))[0]).toMatchObject({ ruleId: rule.id, status: 'OPEN', triggeringReading: null, message: 'no data for 120 s' });
      expect((await absence.runOnce(later)).raised).toBe(0);
      await send(sensorId, [[0, 1]]);
      expect(await absence.runOnce(new Date(Date.now() + 60_000))).toMatchObject({ resolved: 1 });
      await waitUntil('resolved by data', async () => (await alertsOf(sensorId))[0]?.status === 'RESOLVED');
      expect((await alertsOf(sensorId))[0]).toMatchObject({ resolveReason: 'DATA_RECEIVED', clearingReading: { value: 1 } });
    } finally {
      await absence.stop();
    }
  });
});
