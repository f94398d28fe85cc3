import type { Registry } from 'prom-client';
import type { ReadingsService } from '../ingest/readings/readings-service';
import type { Config } from '../platform/config';
import type { CheckpointWatcher } from '../platform/checkpoints/checkpoint-watcher';
import type { Pool } from '../platform/db/pool';
import type { EventStore } from '../platform/event-store/event-store.port';
import type { Logger } from '../platform/logger';
import type { DeviceCa } from '../platform/pki/device-ca';
import type { Authenticator } from './auth/authenticator';
import type { RateLimiter } from './rate-limiter';
import type { SchemaRegistry } from './schema-registry';

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
  /** Checked by /readyz besides the database and the event store. */
  readonly readiness?: () => Promise<Record<string, boolean>>;
}
