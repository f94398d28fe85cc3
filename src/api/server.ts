import type { Server } from 'node:http';
import { moduleLogger, type Logger } from '../platform/logger';
import type { Platform } from '../platform/platform';
import { CheckpointWatcher } from '../platform/checkpoints/checkpoint-watcher';
import { createWriterPool } from '../platform/db/roles';
import { brokerReachable } from '../platform/mqtt/broker-reachable';
import { loadOrCreateDeviceCa, type DeviceCa } from '../platform/pki/device-ca';
import { PROJECTIONS } from '../projections/index';
import type { ApiDeps } from './api-deps';
import { createApp } from './app';
import { answerClientErrors } from './client-errors';
import { Authenticator } from './auth/authenticator';
import { resolveJwtSettings } from './auth/jwt-settings';
import { JwtVerifier } from './auth/jwt-verifier';
import { RateLimiter } from './rate-limiter';
import { API_ROUTES } from './routes/index';
import { SchemaRegistry } from './schema-registry';
import { createSmtpEmailSender } from '../platform/email/smtp-email-sender';
import { OpenStreams } from './server-sent-events';
import { startReadingsService, type ReadingsService } from '../ingest/readings/readings-service';
import { createMetricsRegistry } from '../platform/metrics-registry';
import { Gauge, type Registry } from 'prom-client';
import { projectionLagMs } from './routes/health';
import { openBlobStore } from '../platform/blobs/open-blob-store';
import { loadOrCreateUrlSigningKey } from '../platform/blobs/url-signing-key';
import { ExportLinks } from './routes/exports.links';

/** `iotplane_projection_lag_seconds{projection}`, read at scrape time. */
function registerProjectionLag(registry: Registry, deps: Parameters<typeof projectionLagMs>[0], projections: typeof PROJECTIONS): void {
  new Gauge({
    name: 'iotplane_projection_lag_seconds',
    help: 'Age of the oldest event a projection handles and has not applied yet (0 when caught up).',
    labelNames: ['projection'],
    registers: [registry],
    async collect() {
      for (const projection of projections) this.set({ projection: projection.name }, (await projectionLagMs(deps, projection)) / 1000);
    },
  });
}

/** Shared with the ingest role when one process runs both; created here otherwise (and stopped with the API). */
export interface SharedPipeline {
  readonly readings: ReadingsService;
  readonly metrics: Registry;
}

/** Builds what the API needs from the platform (also used by tests with their own database). */
export async function createApiDeps(platform: Platform, log: Logger, ca?: DeviceCa, shared?: SharedPipeline): Promise<ApiDeps & { ownsReadings: boolean }> {
  // First: a CA that cannot be loaded stops the start before anything else is opened.
  const deviceCa = ca ?? (await loadOrCreateDeviceCa({ dataDir: platform.config.dataDir, ...platform.config.deviceCa }));
  const watcher = new CheckpointWatcher(platform.pool, platform.databaseUrl, PROJECTIONS);
  await watcher.start();
  const metrics = shared?.metrics ?? createMetricsRegistry();
  const readings =
    shared?.readings ??
    (await startReadingsService({ ...platform, log, registry: metrics }));
  registerProjectionLag(metrics, { store: platform.store, watcher }, PROJECTIONS);
  const blobs = openBlobStore(platform.config.blobStore);
  const signingKey = await loadOrCreateUrlSigningKey(platform.config.dataDir, platform.config.exports.signingKey);
  const exportLinks = new ExportLinks({ key: signingKey, publicUrl: platform.config.publicUrl, blobs, ttlSeconds: platform.config.exports.urlTtlSeconds });
  return {
    ownsReadings: shared === undefined,
    readings,
    metrics,
    config: platform.config,
    log,
    pool: platform.pool,
    store: platform.store,
    watcher,
    schemas: new SchemaRegistry(),
    authenticator: new Authenticator(
      createWriterPool(platform.databaseUrl, 4, 'iotplane-auth'),
      new JwtVerifier(await resolveJwtSettings(platform.config)),
    ),
    rateLimiter: new RateLimiter(platform.config.rateLimits),
    streams: new OpenStreams(moduleLogger(log, 'event-streams')),
    // The test-send of EMAIL channels (docs/notifications.md).
    ...(platform.config.notify.smtp ? { email: createSmtpEmailSender(platform.config.notify.smtp, platform.config.notify.timeoutMs) } : {}),
    blobs,
    exportLinks,
    deviceCa,
    readiness: async () => ({ broker: await brokerReachable(platform.config.mqttUrl, platform.config.mqttPort) }),
  };
}

/**
 * Stops taking connections and resolves once every one is gone. Open event
 * streams would keep server.close() waiting forever, so they are ended first.
 */
export async function closeHttpServer(server: Server, streams: OpenStreams): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  await streams.closeAll();
  // The ended streams' keep-alive connections turned idle after close() looked for idle ones.
  server.closeIdleConnections();
  await closed;
}

export async function startApi(platform: Platform, log: Logger, ca: DeviceCa, shared?: SharedPipeline): Promise<{ stop(): Promise<void> }> {
  const deps = await createApiDeps(platform, log, ca, shared);
  const app = createApp(deps, API_ROUTES, PROJECTIONS);
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(platform.config.port, () => resolve(s));
  });
  answerClientErrors(server);
  log.info({ port: platform.config.port, url: platform.config.publicUrl }, 'API listening');
  return {
    async stop() {
      await closeHttpServer(server, deps.streams);
      await deps.watcher.stop();
      await deps.authenticator.close();
      if (deps.ownsReadings) await deps.readings.stop();
      await deps.blobs.close();
    },
  };
}
