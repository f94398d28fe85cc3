import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { insertReadings, readingSeries, type SeedReading } from './support/readings.builders';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';
import { createDevice, createSensor, refusal } from './support/topology.http';

/** A stored reading as the test knows it, to compute expected answers in JS. */
interface Known {
  readonly sensorId: string;
  readonly deviceId: string;
  readonly ms: number;
  readonly value: number;
  readonly quality: number;
  readonly seq: number;
}

const QUALITY = ['GOOD', 'UNCERTAIN', 'BAD'];

let api: TestApi;
let org: TestOrg;
let other: TestOrg;
/** Device 1 holds sensors s1 (key a.temp) and s2 (key b.hum); device 2 holds s3; the other org holds sb. */
const ids = { d1: '', d2: '', s1: '', s2: '', s3: '', sEmpty: '', db: '', sb: '' };
const known: Known[] = [];

async function seed(owner: TestOrg, deviceId: string, sensorId: string, readings: SeedReading[]): Promise<void> {
  await insertReadings(api.platform.pool, { orgId: owner.orgId, deviceId, sensorId }, readings);
  if (owner === org) readings.forEach((r, seq) => known.push({ sensorId, deviceId, ms: Date.parse(r.ts), value: r.value, quality: r.quality ?? 0, seq }));
}

beforeAll(async () => {
  api = await startTestApi();
  org = await api.createOrg();
  other = await api.createOrg('Other org');
  ids.d1 = (await createDevice(api, org)).id;
  ids.d2 = (await createDevice(api, org)).id;
  ids.s2 = (await createSensor(api, org, ids.d1, { key: 'b.hum' })).id;
  ids.s1 = (await createSensor(api, org, ids.d1, { key: 'a.temp' })).id;
  ids.s3 = (await createSensor(api, org, ids.d2, { key: 'c.volt' })).id;
  ids.sEmpty = (await createSensor(api, org, ids.d2, { key: 'd.none' })).id;
  ids.db = (await createDevice(api, other)).id;
  ids.sb = (await createSensor(api, other, ids.db, { key: 'a.temp' })).id;
  // s1 crosses midnight (two day partitions); values and qualities irregular on purpose.
  await seed(org, ids.d1, ids.s1, readingSeries('2025-02-28T22:30:00.000Z', 500, 37_000, (i) => Math.round((20 + 5 * Math.sin(i / 9) + (i % 13) * 0.37) * 1000) / 1000, (i) => (i % 11 === 0 ? 2 : i % 7 === 0 ? 1 : 0)));
  await seed(org, ids.d1, ids.s2, readingSeries('2025-03-01T00:00:10.000Z', 300, 53_000, (i) => 40 + ((i * 7919) % 101) / 10));
  // Two readings within one millisecond: only a cursor that keeps microseconds pages through both.
  await seed(org, ids.d2, ids.s3, [
    { ts: '2025-03-01T01:00:00.000100Z', value: 1 },
    { ts: '2025-03-01T01:00:00.000900Z', value: 2 },
  ]);
  await insertReadings(api.platform.pool, { orgId: other.orgId, deviceId: ids.db, sensorId: ids.sb }, readingSeries('2025-03-01T00:00:00.000Z', 50, 60_000, (i) => i));
});
afterAll(async () => {
  await api.close();
});

const FROM = '2025-02-28T23:00:00.000Z';
const TO = '2025-03-01T03:00:00.000Z';

function get(path: string, query: Record<string, unknown>, who: TestOrg = org, authorization = who.auth) {
  return api.http().get(`/api/v1/readings${path}`).query(query).set('Authorization', authorization);
}

const inRange = (from: string, to: string, sensors: readonly string[]) =>
  known.filter((k) => sensors.includes(k.sensorId) && k.ms >= Date.parse(from) && k.ms < Date.parse(to));

/** Every page of a raw list, following nextCursor. */
async function readAllPages(query: Record<string, unknown>): Promise<{ items: Record<string, unknown>[]; pages: number }> {
  const items: Record<string, unknown>[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res: Response = await get('', { ...query, ...(cursor ? { cursor } : {}) }).expect(200);
    items.push(...(res.body.items as Record<string, unknown>[]));
    cursor = res.body.nextCursor as string | null;
    pages += 1;
  } while (cursor && pages < 1000);
  return { items, pages };
}

