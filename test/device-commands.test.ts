import { randomUUID } from 'node:crypto';
import { deviceCommandCommands } from '../src/commands/device-commands/device-command.handler';
import { COMMAND_BATCH_EVENT_TYPES } from '../src/commands/device-commands/command-batch.events';
import { DEVICE_COMMAND_EVENT_TYPES, deviceCommandStream } from '../src/commands/device-commands/device-command.events';
import { asWriter } from '../src/platform/db/roles';
import { deviceCommandsProjection } from '../src/projections/device-commands.projection';
import { liveTables } from '../src/projections/projection';
import { rebuildProjection } from '../src/projections/projection-rebuild';
import { startTestApi, type TestApi, type TestOrg } from './support/test-api';

let api: TestApi;
let org: TestOrg;
beforeAll(async () => {
  api = await startTestApi();
  org = await api.createOrg();
});
afterAll(async () => {
  await api.close();
});

const post = (path: string, body?: object) => api.http().post(path).set('Authorization', org.auth).send(body);
const get = (path: string) => api.http().get(path).set('Authorization', org.auth);
const commandsOf = (deviceId: string) => `/api/v1/devices/${deviceId}/commands`;
const ids = (items: { id: string }[]) => items.map((i) => i.id);

async function aDevice(body: Record<string, unknown> = {}): Promise<string> {
  return (await post('/api/v1/devices', { name: `dev-${randomUUID().slice(0, 6)}`, ...body }).expect(201)).body.id as string;
}

async function aStaticGroup(deviceIds: string[]): Promise<string> {
  const group = await post('/api/v1/device-groups', { name: `grp-${randomUUID().slice(0, 6)}` }).expect(201);
  if (deviceIds.length > 0) await post(`/api/v1/device-groups/${group.body.id}/members`, { deviceIds }).expect(200);
  return group.body.id as string;
}

/** Records CommandSent as the dispatcher would, without a broker. */
async function markSent(commandId: string): Promise<void> {
  const result = await deviceCommandCommands.send(api.platform.store, { orgId: org.orgId, actor: 'system', correlationId: randomUUID() }, commandId);
  if (result.position) await api.deps.watcher.waitFor(['device-commands'], result.position, 5000);
}

