import { randomUUID } from 'node:crypto';
import { asWriter } from '../src/platform/db/roles';
import { START, type RecordedEvent } from '../src/platform/event-store/event-store.port';
import { liveTables } from '../src/projections/projection';
import { rebuildProjection } from '../src/projections/projection-rebuild';
import { referencePairsProjection } from '../src/projections/reference-pairs.projection';
import { entityContract } from './support/entity-contract';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';
import { createDevice, createSensor } from './support/topology.http';

type Body = Record<string, unknown>;
let api: TestApi;
let org: TestOrg;
let other: TestOrg;
beforeAll(async () => {
  // Short enough for the timeout test to wait on a lock, far above what these small comparisons take.
  api = await startTestApi({ READINGS_QUERY_TIMEOUT_MS: '3000' });
  org = await api.createOrg();
  other = await api.createOrg('Other org');
});
afterAll(async () => {
  await api.close();
});

const PAIRS = '/api/v1/reference-pairs';
const send = (method: 'post' | 'get' | 'patch' | 'delete', url: string, body?: object, who: TestOrg = org) =>
  api.http()[method](url).set('Authorization', who.auth).send(body);

async function aSensor(who: TestOrg = org): Promise<string> {
  const device = await createDevice(api, who);
  return (await createSensor(api, who, device.id)).id;
}

async function aPair(body: Body, who: TestOrg = org): Promise<Body & { id: string }> {
  const res = await send('post', PAIRS, { name: `pair ${randomUUID().slice(0, 6)}`, toleranceSeconds: 30, ...body }, who).expect(201);
  return res.body as Body & { id: string };
}

/** A reading as the test knows it: time in ms and value. */
interface Point {
  readonly ms: number;
  readonly value: number;
}

/** Readings through the HTTP door; 202 comes after the batch committed. */
async function ingest(sensorId: string, points: readonly Point[]): Promise<void> {
  const res = await send('post', '/api/v1/readings/batch', { readings: points.map((p) => ({ sensorId, ts: new Date(p.ms).toISOString(), value: p.value })) }).expect(202);
  expect(res.body).toMatchObject({ accepted: points.length, quarantined: 0, rejected: 0 });
}

interface Expected {
  sensorReadings: number;
  pairs: { ts: string; sensorValue: number; referenceTs: string; referenceValue: number }[];
  bias: number | null;
  mae: number | null;
  rmse: number | null;
  slope: number | null;
  intercept: number | null;
  r2: number | null;
}

/**
 * The comparison computed here, independently of the SQL: each sensor
 * reading in [from, to) with the nearest reference reading at most
 * `toleranceMs` away (the earlier on a tie), then the statistics of
 * sensor − reference and the least-squares line sensor = slope·reference + intercept.
 */
function compare(sensor: readonly Point[], reference: readonly Point[], from: number, to: number, toleranceMs: number): Expected {
  const inRange = sensor.filter((s) => s.ms >= from && s.ms < to).sort((a, b) => a.ms - b.ms);
  const pairs = inRange.flatMap((s) => {
    const near = reference
      .filter((r) => Math.abs(r.ms - s.ms) <= toleranceMs)
      .sort((a, b) => Math.abs(a.ms - s.ms) - Math.abs(b.ms - s.ms) || a.ms - b.ms);
    const r = near[0];
    return r ? [{ ts: new Date(s.ms).toISOString(), sensorValue: s.value, referenceTs: new Date(r.ms).toISOString(), referenceValue: r.value }] : [];
  });
  const n = pairs.length;
  if (n === 0) return { sensorReadings: inRange.length, pairs, bias: null, mae: null, rmse: null, slope: null, intercept: null, r2: null };
  const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
  const d = pairs.map((p) => p.sensorValue - p.referenceValue);
  const x = pairs.map((p) => p.referenceValue);
  const y = pairs.map((p) => p.sensorValue);
  const [mx, my] = [mean(x), mean(y)];
  const sxx = x.reduce((sum, v) => sum + (v - mx) ** 2, 0);
  const syy = y.reduce((sum, v) => sum + (v - my) ** 2, 0);
  const sxy = x.reduce((sum, v, i) => sum + (v - mx) * ((y[i] ?? 0) - my), 0);
  const slope = sxx === 0 ? null : sxy / sxx;
  return {
    sensorReadings: inRange.length,
    pairs,
    bias: mean(d),
    mae: mean(d.map(Math.abs)),
    rmse: Math.sqrt(mean(d.map((v) => v * v))),
    slope,
    intercept: slope === null ? null : my - slope * mx,
    r2: sxx === 0 ? null : (sxy * sxy) / (sxx * syy),
  };
}

