import { GRID_COLUMNS } from '../../commands/dashboards/dashboard.layout';
import { AppError } from '../../platform/errors';
import { MAX_AGGREGATED_POINTS, bucketCount, type TimeRange } from './readings.params';

/** Bucket widths a chart reads well (seconds), smallest first, up to the readings layer's largest (366 days). */
const NICE_BUCKETS = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800, 1_209_600, 2_592_000,
  7_776_000, 15_724_800, 31_622_400,
];

/** A widget `columns` wide on a dashboard `width` pixels wide. */
export function widgetPixels(width: number, columns: number): number {
  return Math.max(1, Math.floor((width * columns) / GRID_COLUMNS));
}

export interface FittedBucket {
  readonly bucket: number;
  /** The most points one series may have: the pixels, or fewer to keep every series within the readings layer's limit. */
  readonly maxPoints: number;
}

/**
 * The smallest bucket, at least `floor` seconds (then the nice widths above
 * it), whose epoch-aligned buckets over the range fit the widget: no more
 * points per series than it has pixels, and no more than MAX_AGGREGATED_POINTS
 * over all its series.
 */
export function fitBucket(range: TimeRange, pixels: number, series: number, floor = 1): FittedBucket {
  const maxPoints = Math.max(1, Math.min(pixels, Math.floor(MAX_AGGREGATED_POINTS / series)));
  const bucket = [floor, ...NICE_BUCKETS.filter((seconds) => seconds > floor)].find((seconds) => bucketCount(range, seconds) <= maxPoints);
  if (bucket === undefined) {
    throw new AppError('TOO_MANY_POINTS', `The range is too long for this widget: even 366-day buckets give more than ${maxPoints} points per series.`, [], {
      maxPoints,
    });
  }
  return { bucket, maxPoints };
}
