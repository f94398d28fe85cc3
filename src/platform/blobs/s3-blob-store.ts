import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { assertBlobKey, type BlobInfo, type BlobStore, type ByteRange, type PresignOptions } from './blob-store.port';
import { multipartUpload } from './s3-multipart-upload';

export interface S3BlobStoreOptions {
  readonly bucket: string;
  readonly region: string;
  /** Unset: AWS's own endpoint for the region. */
  readonly endpoint: string | undefined;
  /** Path-style URLs (`<endpoint>/<bucket>/<key>`), as MinIO and most S3-compatible servers need. */
  readonly forcePathStyle: boolean;
  /** Unset: the SDK's default chain (environment, instance role…). */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
  /** Size of a multipart upload's parts (S3's minimum is 5 MiB). */
  readonly partSizeBytes?: number;
}

const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
/** S3 refuses presigned URLs valid for more than a week. */
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

const notFound = (error: unknown): boolean =>
  error instanceof S3ServiceException && (error.$metadata.httpStatusCode === 404 || error.name === 'NotFound' || error.name === 'NoSuchKey');

/**
 * Blobs in an S3-compatible bucket. Writes stream as a multipart upload
 * (memory: two parts at most), or one PutObject when the blob fits in one
 * part; downloads are presigned GET URLs.
 */
export class S3BlobStore implements BlobStore {
  readonly kind = 's3';
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly partSize: number;

  constructor(options: S3BlobStoreOptions) {
    this.bucket = options.bucket;
    this.partSize = options.partSizeBytes ?? DEFAULT_PART_SIZE;
    this.client = new S3Client({
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: { ...options.credentials } } : {}),
      // Checksums only where S3 requires them: S3-compatible servers (MinIO, s3rver) do not all know the newer ones.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async put(key: string, body: Readable, options: { readonly contentType: string; readonly signal?: AbortSignal }): Promise<{ sizeBytes: number }> {
    assertBlobKey(key);
    return multipartUpload(this.client, { bucket: this.bucket, key, contentType: options.contentType, partSize: this.partSize, signal: options.signal }, body);
  }

  async stat(key: string): Promise<BlobInfo | undefined> {
    assertBlobKey(key);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { key, sizeBytes: head.ContentLength ?? 0, modifiedAt: head.LastModified ?? new Date(0) };
    } catch (error) {
      if (notFound(error)) return undefined;
      throw error;
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    assertBlobKey(key);
    const object = await this.client.send(
      new GetObjectCommand({ Bucket: this.bucket, Key: key, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }),
    );
    if (!(object.Body instanceof Readable)) throw new Error(`S3 returned no readable body for ${key}`);
    return object.Body;
  }

  async delete(key: string): Promise<void> {
    assertBlobKey(key);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) yield { key: object.Key, sizeBytes: object.Size ?? 0, modifiedAt: object.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async presignedGetUrl(key: string, options: PresignOptions): Promise<string> {
    assertBlobKey(key);
    const seconds = Math.min(MAX_PRESIGN_SECONDS, Math.max(1, Math.floor((options.expiresAt.getTime() - Date.now()) / 1000)));
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: key,
      ResponseContentType: options.contentType,
      ResponseContentDisposition: `attachment; filename="${options.filename}"`,
    });
    return getSignedUrl(this.client, command, { expiresIn: seconds });
  }

  close(): Promise<void> {
    this.client.destroy();
    return Promise.resolve();
  }
}
