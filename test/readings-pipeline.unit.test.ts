import { checkReading } from '../src/ingest/readings/reading-checks';
import { dateTimeMicros, isDateTime } from '../src/platform/mqtt/date-time-format';
import { ReadingsBatcher, type BatchReport } from '../src/ingest/readings/readings-batcher';
import { decodeReadingsMessage } from '../src/ingest/readings/readings-message';
import { MessageSequences } from '../src/ingest/readings/message-sequences';
import { dayOf, emptyBatch, type ReadingsBatch, type WriteResult } from '../src/ingest/readings/readings-writer';
import type { SensorEntry } from '../src/ingest/readings/sensor-directory';
import { capturedLogger } from './support/captured-logger';

const ts = '2026-01-02T03:04:05.123456Z';

describe('decoding readings messages', () => {
  it('reads the full form, keeping the timestamp text (microseconds) and mapping quality', () => {
    const decoded = decodeReadingsMessage(JSON.stringify({ seq: 7, readings: [{ sensor: 'temp', ts, value: 1.5, quality: 'BAD' }] }));
    expect(decoded).toEqual({ ok: true, seq: 7, items: [{ ok: true, reading: { sensor: 'temp', ts, tsMicros: Date.parse(ts) * 1000 + 456, tsMs: Date.parse(ts), value: 1.5, quality: 2 } }] });
  });

  it('expands the compact form at t0 + i × dtMs', () => {
    const decoded = decodeReadingsMessage(JSON.stringify({ seq: 1, sensor: 'temp', t0: '2026-01-02T00:00:00.000Z', dtMs: 500, values: [1, 2, 3] }));
    expect(decoded.ok && decoded.items.map((i) => i.ok && i.reading.ts)).toEqual(['2026-01-02T00:00:00.000Z', '2026-01-02T00:00:00.500Z', '2026-01-02T00:00:01.000Z']);
  });

  it('quarantines a bad reading alone when the envelope is sound, and the whole message otherwise', () => {
    const mixed = decodeReadingsMessage(`{"seq": 3, "readings": [{"sensor": "temp", "ts": "${ts}", "value": 1}, {"sensor": "temp", "ts": "${ts}", "value": 1e400}, {"sensor": "Bad Key", "ts": "${ts}", "value": 2}]}`);
    expect(mixed.ok && mixed.items.map((i) => (i.ok ? 'ok' : i.reason))).toEqual(['ok', 'NON_FINITE_VALUE', 'INVALID_READING']);
    // Kept readable for the quarantine: JSON would turn Infinity into null.
    expect(mixed.ok && mixed.items[1]?.ok === false && JSON.parse(mixed.items[1].payload)).toEqual({ sensor: 'temp', ts, value: 'Infinity' });
    expect(decodeReadingsMessage('{"seq": 3, "readings": []}')).toMatchObject({ ok: false, seq: 3, reason: 'INVALID_PAYLOAD' });
    expect(decodeReadingsMessage('{"seq": 3, "values": [1]}')).toMatchObject({ ok: false, seq: 3, reason: 'INVALID_PAYLOAD' });
    expect(decodeReadingsMessage('{"readings": [')).toMatchObject({ ok: false, seq: undefined, reason: 'INVALID_JSON' });
    expect(decodeReadingsMessage(Buffer.from([0xff, 0xfe]))).toMatchObject({ ok: false, reason: 'INVALID_JSON' });
  });
});

describe('RFC 3339 timestamps', () => {
  it.each(['2026-01-02T03:04:05Z', '0001-01-01T00:00:00+01:00', '2024-02-29T00:00:00.5+01:00', '2026-12-31t23:59:59.123456789z', '2026-06-01T12:00:00-11:30'])('accepts %s', (text) => {
    expect(isDateTime(text)).toBe(true);
  });

  // Days past the month's end and 24:00 are what JavaScript's Date.parse lets through and Postgres refuses; year 0000 Postgres refuses too.
  it.each(['0000-01-01T00:00:00Z', '2026-02-29T00:00:00Z', '2026-04-31T00:00:00Z', '2026-01-01T24:00:00Z', '2026-01-01T23:59:60Z', '2026-01-01T00:00:00', '2026-01-01 00:00:00Z', '2026-01-01T00:00:00+24:00', '2026-1-01T00:00:00Z'])(
    'refuses %s',
    (text) => {
      expect(isDateTime(text)).toBe(false);
    },
  );
});

