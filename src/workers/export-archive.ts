import { createHash, type Hash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { ZipFile } from 'yazl';
import type { BlobStore } from '../platform/blobs/blob-store.port';

/** One file of the zip, produced when the zip reaches it (entries share one database connection, in turn). */
export interface ArchiveEntry {
  readonly name: string;
  /** Facts for the manifest (the source table, whether it exists). */
  readonly about: Readonly<Record<string, unknown>>;
  open(): AsyncIterable<Buffer | string>;
  /** Rows written, once the entry is complete. */
  rows(): number;
}

export interface EntrySummary {
  readonly name: string;
  readonly rows: number;
  readonly bytes: number;
  readonly sha256: string;
  readonly [fact: string]: unknown;
}

/** Rows so far and the share of the work done, read by the heartbeat. */
export class ExportProgress {
  rows = 0;
  private done = 0;

  constructor(private readonly units: number) {}

  step(): void {
    this.done += 1;
  }

  /** Below 100 until the export is complete. */
  get percent(): number {
    return this.units === 0 ? 0 : Math.min(99, Math.floor((100 * this.done) / this.units));
  }
}

/** Passes an entry's bytes on unchanged, counting them and hashing them for the manifest. */
class EntryMeter extends Transform {
  bytes = 0;
  private readonly hash: Hash = createHash('sha256');

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    callback(null, chunk);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

export interface ArchiveOptions {
  readonly compressionLevel: number;
  readonly mtime: Date;
  readonly signal: AbortSignal;
}

/**
 * Streams the entries, then manifest.json (built from what was written:
 * rows, bytes and SHA-256 of each entry), as a zip straight into the blob
 * store. Memory holds a few chunks per stage, whatever the export's size:
 * each stage waits for the next (the database connection for the zip's
 * deflate, the deflate for the store's write). The first failure — an
 * entry's query, the store, or `signal` — stops everything, and the store
 * keeps nothing under the key.
 */
export async function writeArchive(
  blobs: BlobStore,
  key: string,
  entries: readonly ArchiveEntry[],
  manifest: (entries: EntrySummary[]) => Record<string, unknown>,
  options: ArchiveOptions,
): Promise<{ sizeBytes: number; entries: EntrySummary[] }> {
  const zip = new ZipFile();
  const output = zip.outputStream as Readable;
  const summaries: EntrySummary[] = [];
  const sources = new Set<Readable>();
  const fail = (error: unknown): void => {
    for (const source of sources) source.destroy();
    output.destroy(error instanceof Error ? error : new Error(String(error)));
  };
  const onAbort = (): void => fail(options.signal.reason);
  options.signal.addEventListener('abort', onAbort, { once: true });
  zip.on('error', fail);
  // The store's write reports the output's failure; yazl may still write into it after, which must not crash the worker.
  output.on('error', () => undefined);
  const fileOptions = { compressionLevel: options.compressionLevel, mtime: options.mtime };

  for (const entry of entries) {
    zip.addReadStreamLazy(entry.name, fileOptions, (callback) => {
      const source = Readable.from(entry.open(), { objectMode: false });
      const meter = new EntryMeter();
      sources.add(source);
      // `on`, not `once`: a query cut off by the abort may still fail after the first error.
      source.on('error', fail);
      meter.on('error', fail);
      meter.once('end', () => {
        sources.delete(source);
        summaries.push({ ...entry.about, name: entry.name, rows: entry.rows(), bytes: meter.bytes, sha256: meter.digest() });
      });
      callback(null, source.pipe(meter));
    });
  }
  // Built when the zip reaches it, that is once every entry has been written.
  zip.addReadStreamLazy('manifest.json', fileOptions, (callback) => {
    callback(null, Readable.from([Buffer.from(`${JSON.stringify(manifest([...summaries]), null, 2)}\n`)]));
  });
  zip.end();
  try {
    const { sizeBytes } = await blobs.put(key, output, { contentType: 'application/zip', signal: options.signal });
    return { sizeBytes, entries: summaries };
  } catch (error) {
    // The store gave up (or was aborted): stop reading the database too.
    fail(error);
    throw error;
  } finally {
    options.signal.removeEventListener('abort', onAbort);
  }
}
