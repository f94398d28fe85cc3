import type { Registry } from 'prom-client';
import { CheckpointWatcher } from '../../platform/checkpoints/checkpoint-watcher';
import type { Platform } from '../../platform/platform';
import type { Logger } from '../../platform/logger';
import { connectInternalClient } from '../../platform/mqtt/internal-client';
import type { DeviceCa } from '../../platform/pki/device-ca';
import { PROJECTIONS } from '../../projections/index';
import { startDesiredStatePublisher, type DesiredStatePublisher } from './desired-state-publisher';
import { startReportedStateIngest, type ReportedStateIngest } from './reported-state-ingest';

export interface DeviceStateSyncOptions {
  readonly platform: Pick<Platform, 'pool' | 'store' | 'databaseUrl'>;
  /** `mqtts://…` of the embedded broker or of Mosquitto. */
  readonly url: string;
  readonly ca: DeviceCa;
  readonly log: Logger;
  readonly registry?: Registry;
  /** Internal client name, listed in Mosquitto's ACL (default "platform"). */
  readonly name?: string;
}

export interface DeviceStateSync {
  readonly publisher: DesiredStatePublisher;
  readonly reported: ReportedStateIngest;
  stop(): Promise<void>;
}

/** Desired state out (devices/{id}/desired) and reported state in (devices/{id}/reported), over one internal MQTT session. */
export async function startDeviceStateSync(options: DeviceStateSyncOptions): Promise<DeviceStateSync> {
  const { platform, log, registry } = options;
  const client = await connectInternalClient({ url: options.url, ca: options.ca, name: options.name ?? 'platform' });
  const watcher = new CheckpointWatcher(platform.pool, platform.databaseUrl, PROJECTIONS);
  const publisher = startDesiredStatePublisher({ client, pool: platform.pool, store: platform.store, watcher, log, registry });
  const reported = await startReportedStateIngest({ client, pool: platform.pool, store: platform.store, log, registry });
  log.info({ name: options.name ?? 'platform' }, 'device state sync running (desired out, reported in)');
  return {
    publisher,
    reported,
    async stop() {
      await reported.stop();
      await publisher.stop();
      await watcher.stop();
      await client.endAsync();
    },
  };
}