/** Equal to 1e-9 relative: the database sums in another order. */
function close(actual: unknown, expected: number | null): boolean {
  if (expected === null) return actual === null;
  return typeof actual === 'number' && Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected));
}

function expectStatistics(body: Body, expected: Expected): void {
  const fit = body.fit as Body;
  const got = { bias: body.bias, mae: body.mae, rmse: body.rmse, slope: fit.slope, intercept: fit.intercept, r2: fit.r2 };
  const want = { bias: expected.bias, mae: expected.mae, rmse: expected.rmse, slope: expected.slope, intercept: expected.intercept, r2: expected.r2 };
  const mismatched = Object.entries(want).filter(([key, value]) => !close(got[key as keyof typeof got], value));
  expect({ mismatched, got }).toEqual({ mismatched: [], got });
  expect(body).toMatchObject({ sensorReadings: expected.sensorReadings, count: expected.pairs.length, unmatched: expected.sensorReadings - expected.pairs.length });
}

/** Every page of a comparison, following nextCursor; each page's statistics must be the whole range's. */
async function allPages(pairId: string, query: Record<string, unknown>, expected: Expected): Promise<Body[]> {
  const pairs: Body[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await api.http().get(`${PAIRS}/${pairId}/comparison`).query({ ...query, ...(cursor ? { cursor } : {}) }).set('Authorization', org.auth).expect(200);
    expectStatistics(res.body as Body, expected);
    pairs.push(...(res.body.pairs as Body[]));
    cursor = res.body.nextCursor as string | null;
    pages += 1;
  } while (cursor && pages < 100);
  return pairs;
}

const aligned = (expected: Expected) =>
  expected.pairs.map((p) => ({ ...p, difference: expect.any(Number) as unknown }));

