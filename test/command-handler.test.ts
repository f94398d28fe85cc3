import { randomUUID } from 'node:crypto';
import { handleCommand, type HandleOptions } from '../src/commands/command-handler';
import type { CommandContext } from '../src/commands/decider';
import { createApiKey, revokeApiKey } from '../src/commands/api-keys/api-key.handler';
import { siteCommands } from '../src/commands/sites/site.handler';
import { AppError } from '../src/platform/errors';
import { PostgresEventStore } from '../src/platform/event-store/postgres-event-store';
import { aCommandContext } from './support/command-context';
import { aCreateGadget, anUpdateGadget, aDeleteGadget, gadgetDecider, gadgetNotFound, gadgetStream, type GadgetCommand } from './support/gadget';
import { InterleavingEventStore } from './support/interleaving-event-store';
import { createTestDatabase, type TestDatabase } from './support/test-database';

let db: TestDatabase;
let postgres: PostgresEventStore;
let store: InterleavingEventStore;
beforeAll(async () => {
  db = await createTestDatabase(30);
  postgres = new PostgresEventStore(db.pool, db.url);
});
beforeEach(() => {
  store = new InterleavingEventStore(postgres);
});
afterAll(async () => {
  await postgres.close();
  await db.drop();
});

/** As the entity handlers call it: the resource's own 404 for a foreign stream too. */
function run(command: GadgetCommand, ctx: CommandContext, options: HandleOptions = {}, on: InterleavingEventStore | PostgresEventStore = store) {
  return handleCommand(on, gadgetDecider, gadgetStream(command.data.id), command, ctx, { notFound: gadgetNotFound, ...options });
}

async function caught(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof AppError)) throw new Error(`expected an AppError, got ${String(error)}`);
  return error;
}

async function aGadget(ctx: CommandContext): Promise<string> {
  const id = randomUUID();
  await run(aCreateGadget(id), ctx, {}, postgres);
  return id;
}

