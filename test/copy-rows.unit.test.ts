import { randomUUID } from 'node:crypto';
import { CopyRows, decodeRow } from '../src/ingest/readings/copy-rows';

const owner = { orgId: randomUUID(), deviceId: randomUUID(), sensorId: randomUUID() };
const other = { orgId: owner.orgId, deviceId: randomUUID(), sensorId: randomUUID() };

describe('binary COPY rows', () => {
  // Before 2000 (Postgres' epoch: negative), after it, with and without a sequence number.
  const written = [
    { owner, reading: { tsMicros: Date.UTC(2026, 10, 27, 12, 0, 0) * 1000 + 123_456, value: 21.5, quality: 0 }, receivedMs: Date.UTC(2026, 10, 27, 12, 0, 1), seq: 9_007_199_254_740_991 },
    { owner: other, reading: { tsMicros: Date.UTC(1999, 11, 31, 23, 59, 59) * 1000 + 999_999, value: -1e308, quality: 2 }, receivedMs: Date.UTC(2026, 0, 1), seq: null },
    { owner, reading: { tsMicros: Date.UTC(2026, 0, 1) * 1000, value: 0, quality: 1 }, receivedMs: Date.UTC(2026, 0, 1), seq: 0 },
  ];

  it('reads back every row as it was appended, found by its field lengths', () => {
    const copy = new CopyRows();
    for (const w of written) copy.append(w.owner, w.reading, w.receivedMs, w.seq);
    const rows = copy.rows();
    expect(rows.reduce((bytes, row) => bytes + row.length, 0)).toBe(copy.byteLength);
    expect(rows.map(decodeRow)).toEqual(written.map((w) => ({ ...w.owner, ...w.reading, receivedMicros: w.receivedMs * 1000, seq: w.seq })));
  });

  it('builds a CopyRows of some rows of another', () => {
    const copy = new CopyRows();
    for (const w of written) copy.append(w.owner, w.reading, w.receivedMs, w.seq);
    const [, second, third] = copy.rows();
    const part = CopyRows.of([second, third].filter((row): row is Buffer => row !== undefined));
    expect(part.rows().map((row) => decodeRow(row).sensorId)).toEqual([other.sensorId, owner.sensorId]);
    expect(Buffer.concat(part.chunks()).subarray(0, 11).toString('latin1')).toBe('PGCOPY\n\xff\r\n\0');
  });

  it('reuses a released buffer for the next rows, starting empty, and refuses use after release', () => {
    const first = new CopyRows();
    for (let i = 0; i < 5000; i += 1) first.append(owner, { tsMicros: i, value: i, quality: 0 }, 0, i);
    const firstBuffer = first.chunks()[1]?.buffer;
    first.release();
    expect(() => first.chunks()).toThrow(/released/);
    expect(() => first.rows()).toThrow(/released/);
    expect(() => first.append(owner, { tsMicros: 0, value: 0, quality: 0 }, 0, null)).toThrow(/released/);
    first.release(); // twice is harmless

    const next = new CopyRows();
    expect(next.byteLength).toBe(0);
    next.append(other, written[1]?.reading ?? { tsMicros: 0, value: 0, quality: 0 }, 0, null);
    expect(next.chunks()[1]?.buffer).toBe(firstBuffer);
    expect(next.rows().map((row) => decodeRow(row).sensorId)).toEqual([other.sensorId]);
  });
});
