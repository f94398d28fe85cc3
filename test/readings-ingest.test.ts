import type { MqttClient } from 'mqtt';
import { asWriter } from '../src/platform/db/roles';
import { startReadingsIngest, type ReadingsIngest } from '../src/ingest/readings-ingest';
import { readingsStream } from '../src/ingest/readings/readings.events';
import { startEmbeddedBroker, type EmbeddedBroker } from '../src/platform/mqtt/embedded-broker';
import { connectInternalClient } from '../src/platform/mqtt/internal-client';
import { deviceTopic } from '../src/platform/mqtt/topics';
import { capturedLogger } from './support/captured-logger';
import { aDevice, collect, connectDevice, type Received } from './support/mqtt-clients';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';
import { createDevice, createSensor, createSensorProfile } from './support/topology.http';
import { waitUntil } from './support/wait-until';

let api: TestApi;
let org: TestOrg;
let other: TestOrg;
let broker: EmbeddedBroker;
let ingest: ReadingsIngest;
let deviceId: string;
let tempId: string;
let otherSensorId: string;
let device: MqttClient;
let deviceInbox: Received[];
/** The time of the first MQTT message's readings, resent later. */
const firstTs = new Date(Date.now() - 120_000).toISOString();

const minutesAgo = (m: number): string => new Date(Date.now() - m * 60_000).toISOString();
const daysAgo = (d: number): string => new Date(Date.now() - d * 86_400_000).toISOString();

beforeAll(async () => {
  api = await startTestApi({ INGEST_FLUSH_MS: '10', READINGS_MAX_AGE_HOURS: '24', READINGS_BACKFILL_DAYS: '60' });
  org = await api.createOrg();
  other = await api.createOrg('Other org');
  const profile = await createSensorProfile(api, org, { validRange: { min: -40, max: 85 } });
  const created = await createDevice(api, org);
  deviceId = created.id;
  tempId = (await createSensor(api, org, deviceId, { key: 'temp', sensorProfileId: profile.id })).id;
  await createSensor(api, org, deviceId, { key: 'humidity' });
  const otherDevice = await createDevice(api, other);
  otherSensorId = (await createSensor(api, other, otherDevice.id, { key: 'temp' })).id;

  const log = capturedLogger('warn').log;
  broker = await startEmbeddedBroker({ ca: api.deps.deviceCa, port: 0, host: '127.0.0.1', store: api.platform.store, log, revokedSerials: async () => [] });
  ingest = await startReadingsIngest({
    url: broker.url,
    ca: api.deps.deviceCa,
    service: api.deps.readings,
    pool: api.platform.pool,
    store: api.platform.store,
    log,
    name: 'ingest-test',
    connections: 2,
    gapTimeoutSeconds: 1,
    gapSweepMs: 3_600_000,
  });
  device = await connectDevice(broker.url, api.deps.deviceCa, await aDevice(api.deps.deviceCa, { deviceId, orgId: org.orgId }));
  deviceInbox = collect(device);
  await device.subscribeAsync(deviceTopic(deviceId, 'readings/committed'), { qos: 1 });
});

afterAll(async () => {
  await device?.endAsync(true);
  await ingest?.stop();
  await broker?.stop();
  await api?.close();
});

async function storedValues(sensorId: string): Promise<{ ts: string; value: number; seq: number | null; quality: number }[]> {
  const { rows } = await api.platform.pool.query<{ ts: Date; value: number; seq: number | null; quality: number }>(
    'SELECT ts, value, seq, quality FROM readings WHERE sensor_id = $1 ORDER BY ts',
    [sensorId],
  );
  return rows.map((r) => ({ ...r, ts: r.ts.toISOString() }));
}

async function quarantined(where: string, values: unknown[]): Promise<{ reason: string; payload: string; seq: number | null; source: string }[]> {
  const { rows } = await api.platform.pool.query<{ reason: string; payload: string; seq: number | null; source: string }>(
    `SELECT reason, payload, seq, source FROM quarantined_readings WHERE ${where} ORDER BY received_at, reason`,
    values,
  );
  return rows;
}

const batch = (body: unknown, auth = org.auth) =>
  api.http().post('/api/v1/readings/batch').set('Authorization', auth).set('Content-Type', 'application/json').send(typeof body === 'string' ? body : JSON.stringify(body));

