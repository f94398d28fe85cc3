import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { releaseQuarantineEntry } from '../src/commands/quarantine/quarantine.handler';
import { QUARANTINE_REASONS } from '../src/ingest/readings/quarantine-reasons';
import { quarantineStream } from '../src/ingest/readings/readings.events';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';
import { createDevice, createSensor, createSensorProfile, listAll, refusal } from './support/topology.http';
import { waitUntil } from './support/wait-until';

interface Entry {
  id: string;
  deviceId: string | null;
  sensorId: string | null;
  sensorKey: string | null;
  reason: string;
  detail: string;
  source: string;
  seq: number | null;
  receivedAt: string;
  status: string;
  resolvedAt: string | null;
  resolvedBy: string | null;
  payload?: string;
}

const QUARANTINE = '/api/v1/admin/quarantine';
const minutesAgo = (m: number): string => new Date(Date.now() - m * 60_000).toISOString();

let api: TestApi;
let org: TestOrg;
let other: TestOrg;
let profileId: string;
let deviceId: string;
let secondDeviceId: string;
let tempId: string;
/** The entries this file quarantines, by what they are for. */
const entries: Record<'outOfRange' | 'unknownSensor' | 'future' | 'wholeMessage' | 'second', Entry> = {} as never;
const items = {
  outOfRange: { value: 120, ts: minutesAgo(10) },
  unknownSensor: { sensor: 'pressure', value: 1013, ts: minutesAgo(9) },
  future: { value: 20, ts: new Date(Date.now() + 3_600_000).toISOString() },
};
const WHOLE_MESSAGE = '{"seq": 7, "readings": "not a list"}';

const get = (url: string, auth = org.auth) => api.http().get(url).set('Authorization', auth);
const post = (url: string, body?: object, auth = org.auth) => {
  const req = api.http().post(url).set('Authorization', auth);
  return body === undefined ? req : req.send(body);
};
const release = (id: string, auth = org.auth) => post(`${QUARANTINE}/${id}/release`, undefined, auth);
const discard = (id: string, body: object = {}, auth = org.auth) => post(`${QUARANTINE}/${id}/discard`, body, auth);
const inspect = async (id: string): Promise<Entry> => (await get(`${QUARANTINE}/${id}`).expect(200)).body as Entry;
const list = async (query: Record<string, string> = {}): Promise<Entry[]> => ((await get(QUARANTINE).query(query).expect(200)).body as { items: Entry[] }).items;

async function quarantineOne(auth: string, item: object): Promise<string> {
  const res = await post('/api/v1/readings/batch', { readings: [item] }, auth).expect(202);
  const [outcome] = (res.body as { items: { outcome: string; quarantineId?: string }[] }).items;
  if (outcome?.outcome !== 'quarantined' || !outcome.quarantineId) throw new Error(`not quarantined: ${res.text}`);
  return outcome.quarantineId;
}

async function storedReadings(sensorId: string): Promise<{ ts: string; value: number; receivedAt: string }[]> {
  const { rows } = await api.platform.pool.query<{ ts: Date; value: number; received_at: Date }>(
    'SELECT ts, value, received_at FROM readings WHERE sensor_id = $1 ORDER BY ts',
    [sensorId],
  );
  return rows.map((r) => ({ ts: r.ts.toISOString(), value: r.value, receivedAt: r.received_at.toISOString() }));
}

async function streamOf(id: string): Promise<{ type: string; data: unknown; actor: string }[]> {
  return (await api.platform.store.readStream(quarantineStream(id))).map((e) => ({ type: e.type, data: e.data, actor: e.metadata.actor }));
}

/** The sensor directory learns of a fix once the projections applied it: retry while the entry still fails. */
async function releaseOnceFixed(id: string): Promise<Response> {
  let res: Response | undefined;
  await waitUntil(`entry ${id} releases`, async () => {
    res = await release(id);
    return res.status !== 422;
  });
  return res as Response;
}

