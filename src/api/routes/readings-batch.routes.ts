import type { HttpItem, HttpItemOutcome } from '../../ingest/readings/readings-pipeline';
import { AppError } from '../../platform/errors';
import { defineRoutes } from '../route';
import type { SchemaRegistry } from '../schema-registry';

const ITEM_SCHEMA = 'readings-ingest#/$defs/ReadingsBatchItem';

type Checked = { readonly item: HttpItem } | { readonly invalid: string };

/**
 * An item's shape, checked with the published schema. A value JSON cannot
 * hold as a finite number (1e400 parses to Infinity) is checked with the
 * rest of the item, so a readable item with such a value is quarantined
 * (NON_FINITE_VALUE) rather than refused.
 */
function checkItem(schemas: SchemaRegistry, raw: unknown): Checked {
  const record = raw as Record<string, unknown>;
  const nonFinite = typeof record.value === 'number' && !Number.isFinite(record.value);
  const errors = schemas.validateBody(ITEM_SCHEMA, nonFinite ? { ...record, value: 0 } : raw);
  const [first] = errors;
  if (first) return { invalid: `${first.path} ${first.message}` };
  return { item: raw as HttpItem };
}

export const readingsBatchRoutes = defineRoutes([
  {
    method: 'post',
    path: '/v1/readings/batch',
    operationId: 'ingestReadingsBatch',
    summary: 'Ingest readings over HTTP (current or back-filled) through the same pipeline as MQTT',
    tag: 'Readings',
    auth: 'member',
    body: 'readings-ingest#/$defs/ReadingsBatchBody',
    handlesNonFiniteNumbers: true,
    responses: { 202: 'readings-ingest#/$defs/ReadingsBatchResult' },
    problems: [503],
    async handler(ctx) {
      const raw = (ctx.body as { readings: unknown[] }).readings;
      const checked = raw.map((item) => checkItem(ctx.deps.schemas, item));
      const valid: { index: number; item: HttpItem }[] = [];
      const outcomes: HttpItemOutcome[] = [];
      checked.forEach((result, index) => {
        if ('item' in result) valid.push({ index, item: result.item });
        else outcomes.push({ index, outcome: 'rejected', reason: 'INVALID_READING', detail: result.invalid });
      });
      const { pipeline } = ctx.deps.readings;
      // A full pipeline (database slow or down) holds the request rather than growing without bound.
      await pipeline.waitForRoom();
      let ingested: HttpItemOutcome[];
      try {
        ingested = await pipeline.ingestHttpItems(ctx.principal.orgId, valid.map((v) => v.item), new Date());
      } catch (error) {
        ctx.deps.log.warn({ err: error }, 'readings batch not ingested');
        throw new AppError('SERVICE_UNAVAILABLE', 'The readings pipeline cannot reach the database; nothing of this batch was stored. Retry later.');
      }
      // The pipeline numbers the valid items; map back to the request's indexes.
      for (const outcome of ingested) outcomes.push({ ...outcome, index: valid[outcome.index]?.index ?? outcome.index });
      const count = (kind: HttpItemOutcome['outcome']): number => outcomes.filter((o) => o.outcome === kind).length;
      const items = outcomes.filter((o) => o.outcome !== 'accepted').sort((a, b) => a.index - b.index);
      return { status: 202, body: { accepted: count('accepted'), quarantined: count('quarantined'), rejected: count('rejected'), items } };
    },
  },
]);
