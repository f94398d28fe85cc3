import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';

export interface UploadTarget {
  readonly bucket: string;
  readonly key: string;
  readonly contentType: string;
  readonly partSize: number;
  readonly signal: AbortSignal | undefined;
}

/** Parts uploaded at once while the next one fills: memory stays below (this + 1) parts. */
const PARTS_IN_FLIGHT = 2;

/**
 * Streams `body` to S3 without knowing its length: a PutObject when it ends
 * within the first part, else a multipart upload whose parts are sent while
 * the stream goes on (reading pauses while PARTS_IN_FLIGHT are on the way).
 * On failure or abort the multipart upload is aborted, so nothing appears
 * under the key; a crash leaves an incomplete upload, invisible to readers,
 * which the bucket's AbortIncompleteMultipartUpload lifecycle rule removes.
 */
export async function multipartUpload(client: S3Client, target: UploadTarget, body: Readable): Promise<{ sizeBytes: number }> {
  const { bucket, key, contentType, partSize, signal } = target;
  let chunks: Buffer[] = [];
  let buffered = 0;
  let sizeBytes = 0;
  let uploadId: string | undefined;
  const parts: { ETag: string; PartNumber: number }[] = [];
  const inFlight = new Set<Promise<void>>();
  let nextPart = 1;
  // A part that fails is noticed at the next step, not as an unhandled rejection.
  let failure: unknown;
  const check = (): void => {
    if (failure !== undefined) throw failure;
    signal?.throwIfAborted();
  };

  const sendPart = async (data: Buffer): Promise<void> => {
    uploadId ??= (await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType }), { abortSignal: signal })).UploadId;
    if (!uploadId) throw new Error('S3 returned no UploadId');
    const partNumber = nextPart++;
    const tracked: Promise<void> = client
      .send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: data }), { abortSignal: signal })
      .then((answer) => {
        if (!answer.ETag) throw new Error(`S3 returned no ETag for part ${partNumber}`);
        parts.push({ ETag: answer.ETag, PartNumber: partNumber });
      })
      .catch((error: unknown) => {
        failure ??= error;
      })
      .finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    // Reading waits while the parts in flight are at their limit (back-pressure on the source).
    if (inFlight.size >= PARTS_IN_FLIGHT) await Promise.race(inFlight);
    check();
  };

  const take = (): Buffer => {
    const data = Buffer.concat(chunks, buffered);
    chunks = [];
    buffered = 0;
    return data;
  };

  try {
    for await (const chunk of body) {
      check();
      const data = chunk as Buffer;
      chunks.push(data);
      buffered += data.length;
      sizeBytes += data.length;
      if (buffered >= partSize) await sendPart(take());
    }
    check();
    if (uploadId === undefined) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: take(), ContentType: contentType }), { abortSignal: signal });
      return { sizeBytes };
    }
    if (buffered > 0) await sendPart(take());
    await Promise.all(inFlight);
    check();
    parts.sort((a, b) => a.PartNumber - b.PartNumber);
    await client.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
      { abortSignal: signal },
    );
    return { sizeBytes };
  } catch (error) {
    body.destroy();
    await Promise.allSettled(inFlight);
    if (uploadId !== undefined) {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
    }
    throw error;
  }
}
