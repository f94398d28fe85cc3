import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { startNotifications, type Notifications } from '../src/workers/notifications';
import { anAlert, anAlertRaised, appendAlertEvents } from './support/notification.builders';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';
import { waitUntil } from './support/wait-until';

/** EMAIL channels against a real SMTP server (smtp-server on loopback): accepted mail, and a 550 that ends the delivery at once. */
interface Mail {
  to: string[];
  raw: string;
}

let smtp: SMTPServer;
let api: TestApi;
let org: TestOrg;
let notifications: Notifications;
const mails: Mail[] = [];
let refuse = false;

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(_address, _session, callback) {
      if (refuse) return callback(Object.assign(new Error('mailbox unavailable'), { responseCode: 550 }));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const { port } = smtp.server.address() as AddressInfo;
  api = await startTestApi({ SMTP_URL: `smtp://127.0.0.1:${port}`, SMTP_FROM: 'alerts@iotplane.test', NOTIFY_MAX_ATTEMPTS: '3', NOTIFY_BACKOFF_BASE_MS: '50', NOTIFY_POLL_MS: '20' });
  org = await api.createOrg();
  notifications = startNotifications({ platform: api.platform, config: api.platform.config.notify, log: api.platform.log });
});

afterAll(async () => {
  await notifications?.stop();
  await api?.close();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

async function anEmailChannel(to: string): Promise<string> {
  const res = await api.http().post('/api/v1/notification-channels').set('Authorization', org.auth).send({ name: `mail ${to}`, type: 'EMAIL', config: { to: [to] } }).expect(201);
  return res.body.id as string;
}

async function deliveries(channelId: string): Promise<{ status: string; attempts: number; lastError: string | null }[]> {
  const res = await api.http().get(`/api/v1/notification-channels/${channelId}/deliveries`).set('Authorization', org.auth).expect(200);
  return res.body.items;
}

describe('EMAIL channels over SMTP', () => {
  it('mails an alert to the channel’s recipients with the delivery id header', async () => {
    const channelId = await anEmailChannel('oncall@example.test');
    const facts = anAlert({ channelIds: [channelId] });
    await appendAlertEvents(api.platform.store, org.orgId, [anAlertRaised(facts)]);
    await waitUntil('the mail arrives', () => mails.some((m) => m.to.includes('oncall@example.test')));
    const mail = mails.find((m) => m.to.includes('oncall@example.test'));
    expect(mail?.raw).toMatch(/^From: alerts@iotplane\.test/m);
    expect(mail?.raw).toMatch(/^X-Iotplane-Delivery: [0-9a-f-]{36}/im);
    expect(mail?.raw).toContain(facts.ruleName);
    await waitUntil('delivered', async () => (await deliveries(channelId))[0]?.status === 'DELIVERED');
  });

  it('gives up at once on a permanent refusal (550)', async () => {
    refuse = true;
    try {
      const channelId = await anEmailChannel('nobody@example.test');
      await appendAlertEvents(api.platform.store, org.orgId, [anAlertRaised(anAlert({ channelIds: [channelId] }))]);
      await waitUntil('dead', async () => (await deliveries(channelId))[0]?.status === 'DEAD');
      expect((await deliveries(channelId))[0]).toMatchObject({ attempts: 1 });
    } finally {
      refuse = false;
    }
  });
});
