import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import type { SimulatedDevice } from '../src/cli/simulator/simulated-device';
import { deviceCommandStream } from '../src/commands/device-commands/device-command.events';
import { deviceCommandCommands } from '../src/commands/device-commands/device-command.handler';
import { startCommandDispatcher, type CommandDispatcher } from '../src/ingest/command-dispatcher';
import { startEmbeddedBroker, type EmbeddedBroker } from '../src/platform/mqtt/embedded-broker';
import type { DeviceCa } from '../src/platform/pki/device-ca';
import { capturedLogger } from './support/captured-logger';
import { HeldDevice } from './support/held-device';
import { sleep, type TestDevice } from './support/mqtt-clients';
import { enrolDevice } from './support/renewal';
import { simulatedDevice } from './support/simulated-device';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';
import { waitUntil } from './support/wait-until';
import type { DeviceCommandView } from '../src/api/routes/device-commands.queries';

/** Short rounds and repeats, so the whole lifecycle runs in seconds. */
const POLL_MS = 50;
const REDELIVER_MS = 600;

let api: TestApi;
let org: TestOrg;
let ca: DeviceCa;
let broker: EmbeddedBroker;
let dispatcher: CommandDispatcher;
const registry = new Registry();
/** Devices of the running test, stopped after it, so later tests (and restarts) see them offline. */
let cleanups: (() => Promise<unknown>)[] = [];

const startDispatcher = (redeliverAfterMs = REDELIVER_MS) =>
  startCommandDispatcher({
    url: broker.url,
    ca,
    store: api.platform.store,
    pool: api.platform.pool,
    log: capturedLogger('warn').log,
    registry,
    pollMs: POLL_MS,
    redeliverAfterMs,
    name: 'commands-test',
  });

beforeAll(async () => {
  api = await startTestApi();
  org = await api.createOrg();
  ca = api.deps.deviceCa;
  broker = await startEmbeddedBroker({ ca, port: 0, host: '127.0.0.1', store: api.platform.store, log: capturedLogger('warn').log, revokedSerials: async () => [] });
  dispatcher = await startDispatcher();
});
afterEach(async () => {
  await Promise.all(cleanups.map((cleanup) => cleanup()));
  cleanups = [];
});
afterAll(async () => {
  await dispatcher?.stop();
  await broker?.stop();
  await api?.close();
});

const get = (path: string) => api.http().get(path).set('Authorization', org.auth).expect(200);
const post = (path: string, body: object) => api.http().post(path).set('Authorization', org.auth).send(body);

/** GET /api/v1/devices/{id}/commands/{commandId}, as the API declares it. */
type CommandBody = DeviceCommandView;

async function queue(deviceId: string, body: object = { name: 'reboot', params: { delaySeconds: 1 } }): Promise<string> {
  return (await post(`/api/v1/devices/${deviceId}/commands`, body).expect(201)).body.id as string;
}

async function commandOf(deviceId: string, commandId: string): Promise<CommandBody> {
  return (await get(`/api/v1/devices/${deviceId}/commands/${commandId}`)).body as CommandBody;
}

async function reaches(deviceId: string, commandId: string, status: string, timeoutMs = 15_000): Promise<CommandBody> {
  let last: CommandBody | undefined;
  await waitUntil(`command ${commandId} is ${status}`, async () => (last = await commandOf(deviceId, commandId)).status === status, timeoutMs);
  return last as CommandBody;
}

async function health(deviceId: string): Promise<{ status: string; connectedAt: string | null; disconnectedAt: string | null }> {
  return (await get(`/api/v1/devices/${deviceId}/health`)).body;
}

const isOnline = (deviceId: string) => waitUntil(`${deviceId} is ONLINE`, async () => (await health(deviceId)).status === 'ONLINE');

async function events(commandId: string): Promise<{ type: string; actor: string }[]> {
  return (await api.platform.store.readStream(deviceCommandStream(commandId))).map((e) => ({ type: e.type, actor: e.metadata.actor }));
}

async function counted(name: string, labels: Record<string, string>): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value)).reduce((sum, v) => sum + v.value, 0);
}

/** The simulator's device (src/cli/simulator): answers every command ACKNOWLEDGED, then SUCCEEDED. */
function simulated(identity: TestDevice): SimulatedDevice {
  const device = simulatedDevice(identity, broker.url, ca.certificatePem);
  cleanups.push(() => device.stop());
  return device;
}

async function heldDevice(options: { subscribe?: boolean } = {}): Promise<HeldDevice> {
  const device = new HeldDevice(await enrolDevice(api, org), broker.url, ca);
  cleanups.push(() => device.close());
  await device.connect(options.subscribe ?? true);
  await isOnline(device.deviceId);
  return device;
}

