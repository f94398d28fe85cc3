import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { exportStream } from '../src/commands/exports/export.events';
import type { BlobStore } from '../src/platform/blobs/blob-store.port';
import { asWriter } from '../src/platform/db/roles';
import { startExportExpiry } from '../src/workers/export-expiry';
import { runExportJob } from '../src/workers/export-job';
import { runnableExports } from '../src/workers/export-runs.queries';
import { FAST_EXPORTS, pollExport, startExportRig, unzip, type ExportRig } from './support/exports.rig';
import { expectedReadings, exportRange, seedOrg, type SeededOrg } from './support/exports.seed';
import { spawnTs } from './support/ts-child';
import { waitUntil } from './support/wait-until';

/**
 * A worker that dies mid-export (a real process, killed with SIGKILL: no
 * cleanup, no lease given back) leaves its export RUNNING only until its
 * lease runs out; then another worker runs it again from scratch.
 */
let rig: ExportRig;
let a: SeededOrg;
const range = exportRange();
const CHILD = path.join(__dirname, 'support', 'export-worker.child.ts');

beforeAll(async () => {
  rig = await startExportRig();
  a = await seedOrg(rig.api, await rig.api.createOrg('Recovery'), range);
});
afterAll(async () => {
  await rig?.close();
});

const childEnv = () => ({ ...FAST_EXPORTS, DATABASE_URL: rig.api.platform.databaseUrl, DATA_DIR: rig.api.platform.config.dataDir, LOG_LEVEL: 'silent' });

async function events(id: string): Promise<{ type: string; data: Record<string, unknown> }[]> {
  return (await rig.api.platform.store.readStream(exportStream(id))).map((e) => ({ type: e.type, data: e.data as Record<string, unknown> }));
}

/** An export the child worker has started and is stuck in (its writes held after a few bytes), then kills. */
async function killedMidExport(body: Record<string, unknown>): Promise<{ id: string; workerId: string }> {
  const created = await rig.call(a.org, 'POST', '/api/v1/exports', body);
  const id = String(created.body.id);
  const child = spawnTs(CHILD, { env: { ...childEnv(), EXPORT_CHILD_HOLD_BYTES: '1024' } });
  try {
    const { workerId } = await child.message<{ workerId: string }>((m) => m.event === 'started');
    // Killed once it has reported progress at a heartbeat (before that, percent is null: not known yet).
    await waitUntil('the child reports progress', async () => {
      const progress = (await rig.call(a.org, 'GET', `/api/v1/exports/${id}`)).body.progress as { rowsSoFar: number; percent: number | null } | undefined;
      return progress !== undefined && progress.rowsSoFar > 0 && progress.percent !== null;
    });
    await child.kill('SIGKILL');
    return { id, workerId };
  } finally {
    await child.kill('SIGKILL');
  }
}

it('retries an export whose worker was killed: attempt 2 runs from scratch on another worker and completes', async () => {
  const body = { scopeType: 'DEVICE', scopeId: a.devices.d1, from: range.from, to: range.to, includes: ['READINGS'] };
  const { id, workerId } = await killedMidExport(body);
  // Nobody holds it now, but its lease has to run out first (1 s here): it stays RUNNING meanwhile.
  expect((await rig.call(a.org, 'GET', `/api/v1/exports/${id}`)).body.status).toBe('RUNNING');
  const folder = path.join(rig.api.platform.config.dataDir, 'blobs', 'exports', a.org.orgId, id);
  expect((await readdir(folder)).filter((f) => f.endsWith('.partial'))).toHaveLength(1);

  const rescuer = await rig.startWorker({ workerId: 'rescuer' });
  const job = await pollExport(rig, a.org, id, ['READY', 'FAILED'], 30_000);
  expect(job).toMatchObject({ status: 'READY', readingCount: expectedReadings(a, [a.devices.d1], range).length });
  const history = await events(id);
  expect(history.map((e) => [e.type, e.data.attempt, e.data.workerId])).toEqual([
    ['ExportRequested', undefined, undefined],
    ['ExportStarted', 1, workerId],
    ['ExportStarted', 2, 'rescuer'],
    ['ExportCompleted', 2, undefined],
  ]);
  expect(history[3]?.data.blobKey).toBe(`exports/${a.org.orgId}/${id}/2.zip`);
  const download = await fetch(String(job.downloadUrl));
  expect((await unzip(Buffer.from(await download.arrayBuffer()))).has('readings.csv')).toBe(true);

  // The dead attempt's partial file is swept; the live one stays.
  const expiry = startExportExpiry({ ...rig.api.platform, blobs: rig.api.deps.blobs, log: rig.api.platform.log, orphanGraceMs: 0 });
  try {
    expect((await expiry.runOnce()).filesDeleted).toBe(1);
  } finally {
    await expiry.stop();
  }
  expect(await readdir(folder)).toEqual(['2.zip']);
  await rescuer.stop();
});

