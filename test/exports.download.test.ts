import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { exportBlobKey } from '../src/commands/exports/export.events';
import { startExportExpiry } from '../src/workers/export-expiry';
import type { ExportWorker } from '../src/workers/exports';
import { GatedBlobStore } from './support/gated-blob-store';
import { pollExport, startExportRig, unzip, type ExportRig } from './support/exports.rig';
import { exportRange, seedOrg, type SeededOrg } from './support/exports.seed';
import type { TestOrg } from './support/test-api';
import { waitUntil } from './support/wait-until';

type Body = Record<string, unknown>;

let rig: ExportRig;
let worker: ExportWorker;
let a: SeededOrg;
let orgB: TestOrg;
const range = exportRange();

beforeAll(async () => {
  rig = await startExportRig();
  a = await seedOrg(rig.api, await rig.api.createOrg('Downloads A'), range);
  orgB = await rig.api.createOrg('Downloads B');
  worker = await rig.startWorker();
});
afterAll(async () => {
  await rig?.close();
});

async function readyExport(org: TestOrg, scopeId: string, scopeType = 'DEVICE'): Promise<Body> {
  const created = await rig.call(org, 'POST', '/api/v1/exports', { scopeType, scopeId, from: range.from, to: range.to, includes: ['READINGS'] });
  expect(created.status).toBe(201);
  return pollExport(rig, org, String(created.body.id), ['READY']);
}

/** Files of the local blob store under an export's folder, partial writes included. */
async function filesOf(orgId: string, id: string): Promise<string[]> {
  const dir = path.join(rig.api.platform.config.dataDir, 'blobs', 'exports', orgId, id);
  return readdir(dir).catch(() => []);
}