beforeAll(async () => {
  api = await startTestApi({ INGEST_FLUSH_MS: '10' });
  org = await api.createOrg();
  other = await api.createOrg('Other org');
  profileId = (await createSensorProfile(api, org, { validRange: { min: -40, max: 85 } })).id;
  deviceId = (await createDevice(api, org)).id;
  secondDeviceId = (await createDevice(api, org)).id;
  tempId = (await createSensor(api, org, deviceId, { key: 'temp', sensorProfileId: profileId })).id;

  // One request per entry, in this order, so their receivedAt differ and ascend.
  const ids = {
    outOfRange: await quarantineOne(org.auth, { sensorId: tempId, ...items.outOfRange }),
    unknownSensor: await quarantineOne(org.auth, { deviceId, ...items.unknownSensor }),
    future: await quarantineOne(org.auth, { sensorId: tempId, ...items.future }),
    second: await quarantineOne(org.auth, { deviceId: secondDeviceId, sensor: 'nope', ts: minutesAgo(1), value: 1 }),
  };
  // The MQTT door's own call (what the ingest does with a message the broker delivered).
  await new Promise((resolve) => setTimeout(resolve, 5));
  expect(await api.deps.readings.pipeline.ingestDeviceMessage(deviceId, Buffer.from(WHOLE_MESSAGE))).toBe(true);
  const mqtt = await list({ source: 'MQTT' });
  for (const [name, id] of Object.entries(ids)) entries[name as keyof typeof ids] = await inspect(id);
  entries.wholeMessage = mqtt[0] as Entry;
});

afterAll(async () => {
  await api?.close();
});

describe('GET /api/v1/admin/quarantine', () => {
  it('lists the organization’s entries still quarantined, newest first, with where they came from', async () => {
    const listed = await list();
    expect(listed.map((e) => e.id)).toEqual([entries.wholeMessage, entries.second, entries.future, entries.unknownSensor, entries.outOfRange].map((e) => e.id));
    expect(listed.find((e) => e.id === entries.outOfRange.id)).toEqual({
      id: entries.outOfRange.id,
      deviceId,
      sensorId: tempId,
      sensorKey: 'temp',
      reason: 'OUT_OF_RANGE',
      detail: expect.stringContaining('120') as unknown,
      source: 'HTTP',
      seq: null,
      receivedAt: expect.any(String) as unknown,
      status: 'QUARANTINED',
      resolvedAt: null,
      resolvedBy: null,
    });
    expect(entries.unknownSensor).toMatchObject({ reason: 'UNKNOWN_SENSOR', sensorId: null, sensorKey: 'pressure' });
    expect(entries.wholeMessage).toMatchObject({ reason: 'INVALID_PAYLOAD', source: 'MQTT', seq: 7, sensorKey: null, deviceId });
  });

  it('filters by device, reason, source and receivedAt (from inclusive, to exclusive)', async () => {
    const ids = async (query: Record<string, string>) => (await list(query)).map((e) => e.id);
    expect(await ids({ deviceId: secondDeviceId })).toEqual([entries.second.id]);
    expect(await ids({ reason: 'OUT_OF_RANGE' })).toEqual([entries.outOfRange.id]);
    expect(await ids({ source: 'MQTT' })).toEqual([entries.wholeMessage.id]);
    expect(await ids({ deviceId, source: 'HTTP' })).toEqual([entries.future.id, entries.unknownSensor.id, entries.outOfRange.id]);
    const at = entries.future.receivedAt;
    expect(await ids({ from: at })).toEqual([entries.wholeMessage.id, entries.second.id, entries.future.id]);
    expect(await ids({ to: at })).toEqual([entries.unknownSensor.id, entries.outOfRange.id]);
    expect(await ids({ from: at, to: entries.second.receivedAt })).toEqual([entries.future.id]);
    expect(await ids({ deviceId: randomUUID() })).toEqual([]);
  });

  it('pages with a cursor without losing or repeating an entry', async () => {
    const paged = await listAll(api, org, QUARANTINE, 2);
    expect(paged.map((e) => e.id)).toEqual((await list()).map((e) => e.id));
    expect(paged).toHaveLength(5);
  });

  it('refuses an unknown reason or status, and a cursor of nothing', async () => {
    expect((await get(QUARANTINE).query({ reason: 'BORED' })).status).toBe(400);
    expect((await get(QUARANTINE).query({ status: 'PENDING' })).status).toBe(400);
    expect((await get(QUARANTINE).query({ cursor: 'abc' })).body).toMatchObject({ status: 400, code: 'INVALID_CURSOR' });
  });

  it('knows every quarantine reason the pipeline has', async () => {
    const schema = (await api.http().get('/api/schemas/quarantine').expect(200)).body as { $defs: { QuarantineReason: { enum: string[] } } };
    expect([...schema.$defs.QuarantineReason.enum].sort()).toEqual(Object.keys(QUARANTINE_REASONS).sort());
  });
});

