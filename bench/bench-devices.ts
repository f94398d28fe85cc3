import { generateKeyPairSync } from 'node:crypto';
import { connectAsync, type MqttClient } from 'mqtt';
import { QUIET_MQTT_CLIENT } from '../src/platform/mqtt/client-trace';
import { issueDeviceCertificate } from '../src/platform/pki/certificate-issuer';
import type { DeviceCa } from '../src/platform/pki/device-ca';
import { x509 } from '../src/platform/pki/keys';

/** A device's credentials as provisioning hands them out: a key generated on the device, its public half certified. */
export interface BenchDeviceIdentity {
  readonly deviceId: string;
  readonly orgId: string;
  readonly key: string;
  readonly cert: string;
}

/** Issues a device certificate from the CA for a P-256 key generated here (CN = device id, as provisioning does). */
export async function issueBenchDevice(ca: DeviceCa, deviceId: string, orgId: string): Promise<BenchDeviceIdentity> {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const issued = await issueDeviceCertificate(ca, { publicKey: new x509.PublicKey(spki), deviceId, orgId, now: new Date() });
  return { deviceId, orgId, key: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), cert: issued.certificatePem };
}

/**
 * A plain MQTT.js client with the device's certificate (mutual TLS, client id
 * = device id, MQTT 3.1.1). No reconnects: a dropped publisher fails the run
 * rather than resending behind the bench's back.
 */
export function connectBenchDevice(url: string, ca: DeviceCa, device: BenchDeviceIdentity): Promise<MqttClient> {
  return connectAsync(url, {
    clientId: device.deviceId,
    protocolVersion: 4,
    clean: true,
    key: device.key,
    cert: device.cert,
    ca: [ca.certificatePem],
    rejectUnauthorized: true,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    ...QUIET_MQTT_CLIENT,
  });
}