describe('download URLs', () => {
  let job: Body;
  let url: URL;
  beforeAll(async () => {
    job = await readyExport(a.org, a.devices.d1);
    url = new URL(String(job.downloadUrl));
  });

  const variant = (change: (u: URL) => void): URL => {
    const copy = new URL(url);
    change(copy);
    return copy;
  };
  const refusal = async (target: URL) => {
    const res = await fetch(target);
    return { status: res.status, type: res.headers.get('content-type'), code: ((await res.json()) as Body).code };
  };
  const FORBIDDEN = { status: 403, type: 'application/problem+json; charset=utf-8', code: 'EXPORT_DOWNLOAD_FORBIDDEN' };

  it('works without credentials, and refuses any change to it with 403', async () => {
    expect((await fetch(url)).status).toBe(200);
    const flip = (s: string) => `${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
    const tampered = [
      variant((u) => u.searchParams.set('signature', flip(String(u.searchParams.get('signature'))))),
      variant((u) => u.searchParams.set('expires', String(Number(u.searchParams.get('expires')) + 3600))),
      variant((u) => u.searchParams.set('org', orgB.orgId)),
      variant((u) => u.searchParams.delete('signature')),
      variant((u) => u.searchParams.set('signature', `${String(u.searchParams.get('signature'))}=`)),
      variant((u) => (u.pathname = u.pathname.replace(String(job.id), randomUUID()))),
    ];
    for (const target of tampered) expect({ target: target.search, ...(await refusal(target)) }).toEqual({ target: target.search, ...FORBIDDEN });
  });

  it('refuses it for another export, of the same or of another organization, exactly like a random id', async () => {
    const other = await readyExport(a.org, a.devices.d2);
    const theirs = await readyExport(orgB, orgB.orgId, 'ORGANIZATION');
    for (const id of [other.id, theirs.id, randomUUID()]) {
      expect(await refusal(variant((u) => (u.pathname = u.pathname.replace(String(job.id), String(id)))))).toEqual(FORBIDDEN);
    }
    // Their own URL with this organization or this export swapped in is no better.
    const ofB = new URL(String(theirs.downloadUrl));
    expect(await refusal(new URL(`${ofB.origin}${ofB.pathname}?${new URLSearchParams({ ...Object.fromEntries(ofB.searchParams), org: a.org.orgId }).toString()}`))).toEqual(FORBIDDEN);
  });

  it('refuses it once expired', async () => {
    const found = { orgId: a.org.orgId, id: String(job.id), blobKey: exportBlobKey(a.org.orgId, String(job.id), 1), expiresAt: new Date(String(job.expiresAt)) };
    // Signed two minutes ago with the 60 s time-to-live: expired a minute ago.
    const expired = await rig.api.deps.exportLinks.downloadUrl(found, new Date(Date.now() - 120_000));
    expect(Number(new URL(String(expired)).searchParams.get('expires')) * 1000).toBeLessThan(Date.now());
    expect(await refusal(new URL(String(expired)))).toEqual(FORBIDDEN);
    // The same signing, fresh, works: only the time differs.
    expect((await fetch(String(await rig.api.deps.exportLinks.downloadUrl(found)))).status).toBe(200);
  });

  it('serves byte ranges (206), suffixes and open ends, and answers 416 past the end', async () => {
    const whole = Buffer.from(await (await fetch(url)).arrayBuffer());
    const size = whole.length;
    const ranged = async (range: string, headers: Record<string, string> = {}) => {
      const res = await fetch(url, { headers: { range, ...headers } });
      return { status: res.status, contentRange: res.headers.get('content-range'), length: res.headers.get('content-length'), body: Buffer.from(await res.arrayBuffer()) };
    };
    expect(await ranged('bytes=0-99')).toEqual({ status: 206, contentRange: `bytes 0-99/${size}`, length: '100', body: whole.subarray(0, 100) });
    expect(await ranged('bytes=-50')).toEqual({ status: 206, contentRange: `bytes ${size - 50}-${size - 1}/${size}`, length: '50', body: whole.subarray(size - 50) });
    expect(await ranged(`bytes=${size - 10}-`)).toEqual({ status: 206, contentRange: `bytes ${size - 10}-${size - 1}/${size}`, length: '10', body: whole.subarray(size - 10) });
    expect(await ranged(`bytes=100-${size + 500}`)).toMatchObject({ status: 206, contentRange: `bytes 100-${size - 1}/${size}`, body: whole.subarray(100) });
    const past = await ranged(`bytes=${size}-`);
    expect({ status: past.status, contentRange: past.contentRange, code: (JSON.parse(String(past.body)) as Body).code }).toEqual({
      status: 416,
      contentRange: `bytes */${size}`,
      code: 'EXPORT_RANGE_NOT_SATISFIABLE',
    });
    // Several ranges, or a stale If-Range, get the whole file.
    expect(await ranged('bytes=0-1,5-6')).toMatchObject({ status: 200, body: whole });
    expect(await ranged('bytes=0-99', { 'if-range': '"stale"' })).toMatchObject({ status: 200, body: whole });
    // Ranges read back to back rebuild the zip, which still opens.
    const parts = [await ranged(`bytes=0-${Math.floor(size / 2)}`), await ranged(`bytes=${Math.floor(size / 2) + 1}-`)];
    expect((await unzip(Buffer.concat(parts.map((p) => p.body)))).has('manifest.json')).toBe(true);
  });
});

describe('cancellation', () => {
  it('stops a running export promptly: no file remains, the job says CANCELLED, a second DELETE removes it', async () => {
    await worker.stop();
    const gated = new GatedBlobStore(rig.api.deps.blobs, 2048);
    const slow = await rig.startWorker({ blobs: gated });
    try {
      const created = await rig.call(a.org, 'POST', '/api/v1/exports', { scopeType: 'ORGANIZATION', scopeId: a.org.orgId, from: range.from, to: range.to, includes: ['READINGS', 'EVENTS'] });
      const id = String(created.body.id);
      let running: Body = {};
      await waitUntil('the export runs and reports progress', async () => {
        running = (await rig.call(a.org, 'GET', `/api/v1/exports/${id}`)).body;
        return running.status === 'RUNNING' && Number((running.progress as Body | undefined)?.rowsSoFar) > 0;
      });
      expect(running).toMatchObject({ startedAt: expect.any(String), progress: { rowsSoFar: expect.any(Number), percent: expect.any(Number) } });
      expect(slow.running).toBe(1);

      const cancelledAt = Date.now();
      const cancel = await rig.call(a.org, 'DELETE', `/api/v1/exports/${id}`);
      expect(cancel).toMatchObject({ status: 200, body: { id, status: 'CANCELLED', cancelledAt: expect.any(String) } });
      await waitUntil('the worker let go of the export', () => slow.running === 0, 5000, 5);
      expect(Date.now() - cancelledAt).toBeLessThan(2000);
      expect(await filesOf(a.org.orgId, id)).toEqual([]);
      expect((await rig.call(a.org, 'GET', `/api/v1/exports/${id}`)).body.status).toBe('CANCELLED');

      expect((await rig.call(a.org, 'DELETE', `/api/v1/exports/${id}`)).status).toBe(204);
      expect((await rig.call(a.org, 'GET', `/api/v1/exports/${id}`)).body.code).toBe('EXPORT_NOT_FOUND');
    } finally {
      gated.open();
      await slow.stop();
      worker = await rig.startWorker();
    }
  });
});

describe('deletion and expiry', () => {
  it('deletes a finished export and its file (204); its URL then finds nothing', async () => {
    const job = await readyExport(a.org, a.devices.d3);
    const id = String(job.id);
    expect(await filesOf(a.org.orgId, id)).toEqual(['1.zip']);
    expect((await rig.call(a.org, 'DELETE', `/api/v1/exports/${id}`)).status).toBe(204);
    expect(await filesOf(a.org.orgId, id)).toEqual([]);
    expect((await rig.call(a.org, 'GET', `/api/v1/exports/${id}`)).status).toBe(404);
    const gone = await fetch(String(job.downloadUrl));
    expect({ status: gone.status, code: ((await gone.json()) as Body).code }).toEqual({ status: 404, code: 'EXPORT_NOT_FOUND' });
  });

  it('expires READY exports past expiresAt (file deleted, EXPIRED recorded) and sweeps files no export needs', async () => {
    const job = await readyExport(a.org, a.devices.d1);
    const keep = await readyExport(orgB, orgB.orgId, 'ORGANIZATION');
    const id = String(job.id);
    const stray = exportBlobKey(a.org.orgId, randomUUID(), 1);
    await rig.api.deps.blobs.put(stray, Readable.from([Buffer.from('left behind')]), { contentType: 'application/zip' });
    const expiry = startExportExpiry({ ...rig.api.platform, blobs: rig.api.deps.blobs, log: rig.api.platform.log, orphanGraceMs: 0 });
    try {
      // As if a day had passed: `job` (and the exports made before it) are behind this clock, `keep` (made after it) is not.
      const at = new Date(Date.parse(String(job.expiresAt)) + 1);
      const report = await expiry.runOnce(at);
      expect(report).toMatchObject({ ran: true, expired: expect.any(Number), filesDeleted: expect.any(Number) });
      expect(report.expired).toBeGreaterThanOrEqual(1);
      expect(await filesOf(a.org.orgId, id)).toEqual([]);
      expect(await rig.api.deps.blobs.stat(stray)).toBeUndefined();
      expect(await filesOf(orgB.orgId, String(keep.id))).toEqual(['1.zip']);
      const expired = await pollExport(rig, a.org, id, ['EXPIRED']);
      expect(expired).toMatchObject({ status: 'EXPIRED', expiredAt: at.toISOString(), readingCount: job.readingCount });
      expect(expired.downloadUrl).toBeUndefined();
      expect((await expiry.runOnce(at)).expired).toBe(0);
    } finally {
      await expiry.stop();
    }
  });
});
