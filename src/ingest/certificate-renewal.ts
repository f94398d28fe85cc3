import { mqttSchema, readDevicePayload } from '../platform/mqtt/mqtt-schemas';
import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { renewDeviceCertificate, type RenewalDeps } from '../commands/device-certificates/certificate-renewal.handler';
import { AppError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import { connectInternalClient } from '../platform/mqtt/internal-client';
import { RENEWAL_SUBSCRIPTION, deviceIdOf, deviceTopic } from '../platform/mqtt/topics';

export interface CertificateRenewalOptions extends RenewalDeps {
  /** `mqtts://…` of the embedded broker or of Mosquitto. */
  readonly url: string;
  readonly log: Logger;
  /** Internal client name; processes side by side need distinct ones (default "renewal"). */
  readonly name?: string;
}

export interface CertificateRenewalService {
  /** Requests answered so far, by outcome. */
  stats(): { issued: number; repeated: number; refused: number };
  stop(): Promise<void>;
}

interface RenewRequest {
  readonly requestId: string;
  readonly csr: string;
}

const MAX_REQUEST_BYTES = 20 * 1024;

/**
 * Answers certificate renewal requests (docs/mqtt.md). It sits with ingest
 * because it is device traffic on the broker, read through a shared
 * subscription like the readings, so ingest processes split it. The device
 * is the topic's device id: the broker's ACL lets a device publish only
 * under its own certificate's CN, so a request is authenticated by the
 * certificate it arrived with.
 */
export async function startCertificateRenewal(options: CertificateRenewalOptions): Promise<CertificateRenewalService> {
  const { log } = options;
  const validate = mqttSchema<RenewRequest>('certificate-renew');
  const counts = { issued: 0, repeated: 0, refused: 0 };
  const inFlight = new Set<Promise<void>>();
  const client: MqttClient = await connectInternalClient({ url: options.url, ca: options.ca, name: options.name ?? 'renewal' });

  const reply = async (deviceId: string, body: Record<string, unknown>): Promise<void> => {
    await client.publishAsync(deviceTopic(deviceId, 'certificates/issued'), JSON.stringify(body), { qos: 1 });
  };

  const handle = async (topic: string, payload: Buffer): Promise<void> => {
    const deviceId = deviceIdOf(topic);
    if (deviceId === undefined) return;
    const read = readDevicePayload(payload, validate, MAX_REQUEST_BYTES);
    if ('error' in read) {
      counts.refused += 1;
      const requestId = requestIdOf(read.parsed);
      log.warn({ deviceId, requestId }, 'invalid certificate renewal request');
      // Without a readable requestId the device could not match an answer to its request.
      if (requestId !== undefined) await reply(deviceId, { requestId, error: { code: 'VALIDATION_FAILED', message: 'The request does not match mqtt-certificate-renew.' } });
      return;
    }
    const request = read.value;
    const { requestId } = request;
    try {
      const renewal = await renewDeviceCertificate(options, { deviceId, requestId, csr: request.csr, correlationId: randomUUID() });
      const { certificatePem, serialNumber, notBefore, notAfter } = renewal.certificate;
      counts[renewal.issued ? 'issued' : 'repeated'] += 1;
      log.info({ orgId: renewal.orgId, deviceId, requestId, serialNumber, repeated: !renewal.issued }, 'device certificate renewed');
      await reply(deviceId, { requestId, certificate: certificatePem, caChain: options.ca.certificatePem, serialNumber, notBefore, notAfter });
    } catch (error) {
      counts.refused += 1;
      if (!(error instanceof AppError)) log.error({ err: error, deviceId, requestId }, 'certificate renewal failed');
      else log.warn({ deviceId, requestId, code: error.code }, 'certificate renewal refused');
      const code = error instanceof AppError ? error.code : 'INTERNAL';
      const message = error instanceof AppError ? error.message : 'The renewal failed; retry later with the same requestId.';
      const retryAfterSeconds = error instanceof AppError ? error.extra.retryAfterSeconds : undefined;
      await reply(deviceId, { requestId, error: { code, message, ...(typeof retryAfterSeconds === 'number' ? { retryAfterSeconds } : {}) } });
    }
  };

  client.on('message', (topic, payload) => {
    const running = handle(topic, payload).catch((err: unknown) => log.error({ err, topic }, 'certificate renewal answer not sent'));
    inFlight.add(running);
    void running.finally(() => inFlight.delete(running));
  });
  await client.subscribeAsync(RENEWAL_SUBSCRIPTION, { qos: 1 });
  log.info({ subscription: RENEWAL_SUBSCRIPTION }, 'certificate renewal listening');

  return {
    stats: () => ({ ...counts }),
    async stop() {
      await client.unsubscribeAsync(RENEWAL_SUBSCRIPTION).catch(() => undefined);
      await Promise.all(inFlight);
      await client.endAsync();
    },
  };
}


function requestIdOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || !('requestId' in value)) return undefined;
  const id = value.requestId;
  return typeof id === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(id) ? id : undefined;
}
