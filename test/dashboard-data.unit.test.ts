import { fitBucket, widgetPixels } from '../src/api/routes/dashboard-data.buckets';
import { dataRange } from '../src/api/routes/dashboard-data.routes';

const TWO_HOURS = { from: '2025-03-01T00:00:00.000Z', to: '2025-03-01T02:00:00.000Z' };

/** Epoch-aligned buckets of `seconds` that overlap [from, to), counted the long way. */
function bucketsOver(range: { from: string; to: string }, seconds: number): number {
  const starts = new Set<number>();
  for (let t = Date.parse(range.from); t < Date.parse(range.to); t += 1000) starts.add(Math.floor(t / (seconds * 1000)));
  return starts.size;
}

describe('a widget’s share of the dashboard', () => {
  it('is floor(width × columns / 24) pixels, at least one', () => {
    expect(widgetPixels(1920, 24)).toBe(1920);
    expect(widgetPixels(1920, 5)).toBe(400);
    expect(widgetPixels(1000, 7)).toBe(291);
    expect(widgetPixels(240, 1)).toBe(10);
  });
});

describe('the bucket of a chart', () => {
  it('is the smallest nice width whose buckets fit the pixels', () => {
    // 7200 s over 600 px: 12 s would do, 15 s is the next nice width.
    expect(fitBucket(TWO_HOURS, 600, 1)).toEqual({ bucket: 15, maxPoints: 600 });
    expect(bucketsOver(TWO_HOURS, 15)).toBe(480);
    expect(bucketsOver(TWO_HOURS, 10)).toBeGreaterThan(600);
    expect(fitBucket(TWO_HOURS, 100, 1)).toEqual({ bucket: 120, maxPoints: 100 });
  });

  it('keeps all series together within the readings layer’s 10,000 points', () => {
    expect(fitBucket(TWO_HOURS, 7680, 1)).toEqual({ bucket: 1, maxPoints: 7680 });
    // Two series: 7200 × 2 > 10,000, so 2 s buckets (3600 per series).
    expect(fitBucket(TWO_HOURS, 7680, 2)).toEqual({ bucket: 2, maxPoints: 5000 });
  });

  it('starts from the configured bucket, which it only widens', () => {
    expect(fitBucket(TWO_HOURS, 600, 1, 45)).toEqual({ bucket: 45, maxPoints: 600 });
    expect(fitBucket(TWO_HOURS, 10, 1, 45)).toEqual({ bucket: 900, maxPoints: 10 });
  });

  it('counts a range that does not start on a bucket boundary as the buckets it touches', () => {
    const shifted = { from: '2025-03-01T00:00:07.000Z', to: '2025-03-01T02:00:07.000Z' };
    // 7200 s in 15 s buckets touches 481 of them when unaligned: over 480 px it needs 30 s.
    expect(bucketsOver(shifted, 15)).toBe(481);
    expect(fitBucket(shifted, 480, 1).bucket).toBe(30);
  });

  it('refuses a range no bucket up to 366 days can fit', () => {
    expect(() => fitBucket({ from: '1970-01-01T00:00:00.000Z', to: '2025-01-01T00:00:00.000Z' }, 10, 1)).toThrow(expect.objectContaining({ code: 'TOO_MANY_POINTS' }));
  });
});

describe('the range of a data call', () => {
  const now = new Date('2025-03-01T12:00:00.000Z');

  it('is the last 24 hours unless given', () => {
    expect(dataRange({}, now)).toEqual({ from: '2025-02-28T12:00:00.000Z', to: '2025-03-01T12:00:00.000Z' });
    expect(dataRange({ to: '2025-03-01T06:00:00.000Z' }, now)).toEqual({ from: '2025-02-28T06:00:00.000Z', to: '2025-03-01T06:00:00.000Z' });
    expect(dataRange({ from: '2025-03-01T11:00:00.000Z' }, now)).toEqual({ from: '2025-03-01T11:00:00.000Z', to: '2025-03-01T12:00:00.000Z' });
  });

  it('refuses a range that ends before it starts', () => {
    expect(() => dataRange({ from: '2025-03-01T13:00:00.000Z' }, now)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED', errors: [{ path: '/query/to', message: 'must be after from' }] }));
  });
});