describe('device commands', () => {
  it('queues a command with the documented defaults and reads it back', async () => {
    const deviceId = await aDevice();
    const before = Date.now();
    const res = await post(commandsOf(deviceId), { name: 'reboot' }).expect(201);
    expect(res.headers.location).toBe(`${commandsOf(deviceId)}/${res.body.id}`);
    expect(res.body).toMatchObject({
      deviceId,
      batchId: null,
      name: 'reboot',
      params: {},
      status: 'QUEUED',
      timeoutSeconds: 60,
      createdBy: expect.stringMatching(/^apiKey:/),
      sentAt: null,
      acknowledgedAt: null,
      completedAt: null,
      result: null,
      error: null,
      version: 0,
    });
    const expiresIn = Date.parse(res.body.expiresAt) - Date.parse(res.body.createdAt);
    expect(expiresIn).toBe(24 * 3600 * 1000);
    expect(Date.parse(res.body.createdAt)).toBeGreaterThanOrEqual(before - 1000);
    const read = await get(`${commandsOf(deviceId)}/${res.body.id}`).expect(200);
    expect(read.body).toEqual(res.body);
    expect(read.headers.etag).toBe('"0"');
  });

  it('takes params, timeoutSeconds and expiresAt as given', async () => {
    const deviceId = await aDevice();
    const expiresAt = new Date(Date.now() + 3600_000).toISOString();
    const res = await post(commandsOf(deviceId), { name: 'setReportingInterval', params: { seconds: 30, nested: { a: [1] } }, timeoutSeconds: 5, expiresAt }).expect(201);
    expect(res.body).toMatchObject({ params: { seconds: 30, nested: { a: [1] } }, timeoutSeconds: 5, expiresAt });
  });

  it('refuses invalid requests: schema 400, expiresAt past or too far 422, params too large 413', async () => {
    const deviceId = await aDevice();
    const url = commandsOf(deviceId);
    for (const body of [{ name: '1reboot' }, { name: 'reboot', timeoutSeconds: 0 }, { name: 'reboot', timeoutSeconds: 86_401 }, { name: 'reboot', params: [] }, { name: 'reboot', extra: 1 }]) {
      expect({ body, status: (await post(url, body)).status }).toEqual({ body, status: 400 });
    }
    const past = await post(url, { name: 'reboot', expiresAt: new Date(Date.now() - 1000).toISOString() }).expect(422);
    expect(past.body.errors).toEqual([{ path: '/body/expiresAt', message: 'must be in the future' }]);
    await post(url, { name: 'reboot', expiresAt: new Date(Date.now() + 31 * 86_400_000).toISOString() }).expect(422);
    const large = await post(url, { name: 'reboot', params: { blob: 'x'.repeat(9000) } }).expect(413);
    expect(large.body.code).toBe('PAYLOAD_TOO_LARGE');
    expect((await get(url).expect(200)).body.items).toEqual([]);
  });

  it('answers 404 for an unknown device and 409 DEVICE_DECOMMISSIONED for a decommissioned one; viewers may read only', async () => {
    expect((await post(commandsOf(randomUUID()), { name: 'reboot' }).expect(404)).body.code).toBe('DEVICE_NOT_FOUND');
    await get(commandsOf(randomUUID())).expect(404);
    const deviceId = await aDevice();
    const queued = await post(commandsOf(deviceId), { name: 'reboot' }).expect(201);
    await get(`${commandsOf(deviceId)}/${randomUUID()}`).expect(404);
    const viewer = `Bearer ${await org.jwt('viewer')}`;
    await api.http().post(commandsOf(deviceId)).set('Authorization', viewer).send({ name: 'reboot' }).expect(403);
    await api.http().get(commandsOf(deviceId)).set('Authorization', viewer).expect(200);
    await api.http().delete(`/api/v1/devices/${deviceId}`).set('Authorization', org.auth).expect(204);
    expect((await post(commandsOf(deviceId), { name: 'reboot' }).expect(409)).body.code).toBe('DEVICE_DECOMMISSIONED');
    // What was queued before stays readable.
    expect(ids((await get(commandsOf(deviceId)).expect(200)).body.items)).toEqual([queued.body.id]);
  });

  it('lists a device’s commands newest first, in pages, filtered by status', async () => {
    const deviceId = await aDevice();
    const made: string[] = [];
    for (const name of ['a', 'b', 'c']) made.push((await post(commandsOf(deviceId), { name }).expect(201)).body.id as string);
    await aDevice().then((other) => post(commandsOf(other), { name: 'elsewhere' }).expect(201));
    const first = await get(`${commandsOf(deviceId)}?limit=2`).expect(200);
    expect(ids(first.body.items)).toEqual([made[2], made[1]]);
    const second = await get(`${commandsOf(deviceId)}?limit=2&cursor=${first.body.nextCursor}`).expect(200);
    expect(second.body).toEqual({ items: [expect.objectContaining({ id: made[0] })], nextCursor: null });
    await post(`${commandsOf(deviceId)}/${made[1]}/cancel`).expect(200);
    expect(ids((await get(`${commandsOf(deviceId)}?status=CANCELLED`).expect(200)).body.items)).toEqual([made[1]]);
    expect(ids((await get(`${commandsOf(deviceId)}?status=QUEUED`).expect(200)).body.items)).toEqual([made[2], made[0]]);
    await get(`${commandsOf(deviceId)}?status=DONE`).expect(400);
  });

  it('cancels a QUEUED command and refuses once it is sent (409 COMMAND_NOT_CANCELLABLE)', async () => {
    const deviceId = await aDevice();
    const queued = (await post(commandsOf(deviceId), { name: 'reboot' }).expect(201)).body;
    const cancelled = await post(`${commandsOf(deviceId)}/${queued.id}/cancel`).expect(200);
    expect(cancelled.body).toMatchObject({ id: queued.id, status: 'CANCELLED', completedAt: expect.any(String), version: 1 });
    expect((await post(`${commandsOf(deviceId)}/${queued.id}/cancel`).expect(409)).body.code).toBe('COMMAND_NOT_CANCELLABLE');

    const sent = (await post(commandsOf(deviceId), { name: 'reboot' }).expect(201)).body;
    await markSent(sent.id);
    const refused = await post(`${commandsOf(deviceId)}/${sent.id}/cancel`).expect(409);
    expect(refused.body).toMatchObject({ code: 'COMMAND_NOT_CANCELLABLE', detail: expect.stringContaining('SENT') });
    expect((await get(`${commandsOf(deviceId)}/${sent.id}`).expect(200)).body).toMatchObject({ status: 'SENT', sentAt: expect.any(String), completedAt: null });
    // A command of another device is not found under this one.
    await post(`${commandsOf(await aDevice())}/${sent.id}/cancel`).expect(404);
  });

  it('replays a POST with the same Idempotency-Key and body, and refuses the key with another body', async () => {
    const deviceId = await aDevice();
    const key = randomUUID();
    const body = { name: 'reboot', params: { delaySeconds: 3 } };
    const first = await post(commandsOf(deviceId), body).set('Idempotency-Key', key).expect(201);
    const replay = await post(commandsOf(deviceId), body).set('Idempotency-Key', key).expect(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(first.body);
    expect(replay.headers.location).toBe(first.headers.location);
    expect((await post(commandsOf(deviceId), { ...body, name: 'other' }).set('Idempotency-Key', key).expect(422)).body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(ids((await get(commandsOf(deviceId)).expect(200)).body.items)).toEqual([first.body.id]);
  });

  it('finds the first attempt’s command when a keyed request is retried after its key record was dropped (a 5xx is not stored)', async () => {
    const deviceId = await aDevice();
    const key = randomUUID();
    const first = await post(commandsOf(deviceId), { name: 'reboot' }).set('Idempotency-Key', key).expect(201);
    await api.platform.pool.query('DELETE FROM idempotency_keys WHERE key = $1', [key]);
    const retried = await post(commandsOf(deviceId), { name: 'reboot' }).set('Idempotency-Key', key).expect(201);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(retried.body.id).toBe(first.body.id);
    expect((await api.platform.store.readStream(deviceCommandStream(first.body.id))).map((e) => e.type)).toEqual(['CommandQueued']);
    // Without a key every request is a new command.
    const a = await post(commandsOf(deviceId), { name: 'reboot' }).expect(201);
    const b = await post(commandsOf(deviceId), { name: 'reboot' }).expect(201);
    expect(a.body.id).not.toBe(b.body.id);
  });
});

describe('command batches', () => {
  it('queues one command per current member (decommissioned ones left out) and counts them by status', async () => {
    const members = [await aDevice(), await aDevice(), await aDevice()];
    const groupId = await aStaticGroup(members);
    await api.http().delete(`/api/v1/devices/${members[2]}`).set('Authorization', org.auth).expect(204);
    const res = await post(`/api/v1/device-groups/${groupId}/commands`, { name: 'reboot', params: { delaySeconds: 1 }, timeoutSeconds: 10 }).expect(201);
    expect(res.headers.location).toBe(`/api/v1/command-batches/${res.body.id}`);
    expect(res.body).toMatchObject({
      groupId,
      name: 'reboot',
      params: { delaySeconds: 1 },
      timeoutSeconds: 10,
      createdBy: expect.stringMatching(/^apiKey:/),
      total: 2,
      counts: { QUEUED: 2, SENT: 0, ACKNOWLEDGED: 0, SUCCEEDED: 0, FAILED: 0, TIMED_OUT: 0, EXPIRED: 0, CANCELLED: 0 },
    });
    const batchId = res.body.id as string;
    const commands = await Promise.all(members.slice(0, 2).map(async (deviceId) => (await get(commandsOf(deviceId)).expect(200)).body.items));
    expect(commands.map((items) => items.map((c: { batchId: string; name: string }) => [c.batchId, c.name]))).toEqual([[[batchId, 'reboot']], [[batchId, 'reboot']]]);
    expect((await get(commandsOf(members[2] ?? '')).expect(200)).body.items).toEqual([]);

    const [[first]] = commands as [[{ id: string; deviceId: string }]];
    await post(`${commandsOf(first.deviceId)}/${first.id}/cancel`).expect(200);
    expect((await get(`/api/v1/command-batches/${batchId}`).expect(200)).body).toMatchObject({ total: 2, counts: { QUEUED: 1, CANCELLED: 1 } });
  });

  it('reaches the devices a dynamic group’s tags select now', async () => {
    const tag = `t-${randomUUID().slice(0, 8)}`;
    const tagged = await aDevice({ tags: [tag] });
    await aDevice({ tags: ['other'] });
    const group = await post('/api/v1/device-groups', { name: 'dyn', kind: 'DYNAMIC', tagSelector: { allOf: [tag] } }).expect(201);
    const res = await post(`/api/v1/device-groups/${group.body.id}/commands`, { name: 'ping' }).expect(201);
    expect(res.body).toMatchObject({ total: 1, counts: { QUEUED: 1 } });
    expect((await get(commandsOf(tagged)).expect(200)).body.items).toEqual([expect.objectContaining({ batchId: res.body.id, name: 'ping' })]);
  });

  it('refuses an unknown group (404) and a group without members (422)', async () => {
    expect((await post(`/api/v1/device-groups/${randomUUID()}/commands`, { name: 'reboot' }).expect(404)).body.code).toBe('DEVICE_GROUP_NOT_FOUND');
    const empty = await aStaticGroup([]);
    expect((await post(`/api/v1/device-groups/${empty}/commands`, { name: 'reboot' }).expect(422)).body.errors).toEqual([{ path: '/params/id', message: 'has no members' }]);
    await get(`/api/v1/command-batches/${randomUUID()}`).expect(404);
  });

  it('lists batches newest first, by group, and replays a keyed POST without queueing twice', async () => {
    const device = await aDevice();
    const groupId = await aStaticGroup([device]);
    const key = randomUUID();
    const first = await post(`/api/v1/device-groups/${groupId}/commands`, { name: 'one' }).set('Idempotency-Key', key).expect(201);
    const replay = await post(`/api/v1/device-groups/${groupId}/commands`, { name: 'one' }).set('Idempotency-Key', key).expect(201);
    expect(replay.body.id).toBe(first.body.id);
    // A retry whose key record is gone (a server error is not stored) completes the same batch.
    await api.platform.pool.query('DELETE FROM idempotency_keys WHERE key = $1', [key]);
    const retried = await post(`/api/v1/device-groups/${groupId}/commands`, { name: 'one' }).set('Idempotency-Key', key).expect(201);
    expect(retried.body).toMatchObject({ id: first.body.id, total: 1, counts: { QUEUED: 1 } });
    const second = await post(`/api/v1/device-groups/${groupId}/commands`, { name: 'two' }).expect(201);
    expect((await get(commandsOf(device)).expect(200)).body.items).toHaveLength(2);

    const listed = await get(`/api/v1/command-batches?groupId=${groupId}&limit=1`).expect(200);
    expect(ids(listed.body.items)).toEqual([second.body.id]);
    const next = await get(`/api/v1/command-batches?groupId=${groupId}&limit=1&cursor=${listed.body.nextCursor}`).expect(200);
    expect(next.body).toEqual({ items: [expect.objectContaining({ id: first.body.id, counts: expect.objectContaining({ QUEUED: 1 }) })], nextCursor: null });
    expect(ids((await get(`/api/v1/command-batches?groupId=${randomUUID()}`).expect(200)).body.items)).toEqual([]);
  });
});

describe('the device-commands projection', () => {
  async function tables(): Promise<unknown[]> {
    const commands = await api.platform.pool.query('SELECT * FROM device_commands ORDER BY org_id, id');
    const batches = await api.platform.pool.query('SELECT * FROM command_batches ORDER BY org_id, id');
    return [commands.rows, batches.rows];
  }

  it('keeps results and errors, changes nothing when every event is applied again, and a rebuild makes the same tables', async () => {
    const deviceId = await aDevice();
    const ok = (await post(commandsOf(deviceId), { name: 'reboot' }).expect(201)).body.id as string;
    const failing = (await post(commandsOf(deviceId), { name: 'reboot' }).expect(201)).body.id as string;
    const error = { code: 'INVALID_PARAMS', message: 'no' };
    for (const [id, answer] of [
      [ok, { status: 'SUCCEEDED' as const, result: { uptime: 3 } }],
      [failing, { status: 'FAILED' as const, error }],
    ] as const) {
      await markSent(id);
      const result = await deviceCommandCommands.recordAnswer(api.platform.store, deviceId, id, answer, randomUUID());
      if (result.position) await api.deps.watcher.waitFor(['device-commands'], result.position, 5000);
    }
    expect((await get(`${commandsOf(deviceId)}/${ok}`).expect(200)).body).toMatchObject({ status: 'SUCCEEDED', result: { uptime: 3 }, error: null, version: 2 });
    expect((await get(`${commandsOf(deviceId)}/${failing}`).expect(200)).body).toMatchObject({ status: 'FAILED', result: null, error, completedAt: expect.any(String) });

    const before = await tables();
    const { events } = await api.platform.store.readAll({ maxCount: 100_000, filter: { eventTypes: [...DEVICE_COMMAND_EVENT_TYPES, ...COMMAND_BATCH_EVENT_TYPES] } });
    expect(new Set(events.map((e) => e.type)).size).toBeGreaterThanOrEqual(6);
    await asWriter(api.platform.pool, (tx) => deviceCommandsProjection.apply(tx, events, liveTables));
    expect(await tables()).toEqual(before);
    await rebuildProjection(api.platform.pool, api.platform.store, deviceCommandsProjection, { batchSize: 7 });
    expect(await tables()).toEqual(before);
  });
});
