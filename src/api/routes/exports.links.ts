import { createHmac, timingSafeEqual } from 'node:crypto';
import type { BlobStore } from '../../platform/blobs/blob-store.port';

export const ZIP_TYPE = 'application/zip';

export const archiveName = (id: string): string => `export-${id}.zip`;

export interface ExportLinksOptions {
  readonly key: Buffer;
  /** The API's public base URL (PUBLIC_URL). */
  readonly publicUrl: string;
  readonly blobs: BlobStore;
  /** Life of one URL; never past the export's expiresAt. */
  readonly ttlSeconds: number;
}

/** What a verified download URL grants: this export of this organization. */
export interface DownloadGrant {
  readonly orgId: string;
  readonly id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Download URLs of finished exports. An S3 store presigns its own; the local
 * store has none, so the API serves the file at
 * `/api/v1/exports/{id}/download?org=…&expires=…&signature=…`, where the
 * signature is an HMAC-SHA256 over the export id, the organization and the
 * expiry: changing any of them, or using the URL after `expires`, is refused.
 */
export class ExportLinks {
  constructor(private readonly options: ExportLinksOptions) {}

  /** A fresh URL valid for the configured time, or until `expiresAt` if that comes first; undefined once it has. */
  async downloadUrl(file: { orgId: string; id: string; blobKey: string; expiresAt: Date }, now = new Date()): Promise<string | undefined> {
    const until = new Date(Math.min(now.getTime() + this.options.ttlSeconds * 1000, file.expiresAt.getTime()));
    if (until <= now) return undefined;
    const presigned = await this.options.blobs.presignedGetUrl(file.blobKey, { expiresAt: until, filename: archiveName(file.id), contentType: ZIP_TYPE });
    if (presigned !== undefined) return presigned;
    // Whole seconds, rounded down: the URL never outlives `until`.
    const expires = Math.floor(until.getTime() / 1000);
    const query = new URLSearchParams({ org: file.orgId, expires: String(expires), signature: this.signature(file.orgId, file.id, expires) });
    return `${this.options.publicUrl}/api/v1/exports/${file.id}/download?${query.toString()}`;
  }

  /** The grant of a download URL, or undefined when it is not one this API signed, or has expired. */
  verify(id: string, query: { org?: unknown; expires?: unknown; signature?: unknown }, now = new Date()): DownloadGrant | undefined {
    const { org, expires, signature } = query;
    if (typeof org !== 'string' || typeof expires !== 'string' || typeof signature !== 'string') return undefined;
    if (!UUID.test(org) || !/^\d{1,12}$/.test(expires) || !/^[A-Za-z0-9_-]{43}$/.test(signature)) return undefined;
    const expected = Buffer.from(this.signature(org, id, Number(expires)), 'base64url');
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    if (Number(expires) * 1000 <= now.getTime()) return undefined;
    return { orgId: org, id };
  }

  private signature(orgId: string, id: string, expires: number): string {
    return createHmac('sha256', this.options.key).update(`iotplane-export-download\n${orgId}\n${id}\n${expires}`).digest('base64url');
  }
}