describe('command dispatcher with a real broker', () => {
  it('takes a command to an online simulated device through QUEUED → SENT → ACKNOWLEDGED → SUCCEEDED, once, as events', async () => {
    const identity = await enrolDevice(api, org);
    const device = simulated(identity);
    device.start();
    await isOnline(identity.deviceId);
    const succeededBefore = await counted('iotplane_commands_finished_total', { outcome: 'SUCCEEDED' });

    const id = await queue(identity.deviceId);
    const done = await reaches(identity.deviceId, id, 'SUCCEEDED');
    expect(done).toMatchObject({ result: { name: 'reboot', params: { delaySeconds: 1 }, simulated: true }, error: null });
    const times = [done.sentAt, done.acknowledgedAt, done.completedAt].map((t) => Date.parse(t ?? ''));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(await events(id)).toEqual([
      { type: 'CommandQueued', actor: expect.stringMatching(/^apiKey:/) },
      { type: 'CommandSent', actor: 'system' },
      { type: 'CommandAcknowledged', actor: `device:${identity.deviceId}` },
      { type: 'CommandSucceeded', actor: `device:${identity.deviceId}` },
    ]);
    expect(device.counters.commands).toBe(1);
    expect(await counted('iotplane_commands_finished_total', { outcome: 'SUCCEEDED' })).toBe(succeededBefore + 1);
  });

  it('keeps a command QUEUED while its device is offline and sends it once the device connects', async () => {
    const identity = await enrolDevice(api, org);
    const first = await queue(identity.deviceId);
    for (let i = 0; i < 3; i += 1) await dispatcher.round();
    await sleep(4 * POLL_MS);
    expect(await commandOf(identity.deviceId, first)).toMatchObject({ status: 'QUEUED', sentAt: null });
    expect((await events(first)).map((e) => e.type)).toEqual(['CommandQueued']);

    const device = simulated(identity);
    device.start();
    const done = await reaches(identity.deviceId, first, 'SUCCEEDED');
    const { connectedAt } = await health(identity.deviceId);
    expect(Date.parse(done.sentAt ?? '')).toBeGreaterThanOrEqual(Date.parse(connectedAt ?? ''));

    // Offline again after having been online: the next command waits for the next session.
    await device.stop();
    await waitUntil('the device is OFFLINE', async () => (await health(identity.deviceId)).status === 'OFFLINE');
    const second = await queue(identity.deviceId, { name: 'setReportingInterval', params: { seconds: 10 } });
    for (let i = 0; i < 3; i += 1) await dispatcher.round();
    expect(await commandOf(identity.deviceId, second)).toMatchObject({ status: 'QUEUED', sentAt: null });
    simulated(identity).start();
    const later = await reaches(identity.deviceId, second, 'SUCCEEDED');
    expect(Date.parse(later.sentAt ?? '')).toBeGreaterThanOrEqual(Date.parse((await health(identity.deviceId)).connectedAt ?? ''));
  });

  it('times out a command the device acknowledged but never finished, and ignores a late answer', async () => {
    const device = await heldDevice();
    const id = await queue(device.deviceId, { name: 'reboot', timeoutSeconds: 2 });
    await waitUntil('the command is delivered', () => device.deliveries(id) >= 1);
    await device.answer(id, 1);
    const timedOut = await reaches(device.deviceId, id, 'TIMED_OUT');
    expect(timedOut.acknowledgedAt).not.toBeNull();
    expect(Date.parse(timedOut.completedAt ?? '') - Date.parse(timedOut.sentAt ?? '')).toBeGreaterThanOrEqual(2000);
    expect((await events(id)).map((e) => e.type)).toEqual(['CommandQueued', 'CommandSent', 'CommandAcknowledged', 'CommandTimedOut']);
    expect((await events(id)).slice(-1)).toEqual([{ type: 'CommandTimedOut', actor: 'system' }]);

    const ignoredBefore = await counted('iotplane_command_acks_ignored_total', { reason: 'already_finished' });
    await device.publish(id, { status: 'SUCCEEDED', result: { late: true } });
    await waitUntil('the late answer is counted', async () => (await counted('iotplane_command_acks_ignored_total', { reason: 'already_finished' })) === ignoredBefore + 1);
    expect(await commandOf(device.deviceId, id)).toMatchObject({ status: 'TIMED_OUT', result: null });
  });

  it('expires a command that could not be sent before expiresAt; the device never gets it', async () => {
    const identity = await enrolDevice(api, org);
    const expiresAt = new Date(Date.now() + 2000).toISOString();
    const id = await queue(identity.deviceId, { name: 'reboot', expiresAt });
    const expired = await reaches(identity.deviceId, id, 'EXPIRED');
    expect(expired.sentAt).toBeNull();
    expect(Date.parse(expired.completedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(expiresAt));
    expect(await events(id)).toEqual([expect.objectContaining({ type: 'CommandQueued' }), { type: 'CommandExpired', actor: 'system' }]);

    const device = simulated(identity);
    device.start();
    await isOnline(identity.deviceId);
    for (let i = 0; i < 3; i += 1) await dispatcher.round();
    expect(device.counters.commands).toBe(0);
  });

  it('cancels a command before it is sent (never delivered) and refuses once it was sent', async () => {
    const identity = await enrolDevice(api, org);
    const cancelled = await queue(identity.deviceId);
    await post(`/api/v1/devices/${identity.deviceId}/commands/${cancelled}/cancel`, {}).expect(200);
    const device = simulated(identity);
    device.start();
    await isOnline(identity.deviceId);
    const sent = await queue(identity.deviceId);
    await reaches(identity.deviceId, sent, 'SUCCEEDED');
    const refused = await post(`/api/v1/devices/${identity.deviceId}/commands/${sent}/cancel`, {}).expect(409);
    expect(refused.body.code).toBe('COMMAND_NOT_CANCELLABLE');
    expect(await commandOf(identity.deviceId, cancelled)).toMatchObject({ status: 'CANCELLED', sentAt: null });
    expect(device.counters.commands).toBe(1);
  });

  it('completes an in-flight command after a dispatcher restart, whose answer was lost while it was down', async () => {
    const device = await heldDevice();
    const id = await queue(device.deviceId);
    await waitUntil('the command is delivered', () => device.deliveries(id) === 1);
    await device.answer(id, 1);
    await reaches(device.deviceId, id, 'ACKNOWLEDGED');

    await dispatcher.stop();
    const repeatsBefore = await counted('iotplane_command_publishes_total', { delivery: 'repeat' });
    const delivered = device.deliveries(id);
    // Nobody holds the shared subscription: the broker drops this answer.
    await device.publish(id, { status: 'SUCCEEDED', result: { lost: true } });
    await sleep(300);
    expect(await commandOf(device.deviceId, id)).toMatchObject({ status: 'ACKNOWLEDGED' });

    dispatcher = await startDispatcher();
    await waitUntil('the new dispatcher publishes the in-flight command again', () => device.deliveries(id) === delivered + 1);
    await device.answer(id);
    const done = await reaches(device.deviceId, id, 'SUCCEEDED');
    expect(done.result).toEqual({ name: 'reboot', params: { delaySeconds: 1 }, simulated: true });
    expect((await events(id)).map((e) => e.type)).toEqual(['CommandQueued', 'CommandSent', 'CommandAcknowledged', 'CommandSucceeded']);
    expect(await counted('iotplane_command_publishes_total', { delivery: 'repeat' })).toBe(repeatsBefore + 1);
  });

  it('publishes after a restart a command recorded SENT by a dispatcher that stopped before publishing it', async () => {
    const device = await heldDevice();
    await dispatcher.stop();
    const id = await queue(device.deviceId);
    // What a dispatcher that died between the append and the publish leaves behind.
    await deviceCommandCommands.send(api.platform.store, { orgId: org.orgId, actor: 'system', correlationId: randomUUID() }, id);
    await sleep(300);
    expect(device.deliveries(id)).toBe(0);

    // No repeat of unacknowledged commands for a minute: only the start-up publishing can deliver it here.
    dispatcher = await startDispatcher(60_000);
    try {
      await waitUntil('the new dispatcher publishes it', () => device.deliveries(id) === 1);
      await device.answer(id);
      await reaches(device.deviceId, id, 'SUCCEEDED');
      expect((await events(id)).map((e) => e.type)).toEqual(['CommandQueued', 'CommandSent', 'CommandAcknowledged', 'CommandSucceeded']);
    } finally {
      await dispatcher.stop();
      dispatcher = await startDispatcher();
    }
  });

  it('sends to a new session once it heartbeats (or after 2 s), and repeats an unacknowledged command and after a reconnect', async () => {
    const device = await heldDevice({ subscribe: false });
    const id = await queue(device.deviceId);
    // Connected, but neither subscribed nor heard from: not sent before the session is 2 s old.
    await waitUntil('the command is sent', async () => (await events(id)).some((e) => e.type === 'CommandSent'));
    const sent = (await api.platform.store.readStream(deviceCommandStream(id))).find((e) => e.type === 'CommandSent');
    const { connectedAt } = await health(device.deviceId);
    expect(Date.parse((sent?.data as { at: string }).at) - Date.parse(connectedAt ?? '')).toBeGreaterThanOrEqual(2000);
    // This device, still deaf, lost it.
    expect(device.deliveries(id)).toBe(0);
    await device.subscribe();
    await waitUntil('the unacknowledged command comes again', () => device.deliveries(id) === 1);
    await device.answer(id, 1);
    await reaches(device.deviceId, id, 'ACKNOWLEDGED');
    // A repeat decided before the acknowledgement reached the read model may still land; after that, none.
    await sleep(REDELIVER_MS);
    const delivered = device.deliveries(id);
    await sleep(2 * REDELIVER_MS);
    expect(device.deliveries(id)).toBe(delivered);

    // A new session has lost whatever was in flight in the old one.
    await device.disconnect();
    await device.connect();
    await waitUntil('the reconnected device gets the command again', () => device.deliveries(id) === delivered + 1);
    await device.answer(id);
    await reaches(device.deviceId, id, 'SUCCEEDED');
  });

  it('ignores and counts answers for unknown commands, for another device’s command, invalid ones and repeats', async () => {
    const a = await heldDevice();
    const b = await heldDevice();
    const id = await queue(b.deviceId);
    await waitUntil('b received its command', () => b.deliveries(id) >= 1);
    const reasons = ['other_device', 'unknown_command', 'invalid_payload', 'duplicate'];
    const before = Object.fromEntries(await Promise.all(reasons.map(async (reason) => [reason, await counted('iotplane_command_acks_ignored_total', { reason })] as const)));

    await a.publish(id, { status: 'SUCCEEDED', result: { forged: true } });
    await a.publish(randomUUID(), { status: 'ACKNOWLEDGED' });
    await a.publish('not-a-command-id', { status: 'ACKNOWLEDGED' });
    await a.publish(randomUUID(), '{not json');
    await b.publish(id, { status: 'DONE' });
    await b.publish(id, { status: 'SUCCEEDED', result: { note: 'U+0000 cannot be stored: \u0000' } });
    const expected = { ...before, other_device: (before.other_device ?? 0) + 1, unknown_command: (before.unknown_command ?? 0) + 2, invalid_payload: (before.invalid_payload ?? 0) + 3 };
    const now = async () => Object.fromEntries(await Promise.all(reasons.map(async (reason) => [reason, await counted('iotplane_command_acks_ignored_total', { reason })] as const)));
    await waitUntil('the ignored answers are counted', async () => JSON.stringify(await now()) === JSON.stringify(expected));
    // The stream, not the read model, which may not have caught up with CommandSent yet.
    expect((await events(id)).map((e) => e.type)).toEqual(['CommandQueued', 'CommandSent']);

    await b.answer(id);
    await reaches(b.deviceId, id, 'SUCCEEDED');
    await b.answer(id);
    await waitUntil('the repeated answers are counted', async () => (await counted('iotplane_command_acks_ignored_total', { reason: 'duplicate' })) === (before.duplicate ?? 0) + 1);
    expect((await events(id)).map((e) => e.type)).toEqual(['CommandQueued', 'CommandSent', 'CommandAcknowledged', 'CommandSucceeded']);
  });

  it('sends a bulk command to every online member of a group; the batch counts the outcomes', async () => {
    const identities = [await enrolDevice(api, org), await enrolDevice(api, org)];
    for (const identity of identities) simulated(identity).start();
    for (const identity of identities) await isOnline(identity.deviceId);
    const group = await post('/api/v1/device-groups', { name: `bulk-${randomUUID().slice(0, 6)}` }).expect(201);
    await post(`/api/v1/device-groups/${group.body.id}/members`, { deviceIds: identities.map((d) => d.deviceId) }).expect(200);
    const batch = await post(`/api/v1/device-groups/${group.body.id}/commands`, { name: 'reboot' }).expect(201);
    expect(batch.body.total).toBe(2);
    await waitUntil('both commands succeeded', async () => (await get(`/api/v1/command-batches/${batch.body.id}`)).body.counts.SUCCEEDED === 2);
    expect((await get(`/api/v1/command-batches/${batch.body.id}`)).body.counts).toEqual({
      QUEUED: 0, SENT: 0, ACKNOWLEDGED: 0, SUCCEEDED: 2, FAILED: 0, TIMED_OUT: 0, EXPIRED: 0, CANCELLED: 0,
    });
  });
});