describe('handleCommand', () => {
  it('appends a new stream with no_stream, then at the revision it loaded, with the caller in the metadata', async () => {
    const ctx = aCommandContext({ causationId: randomUUID() });
    const id = randomUUID();
    const created = await run(aCreateGadget(id), ctx, { schemaVersion: 3 });
    const renamed = await run(anUpdateGadget(id, { name: 'Second' }), ctx);
    const resized = await run(anUpdateGadget(id, { size: 9 }), ctx);

    expect(store.attempts.map((a) => a.expectedRevision)).toEqual(['no_stream', 0n, 1n]);
    expect([created, renamed, resized].map((r) => r.nextExpectedRevision)).toEqual([0n, 1n, 2n]);
    const events = await postgres.readStream(gadgetStream(id));
    expect(events.map((e) => e.type)).toEqual(['GadgetCreated', 'GadgetUpdated', 'GadgetUpdated']);
    expect(events.map((e) => e.position)).toEqual([created.position, renamed.position, resized.position]);
    expect(events[0]?.metadata).toEqual({
      orgId: ctx.orgId,
      actor: ctx.actor,
      correlationId: ctx.correlationId,
      causationId: ctx.causationId,
      schemaVersion: 3,
    });
  });

  it('appends nothing and reports the loaded revision when the decision is empty', async () => {
    const ctx = aCommandContext();
    const id = await aGadget(ctx);
    const result = await run(anUpdateGadget(id, {}), ctx);
    expect(result).toEqual({ events: [], nextExpectedRevision: 0n, position: undefined });
    expect(store.attempts).toEqual([]);
  });

  it('appends nothing for the same object in another key order after a round trip through the store', async () => {
    // jsonb hands the labels back as { floor, region }; the client repeats { region, floor }.
    const ctx = aCommandContext();
    const id = randomUUID();
    const fields = { name: 'Depot', address: null, timezone: 'UTC', location: null, labels: { region: 'eu', floor: '2' } };
    await siteCommands.create(postgres, ctx, id, fields);
    const result = await siteCommands.update(postgres, ctx, id, { labels: { region: 'eu', floor: '2' } });
    expect(result.events).toEqual([]);
    expect(await postgres.readStream(siteCommands.stream(id))).toHaveLength(1);
  });

  describe('with a concurrent writer between load and append', () => {
    it('answers 409 CONCURRENT_MODIFICATION and keeps the other writer’s event', async () => {
      const ctx = aCommandContext();
      const id = await aGadget(ctx);
      store.afterNextRead(() => run(anUpdateGadget(id, { name: 'theirs' }), aCommandContext({ orgId: ctx.orgId }), {}, postgres));
      const error = await caught(run(anUpdateGadget(id, { size: 42 }), ctx));
      expect(error).toMatchObject({ code: 'CONCURRENT_MODIFICATION', status: 409 });
      const events = await postgres.readStream(gadgetStream(id));
      expect(events.map((e) => e.data)).toEqual([expect.anything(), expect.objectContaining({ changes: { name: 'theirs' } })]);
    });

    it('re-decides on the new state and succeeds within its retries', async () => {
      const ctx = aCommandContext();
      const id = await aGadget(ctx);
      store.afterNextRead(() => run(anUpdateGadget(id, { name: 'theirs' }), aCommandContext({ orgId: ctx.orgId }), {}, postgres));
      const result = await run(anUpdateGadget(id, { size: 42 }), ctx, { retries: 1 });
      expect(result.nextExpectedRevision).toBe(2n);
      expect(store.attempts.map((a) => a.expectedRevision)).toEqual([0n, 1n]);
      const events = await postgres.readStream(gadgetStream(id));
      expect(events.map((e) => (e.data as { changes?: unknown }).changes)).toEqual([undefined, { name: 'theirs' }, { size: 42 }]);
    });

    it('gives up with 409 once its retries are spent', async () => {
      const ctx = aCommandContext();
      const id = await aGadget(ctx);
      for (let i = 0; i < 3; i += 1) {
        store.afterNextRead(() => run(anUpdateGadget(id, { name: `theirs-${i}` }), aCommandContext({ orgId: ctx.orgId }), {}, postgres));
      }
      const error = await caught(run(anUpdateGadget(id, { size: 42 }), ctx, { retries: 2 }));
      expect(error.code).toBe('CONCURRENT_MODIFICATION');
      expect(store.attempts).toHaveLength(3);
      expect(await postgres.readStream(gadgetStream(id))).toHaveLength(4);
    });

    it('lets racing writers lose nothing: each either lands or gets 409, and with retries all land', async () => {
      const ctx = aCommandContext();
      const id = await aGadget(ctx);
      const racers = (retries: number, offset: number) =>
        Promise.allSettled(Array.from({ length: 10 }, (_, i) => run(anUpdateGadget(id, { size: offset + i }), ctx, { retries }, postgres)));

      const first = await racers(0, 100);
      const landed = first.filter((r) => r.status === 'fulfilled').length;
      const refused = first.filter((r) => r.status === 'rejected' && r.reason instanceof AppError && r.reason.code === 'CONCURRENT_MODIFICATION');
      expect(landed).toBeGreaterThanOrEqual(1);
      expect(landed + refused.length).toBe(10);
      expect(await postgres.readStream(gadgetStream(id))).toHaveLength(1 + landed);

      const second = await racers(20, 200);
      expect(second.every((r) => r.status === 'fulfilled')).toBe(true);
      const revisions = (await postgres.readStream(gadgetStream(id))).map((e) => e.revision);
      expect(revisions).toEqual(Array.from({ length: 11 + landed }, (_, i) => BigInt(i)));
    });
  });

  describe('with If-Match (expectedRevision)', () => {
    it('decides at the matching revision', async () => {
      const ctx = aCommandContext();
      const id = await aGadget(ctx);
      const result = await run(anUpdateGadget(id, { size: 8 }), ctx, { expectedRevision: 0n });
      expect(result.nextExpectedRevision).toBe(1n);
    });

    it('answers 412 PRECONDITION_FAILED for another revision and appends nothing', async () => {
      const ctx = aCommandContext();
      const id = await aGadget(ctx);
      await run(anUpdateGadget(id, { size: 8 }), ctx, {}, postgres);
      const error = await caught(run(anUpdateGadget(id, { size: 9 }), ctx, { expectedRevision: 0n }));
      expect(error).toMatchObject({ code: 'PRECONDITION_FAILED', status: 412 });
      expect(store.attempts).toEqual([]);
      expect(await postgres.readStream(gadgetStream(id))).toHaveLength(2);
    });

    it('answers 412, not 409, when a concurrent write lands between load and append, even with retries', async () => {
      const ctx = aCommandContext();
      const id = await aGadget(ctx);
      store.afterNextRead(() => run(anUpdateGadget(id, { name: 'theirs' }), aCommandContext({ orgId: ctx.orgId }), {}, postgres));
      const error = await caught(run(anUpdateGadget(id, { size: 9 }), ctx, { expectedRevision: 0n, retries: 3 }));
      expect(error).toMatchObject({ code: 'PRECONDITION_FAILED', status: 412 });
      expect(store.attempts).toHaveLength(1);
    });
  });

  describe('with a stream of another organization', () => {
    const visible = (e: AppError) => ({ name: e.name, class: e.constructor, code: e.code, status: e.status, message: e.message });

    it('answers exactly as for a missing stream, for updates and deletes', async () => {
      const owner = aCommandContext();
      const other = aCommandContext();
      const id = await aGadget(owner);
      const foreignUpdate = await caught(run(anUpdateGadget(id, { name: 'stolen' }), other));
      const missingUpdate = await caught(run(anUpdateGadget(randomUUID(), { name: 'stolen' }), other));
      const foreignDelete = await caught(run(aDeleteGadget(id), other));
      const missingDelete = await caught(run(aDeleteGadget(randomUUID()), other));
      expect(visible(foreignUpdate)).toEqual(visible(missingUpdate));
      expect(visible(foreignDelete)).toEqual(visible(missingDelete));
      expect(visible(foreignUpdate)).toMatchObject({ code: 'NOT_FOUND', status: 404 });
      expect(store.attempts).toEqual([]);
      expect(await postgres.readStream(gadgetStream(id))).toHaveLength(1);
    });

    it('answers a creation over its id with 404, not a CONFLICT that would reveal it', async () => {
      const owner = aCommandContext();
      const id = await aGadget(owner);
      const error = await caught(run(aCreateGadget(id), aCommandContext()));
      expect(error).toMatchObject({ code: 'NOT_FOUND', status: 404 });
    });

    it('uses the resource’s own 404 (sites: SITE_NOT_FOUND) for foreign and missing alike', async () => {
      const owner = aCommandContext();
      const other = aCommandContext();
      const id = randomUUID();
      await siteCommands.create(postgres, owner, id, { name: 'HQ', address: null, timezone: 'UTC', location: null, labels: {} });
      const foreign = await caught(siteCommands.update(postgres, other, id, { name: 'x' }));
      const missing = await caught(siteCommands.update(postgres, other, randomUUID(), { name: 'x' }));
      expect(visible(foreign)).toEqual(visible(missing));
      expect(foreign.code).toBe('SITE_NOT_FOUND');
    });

    it('revokes no key of another organization and answers as for a missing key (API_KEY_NOT_FOUND)', async () => {
      const owner = aCommandContext();
      const other = aCommandContext();
      const key = await createApiKey(postgres, owner, { name: 'theirs', role: 'admin' });
      const foreign = await caught(revokeApiKey(postgres, other, key.keyId));
      const missing = await caught(revokeApiKey(postgres, other, randomUUID()));
      expect(visible(foreign)).toEqual(visible(missing));
      expect(foreign.code).toBe('API_KEY_NOT_FOUND');
      expect((await postgres.readStream(`apiKey-${key.keyId}`)).map((e) => e.type)).toEqual(['ApiKeyCreated']);
    });
  });

  describe('with a retried request (same correlation id)', () => {
    it('appends nothing twice when the retry read before the first append and decides the same events', async () => {
      const ctx = aCommandContext();
      const id = await aGadget(ctx);
      const retryCtx = aCommandContext({ orgId: ctx.orgId });
      const command = anUpdateGadget(id, { size: 77 });
      let first: Awaited<ReturnType<typeof run>> | undefined;
      store.afterNextRead(async () => {
        first = await run(command, retryCtx, {}, postgres);
      });
      const retry = await run(command, retryCtx);
      expect(retry.nextExpectedRevision).toBe(1n);
      expect(retry.position).toEqual(first?.position);
      expect(store.attempts[0]?.expectedRevision).toBe(0n);
      const events = await postgres.readStream(gadgetStream(id));
      expect(events.map((e) => e.type)).toEqual(['GadgetCreated', 'GadgetUpdated']);
    });

    it('still conflicts when the same interleaving comes from another request (another correlation id)', async () => {
      const ctx = aCommandContext();
      const id = await aGadget(ctx);
      const command = anUpdateGadget(id, { size: 77 });
      store.afterNextRead(() => run(command, aCommandContext({ orgId: ctx.orgId }), {}, postgres));
      const error = await caught(run(command, aCommandContext({ orgId: ctx.orgId })));
      expect(error.code).toBe('CONCURRENT_MODIFICATION');
      expect(await postgres.readStream(gadgetStream(id))).toHaveLength(2);
    });

    it('still conflicts when the retry decides different events', async () => {
      const ctx = aCommandContext();
      const id = await aGadget(ctx);
      const retryCtx = aCommandContext({ orgId: ctx.orgId });
      store.afterNextRead(() => run(anUpdateGadget(id, { size: 77 }), retryCtx, {}, postgres));
      const error = await caught(run(anUpdateGadget(id, { size: 78 }), retryCtx));
      expect(error.code).toBe('CONCURRENT_MODIFICATION');
      expect(await postgres.readStream(gadgetStream(id))).toHaveLength(2);
    });

    it('decides nothing when the retry loads the state the first attempt produced', async () => {
      const ctx = aCommandContext();
      const id = await aGadget(ctx);
      const command = anUpdateGadget(id, { size: 77 });
      await run(command, ctx);
      const retry = await run(command, ctx);
      expect(retry.events).toEqual([]);
      expect(await postgres.readStream(gadgetStream(id))).toHaveLength(2);
    });
  });
});