const committed = (): number[] => deviceInbox.filter((m) => m.topic.endsWith('/readings/committed')).map((m) => (JSON.parse(m.payload) as { seq: number }).seq);

describe('POST /api/v1/readings/batch', () => {
  it('stores good items, quarantines checkable ones with their reason and rejects what names nothing of the organization', async () => {
    const ts = minutesAgo(5);
    const res = await batch(
      `{"readings": [
        {"sensorId": "${tempId}", "ts": "${ts}", "value": 21.5},
        {"deviceId": "${deviceId}", "sensor": "humidity", "ts": "${ts}", "value": 40, "quality": "UNCERTAIN"},
        {"sensorId": "${tempId}", "ts": "${minutesAgo(4)}", "value": 120},
        {"sensorId": "${tempId}", "ts": "${new Date(Date.now() + 3_600_000).toISOString()}", "value": 20},
        {"sensorId": "${tempId}", "ts": "${minutesAgo(3)}", "value": 1e400},
        {"deviceId": "${deviceId}", "sensor": "pressure", "ts": "${ts}", "value": 1013},
        {"sensorId": "${otherSensorId}", "ts": "${ts}", "value": 1},
        {"sensorId": "${tempId}", "value": 1},
        {"sensorId": "${tempId}", "ts": "${daysAgo(90)}", "value": 1}
      ]}`,
    );
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ accepted: 2, quarantined: 5, rejected: 2 });
    const outcomes = (res.body as { items: { index: number; outcome: string; reason: string }[] }).items.map((i) => [i.index, i.outcome, i.reason]);
    expect(outcomes).toEqual([
      [2, 'quarantined', 'OUT_OF_RANGE'],
      [3, 'quarantined', 'TIMESTAMP_IN_FUTURE'],
      [4, 'quarantined', 'NON_FINITE_VALUE'],
      [5, 'quarantined', 'UNKNOWN_SENSOR'],
      [6, 'rejected', 'UNKNOWN_SENSOR'],
      [7, 'rejected', 'INVALID_READING'],
      [8, 'quarantined', 'TIMESTAMP_TOO_OLD'],
    ]);
    // Answered after the commit: the rows are there.
    expect(await storedValues(tempId)).toEqual([{ ts, value: 21.5, seq: null, quality: 0 }]);
    const reasons = (await quarantined('org_id = $1 AND source = $2', [org.orgId, 'HTTP'])).map((q) => q.reason).sort();
    expect(reasons).toEqual(['NON_FINITE_VALUE', 'OUT_OF_RANGE', 'TIMESTAMP_IN_FUTURE', 'TIMESTAMP_TOO_OLD', 'UNKNOWN_SENSOR']);
    // Nothing of it reached the other organization.
    expect(await storedValues(otherSensorId)).toEqual([]);
  });

  it('back-fills history with the original timestamps (creating the day partition) and never stores a resent reading twice', async () => {
    const old = [daysAgo(30), daysAgo(29.5)];
    const body = { readings: old.map((ts, i) => ({ sensorId: tempId, ts, value: 10 + i })) };
    const first = await batch(body).expect(202);
    const again = await batch(body).expect(202);
    expect(first.body).toMatchObject({ accepted: 2, quarantined: 0, rejected: 0 });
    expect(again.body).toMatchObject({ accepted: 2, quarantined: 0, rejected: 0 });
    const stored = (await storedValues(tempId)).filter((r) => old.includes(r.ts));
    expect(stored.map((r) => r.value)).toEqual([10, 11]);
  });

  it('stores each timestamp as Postgres reads its text: microseconds kept, further digits rounded, offsets applied', async () => {
    // Three hours back, so the -01:15 offset (1 h 15 min later in UTC) is still in the past.
    const hour = new Date(Date.now() - 3 * 3_600_000).toISOString().slice(0, 13);
    const texts = [`${hour}:00:01.123456Z`, `${hour}:00:02.0000005Z`, `${hour}:00:03.9999996Z`, `${hour}:00:04.5Z`, `${hour}:00:05Z`, `${hour}:00:06.000001+00:30`, `${hour}:00:07.25-01:15`];
    await batch({ readings: texts.map((ts, i) => ({ sensorId: tempId, ts, value: 60 + i })) }).expect(202);
    const { rows } = await api.platform.pool.query<{ text: string; same: boolean }>(
      `SELECT t.text, r.ts = t.text::timestamptz AS same
         FROM unnest($1::text[], $2::float8[]) AS t(text, value) LEFT JOIN readings r ON r.sensor_id = $3 AND r.value = t.value`,
      [texts, texts.map((_, i) => 60 + i), tempId],
    );
    expect(rows).toEqual(texts.map((text) => ({ text, same: true })));
  });

  it('stores a time that rounds into the next day in that day’s partition (created for the back-fill)', async () => {
    const day = new Date(Date.now() - 40 * 86_400_000).toISOString().slice(0, 10);
    const nextDay = new Date(Date.parse(day) + 86_400_000).toISOString().slice(0, 10);
    const ts = `${day}T23:59:59.9999996Z`;
    const res = await batch({ readings: [{ sensorId: tempId, ts, value: 77 }] }).expect(202);
    expect(res.body).toMatchObject({ accepted: 1, quarantined: 0 });
    const { rows } = await asWriter(api.platform.pool, (tx) =>
      tx.query<{ partition: string; same: boolean }>('SELECT tableoid::regclass::text AS partition, ts = $2::timestamptz AS same FROM readings WHERE sensor_id = $1 AND value = 77', [tempId, ts]),
    );
    expect(rows).toEqual([{ partition: `readings_p${nextDay.replace(/-/g, '')}`, same: true }]);
  });

  it('quarantines a reading older than the organization keeps readings (retention would delete it at once)', async () => {
    const item = { sensorId: tempId, ts: daysAgo(20), value: 5 };
    await api.http().patch('/api/v1/organization').set('Authorization', org.auth).send({ readingsRetentionDays: 10 }).expect(200);
    await waitUntil('the ingest sees the new retention', async () => {
      const res = await batch({ readings: [{ ...item, ts: daysAgo(20 + Math.random()) }] }).expect(202);
      return (res.body as { quarantined: number }).quarantined === 1;
    });
    const res = await batch({ readings: [item] }).expect(202);
    expect(res.body).toMatchObject({ accepted: 0, quarantined: 1, items: [{ reason: 'TIMESTAMP_TOO_OLD', detail: expect.stringContaining('240 h') }] });
    await api.http().patch('/api/v1/organization').set('Authorization', org.auth).send({ readingsRetentionDays: null }).expect(200);
  });

  it('refuses a malformed body with problem+json, and viewers', async () => {
    const bad = await batch({ readings: [] });
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    const viewer = await batch({ readings: [{ sensorId: tempId, ts: minutesAgo(1), value: 1 }] }, `Bearer ${await org.jwt('viewer')}`);
    expect(viewer.status).toBe(403);
  });
});