describe('reference pairs', () => {
  entityContract({
    url: PAIRS,
    api: () => api,
    org: () => org,
    other: () => other,
    body: async (who) => ({ name: 'bench check', sensorId: await aSensor(who), referenceType: 'SENSOR', referenceSensorId: await aSensor(who), validFrom: '2025-01-01T00:00:00Z', toleranceSeconds: 30 }),
    change: { toleranceSeconds: 12.5, validTo: '2025-02-01T00:00:00.000Z' },
    wrongType: { toleranceSeconds: 'half a minute' },
    notFoundCode: 'REFERENCE_PAIR_NOT_FOUND',
  });

  it.each([
    { name: 'a SENSOR pair without reference sensor', body: { referenceType: 'SENSOR' }, path: '/body/referenceSensorId' },
    { name: 'a MANUAL pair with a reference sensor', body: { referenceType: 'MANUAL', referenceSensorId: 'other' }, path: '/body/referenceSensorId' },
    { name: 'a sensor as its own reference', body: { referenceType: 'SENSOR', referenceSensorId: 'self' }, path: '/body/referenceSensorId' },
    { name: 'a window that ends before it starts', body: { referenceType: 'MANUAL', validTo: '2024-12-31T00:00:00Z' }, path: '/body/validTo' },
    { name: 'an unknown sensor', body: { referenceType: 'MANUAL', sensorId: 'random' }, path: '/body/sensorId' },
    { name: 'another organization’s reference sensor', body: { referenceType: 'SENSOR', referenceSensorId: 'theirs' }, path: '/body/referenceSensorId' },
  ])('refuses $name (422)', async ({ body, path }) => {
    const sensorId = await aSensor();
    const ids: Record<string, string> = { other: await aSensor(), self: sensorId, random: randomUUID(), theirs: await aSensor(other) };
    const resolved = Object.fromEntries(Object.entries(body).map(([k, v]) => [k, ids[v] ?? v]));
    const res = await send('post', PAIRS, { name: 'bad', sensorId, validFrom: '2025-01-01T00:00:00Z', toleranceSeconds: 5, ...resolved }).expect(422);
    expect(res.body.errors).toEqual([expect.objectContaining({ path })]);
  });

  it('refuses a negative tolerance, a tolerance over a day, and changing the reference type (400, 422)', async () => {
    const sensorId = await aSensor();
    for (const toleranceSeconds of [-1, 86_401]) {
      await send('post', PAIRS, { name: 'bad', sensorId, referenceType: 'MANUAL', validFrom: '2025-01-01T00:00:00Z', toleranceSeconds }).expect(400);
    }
    const pair = await aPair({ sensorId, referenceType: 'MANUAL', validFrom: '2025-01-01T00:00:00Z' });
    await send('patch', `${PAIRS}/${pair.id}`, { referenceType: 'SENSOR' }).expect(400);
  });

  it('lists by sensor, by reference sensor and by reference type', async () => {
    const [s, r] = [await aSensor(), await aSensor()];
    const bySensor = await aPair({ sensorId: s, referenceType: 'SENSOR', referenceSensorId: r, validFrom: '2025-01-01T00:00:00Z' });
    const manual = await aPair({ sensorId: s, referenceType: 'MANUAL', validFrom: '2025-01-01T00:00:00Z' });
    const ids = async (query: Record<string, string>) => ((await api.http().get(PAIRS).query(query).set('Authorization', org.auth).expect(200)).body.items as Body[]).map((p) => p.id);
    expect(await ids({ sensorId: s })).toEqual([bySensor.id, manual.id]);
    expect(await ids({ referenceSensorId: r })).toEqual([bySensor.id]);
    expect(await ids({ sensorId: s, referenceType: 'MANUAL' })).toEqual([manual.id]);
    expect(await ids({ referenceSensorId: s })).toEqual([]);
  });
});

