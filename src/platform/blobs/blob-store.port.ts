import type { Readable } from 'node:stream';

export interface BlobInfo {
  readonly key: string;
  readonly sizeBytes: number;
  readonly modifiedAt: Date;
}

/** Bytes `start` to `end`, both inclusive (as in HTTP Range). */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export interface PresignOptions {
  /** The URL stops working then. */
  readonly expiresAt: Date;
  /** Offered to the browser as the download's file name. */
  readonly filename: string;
  readonly contentType: string;
}

/**
 * Where files (export archives) are kept: the local file system under the
 * data folder by default, an S3-compatible bucket in production. Keys are
 * relative paths (`exports/<org>/<id>/<attempt>.zip`).
 */
export interface BlobStore {
  readonly kind: 'local' | 's3';
  /**
   * Streams `body` into `key`. The blob becomes readable only once complete:
   * a write that fails or is aborted (`signal`) leaves nothing behind under `key`.
   */
  put(key: string, body: Readable, options: { readonly contentType: string; readonly signal?: AbortSignal }): Promise<{ sizeBytes: number }>;
  /** Undefined when there is no such blob. */
  stat(key: string): Promise<BlobInfo | undefined>;
  /** The blob's bytes, or a range of them (which must lie within the blob). */
  read(key: string, range?: ByteRange): Promise<Readable>;
  /** Idempotent: deleting a missing blob succeeds. */
  delete(key: string): Promise<void>;
  /** Every blob under `prefix`, including the leftovers of interrupted writes where the store keeps any. */
  list(prefix: string): AsyncIterable<BlobInfo>;
  /**
   * A URL that GETs the blob without credentials until `expiresAt`, or
   * undefined when the store cannot sign one (local: the API serves the file).
   */
  presignedGetUrl(key: string, options: PresignOptions): Promise<string | undefined>;
  close(): Promise<void>;
}

/** Keys are plain relative paths: no `..`, no leading slash, nothing a file system or URL would read twice. */
export function assertBlobKey(key: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/.test(key) || key.split('/').some((part) => part === '..' || part === '.')) {
    throw new Error(`invalid blob key ${JSON.stringify(key)}`);
  }
}