const asItem = (k: Known) => ({
  sensorId: k.sensorId,
  deviceId: k.deviceId,
  ts: new Date(k.ms).toISOString(),
  value: k.value,
  quality: QUALITY[k.quality],
  receivedAt: new Date(k.ms + 1000).toISOString(),
  seq: k.seq,
});
const byTsThenSensor = (a: Known, b: Known) => a.ms - b.ms || (a.sensorId < b.sensorId ? -1 : a.sensorId > b.sensorId ? 1 : 0);

describe('GET /readings (raw)', () => {
  it('pages through two sensors in (ts, sensorId) order, from inclusive and to exclusive', async () => {
    const from = new Date(Date.parse('2025-02-28T22:30:00.000Z') + 40 * 37_000).toISOString(); // exactly a reading of s1
    const to = new Date(Date.parse('2025-03-01T00:00:10.000Z') + 200 * 53_000).toISOString(); // exactly a reading of s2
    const { items, pages } = await readAllPages({ sensorId: [ids.s1, ids.s2], from, to, limit: 37 });
    const expected = inRange(from, to, [ids.s1, ids.s2]).sort(byTsThenSensor).map(asItem);
    expect(expected.length).toBeGreaterThan(400);
    expect(pages).toBe(Math.ceil(expected.length / 37));
    expect(items).toEqual(expected);
  });

  it('filters on quality', async () => {
    const { items } = await readAllPages({ sensorId: ids.s1, from: FROM, to: TO, quality: ['UNCERTAIN', 'BAD'], limit: 500 });
    const expected = inRange(FROM, TO, [ids.s1]).filter((k) => k.quality > 0).sort(byTsThenSensor).map(asItem);
    expect(expected.length).toBeGreaterThan(20);
    expect(items).toEqual(expected);
  });

  it('expands a device to its sensors', async () => {
    const bySensors = await readAllPages({ sensorId: [ids.s1, ids.s2], from: FROM, to: TO, limit: 500 });
    const byDevice = await readAllPages({ deviceId: ids.d1, from: FROM, to: TO, limit: 500 });
    expect(byDevice.items).toEqual(bySensors.items);
    const device2 = await readAllPages({ deviceId: ids.d2, from: FROM, to: TO });
    expect(device2.items.map((i) => i.value)).toEqual([1, 2]);
  });

  it('keeps microseconds in the cursor: two readings in one millisecond come on two pages', async () => {
    const { items, pages } = await readAllPages({ sensorId: ids.s3, from: FROM, to: TO, limit: 1 });
    expect({ values: items.map((i) => i.value), pages }).toEqual({ values: [1, 2], pages: 2 });
    // Answered as stored: with microseconds where the time has them.
    expect(items.map((i) => i.ts)).toEqual(['2025-03-01T01:00:00.000100Z', '2025-03-01T01:00:00.000900Z']);
  });

  it('answers an empty page for a range without readings, and to a viewer', async () => {
    const viewer = `Bearer ${await org.jwt('viewer')}`;
    const res = await get('', { sensorId: ids.s1, from: '2024-01-01T00:00:00Z', to: '2024-01-02T00:00:00Z' }, org, viewer).expect(200);
    expect(res.body).toEqual({ items: [], nextCursor: null });
  });

  it('refuses a cursor it did not make', async () => {
    const cursor = Buffer.from(JSON.stringify(['yesterday', ids.s1])).toString('base64url');
    const res = await get('', { sensorId: ids.s1, from: FROM, to: TO, cursor }).expect(400);
    expect(res.body.code).toBe('INVALID_CURSOR');
  });
});

/** Expected buckets of one sensor, computed from the seeded readings. */
function expectedBuckets(sensorId: string, from: string, to: string, seconds: number) {
  const groups = new Map<number, Known[]>();
  for (const k of inRange(from, to, [sensorId]).sort(byTsThenSensor)) {
    const start = Math.floor(k.ms / (seconds * 1000)) * seconds * 1000;
    groups.set(start, [...(groups.get(start) ?? []), k]);
  }
  return [...groups].map(([start, rows]) => {
    const values = rows.map((r) => r.value);
    const sum = values.reduce((a, b) => a + b, 0);
    return {
      ts: new Date(start).toISOString(),
      avg: sum / values.length,
      min: Math.min(...values),
      max: Math.max(...values),
      sum,
      count: values.length,
      first: values[0] as number,
      last: values[values.length - 1] as number,
    };
  });
}