describe('manual reference readings', () => {
  it('records, replaces by ts (the last item of a ts in one request wins), lists by time, and moves the pair’s version', async () => {
    const pair = await aPair({ sensorId: await aSensor(), referenceType: 'MANUAL', validFrom: '2025-01-01T00:00:00Z' });
    const url = `${PAIRS}/${pair.id}/reference-readings`;
    const first = await send('post', url, {
      readings: [
        { ts: '2025-01-01T00:02:00Z', value: 2 },
        { ts: '2025-01-01T00:01:00Z', value: 1 },
        { ts: '2025-01-01T00:03:00Z', value: 3 },
      ],
    }).expect(200);
    expect(first.body).toEqual({ pairId: pair.id, recorded: 3, version: 1 });
    expect(first.headers.etag).toBe('"1"');
    // The same instant written two ways in one request: the later item wins; an earlier ts is replaced.
    await send('post', url, { readings: [{ ts: '2025-01-01T00:02:00Z', value: 20 }, { ts: '2025-01-01T02:02:00+02:00', value: 22 }, { ts: '2025-01-01T00:04:00Z', value: 4 }] }).expect(200);
    const all = await send('get', url).expect(200);
    expect((all.body.items as Body[]).map((r) => [r.ts, r.value])).toEqual([
      ['2025-01-01T00:01:00.000Z', 1],
      ['2025-01-01T00:02:00.000Z', 22],
      ['2025-01-01T00:03:00.000Z', 3],
      ['2025-01-01T00:04:00.000Z', 4],
    ]);
    const page = await api.http().get(url).query({ from: '2025-01-01T00:02:00Z', to: '2025-01-01T00:04:00Z', limit: 1 }).set('Authorization', org.auth).expect(200);
    expect(page.body.items).toEqual([expect.objectContaining({ ts: '2025-01-01T00:02:00.000Z' })]);
    const next = await api.http().get(url).query({ from: '2025-01-01T00:02:00Z', to: '2025-01-01T00:04:00Z', limit: 1, cursor: page.body.nextCursor as string }).set('Authorization', org.auth).expect(200);
    expect(next.body).toEqual({ items: [expect.objectContaining({ ts: '2025-01-01T00:03:00.000Z', value: 3 })], nextCursor: null });

    const read = await send('get', `${PAIRS}/${pair.id}`).expect(200);
    expect(read.body.version).toBe(2);
    await send('patch', `${PAIRS}/${pair.id}`, { name: 'stale' }).set('If-Match', '"1"').expect(412);
    await send('patch', `${PAIRS}/${pair.id}`, { name: 'fresh' }).set('If-Match', '"2"').expect(200);
  });

  it('refuses readings for a SENSOR pair (409), a non-finite value and an empty list (400), and a missing pair (404)', async () => {
    const bySensor = await aPair({ sensorId: await aSensor(), referenceType: 'SENSOR', referenceSensorId: await aSensor(), validFrom: '2025-01-01T00:00:00Z' });
    const refused = await send('post', `${PAIRS}/${bySensor.id}/reference-readings`, { readings: [{ ts: '2025-01-01T00:00:00Z', value: 1 }] }).expect(409);
    expect(refused.body.code).toBe('REFERENCE_PAIR_NOT_MANUAL');
    const manual = await aPair({ sensorId: await aSensor(), referenceType: 'MANUAL', validFrom: '2025-01-01T00:00:00Z' });
    const infinite = await api
      .http()
      .post(`${PAIRS}/${manual.id}/reference-readings`)
      .set('Authorization', org.auth)
      .set('Content-Type', 'application/json')
      .send('{"readings":[{"ts":"2025-01-01T00:00:00Z","value":1},{"ts":"2025-01-01T00:01:00Z","value":1e400}]}');
    expect({ status: infinite.status, errors: infinite.body.errors as unknown }).toEqual({ status: 400, errors: [{ path: '/body/readings/1/value', message: 'must be number' }] });
    await send('post', `${PAIRS}/${manual.id}/reference-readings`, { readings: [] }).expect(400);
    const missing = await send('post', `${PAIRS}/${randomUUID()}/reference-readings`, { readings: [{ ts: '2025-01-01T00:00:00Z', value: 1 }] }).expect(404);
    expect(missing.body.code).toBe('REFERENCE_PAIR_NOT_FOUND');
    await send('get', `${PAIRS}/${randomUUID()}/reference-readings`).expect(404);
    expect((await send('get', `${PAIRS}/${manual.id}/reference-readings`).expect(200)).body.items).toEqual([]);
  });

  it('deletes a pair’s readings with the pair', async () => {
    const pair = await aPair({ sensorId: await aSensor(), referenceType: 'MANUAL', validFrom: '2025-01-01T00:00:00Z' });
    await send('post', `${PAIRS}/${pair.id}/reference-readings`, { readings: [{ ts: '2025-01-01T00:00:00Z', value: 1 }] }).expect(200);
    await send('delete', `${PAIRS}/${pair.id}`).expect(204);
    const { rows } = await asWriter(api.platform.pool, (tx) => tx.query('SELECT 1 FROM reference_readings WHERE pair_id = $1', [pair.id]));
    expect(rows).toEqual([]);
  });
});