it('gives up with FAILED, never RUNNING forever, once the attempts are used up', async () => {
  const body = { scopeType: 'DEVICE', scopeId: a.devices.d2, from: range.from, to: range.to, includes: ['READINGS'] };
  const { id } = await killedMidExport(body);
  const config = { ...rig.api.platform.config.exports, maxAttempts: 1 };
  const deps = { pool: rig.api.platform.pool, store: rig.api.platform.store, blobs: rig.api.deps.blobs, config, log: rig.api.platform.log, workerId: 'last-resort' };
  let job: Awaited<ReturnType<typeof runnableExports>>[number] | undefined;
  const deadline = Date.now() + 10_000;
  while (!job && Date.now() < deadline) {
    job = (await asWriter(rig.api.platform.pool, (tx) => runnableExports(tx, 10))).find((j) => j.id === id);
    if (!job) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (!job) throw new Error('the killed export never became runnable again');
  expect(await runExportJob(deps, job, new AbortController().signal)).toBe('failed');
  const failed = await pollExport(rig, a.org, id, ['FAILED']);
  expect(failed).toMatchObject({ status: 'FAILED', reason: 'The export was interrupted once (its worker stopped mid-export) and was given up.', failedAt: expect.any(String) });
  // Over for good: no worker claims it again.
  expect((await asWriter(rig.api.platform.pool, (tx) => runnableExports(tx, 10))).map((j) => j.id)).not.toContain(id);
});

it('fails with the reason when the export cannot be written, and leaves no file', async () => {
  const created = await rig.call(a.org, 'POST', '/api/v1/exports', { scopeType: 'DEVICE', scopeId: a.devices.d3, from: range.from, to: range.to, includes: ['READINGS'] });
  const id = String(created.body.id);
  const inner = rig.api.deps.blobs;
  // A store that takes a few bytes and then gives up, like a full disk.
  const full: BlobStore = {
    kind: inner.kind,
    async put(_key: string, body: Readable) {
      for await (const chunk of body) if ((chunk as Buffer).length > 0) break;
      throw new Error('no space left on device');
    },
    stat: (key) => inner.stat(key),
    read: (key, range) => inner.read(key, range),
    delete: (key) => inner.delete(key),
    list: (prefix) => inner.list(prefix),
    presignedGetUrl: (key, options) => inner.presignedGetUrl(key, options),
    close: () => Promise.resolve(),
  };
  const job = (await asWriter(rig.api.platform.pool, (tx) => runnableExports(tx, 10))).find((j) => j.id === id);
  if (!job) throw new Error('the export is not runnable');
  const deps = { pool: rig.api.platform.pool, store: rig.api.platform.store, blobs: full, config: rig.api.platform.config.exports, log: rig.api.platform.log, workerId: 'full-disk' };
  expect(await runExportJob(deps, job, new AbortController().signal)).toBe('failed');
  const failed = await pollExport(rig, a.org, id, ['FAILED']);
  expect(failed).toMatchObject({ status: 'FAILED', reason: 'The export failed: no space left on device' });
  expect(await readdir(path.join(rig.api.platform.config.dataDir, 'blobs', 'exports', a.org.orgId, id)).catch(() => [])).toEqual([]);
  // The database connection the export read from was closed, not returned half-way through a COPY: the pool still works.
  expect((await rig.api.platform.pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
});