function expectBucketsClose(actual: Record<string, number | string>[], expected: Record<string, number | string>[]): void {
  expect(actual.map((b) => Object.keys(b).sort())).toEqual(expected.map((b) => Object.keys(b).sort()));
  actual.forEach((bucket, i) => {
    for (const [key, value] of Object.entries(expected[i] ?? {})) {
      if (typeof value === 'number') expect({ i, key, value: bucket[key] as number }).toEqual({ i, key, value: expect.closeTo(value, 9) });
      else expect(bucket[key]).toBe(value);
    }
  });
}

describe('GET /readings/aggregated', () => {
  it('computes every function per epoch-aligned bucket, one series per sensor in the order asked', async () => {
    const res = await get('/aggregated', { sensorId: [ids.s2, ids.s1], from: FROM, to: TO, bucket: '15m', functions: 'avg,min,max,sum,count,first,last' }).expect(200);
    expect(res.body).toMatchObject({ from: FROM, to: TO, bucket: 900, functions: ['avg', 'min', 'max', 'sum', 'count', 'first', 'last'] });
    const series = res.body.series as { sensorId: string; buckets: Record<string, number | string>[] }[];
    expect(series.map((s) => s.sensorId)).toEqual([ids.s2, ids.s1]);
    expectBucketsClose(series[0]?.buckets ?? [], expectedBuckets(ids.s2, FROM, TO, 900));
    expectBucketsClose(series[1]?.buckets ?? [], expectedBuckets(ids.s1, FROM, TO, 900));
    expect(series[1]?.buckets.length).toBe(16);
  });

  it('answers avg, min, max and count by default, for a device’s sensors by key', async () => {
    const res = await get('/aggregated', { deviceId: ids.d1, from: FROM, to: TO, bucket: 'PT1H' }).expect(200);
    expect(res.body.functions).toEqual(['avg', 'min', 'max', 'count']);
    const series = res.body.series as { sensorId: string; buckets: Record<string, number | string>[] }[];
    expect(series.map((s) => s.sensorId)).toEqual([ids.s1, ids.s2]);
    const pick = ({ ts, avg, min, max, count }: Record<string, unknown>) => ({ ts, avg, min, max, count }) as Record<string, number | string>;
    expectBucketsClose(series[0]?.buckets ?? [], expectedBuckets(ids.s1, FROM, TO, 3600).map(pick));
  });

  it('filters on quality before aggregating', async () => {
    const res = await get('/aggregated', { sensorId: ids.s1, from: FROM, to: TO, bucket: '1d', functions: 'count', quality: 'GOOD' }).expect(200);
    const total = (res.body.series[0].buckets as { count: number }[]).reduce((a, b) => a + b.count, 0);
    expect(total).toBe(inRange(FROM, TO, [ids.s1]).filter((k) => k.quality === 0).length);
  });

  it.each([
    ['30s', 30],
    ['1m', 60],
    ['5m', 300],
    ['15m', 900],
    ['1h', 3600],
    ['6h', 21_600],
    ['1d', 86_400],
    ['PT30S', 30],
    ['PT10M', 600],
    ['pt1h30m', 5400],
    ['P1D', 86_400],
    ['P1DT12H', 129_600],
    ['P2W', 1_209_600],
  ])('reads the bucket %s as %i seconds', async (bucket, seconds) => {
    const res = await get('/aggregated', { sensorId: ids.s1, from: FROM, to: TO, bucket, functions: 'count' }).expect(200);
    expect(res.body.bucket).toBe(seconds);
    const counts = (res.body.series[0].buckets as { ts: string; count: number }[]).map((b) => b.count);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(inRange(FROM, TO, [ids.s1]).length);
    expect(counts.length).toBe(expectedBuckets(ids.s1, FROM, TO, seconds).length);
  });

  it.each([
    ['P1M', /months and years/],
    ['P1Y', /months and years/],
    ['P1Y2D', /months and years/],
    ['PT1.5S', /whole seconds/],
    ['0s', /at least one second/],
    ['P400D', /at most 366 days/],
    ['PT', /ISO 8601/],
    ['P', /ISO 8601/],
    ['10x', /ISO 8601/],
    ['1M', /ISO 8601/],
  ])('refuses the bucket %s with 400', async (bucket, message) => {
    const res = await get('/aggregated', { sensorId: ids.s1, from: FROM, to: TO, bucket }).expect(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.errors).toEqual([{ path: '/query/bucket', message: expect.stringMatching(message) }]);
  });

  it('refuses more than 10,000 points before querying, naming the limit and a bucket that fits', async () => {
    const month = { from: '2025-03-01T00:00:00Z', to: '2025-03-31T00:00:00Z' };
    const res = await get('/aggregated', { sensorId: [ids.s1, ids.s2], ...month, bucket: '1m' }).expect(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ code: 'TOO_MANY_POINTS', status: 400, maxPoints: 10_000, points: 86_400, suggestedBucket: '15m' });
    expect(res.body.detail).toMatch(/10000/);
    await get('/aggregated', { sensorId: [ids.s1, ids.s2], ...month, bucket: res.body.suggestedBucket as string }).expect(200);
  });

  it('allows exactly 10,000 points and refuses one more bucket', async () => {
    const from = '2025-03-01T00:00:00Z';
    const at = (minutes: number) => new Date(Date.parse(from) + minutes * 60_000).toISOString();
    await get('/aggregated', { sensorId: ids.s1, from, to: at(10_000), bucket: '1m' }).expect(200);
    const res = await get('/aggregated', { sensorId: ids.s1, from, to: at(10_001), bucket: '1m' }).expect(400);
    expect(res.body).toMatchObject({ code: 'TOO_MANY_POINTS', points: 10_001, suggestedBucket: '5m' });
  });

  it('refuses an unknown function with 400 naming it', async () => {
    const res = await get('/aggregated', { sensorId: ids.s1, from: FROM, to: TO, bucket: '1h', functions: 'avg,median' }).expect(400);
    expect(res.body.detail).toMatch(/"median"/);
    expect(res.body.errors[0].path).toBe('/query/functions');
  });
});