describe('reading a timestamp as the microseconds stored', () => {
  const at2026 = Date.UTC(2026, 0, 2, 3, 4, 5) * 1000;
  it.each([
    ['2026-01-02T03:04:05Z', at2026],
    ['2026-01-02T03:04:05.123Z', at2026 + 123_000],
    ['2026-01-02T03:04:05.123456Z', at2026 + 123_456],
    ['2026-01-02T03:04:05.1234565Z', at2026 + 123_456],
    ['2026-01-02T03:04:05.1234575Z', at2026 + 123_458],
    ['2026-01-02T03:04:05.9999996Z', at2026 + 1_000_000],
    ['2026-01-02T04:04:05.000001+01:00', at2026 + 1],
    ['2026-01-02T02:34:05.5-00:30', at2026 + 500_000],
    ['2026-01-02t03:04:05z', at2026],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29) * 1000],
    ['1999-12-31T23:59:59.999999Z', Date.UTC(2000, 0, 1) * 1000 - 1],
  ])('%s is %d µs after 1970-01-01', (text, micros) => {
    expect(isDateTime(text)).toBe(true);
    expect(dateTimeMicros(text)).toBe(micros);
  });

  it('agrees with Date.parse to the millisecond on random times and offsets', () => {
    const disagreements: string[] = [];
    for (let i = 0; i < 20_000; i += 1) {
      const ms = Math.floor(Math.random() * 9e12) - 2e12;
      const offsetMinutes = Math.floor(Math.random() * 2 * 23 * 60) - 23 * 60;
      const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 23);
      const abs = Math.abs(offsetMinutes);
      const text = `${local}${offsetMinutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
      if (dateTimeMicros(text) !== ms * 1000) disagreements.push(text);
    }
    expect(disagreements).toEqual([]);
  });
});

describe('message sequence numbers of a batch', () => {
  it('become runs of consecutive numbers per device, counting each message (a duplicate twice)', () => {
    const sequences = new MessageSequences();
    for (const seq of [3, 1, 2, 2, 7, 5, 6, 10]) sequences.add('org', 'a', seq);
    sequences.add('org', 'b', 4);
    const other = new MessageSequences();
    other.add('org', 'b', 5);
    sequences.addAll(other);
    expect(sequences.size).toBe(10);
    expect(sequences.runs()).toEqual({
      orgIds: ['org', 'org', 'org', 'org'],
      deviceIds: ['a', 'a', 'a', 'b'],
      froms: [1, 5, 10, 4],
      tos: [3, 7, 10, 5],
      counts: [4, 3, 1, 2],
    });
  });
});

describe('checking a reading', () => {
  const sensor: SensorEntry = { sensorId: 's', orgId: 'o', deviceId: 'd', key: 'temp', validRange: { min: -40, max: 85 }, retentionDays: 30 };
  const now = Date.parse('2026-06-01T00:00:00Z');
  const window = { maxFutureMs: 60_000, maxAgeMs: 3_600_000 };
  const at = (offsetMs: number, value = 20) => ({ sensor: 'temp', ts: new Date(now + offsetMs).toISOString(), tsMicros: (now + offsetMs) * 1000, tsMs: now + offsetMs, value, quality: 0 });

  it('passes a reading inside the window and the range, bounds included', () => {
    expect(checkReading(at(0), sensor, now, window)).toBeUndefined();
    expect(checkReading(at(60_000, 85), sensor, now, window)).toBeUndefined();
    expect(checkReading(at(-3_600_000, -40), sensor, now, window)).toBeUndefined();
  });

  it('names why a reading cannot be stored', () => {
    expect(checkReading(at(60_001), sensor, now, window)?.reason).toBe('TIMESTAMP_IN_FUTURE');
    expect(checkReading(at(-3_600_001), sensor, now, window)?.reason).toBe('TIMESTAMP_TOO_OLD');
    expect(checkReading(at(0, 85.01), sensor, now, window)?.reason).toBe('OUT_OF_RANGE');
    expect(checkReading(at(0, Number.NaN), sensor, now, window)?.reason).toBe('NON_FINITE_VALUE');
    expect(checkReading(at(0, 1e9), { ...sensor, validRange: null }, now, window)).toBeUndefined();
  });
});

function part(rows: number): ReadingsBatch {
  const batch = emptyBatch();
  const owner = { orgId: '00000000-0000-4000-8000-000000000001', deviceId: '00000000-0000-4000-8000-000000000002', sensorId: '00000000-0000-4000-8000-000000000003' };
  for (let i = 0; i < rows; i += 1) batch.copy.append(owner, { tsMicros: dateTimeMicros(ts), value: i, quality: 0 }, Date.parse(ts), null);
  batch.readingRows = rows;
  batch.days.add(dayOf(dateTimeMicros(ts)));
  return batch;
}

describe('batching', () => {
  it('writes by size or age, retries a failing write until it succeeds, and holds producers back meanwhile', async () => {
    const written: number[] = [];
    let failures = 3;
    const write = async (batch: ReadingsBatch): Promise<WriteResult> => {
      if (failures > 0) {
        failures -= 1;
        throw new Error('database unavailable');
      }
      written.push(batch.readingRows);
      return { inserted: batch.readingRows, duplicates: 0, committed: [], refused: [], dropped: 0 };
    };
    const reports: BatchReport[] = [];
    const { log } = capturedLogger('silent');
    const batcher = new ReadingsBatcher(write, (r) => reports.push(r), log, { batchRows: 10, flushMs: 20, writers: 2, maxBufferedRows: 10 });

    const first = batcher.submit(part(10)); // full: written at once, fails three times
    const second = batcher.submit(part(6)); // waits for its age
    expect(batcher.bufferedRows).toBe(16);
    expect(batcher.hasRoom()).toBe(false);
    let roomAgain = false;
    const room = batcher.waitForRoom().then(() => {
      roomAgain = true;
    });
    await second;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(roomAgain).toBe(false); // the failing batch alone still fills the buffer
    await first;
    await room;
    expect(written.sort((a, b) => a - b)).toEqual([6, 10]);
    expect(reports.map((r) => r.rows).sort((a, b) => a - b)).toEqual([6, 10]);
    expect(batcher.bufferedRows).toBe(0);
    await batcher.stop();
    await expect(batcher.submit(part(1))).rejects.toThrow(/stopped/);
  });
});
