import { bootstrapFirstOrganization } from './commands/organizations/bootstrap';
import { loadConfig, ConfigError } from './platform/config';
import { createLogger, moduleLogger } from './platform/logger';
import { openPlatform } from './platform/platform';
import { startProjectors } from './projections/projector-process';
import { startApi } from './api/server';
import { startPlatformBroker } from './platform/mqtt/embedded-broker.wiring';
import { loadOrCreateDeviceCa } from './platform/pki/device-ca';
import { loadRevokedSerials } from './projections/device-certificates.projection';
import { startCertificateRenewal } from './ingest/certificate-renewal';
import { startCertificateSupersession } from './workers/certificate-renewal';
import { startReadingsPartitions } from './workers/readings-partitions';
import { startNotifications } from './workers/notifications';
import { startAlertAbsence } from './workers/alert-absence';
import { startDeviceHealthIngest } from './ingest/device-health.ingest';
import { startCrlPublisher } from './platform/mqtt/crl-publisher';
import { reloadByPidFile } from './platform/mqtt/mosquitto-reload';
import { mosquittoSessionKicker } from './platform/mqtt/mosquitto-session-kick';
import { createMetricsRegistry } from './platform/metrics-registry';
import { startMetricsServer } from './platform/metrics-server';
import { startReadingsService } from './ingest/readings/readings-service';
import { startReadingsIngest } from './ingest/readings-ingest';
import { startCommandDispatcher } from './ingest/command-dispatcher';
import { startDeviceStateSync } from './ingest/device-state/device-state-sync';
import { openBlobStore } from './platform/blobs/open-blob-store';
import { startExportWorker } from './workers/exports';
import { startExportExpiry } from './workers/export-expiry';

/** Ends the process with a status, even while pools and listeners are still open. */
const terminate: (code: number) => never = process.exit.bind(process);

/**
 * Composition root. `node dist/src/main.js [role]` where role is
 * api | ingest | projector | worker | all (default; also ROLE=...).
 */
const ROLES = ['api', 'ingest', 'projector', 'worker', 'all'] as const;
type Role = (typeof ROLES)[number];

