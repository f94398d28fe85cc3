import { randomUUID } from 'node:crypto';
import { csvRows, pollExport, sha256, startExportRig, unzip, type ExportRig } from './support/exports.rig';
import { expectedReadings, exportRange, seedOrg, type SeededOrg } from './support/exports.seed';
import type { TestOrg } from './support/test-api';

type Body = Record<string, unknown>;
interface ManifestEntry {
  name: string;
  rows: number;
  bytes: number;
  sha256: string;
  source: string;
  available?: boolean;
}
interface Manifest {
  exportId: string;
  organizationId: string;
  scope: { type: string; id: string };
  range: { from: string; to: string };
  includes: string[];
  format: string;
  counts: { readings: number; annotations: number; alerts: number; events: number };
  entries: ManifestEntry[];
}

let rig: ExportRig;
let a: SeededOrg;
let b: SeededOrg;
const range = exportRange();

beforeAll(async () => {
  rig = await startExportRig();
  const orgA = await rig.api.createOrg('Exports A');
  const orgB = await rig.api.createOrg('Exports B');
  a = await seedOrg(rig.api, orgA, range);
  b = await seedOrg(rig.api, orgB, range);
  await rig.startWorker();
});
afterAll(async () => {
  await rig?.close();
});

async function exportReady(org: TestOrg, body: Body): Promise<{ job: Body; entries: Map<string, Buffer>; manifest: Manifest }> {
  const created = await rig.call(org, 'POST', '/api/v1/exports', body);
  expect(created.status).toBe(201);
  const job = await pollExport(rig, org, String(created.body.id), ['READY', 'FAILED']);
  expect(job.status).toBe('READY');
  const download = await fetch(String(job.downloadUrl));
  expect(download.status).toBe(200);
  const entries = await unzip(Buffer.from(await download.arrayBuffer()));
  const manifest = JSON.parse(String(entries.get('manifest.json'))) as Manifest;
  // Every entry is what the manifest says it is.
  for (const entry of manifest.entries) {
    const data = entries.get(entry.name);
    expect({ name: entry.name, bytes: data?.length, sha256: data ? sha256(data) : undefined }).toEqual({ name: entry.name, bytes: entry.bytes, sha256: entry.sha256 });
  }
  expect([...entries.keys()]).toEqual([...manifest.entries.map((e) => e.name), 'manifest.json']);
  return { job, entries, manifest };
}

const inRange = (ts: string): boolean => Date.parse(ts) >= Date.parse(range.from) && Date.parse(ts) < Date.parse(range.to);
const readingKey = (r: { sensorId: string; ts: string; value: number }) => `${r.sensorId} ${new Date(r.ts).toISOString()} ${r.value}`;