describe('comparison', () => {
  // Recent enough for the readings pipeline's age limit; whole minutes.
  const T0 = Math.floor((Date.now() - 3 * 3600_000) / 60_000) * 60_000;
  const sec = (s: number) => T0 + s * 1000;
  const iso = (s: number) => new Date(sec(s)).toISOString();
  /** The sensor under test: every 60 s for 40 minutes, a drifting, scaled copy of the reference plus a deterministic wobble. */
  const sensor: Point[] = Array.from({ length: 40 }, (_, i) => ({ ms: sec(i * 60), value: Math.round((1.03 * (20 + 4 * Math.sin(i / 5)) + 0.4 + ((i * 37) % 11) / 50) * 1000) / 1000 }));
  /**
   * The reference sensor: every 45 s, offset by 7 s, so distances vary; a
   * reading 10 s either side of the sensor's 600 s (a tie: the earlier wins)
   * and one exactly 20 s (the tolerance) after its 1200 s.
   */
  const reference: Point[] = [
    ...Array.from({ length: 54 }, (_, i) => ({ ms: sec(7 + i * 45), value: Math.round((20 + 4 * Math.sin((7 + i * 45) / 300)) * 1000) / 1000 })).filter(
      (p) => Math.abs(p.ms - sec(600)) > 20_000 && Math.abs(p.ms - sec(1200)) > 25_000,
    ),
    { ms: sec(590), value: 21.5 },
    { ms: sec(610), value: 22.5 },
    { ms: sec(1220), value: 23.25 },
  ];
  const TOLERANCE = 20;
  let sensorId = '';
  let referenceId = '';
  let pair: Body & { id: string };

  beforeAll(async () => {
    [sensorId, referenceId] = [await aSensor(), await aSensor()];
    await ingest(sensorId, sensor);
    await ingest(referenceId, reference);
    // A third sensor's readings must not leak into either side.
    await ingest(await aSensor(), sensor.map((p) => ({ ms: p.ms + 1000, value: 999 })));
    // Valid from minute 5 to minute 35: readings outside that window do not count.
    pair = await aPair({ sensorId, referenceType: 'SENSOR', referenceSensorId: referenceId, validFrom: iso(300), validTo: iso(2100), toleranceSeconds: TOLERANCE });
  });

  it('aligns each sensor reading with the nearest reference reading within the tolerance, over the pair’s window by default', async () => {
    const expected = compare(sensor, reference, sec(300), sec(2100), TOLERANCE * 1000);
    // The data really exercises the rules: unmatched readings, the tie, the reading at exactly the tolerance.
    expect(expected.sensorReadings).toBe(30);
    expect(expected.pairs.length).toBeLessThan(expected.sensorReadings);
    expect(expected.pairs.length).toBeGreaterThan(10);
    expect(expected.pairs).toContainEqual(expect.objectContaining({ ts: iso(600), referenceTs: iso(590), referenceValue: 21.5 }));
    expect(expected.pairs).toContainEqual(expect.objectContaining({ ts: iso(1200), referenceTs: iso(1220) }));

    const res = await send('get', `${PAIRS}/${pair.id}/comparison`).expect(200);
    expect(res.body).toMatchObject({ pairId: pair.id, from: iso(300), to: iso(2100), toleranceSeconds: TOLERANCE, nextCursor: null });
    expectStatistics(res.body as Body, expected);
    expect(res.body.pairs).toEqual(aligned(expected));
    for (const p of res.body.pairs as { sensorValue: number; referenceValue: number; difference: number }[]) {
      expect(p.difference).toBeCloseTo(p.sensorValue - p.referenceValue, 12);
    }
  });

  it('compares a requested range inside the window, pages the pairs with a cursor, and keeps the whole range’s statistics on every page', async () => {
    const expected = compare(sensor, reference, sec(420), sec(1800), TOLERANCE * 1000);
    const pairs = await allPages(pair.id, { from: iso(420), to: iso(1800), limit: 4 }, expected);
    expect(pairs).toEqual(aligned(expected));
    // A range reaching outside the window is cut to it.
    const clipped = await api.http().get(`${PAIRS}/${pair.id}/comparison`).query({ from: iso(0), to: iso(3000) }).set('Authorization', org.auth).expect(200);
    expect(clipped.body).toMatchObject({ from: iso(300), to: iso(2100) });
    expectStatistics(clipped.body as Body, compare(sensor, reference, sec(300), sec(2100), TOLERANCE * 1000));
  });

  it('answers statistics only with limit=0, nulls without any pair, and 400 for an empty range or a forged cursor', async () => {
    const stats = await api.http().get(`${PAIRS}/${pair.id}/comparison`).query({ limit: 0 }).set('Authorization', org.auth).expect(200);
    expect(stats.body).toMatchObject({ pairs: [], nextCursor: null, count: compare(sensor, reference, sec(300), sec(2100), TOLERANCE * 1000).pairs.length });
    // Outside the window: nothing to compare.
    const none = await api.http().get(`${PAIRS}/${pair.id}/comparison`).query({ from: iso(2400), to: iso(2700) }).set('Authorization', org.auth).expect(200);
    expect(none.body).toMatchObject({ sensorReadings: 0, count: 0, unmatched: 0, bias: null, mae: null, rmse: null, fit: { slope: null, intercept: null, r2: null }, pairs: [] });
    await api.http().get(`${PAIRS}/${pair.id}/comparison`).query({ from: iso(900), to: iso(900) }).set('Authorization', org.auth).expect(400);
    const forged = Buffer.from(JSON.stringify(['soon'])).toString('base64url');
    expect((await api.http().get(`${PAIRS}/${pair.id}/comparison`).query({ cursor: forged }).set('Authorization', org.auth).expect(400)).body.code).toBe('INVALID_CURSOR');
  });

  it('follows a tolerance change: a tighter one leaves more sensor readings unmatched', async () => {
    const tight = await aPair({ sensorId, referenceType: 'SENSOR', referenceSensorId: referenceId, validFrom: iso(0), toleranceSeconds: 5 });
    const expected = compare(sensor, reference, sec(0), sec(2400), 5000);
    const res = await api.http().get(`${PAIRS}/${tight.id}/comparison`).query({ to: iso(2400) }).set('Authorization', org.auth).expect(200);
    expectStatistics(res.body as Body, expected);
    expect(res.body.pairs).toEqual(aligned(expected));
    expect(expected.pairs.length).toBeLessThan(compare(sensor, reference, sec(0), sec(2400), TOLERANCE * 1000).pairs.length);
  });

  it('compares with manual reference readings the same way', async () => {
    const manual = await aPair({ sensorId, referenceType: 'MANUAL', validFrom: iso(0), toleranceSeconds: 90 });
    // A handheld instrument read every 4 minutes or so, off the sensor's grid; one value corrected afterwards.
    const readings: Point[] = [[50, 19.9], [290, 21.1], [530, 22.4], [800, 23.0], [1010, 23.3], [1290, 23.9], [1500, 23.1], [1775, 22.7], [2030, 22.2]].map(([s, value]) => ({
      ms: sec(s ?? 0),
      value: value ?? 0,
    }));
    await send('post', `${PAIRS}/${manual.id}/reference-readings`, { readings: readings.map((r) => ({ ts: new Date(r.ms).toISOString(), value: r.value + 5 })) }).expect(200);
    await send('post', `${PAIRS}/${manual.id}/reference-readings`, { readings: readings.map((r) => ({ ts: new Date(r.ms).toISOString(), value: r.value })) }).expect(200);
    const expected = compare(sensor, readings, sec(0), sec(2400), 90_000);
    expect(expected.pairs.length).toBeGreaterThan(readings.length);
    const res = await api.http().get(`${PAIRS}/${manual.id}/comparison`).query({ to: iso(2400) }).set('Authorization', org.auth).expect(200);
    expectStatistics(res.body as Body, expected);
    expect(res.body.pairs).toEqual(aligned(expected));
  });

  it('answers another organization’s pair like a missing one (404)', async () => {
    const theirs = await send('get', `${PAIRS}/${pair.id}/comparison`, undefined, other).expect(404);
    const missing = await send('get', `${PAIRS}/${randomUUID()}/comparison`, undefined, other).expect(404);
    expect(theirs.body).toEqual(missing.body);
  });

  it('answers 503 QUERY_TIMEOUT problem+json when the comparison runs past READINGS_QUERY_TIMEOUT_MS', async () => {
    // The readings held under an exclusive lock: the comparison waits, deterministically, until the timeout cancels it.
    const locker = await api.platform.pool.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE readings IN ACCESS EXCLUSIVE MODE');
      const res = await send('get', `${PAIRS}/${pair.id}/comparison`);
      expect({ status: res.status, type: res.headers['content-type'], code: res.body.code }).toEqual({
        status: 503,
        type: expect.stringMatching(/application\/problem\+json/),
        code: 'QUERY_TIMEOUT',
      });
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
    await send('get', `${PAIRS}/${pair.id}/comparison`).expect(200);
  });
});

