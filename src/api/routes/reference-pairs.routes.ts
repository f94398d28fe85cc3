import { referencePairNotFound, type ReferencePairFields, type ReferenceReading } from '../../commands/reference-pairs/reference-pair.decider';
import { recordReferenceReadings, referencePairCommands } from '../../commands/reference-pairs/reference-pair.handler';
import { ValidationError } from '../../platform/errors';
import { unknownReferences } from '../entity.queries';
import { entityRoutes } from '../entity.routes';
import { defineRoutes, type RouteContext } from '../route';
import { compareWithReference } from './reference-comparison.queries';
import { listReferenceReadings, referencePairQueries, tsCursor, type ReferencePairView } from './reference-pairs.queries';
import { limitStatementTime } from './readings.queries';
import { sensorQueries } from './sensors.routes';

const COLLECTION = '/v1/reference-pairs';
const TAG = 'Analytics';
const SCHEMA = 'reference-pairs#/$defs';

const crud = entityRoutes<ReferencePairFields, ReferencePairView>({
  collection: COLLECTION,
  tag: TAG,
  singular: 'ReferencePair',
  plural: 'ReferencePairs',
  noun: 'reference pair',
  schema: 'reference-pairs',
  commands: referencePairCommands,
  queries: referencePairQueries,
  notFound: referencePairNotFound,
  deleteSummary: 'Delete a reference pair and its manual reference readings (If-Match supported)',
  toFields: (body) => ({
    name: body.name as string,
    description: (body.description as string | null | undefined) ?? null,
    sensorId: (body.sensorId as string).toLowerCase(),
    referenceType: body.referenceType as ReferencePairFields['referenceType'],
    referenceSensorId: (body.referenceSensorId as string | null | undefined)?.toLowerCase() ?? null,
    validFrom: body.validFrom as string,
    validTo: (body.validTo as string | null | undefined) ?? null,
    toleranceSeconds: body.toleranceSeconds as number,
  }),
  async references(tx, fields) {
    return unknownReferences(tx, sensorQueries, [
      { path: '/body/sensorId', id: fields.sensorId },
      { path: '/body/referenceSensorId', id: fields.referenceSensorId },
    ]);
  },
});

/** The pair of the path, read under RLS: another organization's id answers like a random one. */
async function pairOf(ctx: RouteContext): Promise<ReferencePairView> {
  const pair = await ctx.tenant((tx) => referencePairQueries.find(tx, ctx.params.id as string));
  if (!pair) throw referencePairNotFound();
  return pair;
}

const later = (a: string, b: string): string => (Date.parse(a) >= Date.parse(b) ? a : b);
const earlier = (a: string, b: string): string => (Date.parse(a) <= Date.parse(b) ? a : b);

/** The requested range (defaults: the pair's window, up to now when open-ended) within the pair's window; empty ranges collapse to from = to. */
function comparedRange(pair: ReferencePairView, query: Readonly<Record<string, unknown>>, now: Date): { from: string; to: string } {
  const requestedFrom = query.from as string | undefined;
  const requestedTo = query.to as string | undefined;
  if (requestedFrom !== undefined && requestedTo !== undefined && !(Date.parse(requestedFrom) < Date.parse(requestedTo))) {
    throw new ValidationError('The range is empty: from must be before to.', [{ path: '/query/to', message: 'must be after from' }]);
  }
  const from = new Date(later(requestedFrom ?? pair.validFrom, pair.validFrom)).toISOString();
  const end = pair.validTo ?? now.toISOString();
  const to = new Date(requestedTo === undefined ? end : pair.validTo === null ? requestedTo : earlier(requestedTo, pair.validTo)).toISOString();
  return { from, to: later(to, from) };
}

const subResources = defineRoutes([
  {
    method: 'post',
    path: `${COLLECTION}/{id}/reference-readings`,
    operationId: 'recordReferenceReadings',
    summary: 'Record manual reference readings of a MANUAL pair (a ts already recorded is replaced)',
    tag: TAG,
    auth: 'member',
    body: `${SCHEMA}/RecordReferenceReadings`,
    responses: { 200: `${SCHEMA}/ReferenceReadingsRecorded` },
    async handler(ctx) {
      // The schema refuses a non-finite value (JSON's 1e400), which an event could not hold.
      const readings = (ctx.body as { readings: ReferenceReading[] }).readings;
      const id = ctx.params.id as string;
      const result = await recordReferenceReadings(ctx.deps.store, ctx.command, id, readings.map((r) => ({ ts: r.ts, value: r.value })));
      await ctx.settle(result);
      const version = Number(result.nextExpectedRevision ?? 0n);
      return { status: 200, body: { pairId: id, recorded: readings.length, version }, version };
    },
  },
  {
    method: 'get',
    path: `${COLLECTION}/{id}/reference-readings`,
    operationId: 'listReferenceReadings',
    summary: 'Manual reference readings of a pair, by time',
    tag: TAG,
    auth: 'viewer',
    query: `${SCHEMA}/ListReferenceReadingsQuery`,
    responses: { 200: `${SCHEMA}/ReferenceReadingPage` },
    async handler(ctx) {
      const pair = await pairOf(ctx);
      const query = ctx.query as { from?: string; to?: string; limit?: number; cursor?: string };
      return { status: 200, body: await ctx.tenant((tx) => listReferenceReadings(tx, pair.id, query)) };
    },
  },
  {
    method: 'get',
    path: `${COLLECTION}/{id}/comparison`,
    operationId: 'compareReferencePair',
    summary: 'Sensor readings aligned with the nearest reference reading, with bias, MAE, RMSE and a linear fit over the whole range',
    tag: TAG,
    auth: 'viewer',
    query: `${SCHEMA}/ReferenceComparisonQuery`,
    responses: { 200: `${SCHEMA}/ReferenceComparison` },
    problems: [503],
    async handler(ctx) {
      const after = tsCursor(ctx.query.cursor);
      const limit = Number(ctx.query.limit ?? 500);
      const body = await ctx.tenant(async (tx) => {
        const pair = await referencePairQueries.find(tx, ctx.params.id as string);
        if (!pair) throw referencePairNotFound();
        const range = comparedRange(pair, ctx.query, new Date());
        // Same cap as the readings queries: a comparison over a huge range answers 503 QUERY_TIMEOUT instead of running on.
        await limitStatementTime(tx, ctx.deps.config.readingsQueryTimeoutMs);
        return compareWithReference(tx, pair, range, { limit, after });
      });
      return { status: 200, body };
    },
  },
]);

export const referencePairRoutes = [...crud, ...subResources];
