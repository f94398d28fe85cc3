import type { BlobStoreConfig } from '../config';
import type { BlobStore } from './blob-store.port';
import { LocalBlobStore } from './local-blob-store';
import { S3BlobStore } from './s3-blob-store';

/** The blob store the configuration names (BLOB_STORE=local|s3). */
export function openBlobStore(config: BlobStoreConfig): BlobStore {
  switch (config.kind) {
    case 'local':
      return new LocalBlobStore(config.root);
    case 's3':
      return new S3BlobStore(config);
  }
}
