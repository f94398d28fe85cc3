import type { MqttClient } from 'mqtt';
import { generateKeyAndCsr } from '../../src/cli/simulator/device-credentials';
import { deviceTopic } from '../../src/platform/mqtt/topics';
import type { TestDevice } from './mqtt-clients';
import { issueToken, provision } from './provisioning.http';
import type { TestApi, TestOrg } from './test-api';
import { waitUntil } from './wait-until';

/** A device enrolled through the real provisioning API, with a key made in process. */
export async function enrolDevice(api: TestApi, org: TestOrg): Promise<TestDevice> {
  const issued = await issueToken(api, org, { deviceName: 'renewing' });
  const { keyPem, csrPem } = await generateKeyAndCsr();
  const res = await provision(api, issued.token, csrPem);
  if (res.status !== 201) throw new Error(`provisioning answered ${res.status}: ${res.text}`);
  const body = res.body as { certificate: string; serialNumber: string };
  return { deviceId: issued.deviceId, orgId: org.orgId, key: keyPem, cert: body.certificate, serialNumber: body.serialNumber };
}

export interface IssuedAnswer {
  readonly requestId: string;
  readonly certificate?: string;
  readonly caChain?: string;
  readonly serialNumber?: string;
  readonly notBefore?: string;
  readonly notAfter?: string;
  readonly error?: { code: string; message: string; retryAfterSeconds?: number };
}

/** Listens on the device's own …/certificates/issued; `answer(id)` waits for the one for that request. */
export async function renewalInbox(client: MqttClient, deviceId: string): Promise<{ answers: IssuedAnswer[]; answer(requestId: string): Promise<IssuedAnswer> }> {
  const answers: IssuedAnswer[] = [];
  const topic = deviceTopic(deviceId, 'certificates/issued');
  client.on('message', (received, payload) => {
    if (received === topic) answers.push(JSON.parse(payload.toString()) as IssuedAnswer);
  });
  await client.subscribeAsync(topic, { qos: 1 });
  return {
    answers,
    async answer(requestId) {
      await waitUntil(`an answer to ${requestId}`, () => answers.some((a) => a.requestId === requestId), 15_000);
      const found = answers.find((a) => a.requestId === requestId);
      if (!found) throw new Error('unreachable');
      return found;
    },
  };
}

export async function requestRenewal(client: MqttClient, deviceId: string, body: unknown): Promise<void> {
  await client.publishAsync(deviceTopic(deviceId, 'certificates/renew'), typeof body === 'string' ? body : JSON.stringify(body), { qos: 1 });
}
