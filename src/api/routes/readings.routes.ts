import { defineRoutes, type RouteContext } from '../route';
import { checkPointLimit, parseBucket, parseFunctions, parsePercentiles, timeRange } from './readings.params';
import { aggregateReadings, limitStatementTime, listReadings, readingStats, selectSensors, type SensorSelection } from './readings.queries';
import type { PoolClient } from '../../platform/db/pool';

/**
 * The sensors' resolution and the reading query in one tenant transaction,
 * every statement under READINGS_QUERY_TIMEOUT_MS (a timeout answers 503).
 */
function readingsQuery<T>(ctx: RouteContext, run: (tx: PoolClient, sensors: SensorSelection) => Promise<T>): Promise<T> {
  return ctx.tenant(async (tx) => {
    await limitStatementTime(tx, ctx.deps.config.readingsQueryTimeoutMs);
    return run(tx, await selectSensors(tx, ctx.query));
  });
}

export const readingRoutes = defineRoutes([
  {
    method: 'get',
    path: '/v1/readings',
    operationId: 'listReadings',
    summary: 'Raw readings of sensors or of a device over a time range, oldest first',
    tag: 'Readings',
    auth: 'viewer',
    query: 'readings#/$defs/ListReadingsQuery',
    responses: { 200: 'readings#/$defs/ReadingsPage' },
    problems: [503],
    async handler(ctx) {
      const range = timeRange(ctx.query);
      const page = await readingsQuery(ctx, (tx, sensors) => listReadings(tx, sensors, range, ctx.query));
      return { status: 200, body: page };
    },
  },
  {
    method: 'get',
    path: '/v1/readings/aggregated',
    operationId: 'aggregateReadings',
    summary: 'Readings aggregated in epoch-aligned time buckets, one series per sensor (at most 10,000 points)',
    tag: 'Readings',
    auth: 'viewer',
    query: 'readings#/$defs/AggregateReadingsQuery',
    responses: { 200: 'readings#/$defs/AggregatedReadings' },
    problems: [503],
    async handler(ctx) {
      const range = timeRange(ctx.query);
      const bucket = parseBucket(ctx.query.bucket as string);
      const functions = parseFunctions(ctx.query.functions as string);
      const series = await readingsQuery(ctx, (tx, sensors) => {
        checkPointLimit(range, bucket, sensors.sensorIds.length);
        return aggregateReadings(tx, sensors, range, bucket, functions, ctx.query);
      });
      return { status: 200, body: { ...range, bucket, functions, series } };
    },
  },
  {
    method: 'get',
    path: '/v1/readings/stats',
    operationId: 'getReadingStats',
    summary: 'Count, min, max, mean, standard deviation, first, last and percentiles per sensor over a time range',
    tag: 'Readings',
    auth: 'viewer',
    query: 'readings#/$defs/ReadingStatsQuery',
    responses: { 200: 'readings#/$defs/ReadingStats' },
    problems: [503],
    async handler(ctx) {
      const range = timeRange(ctx.query);
      const percentiles = parsePercentiles(ctx.query.percentiles as string);
      const items = await readingsQuery(ctx, (tx, sensors) => readingStats(tx, sensors, range, percentiles, ctx.query));
      return { status: 200, body: { ...range, percentiles, items } };
    },
  },
]);
