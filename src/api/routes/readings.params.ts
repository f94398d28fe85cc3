import { AppError, ValidationError } from '../../platform/errors';

/** The most points (buckets × sensors) one aggregation may answer; checked before any query runs. */
export const MAX_AGGREGATED_POINTS = 10_000;

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
const MAX_BUCKET_SECONDS = 366 * 86_400;
/** What the 400 for too many points suggests, smallest first. */
const SUGGESTED_BUCKETS: readonly (readonly [string, number])[] = [
  ['1m', 60],
  ['5m', 300],
  ['15m', 900],
  ['1h', 3600],
  ['6h', 21_600],
  ['1d', 86_400],
  ['P7D', 604_800],
];

export const AGGREGATE_FUNCTIONS = ['avg', 'min', 'max', 'sum', 'count', 'first', 'last'] as const;
export type AggregateFunction = (typeof AGGREGATE_FUNCTIONS)[number];

export interface TimeRange {
  readonly from: string;
  readonly to: string;
}

/** `from` and `to` passed the schema (RFC 3339); `from` must come first. */
export function timeRange(query: Readonly<Record<string, unknown>>): TimeRange {
  const from = query.from as string;
  const to = query.to as string;
  if (!(Date.parse(from) < Date.parse(to))) {
    throw new ValidationError('The range is empty: from must be before to.', [{ path: '/query/to', message: 'must be after from' }]);
  }
  return { from, to };
}

const badBucket = (message: string) => new ValidationError(`The bucket is invalid: ${message}.`, [{ path: '/query/bucket', message }]);

/**
 * A bucket width in whole seconds: `<n>s|m|h|d` (1m is a minute) or an ISO 8601
 * duration of weeks, days, hours, minutes and seconds. Months and years are
 * refused rather than approximated: their length varies.
 */
export function parseBucket(text: string): number {
  const short = /^(\d{1,9})([smhd])$/.exec(text);
  let seconds: number;
  if (short) {
    seconds = Number(short[1]) * UNIT_SECONDS[short[2] as keyof typeof UNIT_SECONDS];
  } else {
    const iso = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/.exec(text.toUpperCase());
    if (!iso || /T$/i.test(text) || text.length < 3) {
      throw badBucket('use 30s, 1m, 5m, 15m, 1h, 6h, 1d or an ISO 8601 duration such as PT10M or P1D');
    }
    const [, years, months, weeks, days, hours, minutes, secs] = iso;
    if (years !== undefined || months !== undefined) throw badBucket('months and years have no fixed length; use days, e.g. P30D');
    if (secs !== undefined && !/^\d+$/.test(secs)) throw badBucket('use whole seconds');
    const n = (part: string | undefined) => Number(part ?? 0);
    seconds = n(weeks) * 604_800 + n(days) * 86_400 + n(hours) * 3600 + n(minutes) * 60 + n(secs);
  }
  if (!(seconds >= 1)) throw badBucket('must be at least one second');
  if (seconds > MAX_BUCKET_SECONDS) throw badBucket('must be at most 366 days');
  return seconds;
}

/** Epoch-aligned buckets that overlap [from, to). */
export function bucketCount(range: TimeRange, bucketSeconds: number): number {
  const width = bucketSeconds * 1000;
  return Math.floor((Date.parse(range.to) - 1) / width) - Math.floor(Date.parse(range.from) / width) + 1;
}

/** Refuses, before any query, an aggregation that would answer more than MAX_AGGREGATED_POINTS points. */
export function checkPointLimit(range: TimeRange, bucketSeconds: number, sensors: number): void {
  const points = bucketCount(range, bucketSeconds) * sensors;
  if (points <= MAX_AGGREGATED_POINTS) return;
  const fits = ([, seconds]: readonly [string, number]) => bucketCount(range, seconds) * sensors <= MAX_AGGREGATED_POINTS;
  let suggestion = SUGGESTED_BUCKETS.find((candidate) => candidate[1] > bucketSeconds && fits(candidate))?.[0];
  for (let days = 8; !suggestion && days <= 366; days += 1) if (fits([`P${days}D`, days * 86_400])) suggestion = `P${days}D`;
  const advice = suggestion ? `use a coarser bucket such as ${suggestion}` : 'use fewer sensors or a shorter range';
  throw new AppError(
    'TOO_MANY_POINTS',
    `The aggregation would answer ${points} points (${bucketCount(range, bucketSeconds)} buckets × ${sensors} sensors); ` +
      `the limit is ${MAX_AGGREGATED_POINTS}: ${advice}.`,
    [{ path: '/query/bucket', message: `gives more than ${MAX_AGGREGATED_POINTS} points` }],
    { maxPoints: MAX_AGGREGATED_POINTS, points, ...(suggestion ? { suggestedBucket: suggestion } : {}) },
  );
}

/** `avg,min,…` → the distinct functions in the order given. */
export function parseFunctions(text: string): AggregateFunction[] {
  const names = [...new Set(text.split(',').map((name) => name.trim()))];
  const unknown = names.filter((name) => !(AGGREGATE_FUNCTIONS as readonly string[]).includes(name));
  if (unknown.length > 0 || names.length === 0) {
    throw new ValidationError(`Unknown aggregate function ${unknown.map((u) => `"${u}"`).join(', ')}; use ${AGGREGATE_FUNCTIONS.join(', ')}.`, [
      { path: '/query/functions', message: `must be a comma-separated list of ${AGGREGATE_FUNCTIONS.join(', ')}` },
    ]);
  }
  return names as AggregateFunction[];
}

/** `50,90,99.9` → distinct percentiles in the order given, each from 0 to 100. */
export function parsePercentiles(text: string): number[] {
  const parts = text.split(',').map((p) => p.trim());
  const valid = parts.every((p) => /^\d{1,3}(\.\d{1,6})?$/.test(p) && Number(p) <= 100);
  if (!valid || parts.length > 20) {
    throw new ValidationError('The percentiles are invalid.', [
      { path: '/query/percentiles', message: 'must be up to 20 comma-separated numbers from 0 to 100' },
    ]);
  }
  return [...new Set(parts.map(Number))];
}
