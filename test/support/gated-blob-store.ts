import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { BlobStore, ByteRange, PresignOptions } from '../../src/platform/blobs/blob-store.port';

/**
 * A real blob store whose writes pass their first `openBytes` bytes and then
 * wait until the gate opens: an export that is running, with its progress
 * visible, for as long as a test needs (to cancel it, or to kill its worker).
 */
export class GatedBlobStore implements BlobStore {
  readonly kind: BlobStore['kind'];
  private opened = false;
  private readonly waiting = new Set<() => void>();
  /** Bytes that reached the gate, across writes. */
  arrived = 0;

  constructor(
    private readonly inner: BlobStore,
    private readonly openBytes: number,
  ) {
    this.kind = inner.kind;
  }

  open(): void {
    this.opened = true;
    for (const release of this.waiting) release();
    this.waiting.clear();
  }

  put(key: string, body: Readable, options: { readonly contentType: string; readonly signal?: AbortSignal }): Promise<{ sizeBytes: number }> {
    const gate = new Transform({
      transform: (chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) => {
        this.arrived += chunk.length;
        if (this.opened || this.arrived <= this.openBytes) return callback(null, chunk);
        this.waiting.add(() => callback(null, chunk));
      },
    });
    body.on('error', (err) => gate.destroy(err));
    return this.inner.put(key, body.pipe(gate), options);
  }

  stat(key: string) {
    return this.inner.stat(key);
  }

  read(key: string, range?: ByteRange) {
    return this.inner.read(key, range);
  }

  delete(key: string) {
    return this.inner.delete(key);
  }

  list(prefix: string) {
    return this.inner.list(prefix);
  }

  presignedGetUrl(key: string, options: PresignOptions) {
    return this.inner.presignedGetUrl(key, options);
  }

  close() {
    return this.inner.close();
  }
}
