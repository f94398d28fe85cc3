import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { issueDeviceCertificate } from '../../src/platform/pki/certificate-issuer';
import type { DeviceCa } from '../../src/platform/pki/device-ca';
import { x509 } from '../../src/platform/pki/keys';

/** A provisioned device: its key was generated here, as on a device, and only the public half was certified. */
export interface TestDevice {
  readonly deviceId: string;
  readonly orgId: string;
  readonly key: string;
  readonly cert: string;
  readonly serialNumber: string;
}

export async function aDevice(ca: DeviceCa, ids: { deviceId?: string; orgId?: string } = {}): Promise<TestDevice> {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const deviceId = ids.deviceId ?? randomUUID();
  const orgId = ids.orgId ?? randomUUID();
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const issued = await issueDeviceCertificate(ca, { publicKey: new x509.PublicKey(spki), deviceId, orgId, now: new Date() });
  return { deviceId, orgId, key: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), cert: issued.certificatePem, serialNumber: issued.serialNumber };
}

/** TLS and MQTT options of a device, trusting `ca` for the broker; no retries, so a refusal is final. */
export function deviceOptions(ca: DeviceCa, device: TestDevice | undefined, clientId = device?.deviceId ?? randomUUID()): IClientOptions {
  return {
    clientId,
    protocolVersion: 4,
    ca: [ca.certificatePem],
    rejectUnauthorized: true,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...(device ? { key: device.key, cert: device.cert } : {}),
  };
}

export type Attempt = { readonly outcome: 'connected'; readonly client: MqttClient } | { readonly outcome: 'refused'; readonly error: Error | undefined };

/** Connects and reports whether the broker accepted the session; a refused client is already closed. */
export function attemptConnect(url: string, options: IClientOptions): Promise<Attempt> {
  return new Promise((resolve) => {
    const client = connect(url, options);
    let error: Error | undefined;
    let accepted = false;
    client.on('error', (err) => {
      error ??= err;
    });
    client.once('connect', () => {
      accepted = true;
      resolve({ outcome: 'connected', client });
    });
    client.once('close', () => {
      if (accepted) return;
      client.end(true);
      resolve({ outcome: 'refused', error });
    });
  });
}

export async function connectDevice(url: string, ca: DeviceCa, device: TestDevice): Promise<MqttClient> {
  const attempt = await attemptConnect(url, deviceOptions(ca, device));
  if (attempt.outcome !== 'connected') throw new Error(`device ${device.deviceId} was refused: ${attempt.error?.message ?? 'connection closed'}`);
  return attempt.client;
}

export interface Received {
  readonly topic: string;
  readonly payload: string;
}

/** Everything a client receives, in order. */
export function collect(client: MqttClient): Received[] {
  const received: Received[] = [];
  client.on('message', (topic, payload) => received.push({ topic, payload: payload.toString() }));
  return received;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
