import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertBlobKey, type BlobInfo, type BlobStore, type ByteRange } from './blob-store.port';

/** Suffix of a file being written; renamed to its key once complete. */
const PARTIAL = '.partial';

const missing = (error: unknown): boolean => (error as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * Blobs as files under `root` (the data folder's `blobs/`). A write goes to
 * `<key>.<random>.partial` and is renamed onto the key once flushed, so a
 * reader never sees half a file; a crash leaves the partial file, which
 * `list` shows (the exports' sweep deletes such leftovers).
 */
export class LocalBlobStore implements BlobStore {
  readonly kind = 'local';

  constructor(private readonly root: string) {}

  private file(key: string): string {
    assertBlobKey(key);
    return path.join(this.root, ...key.split('/'));
  }

  async put(key: string, body: Readable, options: { readonly contentType: string; readonly signal?: AbortSignal }): Promise<{ sizeBytes: number }> {
    const target = this.file(key);
    await mkdir(path.dirname(target), { recursive: true });
    const partial = `${target}.${randomBytes(6).toString('hex')}${PARTIAL}`;
    try {
      const file = createWriteStream(partial, { flags: 'wx', mode: 0o600 });
      await (options.signal ? pipeline(body, file, { signal: options.signal }) : pipeline(body, file));
      const { size } = await stat(partial);
      await rename(partial, target);
      return { sizeBytes: size };
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  async stat(key: string): Promise<BlobInfo | undefined> {
    try {
      const info = await stat(this.file(key));
      return info.isFile() ? { key, sizeBytes: info.size, modifiedAt: info.mtime } : undefined;
    } catch (error) {
      if (missing(error)) return undefined;
      throw error;
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    const stream = createReadStream(this.file(key), range ? { start: range.start, end: range.end } : {});
    // Opening errors (a file deleted meanwhile) surface here rather than mid-response.
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
    return stream;
  }

  async delete(key: string): Promise<void> {
    await rm(this.file(key), { force: true });
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    const base = this.file(prefix.replace(/\/+$/, ''));
    yield* this.walk(base, prefix.replace(/\/+$/, ''));
  }

  private async *walk(dir: string, keyPrefix: string): AsyncIterable<BlobInfo> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (missing(error)) return;
      throw error;
    }
    for (const entry of entries) {
      const key = `${keyPrefix}/${entry.name}`;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        yield* this.walk(full, key);
      } else if (entry.isFile()) {
        const info = await stat(full).catch((error: unknown) => (missing(error) ? undefined : Promise.reject(error)));
        if (info) yield { key, sizeBytes: info.size, modifiedAt: info.mtime };
      }
    }
  }

  presignedGetUrl(): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