/** percentile_cont: linear interpolation between the two nearest ranks. */
function percentileCont(sorted: readonly number[], p: number): number {
  const pos = p * (sorted.length - 1);
  const lo = sorted[Math.floor(pos)] as number;
  const hi = sorted[Math.ceil(pos)] as number;
  return lo + (hi - lo) * (pos - Math.floor(pos));
}

function expectedStats(sensorId: string, percentiles: readonly number[]) {
  const rows = inRange(FROM, TO, [sensorId]).sort(byTsThenSensor);
  const values = rows.map((r) => r.value);
  const avg = values.reduce((a, b) => a + b, 0) / values.length;
  const sorted = [...values].sort((a, b) => a - b);
  const first = rows[0] as Known;
  const last = rows[rows.length - 1] as Known;
  return {
    sensorId,
    count: values.length,
    min: sorted[0],
    max: sorted[sorted.length - 1],
    avg,
    stddev: Math.sqrt(values.reduce((a, v) => a + (v - avg) ** 2, 0) / (values.length - 1)),
    first: { ts: new Date(first.ms).toISOString(), value: first.value },
    last: { ts: new Date(last.ms).toISOString(), value: last.value },
    percentiles: Object.fromEntries(percentiles.map((p) => [String(p), percentileCont(sorted, p / 100)])),
  };
}

describe('GET /readings/stats', () => {
  it('answers count, min, max, avg, stddev, first, last and the default percentiles 50, 90, 99 per sensor', async () => {
    const res = await get('/stats', { sensorId: [ids.s1, ids.s2], from: FROM, to: TO }).expect(200);
    expect(res.body.percentiles).toEqual([50, 90, 99]);
    const expected = [expectedStats(ids.s1, [50, 90, 99]), expectedStats(ids.s2, [50, 90, 99])];
    expect(res.body.items).toEqual(
      expected.map((e) => ({
        ...e,
        avg: expect.closeTo(e.avg, 9),
        stddev: expect.closeTo(e.stddev, 9),
        percentiles: Object.fromEntries(Object.entries(e.percentiles).map(([p, v]) => [p, expect.closeTo(v, 9)])),
      })),
    );
  });

  it('takes other percentiles, and answers a sensor without readings with count 0 and nulls', async () => {
    const res = await get('/stats', { deviceId: ids.d2, from: '2025-03-01T00:30:00Z', to: TO, percentiles: '0,25,99.9,100' }).expect(200);
    expect(res.body.percentiles).toEqual([0, 25, 99.9, 100]);
    expect(res.body.items).toEqual([
      {
        sensorId: ids.s3,
        count: 2,
        min: 1,
        max: 2,
        avg: 1.5,
        stddev: expect.closeTo(Math.SQRT1_2, 12),
        first: { ts: '2025-03-01T01:00:00.000Z', value: 1 },
        last: { ts: '2025-03-01T01:00:00.000Z', value: 2 },
        percentiles: { '0': 1, '25': 1.25, '99.9': expect.closeTo(1.999, 12), '100': 2 },
      },
      { sensorId: ids.sEmpty, count: 0, min: null, max: null, avg: null, stddev: null, first: null, last: null, percentiles: { '0': null, '25': null, '99.9': null, '100': null } },
    ]);
  });

  it.each(['101', '50,abc', '', '-1'])('refuses percentiles=%s with 400', async (percentiles) => {
    const res = await get('/stats', { sensorId: ids.s1, from: FROM, to: TO, percentiles }).expect(400);
    expect(res.body.errors[0].path).toBe('/query/percentiles');
  });
});