describe('the seed’s round trip: create, poll, download, unzip', () => {
  it('creates the job PENDING (201, the seed’s fields), runs it to READY with counts and a fresh URL, and serves a zip of exactly the scope’s rows', async () => {
    const request = { scopeType: 'DEVICE', scopeId: a.devices.d1, from: range.from, to: range.to, includes: ['READINGS', 'ANNOTATIONS'] };
    const res = await fetch(`${rig.baseUrl}/api/v1/exports`, {
      method: 'POST',
      headers: { authorization: a.org.auth, 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as Body;
    expect(Object.keys(created).sort()).toEqual(['createdAt', 'format', 'from', 'id', 'includes', 'requestedBy', 'scopeId', 'scopeType', 'status', 'to']);
    expect(created).toMatchObject({ ...request, status: 'PENDING', format: 'CSV' });
    expect(String(created.requestedBy)).toMatch(/^apiKey:/);
    expect(res.headers.get('location')).toBe(`/api/v1/exports/${String(created.id)}`);

    const job = await pollExport(rig, a.org, String(created.id), ['READY', 'FAILED']);
    const expected = expectedReadings(a, [a.devices.d1], range);
    expect(job).toMatchObject({ status: 'READY', readingCount: expected.length, annotationCount: 2, alertCount: 0, eventCount: 0 });
    const completedAt = Date.parse(String(job.completedAt));
    expect(Date.parse(String(job.expiresAt)) - completedAt).toBe(24 * 3_600_000);
    const url = new URL(String(job.downloadUrl));
    expect(`${url.origin}${url.pathname}`).toBe(`${rig.baseUrl}/api/v1/exports/${String(created.id)}/download`);
    // Fresh: valid for the URL time-to-live from this GET, never past expiresAt.
    const expires = Number(url.searchParams.get('expires')) * 1000;
    expect(expires).toBeGreaterThan(Date.now() + 55_000);
    expect(expires).toBeLessThanOrEqual(Math.min(Date.now() + 60_000, Date.parse(String(job.expiresAt))));

    const download = await fetch(url);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('application/zip');
    expect(download.headers.get('content-disposition')).toBe(`attachment; filename="export-${String(created.id)}.zip"`);
    const archive = Buffer.from(await download.arrayBuffer());
    expect(Number(download.headers.get('content-length'))).toBe(archive.length);
    expect(archive.length).toBe(job.sizeBytes);

    const entries = await unzip(archive);
    expect([...entries.keys()]).toEqual(['readings.csv', 'annotations.json', 'manifest.json']);
    const manifest = JSON.parse(String(entries.get('manifest.json'))) as Manifest;
    expect(manifest).toMatchObject({
      exportId: created.id,
      organizationId: a.org.orgId,
      scope: { type: 'DEVICE', id: a.devices.d1 },
      range: { from: range.from, to: range.to },
      counts: { readings: expected.length, annotations: 2, alerts: 0, events: 0 },
    });
    for (const entry of manifest.entries) expect(sha256(entries.get(entry.name) ?? Buffer.alloc(0))).toBe(entry.sha256);

    const { header, rows } = csvRows(String(entries.get('readings.csv')));
    expect(header).toEqual(['ts', 'deviceId', 'sensorId', 'value', 'quality', 'seq', 'receivedAt']);
    expect(rows).toHaveLength(expected.length);
    for (const [ts, deviceId, , , quality] of rows) {
      expect({ deviceId, inRange: inRange(String(ts)), quality }).toEqual({ deviceId: a.devices.d1, inRange: true, quality: 'GOOD' });
    }
    expect(rows[0]?.[0]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    const exported = rows.map(([ts = '', , sensorId = '', value = '']) => readingKey({ sensorId, ts, value: Number(value) }));
    expect(exported.sort()).toEqual(expected.map(readingKey).sort());

    const annotations = JSON.parse(String(entries.get('annotations.json'))) as Body[];
    // On d1 or its sensors, overlapping the range (one starts before it); not d2's, not the site's, not the one before the range.
    expect(annotations.map((n) => n.id).sort()).toEqual([a.annotations[0]?.id, a.annotations[1]?.id].sort());
    expect(annotations[0]).toMatchObject({ note: 'seeded, with "quotes", commas and a\nnewline', author: 'user:seed', value: 1.5 });
  });

  it('exports the whole organization with every kind of row as JSON lines, and nothing of another organization', async () => {
    const body = { scopeType: 'ORGANIZATION', scopeId: a.org.orgId, from: range.from, to: range.to, includes: ['EVENTS', 'ALERTS', 'ANNOTATIONS', 'READINGS'], format: 'JSONL' };
    const { job, entries, manifest } = await exportReady(a.org, body);
    expect(job.includes).toEqual(['READINGS', 'ANNOTATIONS', 'ALERTS', 'EVENTS']);
    expect([...entries.keys()]).toEqual(['readings.jsonl', 'annotations.json', 'alerts.jsonl', 'events.jsonl', 'manifest.json']);
    const lines = (name: string) => String(entries.get(name)).split('\n').filter(Boolean).map((line) => JSON.parse(line) as Body);

    const readings = lines('readings.jsonl');
    const all = expectedReadings(a, Object.values(a.devices), range);
    expect(readings.map((r) => readingKey(r as { sensorId: string; ts: string; value: number })).sort()).toEqual(all.map(readingKey).sort());
    const alerts = lines('alerts.jsonl');
    expect(alerts).toEqual([expect.objectContaining({ id: a.alertId, message: 'value 9,5: above 8\nsecond line', ruleName: 'too warm, "really"', deviceId: a.devices.d1 })]);
    const events = lines('events.jsonl');
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) expect(inRange(String(event.occurredAt))).toBe(true);
    const annotations = JSON.parse(String(entries.get('annotations.json'))) as Body[];
    expect(annotations).toHaveLength(4);

    expect(manifest.counts).toEqual({ readings: all.length, annotations: 4, alerts: 1, events: events.length });
    expect(job).toMatchObject({ readingCount: all.length, annotationCount: 4, alertCount: 1, eventCount: events.length });
    expect(manifest.entries.find((e) => e.name === 'events.jsonl')).toMatchObject({ source: 'activity_events', available: true });
    const text = [...entries.values()].map(String).join('\n');
    const leaked = [b.org.orgId, ...Object.values(b.devices), ...Object.values(b.sensors), b.siteId, b.alertId].filter((id) => text.includes(id));
    expect(leaked).toEqual([]);
  });

  it('exports a site’s devices and a group’s members (current membership), alerts as CSV with quoting', async () => {
    const site = await exportReady(a.org, { scopeType: 'SITE', scopeId: a.siteId, from: range.from, to: range.to, includes: ['READINGS', 'ALERTS', 'ANNOTATIONS'] });
    const siteRows = csvRows(String(site.entries.get('readings.csv'))).rows;
    expect(new Set(siteRows.map((r) => r[1]))).toEqual(new Set([a.devices.d1, a.devices.d2]));
    expect(siteRows).toHaveLength(expectedReadings(a, [a.devices.d1, a.devices.d2], range).length);
    const alertsCsv = String(site.entries.get('alerts.csv'));
    expect(alertsCsv.split('\n')[0]).toBe('id,ruleId,ruleName,severity,status,deviceId,sensorId,message,triggerTs,triggerValue,raisedAt,acknowledgedAt,acknowledgedBy,note,resolvedAt,resolveReason,clearTs,clearValue');
    expect(alertsCsv).toContain(`${a.alertId},`);
    expect(alertsCsv).toContain('"too warm, ""really"""');
    expect(alertsCsv).toContain('"value 9,5: above 8\nsecond line"');
    expect(site.manifest.counts.alerts).toBe(1);
    // The site's own annotation, d1's two and d2's one.
    expect(site.manifest.counts.annotations).toBe(4);

    const group = await exportReady(a.org, { scopeType: 'DEVICE_GROUP', scopeId: a.groupId, from: range.from, to: range.to, includes: ['READINGS'] });
    const groupRows = csvRows(String(group.entries.get('readings.csv'))).rows;
    expect(new Set(groupRows.map((r) => r[1]))).toEqual(new Set([a.devices.d1, a.devices.d3]));
    expect(group.job.readingCount).toBe(expectedReadings(a, [a.devices.d1, a.devices.d3], range).length);
  });
});

describe('an installation without the optional tables', () => {
  it('writes an empty annotations.json and events.jsonl, and the manifest says the tables are missing', async () => {
    const pool = rig.api.platform.pool;
    await pool.query('ALTER TABLE annotations RENAME TO annotations_hidden');
    await pool.query('ALTER TABLE activity_events RENAME TO activity_events_hidden');
    try {
      const { job, entries, manifest } = await exportReady(a.org, { scopeType: 'DEVICE', scopeId: a.devices.d1, from: range.from, to: range.to, includes: ['ANNOTATIONS', 'EVENTS'] });
      expect(String(entries.get('annotations.json'))).toBe('[]\n');
      expect(String(entries.get('events.jsonl'))).toBe('');
      expect(job).toMatchObject({ annotationCount: 0, eventCount: 0 });
      expect(manifest.entries).toEqual([
        expect.objectContaining({ name: 'annotations.json', rows: 0, source: 'annotations', available: false, note: expect.stringContaining('no annotations table') }),
        expect.objectContaining({ name: 'events.jsonl', rows: 0, source: 'activity_events', available: false, note: expect.stringContaining('no activity_events table') }),
      ]);
    } finally {
      await pool.query('ALTER TABLE annotations_hidden RENAME TO annotations');
      await pool.query('ALTER TABLE activity_events_hidden RENAME TO activity_events');
    }
  });
});

describe('validation', () => {
  const body = (overrides: Body = {}) => ({ scopeType: 'DEVICE', scopeId: a.devices.d1, from: range.from, to: range.to, includes: ['READINGS'], ...overrides });

  it('refuses from ≥ to and a range longer than the maximum (400 EXPORT_RANGE_INVALID)', async () => {
    for (const [from, to] of [
      [range.to, range.from],
      [range.from, range.from],
      ['2024-01-01T00:00:00Z', '2025-01-02T00:00:01Z'],
    ]) {
      const res = await rig.call(a.org, 'POST', '/api/v1/exports', body({ from, to }));
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: 'EXPORT_RANGE_INVALID' });
    }
    const longest = await rig.call(a.org, 'POST', '/api/v1/exports', body({ from: '2024-01-01T00:00:00Z', to: '2025-01-01T00:00:00Z' }));
    expect(longest.status).toBe(201);
    expect((await rig.call(a.org, 'DELETE', `/api/v1/exports/${String(longest.body.id)}`)).status).toBe(200);
  });

  it('refuses empty or unknown includes and unknown formats (400)', async () => {
    for (const overrides of [{ includes: [] }, { includes: ['READINGS', 'READINGS'] }, { includes: ['PHOTOS'] }, { format: 'PARQUET' }]) {
      expect((await rig.call(a.org, 'POST', '/api/v1/exports', body(overrides))).status).toBe(400);
    }
  });

  it('answers 404 for a scope of another organization exactly as for a missing one, for every scope type', async () => {
    for (const [scopeType, ofB] of [
      ['DEVICE', b.devices.d1],
      ['SITE', b.siteId],
      ['DEVICE_GROUP', b.groupId],
      ['ORGANIZATION', b.org.orgId],
    ] as const) {
      const probed = await rig.call(a.org, 'POST', '/api/v1/exports', body({ scopeType, scopeId: ofB }));
      const missing = await rig.call(a.org, 'POST', '/api/v1/exports', body({ scopeType, scopeId: randomUUID() }));
      expect({ scopeType, status: probed.status, body: probed.body }).toEqual({ scopeType, status: 404, body: missing.body });
      expect(probed.body.code).toBe('EXPORT_SCOPE_NOT_FOUND');
    }
  });

  it('needs the member role to export and the viewer role to read', async () => {
    const viewer = `Bearer ${await a.org.jwt('viewer')}`;
    const res = await fetch(`${rig.baseUrl}/api/v1/exports`, { method: 'POST', headers: { authorization: viewer, 'content-type': 'application/json' }, body: JSON.stringify(body()) });
    expect(res.status).toBe(403);
    expect((await fetch(`${rig.baseUrl}/api/v1/exports`, { headers: { authorization: viewer } })).status).toBe(200);
  });
});

describe('the list', () => {
  it('pages newest first, filters by status and scope, and shows only the caller’s exports', async () => {
    const created = await rig.call(a.org, 'POST', '/api/v1/exports', { scopeType: 'DEVICE', scopeId: a.devices.d2, from: range.from, to: range.to, includes: ['READINGS'] });
    await pollExport(rig, a.org, String(created.body.id), ['READY']);
    const ofD2 = await rig.call(a.org, 'GET', `/api/v1/exports?scopeType=DEVICE&scopeId=${a.devices.d2}`);
    expect((ofD2.body.items as Body[]).map((e) => e.id)).toEqual([created.body.id]);
    const ready = await rig.call(a.org, 'GET', '/api/v1/exports?status=READY&limit=2');
    expect((ready.body.items as Body[]).every((e) => e.status === 'READY')).toBe(true);
    expect((ready.body.items as Body[])[0]?.id).toBe(created.body.id);
    expect(ready.body.nextCursor).toEqual(expect.any(String));
    const next = await rig.call(a.org, 'GET', `/api/v1/exports?status=READY&limit=2&cursor=${String(ready.body.nextCursor)}`);
    expect((next.body.items as Body[]).map((e) => e.id)).not.toContain(created.body.id);
    const ofB = await rig.call(b.org, 'GET', '/api/v1/exports?limit=500');
    expect((ofB.body.items as Body[]).map((e) => e.id)).not.toContain(created.body.id);
  });
});
