import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import type { Express } from 'express';
import yauzl from 'yauzl';
import type { BlobStore } from '../../src/platform/blobs/blob-store.port';
import { startExportWorker, type ExportWorker } from '../../src/workers/exports';
import { startTestApi, type TestApi, type TestOrg } from './test-api';
import { waitUntil } from './wait-until';

/** Settings that make the export machinery quick to observe in tests. */
export const FAST_EXPORTS = { EXPORT_HEARTBEAT_MS: '100', EXPORT_LEASE_SECONDS: '1', EXPORT_POLL_MS: '50', EXPORT_URL_TTL_SECONDS: '60' };

/**
 * The API listening on a real port (downloadUrl points at it through
 * PUBLIC_URL), with projectors, plus export workers started on demand.
 */
export interface ExportRig {
  readonly api: TestApi;
  readonly baseUrl: string;
  startWorker(options?: { blobs?: BlobStore; workerId?: string }): Promise<ExportWorker>;
  /** fetch() against the API with an organization's credentials. */
  call(org: TestOrg, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function startExportRig(env: Record<string, string> = {}): Promise<ExportRig> {
  // The server listens first (its port goes into PUBLIC_URL); the app arrives once the API is built.
  const target: { app?: Express } = {};
  const server: Server = createServer((req, res) => {
    if (target.app) target.app(req, res);
    else res.writeHead(503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const api = await startTestApi({ ...FAST_EXPORTS, PUBLIC_URL: baseUrl, ...env });
  target.app = api.app;
  const workers: ExportWorker[] = [];
  return {
    api,
    baseUrl,
    async startWorker(options = {}) {
      const worker = await startExportWorker({
        pool: api.platform.pool,
        databaseUrl: api.platform.databaseUrl,
        store: api.platform.store,
        blobs: options.blobs ?? api.deps.blobs,
        config: api.platform.config.exports,
        log: api.platform.log,
        ...(options.workerId ? { workerId: options.workerId } : {}),
      });
      workers.push(worker);
      return worker;
    },
    async call(org, method, path, body) {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: { authorization: org.auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
    },
    async close() {
      for (const worker of workers) await worker.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await api.close();
    },
  };
}

/** Polls GET /exports/{id} until its status is one of `statuses`; answers the last body. */
export async function pollExport(rig: ExportRig, org: TestOrg, id: string, statuses: string[], timeoutMs = 20_000): Promise<Record<string, unknown>> {
  let last: Record<string, unknown> = {};
  await waitUntil(
    `export ${id} is ${statuses.join(' or ')} (last seen: ${JSON.stringify(last)})`,
    async () => {
      const res = await rig.call(org, 'GET', `/api/v1/exports/${id}`);
      last = res.body;
      return statuses.includes(String(res.body.status));
    },
    timeoutMs,
    20,
  );
  return last;
}

/** Every entry of a zip, by name; yauzl checks the structure and sizes as it reads. */
export async function unzip(archive: Buffer): Promise<Map<string, Buffer>> {
  const zip = await yauzl.fromBufferPromise(archive, { lazyEntries: true, validateEntrySizes: true });
  const entries = new Map<string, Buffer>();
  await new Promise<void>((resolve, reject) => {
    zip.on('error', reject);
    zip.on('end', () => resolve());
    zip.on('entry', (entry: yauzl.Entry) => {
      zip.openReadStream(entry, (err, stream: Readable) => {
        if (err) return reject(err);
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('error', reject);
        stream.on('end', () => {
          entries.set(entry.fileName, Buffer.concat(chunks));
          zip.readEntry();
        });
      });
    });
    zip.readEntry();
  });
  return entries;
}

export const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** CSV lines without the header, split on commas (the readings' fields hold none). */
export function csvRows(text: string): { header: string[]; rows: string[][] } {
  const lines = text.split('\n').filter((line) => line.length > 0);
  const [header = '', ...rest] = lines;
  return { header: header.split(','), rows: rest.map((line) => line.split(',')) };
}