describe('GET /api/v1/admin/quarantine/{id}', () => {
  it('shows the entry with the original payload as received', async () => {
    const reading = await inspect(entries.outOfRange.id);
    expect(JSON.parse(reading.payload ?? '')).toEqual({ sensorId: tempId, ...items.outOfRange });
    const message = await inspect(entries.wholeMessage.id);
    expect(message.payload).toBe(WHOLE_MESSAGE);
    expect(message).toMatchObject({ id: entries.wholeMessage.id, reason: 'INVALID_PAYLOAD', status: 'QUARANTINED' });
  });

  it('answers 404 QUARANTINE_ENTRY_NOT_FOUND for an unknown id', async () => {
    const res = await get(`${QUARANTINE}/${randomUUID()}`);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'QUARANTINE_ENTRY_NOT_FOUND' });
  });
});

describe('POST /api/v1/admin/quarantine/{id}/release', () => {
  it('answers 422 while the entry still fails and changes nothing', async () => {
    const before = await inspect(entries.outOfRange.id);
    const res = await release(entries.outOfRange.id);
    expect(res.status).toBe(422);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ code: 'QUARANTINE_STILL_FAILING', reason: 'OUT_OF_RANGE', reasonDetail: expect.stringContaining('120') as unknown });
    expect(await inspect(entries.outOfRange.id)).toEqual(before);
    expect(await streamOf(entries.outOfRange.id)).toEqual([]);
    expect((await storedReadings(tempId)).filter((r) => r.ts === items.outOfRange.ts)).toEqual([]);
  });

  it('re-checks a single MQTT reading whose value was not finite as that reading, not as a whole message', async () => {
    const payload = `{"seq": 900, "readings": [{"sensor": "temp", "ts": "${minutesAgo(1)}", "value": 1e400}]}`;
    expect(await api.deps.readings.pipeline.ingestDeviceMessage(deviceId, Buffer.from(payload))).toBe(true);
    const [entry] = await list({ reason: 'NON_FINITE_VALUE' });
    expect(entry).toMatchObject({ source: 'MQTT', seq: 900 });
    expect(JSON.parse((await inspect(entry?.id ?? '')).payload ?? '{}')).toMatchObject({ sensor: 'temp', value: 'Infinity' });
    const res = await release(entry?.id ?? '');
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: 'QUARANTINE_STILL_FAILING', reason: 'INVALID_READING' });
  });

  it('answers 422 for a whole MQTT message that still does not decode', async () => {
    const before = await inspect(entries.wholeMessage.id);
    const res = await release(entries.wholeMessage.id);
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: 'QUARANTINE_STILL_FAILING', reason: 'INVALID_PAYLOAD' });
    expect(await inspect(entries.wholeMessage.id)).toEqual(before);
    expect(await streamOf(entries.wholeMessage.id)).toEqual([]);
  });

  it('stores an UNKNOWN_SENSOR reading once the sensor exists, with its original ts and value, and records who released it', async () => {
    const pressureId = (await createSensor(api, org, deviceId, { key: 'pressure' })).id;
    const res = await releaseOnceFixed(entries.unknownSensor.id);
    expect(res.status).toBe(200);
    const released = res.body as Entry;
    expect(released).toMatchObject({ id: entries.unknownSensor.id, status: 'RELEASED', resolvedBy: expect.stringMatching(/^apiKey:/) as unknown });
    expect(Date.parse(released.resolvedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(entries.unknownSensor.receivedAt));
    expect(await storedReadings(pressureId)).toEqual([{ ts: items.unknownSensor.ts, value: 1013, receivedAt: entries.unknownSensor.receivedAt }]);
    expect(await streamOf(entries.unknownSensor.id)).toEqual([
      {
        type: 'QuarantineReleased',
        data: { quarantineId: entries.unknownSensor.id, deviceId, releasedAt: released.resolvedAt },
        actor: released.resolvedBy,
      },
    ]);
    // No longer waiting for a decision: gone from the default list, found under its status.
    expect((await list()).map((e) => e.id)).not.toContain(entries.unknownSensor.id);
    expect((await list({ status: 'RELEASED' })).map((e) => e.id)).toEqual([entries.unknownSensor.id]);
  });

  it('stores an OUT_OF_RANGE reading once the profile’s valid range covers it', async () => {
    await api
      .http()
      .patch(`/api/v1/sensor-profiles/${profileId}`)
      .set('Authorization', org.auth)
      .send({ validRange: { min: -40, max: 150 } })
      .expect(200);
    const res = await releaseOnceFixed(entries.outOfRange.id);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'RELEASED' });
    expect((await storedReadings(tempId)).filter((r) => r.ts === items.outOfRange.ts).map((r) => r.value)).toEqual([120]);
  });

  it('refuses a second release and a discard of a released entry with 409, changing nothing', async () => {
    const before = await inspect(entries.outOfRange.id);
    for (const res of [await release(entries.outOfRange.id), await discard(entries.outOfRange.id, { note: 'too late' })]) {
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ code: 'QUARANTINE_ENTRY_RESOLVED' });
    }
    expect(await inspect(entries.outOfRange.id)).toEqual(before);
    expect((await streamOf(entries.outOfRange.id)).map((e) => e.type)).toEqual(['QuarantineReleased']);
  });
});

