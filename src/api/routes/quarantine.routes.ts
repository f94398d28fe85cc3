import type { CommandResult } from '../../commands/command-handler';
import { quarantineEntryNotFound, quarantineEntryResolved, type QuarantineEvent } from '../../commands/quarantine/quarantine.decider';
import { discardQuarantineEntry, readQuarantineDecision, releaseQuarantineEntry } from '../../commands/quarantine/quarantine.handler';
import { asWriter } from '../../platform/db/roles';
import { AppError } from '../../platform/errors';
import { defineRoutes, type RouteContext, type RouteResult } from '../route';
import {
  findQuarantineEntry,
  listQuarantineEntries,
  lockQuarantineEntry,
  markQuarantineResolved,
  type QuarantineEntryDetailView,
  type QuarantineListQuery,
} from './quarantine.queries';

const QUARANTINE = '/v1/admin/quarantine';

/** The entry of the path, read under RLS: another organization's id answers like a random one. */
async function entryOf(ctx: RouteContext): Promise<QuarantineEntryDetailView> {
  const entry = await ctx.tenant((tx) => findQuarantineEntry(tx, ctx.params.id as string));
  if (!entry) throw quarantineEntryNotFound();
  return entry;
}

/**
 * One decision at a time in this process. Each holds a pooled connection
 * (its lock) while the pipeline needs another from the same pool to write:
 * as many parallel releases as the pool has connections would wait forever.
 */
let decisions: Promise<unknown> = Promise.resolve();
function oneAtATime<T>(fn: () => Promise<T>): Promise<T> {
  const run = decisions.then(fn, fn);
  decisions = run.catch(() => undefined);
  return run;
}

type Act = (entry: QuarantineEntryDetailView, now: Date) => Promise<CommandResult<QuarantineEvent>>;
type Outcome = { readonly decided: CommandResult<QuarantineEvent> } | { readonly earlier: 'RELEASED' | 'DISCARDED' };

/**
 * Takes an admin's decision on an entry. Decisions on one entry are
 * serialised by a lock, so a release cannot store readings while a discard
 * of the same entry wins. `act` appends the decision's event; the row is
 * updated after it, as the writer role (the row belongs to the ingest path,
 * no projection owns it). Event first: it is the decision and its record
 * (actor, time), and the decider refuses a second one. Should the process
 * stop between the two, the row still says QUARANTINED while the stream says
 * otherwise; the next decision on the entry finds the stream's, brings the
 * row up to date from it and answers 409. The other order could leave a row
 * resolved with no event saying who resolved it.
 */
async function decide(ctx: RouteContext, status: 'RELEASED' | 'DISCARDED', act: Act): Promise<RouteResult> {
  const entry = await entryOf(ctx);
  if (entry.status !== 'QUARANTINED') throw quarantineEntryResolved(entry.status);
  const { orgId, actor } = ctx.command;
  const outcome = await oneAtATime(() => asWriter(ctx.deps.pool, async (tx): Promise<Outcome> => {
    await lockQuarantineEntry(tx, entry.id);
    const earlier = await readQuarantineDecision(ctx.deps.store, orgId, entry.id);
    if (earlier.status !== 'QUARANTINED') {
      await markQuarantineResolved(tx, orgId, entry.id, earlier);
      return { earlier: earlier.status };
    }
    const now = new Date();
    const result = await act(entry, now);
    await markQuarantineResolved(tx, orgId, entry.id, { status, at: now.toISOString(), by: actor });
    return { decided: result };
  }));
  // Thrown outside the transaction, so the repair above is kept.
  if ('earlier' in outcome) throw quarantineEntryResolved(outcome.earlier);
  await ctx.settle(outcome.decided);
  return { status: 200, body: await entryOf(ctx) };
}

export const quarantineRoutes = defineRoutes([
  {
    method: 'get',
    path: QUARANTINE,
    operationId: 'listQuarantineEntries',
    summary: 'Quarantined readings, newest first (by default only those still waiting for a decision)',
    tag: 'Quarantine',
    auth: 'admin',
    query: 'quarantine#/$defs/QuarantineListQuery',
    responses: { 200: 'quarantine#/$defs/QuarantineList' },
    async handler(ctx) {
      const q = ctx.query as unknown as QuarantineListQuery;
      return { status: 200, body: await ctx.tenant((tx) => listQuarantineEntries(tx, q)) };
    },
  },
  {
    method: 'get',
    path: `${QUARANTINE}/{id}`,
    operationId: 'getQuarantineEntry',
    summary: 'One quarantined reading with its original payload',
    tag: 'Quarantine',
    auth: 'admin',
    responses: { 200: 'quarantine#/$defs/QuarantineEntryDetail' },
    async handler(ctx) {
      return { status: 200, body: await entryOf(ctx) };
    },
  },
  {
    method: 'post',
    path: `${QUARANTINE}/{id}/release`,
    operationId: 'releaseQuarantineEntry',
    summary: 'Run a quarantined reading through the checks again (back-fill window) and store it; 422 while it still fails',
    tag: 'Quarantine',
    auth: 'admin',
    responses: { 200: 'quarantine#/$defs/QuarantineEntryDetail' },
    async handler(ctx) {
      return decide(ctx, 'RELEASED', async (entry, now) => {
        const { deviceId, sensorKey, reason, payload } = entry;
        // Stored with the time it first arrived. A failure stores nothing and, thrown here, writes nothing else either.
        const failure = await ctx.deps.readings.pipeline.release({ orgId: ctx.command.orgId, deviceId, sensorKey, reason, payload }, new Date(entry.receivedAt));
        if (failure) {
          throw new AppError('QUARANTINE_STILL_FAILING', `The entry still fails the checks: ${failure.reason}, ${failure.detail}.`, [], {
            reason: failure.reason,
            reasonDetail: failure.detail,
          });
        }
        // Stored before the event: if the append failed, a later release stores the same rows again, which the unique (sensor_id, ts) makes harmless.
        return releaseQuarantineEntry(ctx.deps.store, ctx.command, { quarantineId: entry.id, deviceId }, now);
      });
    },
  },
  {
    method: 'post',
    path: `${QUARANTINE}/{id}/discard`,
    operationId: 'discardQuarantineEntry',
    summary: 'Discard a quarantined reading for good, with an optional note',
    tag: 'Quarantine',
    auth: 'admin',
    body: 'quarantine#/$defs/QuarantineDiscardBody',
    responses: { 200: 'quarantine#/$defs/QuarantineEntryDetail' },
    async handler(ctx) {
      const note = (ctx.body as { note?: string }).note ?? null;
      return decide(ctx, 'DISCARDED', (entry, now) =>
        discardQuarantineEntry(ctx.deps.store, ctx.command, { quarantineId: entry.id, deviceId: entry.deviceId, note }, now),
      );
    },
  },
]);
