import type { Registry } from 'prom-client';
import type { ReadingsService } from '../ingest/readings/readings-service';
import type { Config } from '../platform/config';
import type { CheckpointWatcher } from '../platform/checkpoints/checkpoint-watcher';
import type { Pool } from '../platform/db/pool';
import type { EventStore } from '../platform/event-store/event-store.port';
import type { Logger } from '../platform/logger';
import type { DeviceCa } from '../platform/pki/device-ca';
import type { EmailSender } from '../platform/email/email-sender';
import type { Authenticator } from './auth/authenticator';
import type { RateLimiter } from './rate-limiter';
import type { SchemaRegistry } from './schema-registry';
import type { OpenStreams } from './server-sent-events';
import type { BlobStore } from '../platform/blobs/blob-store.port';
import type { ExportLinks } from './routes/exports.links';

/** What route handlers may use; built by the API's composition (server.ts or a test). */
export interface ApiDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly pool: Pool;
  readonly store: EventStore;
  readonly watcher: CheckpointWatcher;
  readonly schemas: SchemaRegistry;
  readonly authenticator: Authenticator;
  readonly rateLimiter: RateLimiter;
  /** Loaded once per process; signs device certificates at provisioning. */
  readonly deviceCa: DeviceCa;
  /** The readings pipeline behind POST /api/v1/readings/batch and quarantine releases. */
  readonly readings: ReadingsService;
  /** Served on /metrics. */
  readonly metrics: Registry;
  /** Sends the EMAIL channels' test notifications; unset while no SMTP adapter is wired (docs/notifications.md). */
  readonly email?: EmailSender;
  /** Open Server-Sent Events responses, ended before the server closes. */
  readonly streams: OpenStreams;
  /** Export archives (docs/exports.md): served by the download route, deleted with their export. */
  readonly blobs: BlobStore;
  /** Fresh download URLs of finished exports, and the check of the API's own. */
  readonly exportLinks: ExportLinks;
  /** Checked by /readyz besides the database and the event store. */
  readonly readiness?: () => Promise<Record<string, boolean>>;
}