interface Stoppable {
  stop(): Promise<void>;
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`iotplane: invalid configuration: ${error.message}\n`);
      terminate(2);
    }
    throw error;
  }
  const roleArg = process.argv[2] ?? process.env.ROLE ?? 'all';
  if (!(ROLES as readonly string[]).includes(roleArg)) {
    process.stderr.write(`iotplane: unknown role "${roleArg}"; expected one of ${ROLES.join(', ')}\n`);
    terminate(2);
  }
  const role = roleArg as Role;
  const root = createLogger(config.logLevel);
  const log = moduleLogger(root, 'main');
  const platform = await openPlatform(config, root, { name: `iotplane-${role}` });

  const created = await bootstrapFirstOrganization(platform.pool, platform.store, config.dataDir);
  if (created) {
    process.stdout.write(
      `\nFirst start: created organization ${created.orgId}\n` +
        `Admin API key (shown once, also in ${config.dataDir}/bootstrap.json):\n  ${created.apiKey}\n\n`,
    );
  }

  const deviceCa = await loadOrCreateDeviceCa({ dataDir: config.dataDir, ...config.deviceCa });
  const running: Stoppable[] = [];
  const metrics = createMetricsRegistry();
  // One readings pipeline per process, shared by its doors (MQTT in ingest, the batch route in api).
  const readings =
    role === 'ingest' || role === 'api' || role === 'all'
      ? await startReadingsService({ ...platform, log: moduleLogger(root, 'readings'), registry: metrics })
      : undefined;
  if (readings) running.push(readings);
  if (role === 'projector' || role === 'all') running.push(startProjectors(platform, moduleLogger(root, 'projector')));
  if (role === 'ingest' || role === 'all') {
    // The embedded broker (unless MQTT_URL names an external one) lives with ingest: one per deployment.
    const broker = await startPlatformBroker(platform, deviceCa, () => loadRevokedSerials(platform.pool));
    if (broker) {
      running.push(broker);
      log.info({ url: broker.url }, 'embedded MQTT broker listening (mutual TLS)');
    }
    // Started after the broker it connects to, so stopped before it (running stops in reverse).
    running.push(
      await startCertificateRenewal({
        url: broker?.url ?? config.mqttUrl ?? '',
        store: platform.store,
        ca: deviceCa,
        validityDays: config.deviceCertValidityDays,
        log: moduleLogger(root, 'certificate-renewal'),
        // A fixed identity that Mosquitto's ACL (admin broker-config --internal) can name; a second ingest process needs another.
        name: 'renewal',
      }),
    );
    if (readings) {
      running.push(
        await startReadingsIngest({
          url: broker?.url ?? config.mqttUrl ?? '',
          ca: deviceCa,
          service: readings,
          pool: platform.pool,
          store: platform.store,
          log: moduleLogger(root, 'readings-ingest'),
          name: config.ingest.name,
          connections: config.ingest.connections,
          gapTimeoutSeconds: config.ingest.gapTimeoutSeconds,
        }),
      );
    }
    running.push(
      await startDeviceStateSync({
        platform,
        url: broker?.url ?? config.mqttUrl ?? '',
        ca: deviceCa,
        log: moduleLogger(root, 'device-state'),
        registry: metrics,
      }),
    );
    running.push(
      await startCommandDispatcher({
        url: broker?.url ?? config.mqttUrl ?? '',
        ca: deviceCa,
        store: platform.store,
        pool: platform.pool,
        log: moduleLogger(root, 'command-dispatcher'),
        registry: metrics,
        pollMs: config.commandsPollMs,
        // Listed in Mosquitto's ACL (admin broker-config --internal); a second ingest process needs another name.
        name: 'commands',
      }),
    );
    // The embedded broker feeds health itself; Mosquitto reports no sessions, so heartbeats are read from it.
    if (config.mqttUrl !== undefined) {
      running.push(await startDeviceHealthIngest({ url: config.mqttUrl, ca: deviceCa, store: platform.store, log: moduleLogger(root, 'device-health-ingest') }));
    }
  }
  if (role === 'worker' || role === 'all') {
    const graceSeconds = config.certRenewalGraceSeconds;
    running.push(startCertificateSupersession({ store: platform.store, pool: platform.pool, log: moduleLogger(root, 'certificate-supersession'), graceSeconds }));
    // Alert events → deliveries → webhooks, Slack, email (docs/notifications.md); several workers may run it.
    running.push(startNotifications({ platform, config: config.notify, log: moduleLogger(root, 'notifications'), registry: metrics }));
    // Partition DDL needs the table owner: the platform pool logs in as it.
    running.push(
      startReadingsPartitions({
        pool: platform.pool,
        log: moduleLogger(root, 'readings-partitions'),
        defaultRetentionDays: config.readingsRetentionDays,
        aheadDays: config.partitionsAheadDays,
      }),
    );
    running.push(startAlertAbsence({ pool: platform.pool, store: platform.store, log: moduleLogger(root, 'alert-absence') }));
    // Data exports (docs/exports.md): jobs leased from the read model, so several workers share them; expiry and file sweep on a schedule.
    const exportBlobs = openBlobStore(config.blobStore);
    running.push({ stop: () => exportBlobs.close() });
    const exportDeps = { pool: platform.pool, store: platform.store, blobs: exportBlobs };
    running.push(await startExportWorker({ ...exportDeps, databaseUrl: platform.databaseUrl, config: config.exports, log: moduleLogger(root, 'exports') }));
    running.push(startExportExpiry({ ...exportDeps, log: moduleLogger(root, 'export-expiry') }));
    const crl = config.mosquittoCrl;
    // Runs beside Mosquitto (it writes the broker's crlfile and signals its pid); one worker per broker host.
    if (crl !== undefined) {
      running.push(
        await startCrlPublisher({
          ca: deviceCa,
          store: platform.store,
          crlFile: crl.crlFile,
          reloadBroker: reloadByPidFile(crl.pidFile),
          kickSession: mosquittoSessionKicker({ url: crl.brokerUrl, ca: deviceCa }),
          log: moduleLogger(root, 'crl-publisher'),
        }),
      );
    }
  }
  if (role === 'api' || role === 'all') {
    running.push(await startApi(platform, moduleLogger(root, 'api'), deviceCa, readings ? { readings, metrics } : undefined));
  } else if (config.metricsPort !== undefined) {
    running.push(await startMetricsServer(metrics, config.metricsPort));
  }
  log.info({ role, port: config.port }, 'iotplane started');

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    for (const part of running.reverse()) await part.stop().catch((err: unknown) => log.error({ err }, 'stop failed'));
    await platform.close();
    terminate(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`iotplane: failed to start: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  terminate(1);
});
