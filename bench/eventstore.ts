import { PostgresEventStore } from '../src/platform/event-store/postgres-event-store';
import { createLogger } from '../src/platform/logger';
import { sitesProjection } from '../src/projections/sites.projection';
import { appendLoad, combineRuns, throughEventStore, throughRawInsert, type AppendOne, type AppendRun } from './eventstore-appends';
import { countedByStreamCounts, createStreamCountsTable, seedSiteEvents, streamCountsProjection, timeCatchUp, type CatchUpFigures } from './eventstore-catch-up';
import { openBenchDatabase, serverSettings } from './eventstore-database';
import { say, size } from './bench-settings';
import { formatReport, writeReport, type AppendComparison } from './eventstore-report';

/**
 * Event store throughput against a real Postgres: appends through
 * PostgresEventStore beside raw INSERTs of the same rows (same table, same
 * run, same concurrency), then projection catch-up over a seeded log.
 *   npm run bench:eventstore      (DATABASE_URL, else an embedded Postgres)
 * Sizes: BENCH_SINGLE_APPENDS, BENCH_STREAM_APPENDS, BENCH_STREAMS,
 * BENCH_WRITERS, BENCH_EVENTS, BENCH_SITES_EVENTS (0 skips), BENCH_BATCH, BENCH_ROUNDS.
 */
const sizes = {
  singleAppends: size('BENCH_SINGLE_APPENDS', 3000),
  streamAppends: size('BENCH_STREAM_APPENDS', 20_000),
  streams: size('BENCH_STREAMS', 1000),
  writers: size('BENCH_WRITERS', 8),
  events: size('BENCH_EVENTS', 1_000_000),
  sitesEvents: size('BENCH_SITES_EVENTS', 100_000),
  batchSize: size('BENCH_BATCH', 500),
  rounds: Math.max(1, size('BENCH_ROUNDS', 4)),
};

/**
 * Both sides in alternating rounds (ABBA…), so a change of machine load
 * during the run weighs on both alike; each round writes streams of its own.
 */
async function compare(scenario: string, es: AppendOne, raw: AppendOne, total: number, streams: number, writers: number): Promise<AppendComparison> {
  const prefix = scenario.replace(/\W+/g, '-');
  const runs: Record<'es' | 'raw', AppendRun[]> = { es: [], raw: [] };
  for (let round = 0; round < sizes.rounds; round += 1) {
    const order: ('es' | 'raw')[] = round % 2 === 0 ? ['es', 'raw'] : ['raw', 'es'];
    for (const side of order) {
      const run = await appendLoad(side === 'es' ? es : raw, `${prefix}-${side}-${round}`, Math.ceil(total / sizes.rounds), streams, writers);
      runs[side].push(run);
      say(`appends   ${scenario}, round ${round + 1}: ${side === 'es' ? 'event store' : 'raw INSERT'} ${Math.round(run.latencies.length / run.seconds)}/s`);
    }
  }
  return { scenario, eventStore: combineRuns(runs.es), raw: combineRuns(runs.raw) };
}

async function main(): Promise<void> {
  const db = await openBenchDatabase(sizes.writers + 4);
  const store = new PostgresEventStore(db.pool, db.url);
  try {
    const settings = { ...sizes, server: db.server, ...(await serverSettings(db.pool)) };
    say(`event store bench: ${JSON.stringify(settings)}`);
    const es = throughEventStore(store);
    const raw = throughRawInsert(db.pool);
    await appendLoad(es, 'warm-es', 400, 8, 8);
    await appendLoad(raw, 'warm-raw', 400, 8, 8);
    const appends = [
      await compare('1 stream, sequential', es, raw, sizes.singleAppends, 1, 1),
      await compare(`${sizes.streams} streams, ${sizes.writers} writers`, es, raw, sizes.streamAppends, sizes.streams, sizes.writers),
    ];

    const seed = await seedSiteEvents(db.pool, sizes.events, say);
    await createStreamCountsTable(db.pool);
    const log = createLogger('warn');
    const catchUp: CatchUpFigures[] = [await timeCatchUp(db, store, streamCountsProjection, sizes.events, sizes.batchSize, log, say)];
    const counted = await countedByStreamCounts(db.pool);
    if (counted !== sizes.events) throw new Error(`the stream-counts read model counted ${counted} events, expected ${sizes.events}`);
    if (sizes.sitesEvents > 0) {
      catchUp.push(await timeCatchUp(db, store, sitesProjection, Math.min(sizes.sitesEvents, sizes.events), sizes.batchSize, log, say));
    }

    const report = { settings, appends, seed: { events: sizes.events, seconds: seed.seconds }, catchUp };
    say(`\n${formatReport(report)}\n`);
    say(`written to ${await writeReport(report)}`);
  } finally {
    await store.close();
    await db.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:eventstore failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
