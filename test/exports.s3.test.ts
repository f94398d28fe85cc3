import { parseExportBlobKey } from '../src/commands/exports/export.events';
import { pollExport, startExportRig, unzip, type ExportRig } from './support/exports.rig';
import { expectedReadings, exportRange, seedOrg, type SeededOrg } from './support/exports.seed';
import { startLocalS3, type LocalS3 } from './support/s3rver-fixture';

/** The whole round trip with BLOB_STORE=s3, against s3rver speaking the S3 protocol on a free port. */
let s3: LocalS3;
let rig: ExportRig;
let a: SeededOrg;
const range = exportRange();

beforeAll(async () => {
  s3 = await startLocalS3();
  rig = await startExportRig(s3.env);
  a = await seedOrg(rig.api, await rig.api.createOrg('S3 exports'), range);
  await rig.startWorker();
});
afterAll(async () => {
  await rig?.close();
  await s3?.close();
});

it('writes the archive to the bucket, hands out a presigned S3 URL, and deletes the object with the export', async () => {
  expect(rig.api.deps.blobs.kind).toBe('s3');
  const created = await rig.call(a.org, 'POST', '/api/v1/exports', { scopeType: 'DEVICE', scopeId: a.devices.d1, from: range.from, to: range.to, includes: ['READINGS', 'ALERTS'] });
  const job = await pollExport(rig, a.org, String(created.body.id), ['READY', 'FAILED']);
  expect(job).toMatchObject({ status: 'READY', readingCount: expectedReadings(a, [a.devices.d1], range).length, alertCount: 1 });

  const url = new URL(String(job.downloadUrl));
  expect(url.origin).toBe(s3.endpoint);
  expect(url.searchParams.get('X-Amz-Signature')).toEqual(expect.any(String));
  // Never past the export's expiresAt, and short-lived (EXPORT_URL_TTL_SECONDS=60 here).
  expect(Number(url.searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(60);
  const res = await fetch(url);
  expect({ status: res.status, type: res.headers.get('content-type'), disposition: res.headers.get('content-disposition') }).toEqual({
    status: 200,
    type: 'application/zip',
    disposition: `attachment; filename="export-${String(job.id)}.zip"`,
  });
  const entries = await unzip(Buffer.from(await res.arrayBuffer()));
  expect([...entries.keys()]).toEqual(['readings.csv', 'alerts.csv', 'manifest.json']);

  const keys: string[] = [];
  for await (const blob of rig.api.deps.blobs.list('exports/')) keys.push(blob.key);
  expect(keys.map(parseExportBlobKey)).toEqual([{ orgId: a.org.orgId, id: job.id, attempt: 1 }]);
  expect((await rig.call(a.org, 'DELETE', `/api/v1/exports/${String(job.id)}`)).status).toBe(204);
  const left: string[] = [];
  for await (const blob of rig.api.deps.blobs.list('exports/')) left.push(blob.key);
  expect(left).toEqual([]);
});