describe('POST /api/v1/admin/quarantine/{id}/discard', () => {
  it('discards an entry with a note, recording the user who did it', async () => {
    const res = await discard(entries.future.id, { note: 'the gateway clock was an hour ahead' }, `Bearer ${await org.jwt('admin', 'alice')}`);
    expect(res.status).toBe(200);
    const discarded = res.body as Entry;
    expect(discarded).toMatchObject({ id: entries.future.id, status: 'DISCARDED', resolvedBy: 'user:alice' });
    expect(await streamOf(entries.future.id)).toEqual([
      {
        type: 'QuarantineDiscarded',
        data: { quarantineId: entries.future.id, deviceId, note: 'the gateway clock was an hour ahead', discardedAt: discarded.resolvedAt },
        actor: 'user:alice',
      },
    ]);
    expect((await list({ status: 'DISCARDED' })).map((e) => e.id)).toEqual([entries.future.id]);
  });

  it('refuses a second discard and a release of a discarded entry with 409', async () => {
    for (const res of [await discard(entries.future.id), await release(entries.future.id)]) {
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ code: 'QUARANTINE_ENTRY_RESOLVED' });
    }
    expect((await streamOf(entries.future.id)).map((e) => e.type)).toEqual(['QuarantineDiscarded']);
    expect((await storedReadings(tempId)).filter((r) => r.ts === items.future.ts)).toEqual([]);
  });

  it('refuses a note that is not a non-empty string, and unknown properties', async () => {
    expect((await discard(entries.second.id, { note: '' })).status).toBe(400);
    expect((await discard(entries.second.id, { reason: 'x' })).status).toBe(400);
    expect((await inspect(entries.second.id)).status).toBe('QUARANTINED');
  });

  it('brings the row up to date from the stream when an earlier request stopped after its event', async () => {
    // As if a release had appended its event and the process stopped before updating the row.
    const context = { orgId: org.orgId, actor: 'apiKey:crashed' as const, correlationId: randomUUID() };
    await releaseQuarantineEntry(api.platform.store, context, { quarantineId: entries.second.id, deviceId: secondDeviceId });
    expect((await inspect(entries.second.id)).status).toBe('QUARANTINED');
    const res = await discard(entries.second.id);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'QUARANTINE_ENTRY_RESOLVED' });
    expect(await inspect(entries.second.id)).toMatchObject({ status: 'RELEASED', resolvedBy: 'apiKey:crashed' });
    expect((await list({ status: 'ALL', deviceId: secondDeviceId })).map((e) => e.status)).toEqual(['RELEASED']);
  });
});

