import { isIP } from 'node:net';
import { moduleLogger } from '../logger';
import type { DeviceCa } from '../pki/device-ca';
import type { Platform } from '../platform';
import { startEmbeddedBroker, type EmbeddedBroker, type EmbeddedBrokerOptions } from './embedded-broker';

/** Every interface: devices reach the broker from the network. */
const LISTEN_HOST = '0.0.0.0';
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/**
 * For the composition root: the embedded broker on MQTT_PORT, unless
 * MQTT_URL names an external broker (Mosquitto), in which case nothing is
 * started and undefined is returned. `loadRevokedSerials` gives the serials
 * revoked so far (provisioning's certificate read model).
 */
export async function startPlatformBroker(
  platform: Platform,
  ca: DeviceCa,
  loadRevokedSerials: EmbeddedBrokerOptions['revokedSerials'],
): Promise<EmbeddedBroker | undefined> {
  if (platform.config.mqttUrl !== undefined) return undefined;
  // Devices are told PUBLIC_URL's host, so the broker's certificate names it too.
  const publicHost = new URL(platform.config.publicUrl).hostname.replace(/^\[|\]$/g, '');
  return startEmbeddedBroker({
    ca,
    port: platform.config.mqttPort,
    host: LISTEN_HOST,
    store: platform.store,
    log: moduleLogger(platform.log, 'mqtt-broker'),
    revokedSerials: loadRevokedSerials,
    serverNames: isIP(publicHost) !== 0 ? { ips: [publicHost] } : HOSTNAME.test(publicHost) ? { hostnames: [publicHost] } : {},
  });
}
