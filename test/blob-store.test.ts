import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { BlobStore } from '../src/platform/blobs/blob-store.port';
import { LocalBlobStore } from '../src/platform/blobs/local-blob-store';
import { S3BlobStore } from '../src/platform/blobs/s3-blob-store';
import { S3RVER_CREDENTIALS, startLocalS3, type LocalS3 } from './support/s3rver-fixture';

/**
 * One contract, both adapters: the data folder, and S3 over the real
 * protocol against s3rver (started here on a free port). The S3 store's
 * parts are 5 MiB (S3's minimum), so a 12 MiB blob goes up as a multipart upload.
 */
const PART = 5 * 1024 * 1024;

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** `total` random bytes in 64 KiB chunks, produced as they are read; `failAt` makes the stream fail there. */
function randomStream(total: number, seen: Buffer[] = [], failAt?: number): Readable {
  return Readable.from(
    (function* chunks() {
      for (let sent = 0; sent < total; sent += 65_536) {
        if (failAt !== undefined && sent >= failAt) throw new Error('the source broke');
        const chunk = randomBytes(Math.min(65_536, total - sent));
        seen.push(chunk);
        yield chunk;
      }
    })(),
  );
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

let s3: LocalS3;
let localRoot: string;
const stores: Record<string, BlobStore> = {};

beforeAll(async () => {
  s3 = await startLocalS3();
  localRoot = await mkdtemp(path.join(tmpdir(), 'iotplane-blobs-'));
  stores.local = new LocalBlobStore(localRoot);
  stores.s3 = new S3BlobStore({ bucket: s3.bucket, region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: S3RVER_CREDENTIALS, partSizeBytes: PART });
});
afterAll(async () => {
  for (const store of Object.values(stores)) await store.close();
  await s3?.close();
  await rm(localRoot, { recursive: true, force: true });
});

describe.each(['local', 's3'])('the %s blob store', (kind) => {
  const store = (): BlobStore => stores[kind] as BlobStore;
  const prefix = () => `exports/test-${randomBytes(4).toString('hex')}`;

  it('keeps what it was given, whole and in byte ranges, with its size', async () => {
    const key = `${prefix()}/small.zip`;
    const data = randomBytes(10_000);
    expect(await store().put(key, Readable.from([data]), { contentType: 'application/zip' })).toEqual({ sizeBytes: 10_000 });
    const info = await store().stat(key);
    expect({ key: info?.key, sizeBytes: info?.sizeBytes, recent: Math.abs(Date.now() - (info?.modifiedAt.getTime() ?? 0)) < 60_000 }).toEqual({ key, sizeBytes: 10_000, recent: true });
    expect(await collect(await store().read(key))).toEqual(data);
    expect(await collect(await store().read(key, { start: 100, end: 199 }))).toEqual(data.subarray(100, 200));
    expect(await collect(await store().read(key, { start: 9_990, end: 9_999 }))).toEqual(data.subarray(9_990));
  });

  it('streams a blob larger than a part (a multipart upload on S3) without changing a byte', async () => {
    const key = `${prefix()}/large.zip`;
    const seen: Buffer[] = [];
    const size = 2 * PART + 1_234_567;
    expect(await store().put(key, randomStream(size, seen), { contentType: 'application/zip' })).toEqual({ sizeBytes: size });
    const back = await collect(await store().read(key));
    expect({ length: back.length, sha256: sha(back) }).toEqual({ length: size, sha256: sha(Buffer.concat(seen)) });
  });

  it('leaves nothing under the key when the write is aborted or its source fails', async () => {
    const base = prefix();
    const controller = new AbortController();
    const aborted = store().put(`${base}/aborted.zip`, randomStream(3 * PART), { contentType: 'application/zip', signal: controller.signal });
    setTimeout(() => controller.abort(new Error('cancelled')), 20);
    await expect(aborted).rejects.toThrow();
    await expect(store().put(`${base}/broken.zip`, randomStream(3 * PART, [], PART + 65_536), { contentType: 'application/zip' })).rejects.toThrow(
      'the source broke',
    );
    expect(await store().stat(`${base}/aborted.zip`)).toBeUndefined();
    expect(await store().stat(`${base}/broken.zip`)).toBeUndefined();
    // The local store lists its partial files too: none is left.
    const listed: string[] = [];
    for await (const blob of store().list(`${base}/`)) listed.push(blob.key);
    expect(listed).toEqual([]);
  });

  it('lists by prefix and deletes idempotently', async () => {
    const base = prefix();
    for (const name of ['a/1.zip', 'a/2.zip', 'b/1.zip']) await store().put(`${base}/${name}`, Readable.from([Buffer.from(name)]), { contentType: 'application/zip' });
    const listed: { key: string; sizeBytes: number }[] = [];
    for await (const blob of store().list(`${base}/`)) listed.push({ key: blob.key, sizeBytes: blob.sizeBytes });
    expect(listed.sort((x, y) => x.key.localeCompare(y.key))).toEqual([
      { key: `${base}/a/1.zip`, sizeBytes: 7 },
      { key: `${base}/a/2.zip`, sizeBytes: 7 },
      { key: `${base}/b/1.zip`, sizeBytes: 7 },
    ]);
    await store().delete(`${base}/a/1.zip`);
    await store().delete(`${base}/a/1.zip`);
    await store().delete(`${base}/never/there.zip`);
    expect(await store().stat(`${base}/a/1.zip`)).toBeUndefined();
    expect(await store().stat(`${base}/a/2.zip`)).toBeDefined();
  });

  it('refuses keys that could leave its root', async () => {
    for (const key of ['../escape.zip', 'exports/../../x', '/absolute.zip', 'exports//double', 'exports/./x']) {
      await expect(store().put(key, Readable.from([Buffer.from('x')]), { contentType: 'application/zip' })).rejects.toThrow('invalid blob key');
    }
  });
});

describe('presigned download URLs', () => {
  it('are not offered by the local store (the API serves its files)', async () => {
    expect(await stores.local?.presignedGetUrl('exports/x.zip', { expiresAt: new Date(Date.now() + 60_000), filename: 'x.zip', contentType: 'application/zip' })).toBeUndefined();
  });

  it('are S3 presigned GETs that serve the bytes as an attachment, and stop working once expired', async () => {
    const store = stores.s3 as BlobStore;
    const key = `exports/presigned-${randomBytes(4).toString('hex')}/1.zip`;
    const data = randomBytes(4096);
    await store.put(key, Readable.from([data]), { contentType: 'application/zip' });
    const url = await store.presignedGetUrl(key, { expiresAt: new Date(Date.now() + 60_000), filename: 'export-1.zip', contentType: 'application/zip' });
    expect(url).toContain('X-Amz-Signature=');
    const res = await fetch(String(url));
    expect({ status: res.status, disposition: res.headers.get('content-disposition'), type: res.headers.get('content-type') }).toEqual({
      status: 200,
      disposition: 'attachment; filename="export-1.zip"',
      type: 'application/zip',
    });
    expect(Buffer.from(await res.arrayBuffer())).toEqual(data);

    const short = await store.presignedGetUrl(key, { expiresAt: new Date(Date.now() + 1000), filename: 'export-1.zip', contentType: 'application/zip' });
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect((await fetch(String(short))).status).toBe(403);
  });
});