describe('concurrent decisions', () => {
  it('lets one of a release and a discard of the same entry win; readings are stored only if the release did', async () => {
    const ts = minutesAgo(2);
    const id = await quarantineOne(org.auth, { deviceId, sensor: 'late', ts, value: 5 });
    const lateId = (await createSensor(api, org, deviceId, { key: 'late' })).id;
    // Releasable once the pipeline knows the sensor: a new reading for it is then accepted.
    await waitUntil('the pipeline knows sensor "late"', async () => {
      const res = await post('/api/v1/readings/batch', { readings: [{ deviceId, sensor: 'late', ts: minutesAgo(3), value: 1 }] }).expect(202);
      return (res.body as { accepted: number }).accepted === 1;
    });
    const [released, discarded] = await Promise.all([release(id), discard(id, { note: 'race' })]);
    expect([released.status, discarded.status].sort()).toEqual([200, 409]);
    const winner = released.status === 200 ? 'RELEASED' : 'DISCARDED';
    expect(await inspect(id)).toMatchObject({ status: winner });
    expect((await streamOf(id)).map((e) => e.type)).toEqual([winner === 'RELEASED' ? 'QuarantineReleased' : 'QuarantineDiscarded']);
    expect((await storedReadings(lateId)).filter((r) => r.ts === ts).map((r) => r.value)).toEqual(winner === 'RELEASED' ? [5] : []);
  });
});

describe('access', () => {
  it('is for admins only: viewers and members get 403', async () => {
    const id = entries.wholeMessage.id;
    for (const role of ['viewer', 'member'] as const) {
      const auth = `Bearer ${await org.jwt(role)}`;
      const statuses = [
        (await get(QUARANTINE, auth)).status,
        (await get(`${QUARANTINE}/${id}`, auth)).status,
        (await release(id, auth)).status,
        (await discard(id, {}, auth)).status,
      ];
      expect({ role, statuses }).toEqual({ role, statuses: [403, 403, 403, 403] });
    }
    expect((await inspect(id)).status).toBe('QUARANTINED');
  });

  it('answers another organization’s entry exactly like a random id and leaves it alone', async () => {
    const otherDevice = await createDevice(api, other);
    const theirs = await quarantineOne(other.auth, { deviceId: otherDevice.id, sensor: 'missing', ts: minutesAgo(1), value: 1 });
    const random = randomUUID();
    const probes: [string, (id: string) => Promise<Response>][] = [
      ['get', async (id) => get(`${QUARANTINE}/${id}`)],
      ['release', async (id) => release(id)],
      ['discard', async (id) => discard(id, { note: 'not mine' })],
    ];
    for (const [name, probe] of probes) {
      const missing = refusal(await probe(random));
      expect({ name, ...refusal(await probe(theirs)) }).toEqual({ name, ...missing });
      expect({ name, status: missing.status }).toEqual({ name, status: 404 });
    }
    expect((await list({ status: 'ALL' })).map((e) => e.id)).not.toContain(theirs);
    const seenByThem = (await get(`${QUARANTINE}/${theirs}`, other.auth).expect(200)).body as Entry;
    expect(seenByThem).toMatchObject({ status: 'QUARANTINED', resolvedAt: null });
    expect(await streamOf(theirs)).toEqual([]);
  });
});