describe('input common to the three routes', () => {
  const ROUTES = [
    ['', {}],
    ['/aggregated', { bucket: '1h' }],
    ['/stats', {}],
  ] as const;

  it.each(ROUTES)('GET /readings%s refuses from ≥ to, a missing range and a missing or double sensor choice with 400', async (path, extra) => {
    const cases: Record<string, unknown>[] = [
      { sensorId: ids.s1, from: TO, to: FROM },
      { sensorId: ids.s1, from: FROM, to: FROM },
      { sensorId: ids.s1, from: FROM },
      { sensorId: ids.s1, from: 'yesterday', to: TO },
      { from: FROM, to: TO },
      { sensorId: ids.s1, deviceId: ids.d1, from: FROM, to: TO },
      { sensorId: 'not-a-uuid', from: FROM, to: TO },
    ];
    for (const query of cases) {
      const res = await get(path, { ...extra, ...query });
      expect({ query, status: res.status, type: res.headers['content-type'] }).toEqual({ query, status: 400, type: expect.stringMatching(/problem\+json/) });
    }
  });

  it.each(ROUTES)('GET /readings%s answers another organization’s sensor or device exactly like a missing one (404)', async (path, extra) => {
    const range = { ...extra, from: FROM, to: TO };
    const missingSensor = await get(path, { ...range, sensorId: randomUUID() }).expect(404);
    expect(missingSensor.body.code).toBe('SENSOR_NOT_FOUND');
    expect(refusal(await get(path, { ...range, sensorId: ids.sb }))).toEqual(refusal(missingSensor));
    // Asking for one's own sensor beside it gives nothing either.
    expect(refusal(await get(path, { ...range, sensorId: [ids.s1, ids.sb] }))).toEqual({ ...refusal(missingSensor), body: { ...missingSensor.body, errors: [{ path: '/query/sensorId/1', message: 'does not exist' }] } });
    const missingDevice = await get(path, { ...range, deviceId: randomUUID() }).expect(404);
    expect(missingDevice.body.code).toBe('DEVICE_NOT_FOUND');
    expect(refusal(await get(path, { ...range, deviceId: ids.db }))).toEqual(refusal(missingDevice));
    // The other organization reads its own sensor.
    await get(path, { ...range, sensorId: ids.sb }, other).expect(200);
  });
});

describe('statement timeout', () => {
  let slow: TestApi;
  let owner: TestOrg;
  let sensorId: string;
  beforeAll(async () => {
    slow = await startTestApi({ READINGS_QUERY_TIMEOUT_MS: '300' });
    owner = await slow.createOrg();
    const deviceId = (await createDevice(slow, owner)).id;
    sensorId = (await createSensor(slow, owner, deviceId)).id;
    await insertReadings(slow.platform.pool, { orgId: owner.orgId, deviceId, sensorId }, readingSeries(FROM, 10, 60_000, (i) => i));
  });
  afterAll(async () => {
    await slow.close();
  });

  it('answers 503 QUERY_TIMEOUT problem+json when a reading query runs past READINGS_QUERY_TIMEOUT_MS', async () => {
    const query = { sensorId, from: FROM, to: TO };
    await slow.http().get('/api/v1/readings/stats').query(query).set('Authorization', owner.auth).expect(200);
    // The readings held under an exclusive lock: the query waits, deterministically, until the timeout cancels it.
    const locker = await slow.platform.pool.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE readings IN ACCESS EXCLUSIVE MODE');
      for (const path of ['', '/aggregated', '/stats']) {
        const started = Date.now();
        const res = await slow.http().get(`/api/v1/readings${path}`).query({ ...query, ...(path === '/aggregated' ? { bucket: '1h' } : {}) }).set('Authorization', owner.auth);
        expect({ path, status: res.status, type: res.headers['content-type'], code: res.body.code }).toEqual({
          path,
          status: 503,
          type: expect.stringMatching(/application\/problem\+json/),
          code: 'QUERY_TIMEOUT',
        });
        expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      }
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
    await slow.http().get('/api/v1/readings').query(query).set('Authorization', owner.auth).expect(200);
  });
});