describe('MQTT readings', () => {
  it('stores both message forms, confirms the committed sequence number and quarantines what it cannot store', async () => {
    const t0 = firstTs;
    const full = { seq: 1, readings: [{ sensor: 'temp', ts: t0, value: 19.25 }, { sensor: 'humidity', ts: t0, value: 51 }] };
    const compact = { seq: 2, sensor: 'humidity', t0: minutesAgo(1), dtMs: 1000, values: [50, 50.5, 51] };
    const mixed = { seq: 3, readings: [{ sensor: 'temp', ts: minutesAgo(0.5), value: 20 }, { sensor: 'temp', ts: minutesAgo(0.4), value: -100 }, { sensor: 'nope', ts: t0, value: 1 }] };
    await device.publishAsync(deviceTopic(deviceId, 'readings'), JSON.stringify(full), { qos: 1 });
    await device.publishAsync(deviceTopic(deviceId, 'readings'), JSON.stringify(compact), { qos: 1 });
    await device.publishAsync(deviceTopic(deviceId, 'readings'), JSON.stringify(mixed), { qos: 1 });
    await device.publishAsync(deviceTopic(deviceId, 'readings'), '{"seq": 4, "readings": "not a list"}', { qos: 1 });
    await device.publishAsync(deviceTopic(deviceId, 'readings'), 'not json', { qos: 1 });
    await waitUntil('seq 4 is confirmed', () => committed().includes(4));

    const temp = (await storedValues(tempId)).filter((r) => r.seq !== null);
    expect(temp.map((r) => [r.value, r.seq])).toEqual([[19.25, 1], [20, 3]]);
    const mqtt = await quarantined('device_id = $1 AND source = $2', [deviceId, 'MQTT']);
    expect(mqtt.map((q) => [q.reason, q.seq]).sort()).toEqual([['INVALID_JSON', null], ['INVALID_PAYLOAD', 4], ['OUT_OF_RANGE', 3], ['UNKNOWN_SENSOR', 3]]);
    expect(mqtt.find((q) => q.reason === 'INVALID_JSON')?.payload).toBe('not json');
  });

  it('stores a resent message once, and reports a hole in the sequence numbers that is never filled as a gap', async () => {
    const again = { seq: 1, readings: [{ sensor: 'temp', ts: firstTs, value: 19.25 }] };
    await device.publishAsync(deviceTopic(deviceId, 'readings'), JSON.stringify(again), { qos: 1 });
    const later = { seq: 8, readings: [{ sensor: 'temp', ts: minutesAgo(0.1), value: 22 }] };
    await device.publishAsync(deviceTopic(deviceId, 'readings'), JSON.stringify(later), { qos: 1 });
    await waitUntil('seq 8 is stored', async () => (await storedValues(tempId)).some((r) => r.seq === 8));
    expect((await storedValues(tempId)).filter((r) => r.value === 19.25)).toHaveLength(1);
    expect(committed()).not.toContain(8);

    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await ingest.sweepGaps()).toBe(1);
    await waitUntil('seq 8 is confirmed after the gap', () => committed().includes(8));
    const events = await api.platform.store.readStream(readingsStream(deviceId));
    expect(events.map((e) => [e.type, e.data])).toEqual([['ReadingsSequenceGap', expect.objectContaining({ fromSeq: 5, toSeq: 7, missing: 3 })]]);
    expect(events[0]?.metadata.orgId).toBe(org.orgId);

    // Retained: a device reconnecting reads its confirmed number at once.
    const late = await connectInternalClient({ url: broker.url, ca: api.deps.deviceCa, name: 'late-reader' });
    try {
      const inbox = collect(late);
      await late.subscribeAsync(deviceTopic(deviceId, 'readings/committed'), { qos: 1 });
      await waitUntil('the retained confirmation arrives', () => inbox.length > 0);
      expect(JSON.parse(inbox[0]?.payload ?? '{}')).toEqual({ seq: 8 });
    } finally {
      await late.endAsync();
    }
  });

  it('quarantines a message whose bytes Postgres text cannot hold (NUL, invalid UTF-8), shown with U+FFFD, and goes on', async () => {
    const raw = Buffer.concat([Buffer.from('{"seq": 9, "readings": ['), Buffer.from([0x00, 0xff, 0xfe]), Buffer.from(']}')]);
    await device.publishAsync(deviceTopic(deviceId, 'readings'), raw, { qos: 1 });
    const next = { seq: 9, readings: [{ sensor: 'temp', ts: minutesAgo(0.05), value: 23 }] };
    await device.publishAsync(deviceTopic(deviceId, 'readings'), JSON.stringify(next), { qos: 1 });
    await waitUntil('seq 9 is confirmed', () => committed().includes(9));
    const stored = (await quarantined('device_id = $1 AND reason = $2', [deviceId, 'INVALID_JSON'])).map((q) => q.payload);
    expect(stored).toContain('{"seq": 9, "readings": [\ufffd\ufffd\ufffd]}');
  });

  it('counts everything on /metrics', async () => {
    const res = await api.http().get('/metrics').expect(200);
    expect(res.text).toMatch(/iotplane_ingest_readings_total\{outcome="accepted",source="MQTT"\} [1-9]/);
    expect(res.text).toMatch(/iotplane_ingest_quarantined_total\{reason="INVALID_JSON",source="MQTT"\} 2/);
    expect(res.text).toMatch(/iotplane_ingest_sequence_gaps_total 1/);
    expect(res.text).toMatch(/iotplane_ingest_buffered_rows 0/);
    expect(res.text).toMatch(/iotplane_projection_lag_seconds\{projection="sensors"\} 0\n/);
  });

  it('stores the rest of a batch Postgres refuses a reading of, quarantines that one as STORAGE_REFUSED, and goes on', async () => {
    // Postgres refusing a row: a constraint the readings do not expect, and one on quarantine entries.
    await api.platform.pool.query('ALTER TABLE readings ADD CONSTRAINT test_refuses_666 CHECK (value <> 666)');
    await api.platform.pool.query("ALTER TABLE quarantined_readings ADD CONSTRAINT test_refuses_entry CHECK (payload NOT LIKE '%refuse-me%')");
    try {
      const [t1, t2] = [minutesAgo(0.03), minutesAgo(0.02)];
      // humidity has no profile, so 666 passes the platform's checks and reaches the table.
      const message = { seq: 10, readings: [{ sensor: 'temp', ts: t1, value: 21 }, { sensor: 'humidity', ts: t2, value: 666 }, { sensor: 'humidity', ts: t1, value: 49 }] };
      const storedOf10 = async () =>
        (await api.platform.pool.query<{ value: number }>('SELECT value FROM readings WHERE device_id = $1 AND seq = 10 ORDER BY value', [deviceId])).rows.map((r) => r.value);
      await device.publishAsync(deviceTopic(deviceId, 'readings'), 'not json, refuse-me', { qos: 1 });
      await device.publishAsync(deviceTopic(deviceId, 'readings'), JSON.stringify(message), { qos: 1 });
      await waitUntil('seq 10 is confirmed', () => committed().includes(10));

      expect(await storedOf10()).toEqual([21, 49]);
      const { rows } = await api.platform.pool.query<{ id: string; reason: string; seq: string; sensor_key: string; payload: string; detail: string }>(
        'SELECT id, reason, seq, sensor_key, payload, detail FROM quarantined_readings WHERE device_id = $1 AND reason = $2',
        [deviceId, 'STORAGE_REFUSED'],
      );
      expect(rows.map((r) => ({ seq: Number(r.seq), key: r.sensor_key, payload: JSON.parse(r.payload) as unknown }))).toEqual([
        { seq: 10, key: 'humidity', payload: { sensor: 'humidity', ts: `${t2.slice(0, -1)}000Z`, value: 666 } },
      ]);
      expect(rows[0]?.detail).toMatch(/^23514 .*test_refuses_666/);
      const metrics = (await api.http().get('/metrics').expect(200)).text;
      expect(metrics).toMatch(/iotplane_ingest_quarantined_total\{reason="STORAGE_REFUSED",source="MQTT"\} 1/);
      expect(metrics).toMatch(/iotplane_ingest_rejected_total\{reason="STORAGE_REFUSED",source="ALL"\} 1/);

      // Released while the cause remains: refused back to the caller, nothing stored, no new entry.
      const id = rows[0]?.id ?? '';
      const release = () => api.http().post(`/api/v1/admin/quarantine/${id}/release`).set('Authorization', org.auth);
      const early = await release().expect(422);
      expect(early.body).toMatchObject({ code: 'QUARANTINE_STILL_FAILING', reason: 'STORAGE_REFUSED' });
      const entries = await api.platform.pool.query('SELECT 1 FROM quarantined_readings WHERE reason = $1', ['STORAGE_REFUSED']);
      expect(entries.rowCount).toBe(1);

      // The HTTP door says so too: an item Postgres refuses is answered as quarantined, not accepted.
      const viaHttp = await batch({ readings: [{ sensorId: tempId, ts: minutesAgo(0.01), value: 22 }, { deviceId, sensor: 'humidity', ts: minutesAgo(0.01), value: 666 }] });
      expect({ status: viaHttp.status, body: viaHttp.body as unknown }).toMatchObject({
        status: 202,
        body: { accepted: 1, quarantined: 1, rejected: 0, items: [{ index: 1, outcome: 'quarantined', reason: 'STORAGE_REFUSED', quarantineId: expect.any(String) }] },
      });

      // Once the cause is gone, the entry is released like any other and the reading stored with its time.
      await api.platform.pool.query('ALTER TABLE readings DROP CONSTRAINT test_refuses_666');
      await release().expect(200);
      const released = await api.platform.pool.query<{ ts: Date }>('SELECT ts FROM readings WHERE device_id = $1 AND value = 666', [deviceId]);
      expect(released.rows.map((r) => r.ts.toISOString())).toEqual([t2]);
    } finally {
      await api.platform.pool.query('ALTER TABLE readings DROP CONSTRAINT IF EXISTS test_refuses_666');
      await api.platform.pool.query('ALTER TABLE quarantined_readings DROP CONSTRAINT IF EXISTS test_refuses_entry');
    }
  });
});
