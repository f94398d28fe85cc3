import { connectAsync, type MqttClient } from 'mqtt';
import { INTERNAL_IDENTITY_PREFIX, issueInternalClientCertificate } from '../pki/certificate-issuer';
import type { DeviceCa } from '../pki/device-ca';
import { QUIET_MQTT_CLIENT } from './client-trace';

export interface InternalClientOptions {
  /** `mqtts://host:port` of the embedded broker or of Mosquitto. */
  readonly url: string;
  readonly ca: DeviceCa;
  /**
   * Lowercase service name ("ingest", "commands"); the certificate CN and the
   * client id become `iotplane:<name>`. Brokers let one session per client id
   * live, so processes that run side by side need distinct names
   * (e.g. "ingest-1", "ingest-2" in one `$share/ingest/...` group).
   */
  readonly name: string;
  /** false keeps the session and its QoS 1 queue across reconnects. Default true. */
  readonly clean?: boolean;
  readonly reconnectPeriodMs?: number;
}

/**
 * An MQTT.js client for the platform's own services, authenticated by a
 * fresh internal certificate from the device CA (key generated here, never
 * written to disk). Resolves once the broker accepted the session.
 */
export async function connectInternalClient(options: InternalClientOptions): Promise<MqttClient> {
  const issued = await issueInternalClientCertificate(options.ca, { name: options.name });
  return connectAsync(options.url, {
    clientId: `${INTERNAL_IDENTITY_PREFIX}${options.name}`,
    protocolVersion: 4,
    clean: options.clean ?? true,
    key: issued.privateKeyPem,
    cert: issued.certificatePem,
    ca: [options.ca.certificatePem],
    rejectUnauthorized: true,
    reconnectPeriod: options.reconnectPeriodMs ?? 1000,
    ...QUIET_MQTT_CLIENT,
  });
}