describe('the reference-pairs projection', () => {
  async function tables(): Promise<{ pairs: unknown[]; readings: unknown[] }> {
    return asWriter(api.platform.pool, async (tx) => ({
      pairs: (await tx.query('SELECT * FROM reference_pairs ORDER BY org_id, id')).rows,
      readings: (await tx.query('SELECT * FROM reference_readings ORDER BY org_id, pair_id, ts')).rows,
    }));
  }

  async function everyEvent(): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    for (let from = START, more = true; more; ) {
      const page = await api.platform.store.readAll({ fromPosition: from, maxCount: 500, filter: { eventTypes: referencePairsProjection.eventTypes } });
      events.push(...page.events);
      from = page.checkpoint;
      more = page.events.length === 500;
    }
    return events;
  }

  it('changes nothing when every event is applied again, and a rebuild makes the same tables', async () => {
    const pair = await aPair({ sensorId: await aSensor(), referenceType: 'MANUAL', validFrom: '2025-01-01T00:00:00Z' });
    const url = `${PAIRS}/${pair.id}/reference-readings`;
    await send('post', url, { readings: [{ ts: '2025-01-01T00:00:00Z', value: 1 }, { ts: '2025-01-01T00:01:00Z', value: 2 }] }).expect(200);
    // A later event replaces a value: applying the earlier one again must not bring it back.
    await send('post', url, { readings: [{ ts: '2025-01-01T00:00:00Z', value: 10 }] }).expect(200);
    await send('patch', `${PAIRS}/${pair.id}`, { toleranceSeconds: 45 }).expect(200);
    const gone = await aPair({ sensorId: await aSensor(), referenceType: 'MANUAL', validFrom: '2025-01-01T00:00:00Z' });
    await send('post', `${PAIRS}/${gone.id}/reference-readings`, { readings: [{ ts: '2025-01-01T00:00:00Z', value: 5 }] }).expect(200);
    await send('delete', `${PAIRS}/${gone.id}`).expect(204);
    const head = await api.platform.store.headPosition();
    expect(await api.deps.watcher.waitFor([referencePairsProjection.name], head, 10_000)).toBe(true);

    const before = await tables();
    expect(before.readings).toContainEqual(expect.objectContaining({ pair_id: pair.id, value: 10 }));
    expect(before.readings.filter((r) => (r as { pair_id: string }).pair_id === gone.id)).toEqual([]);

    await asWriter(api.platform.pool, async (tx) => referencePairsProjection.apply(tx, await everyEvent(), liveTables));
    expect(await tables()).toEqual(before);
    // The events one by one in reverse: each row keeps the newest revision that wrote it.
    const events = await everyEvent();
    const recordings = events.filter((e) => e.type === 'ReferenceReadingsRecorded' && (e.data as { id: string }).id === pair.id).reverse();
    await asWriter(api.platform.pool, async (tx) => referencePairsProjection.apply(tx, recordings, liveTables));
    expect(await tables()).toEqual(before);

    await rebuildProjection(api.platform.pool, api.platform.store, referencePairsProjection, { batchSize: 3 });
    expect(await tables()).toEqual(before);
  });
});
