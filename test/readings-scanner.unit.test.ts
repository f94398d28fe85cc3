import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseReadingsMessage } from '../src/ingest/readings/readings-message';
import { scanReadingsMessage } from '../src/ingest/readings/readings-scanner';
import { dateTimeMicros, isDateTime } from '../src/platform/mqtt/date-time-format';

/**
 * The scanner is a second reader of the readings schema, so it is held to
 * the general way (JSON.parse and the schema check): on every text it takes,
 * it must answer exactly what the general way answers, and it must take the
 * valid messages devices send. Random texts come from a seeded generator;
 * a failure names its seed and text.
 */

/** mulberry32: a small seeded generator, so a failing case can be run again. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const int = (random: Random, below: number): number => Math.floor(random() * below);

function digits(random: Random, count: number): string {
  let text = '';
  for (let i = 0; i < count; i += 1) text += String(int(random, 10));
  return text;
}

/** A number as devices write it: integers, decimals, exponents, long mantissas, as formatted by JavaScript or by hand. */
function numberText(random: Random): string {
  const sign = random() < 0.3 ? '-' : '';
  switch (int(random, 6)) {
    case 0:
      return String((random() - 0.5) * 10 ** (int(random, 40) - 20));
    case 1:
      return ((random() - 0.5) * 10 ** int(random, 12)).toFixed(int(random, 8));
    case 2:
      return ((random() - 0.5) * 1000).toExponential(int(random, 18));
    case 3:
      return ((random() - 0.5) * 10 ** (int(random, 600) - 300)).toPrecision(1 + int(random, 21));
    case 4: {
      const whole = random() < 0.3 ? '0' : String(1 + int(random, 9)) + digits(random, int(random, 18));
      const fraction = random() < 0.6 ? `.${digits(random, 1 + int(random, 20))}` : '';
      const exponent = random() < 0.4 ? `${pick(random, ['e', 'E'])}${pick(random, ['', '+', '-'])}${int(random, 40)}` : '';
      return sign + whole + fraction + exponent;
    }
    default:
      return sign + String(int(random, 100_000));
  }
}

function timestampText(random: Random): string {
  const ms = Date.now() - int(random, 86_400_000 * 30);
  const base = new Date(ms).toISOString().slice(0, 19);
  const fraction = random() < 0.8 ? `.${digits(random, 1 + int(random, 9))}` : '';
  const minutes = int(random, 24 * 60);
  const zone = random() < 0.6 ? pick(random, ['Z', 'z']) : `${pick(random, ['+', '-'])}${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
  return (random() < 0.1 ? base.replace('T', 't') : base) + fraction + zone;
}

function space(random: Random): string {
  return random() < 0.8 ? '' : pick(random, [' ', '\n', '\t', '\r\n  ']);
}

/** A valid full-form message with keys in any order and white space anywhere JSON allows it. */
function validMessage(random: Random, maxReadings: number): string {
  const readings = Array.from({ length: 1 + int(random, maxReadings) }, () => {
    const fields = [`"sensor"${space(random)}:${space(random)}"${pick(random, ['t', 'temp', 'a.b-c_9', '0x', 'k'.repeat(64)])}"`, `"ts":${space(random)}"${timestampText(random)}"`, `"value":${space(random)}${numberText(random)}`];
    if (random() < 0.3) fields.push(`"quality":"${pick(random, ['GOOD', 'UNCERTAIN', 'BAD'])}"`);
    fields.sort(() => random() - 0.5);
    return `${space(random)}{${space(random)}${fields.join(`${space(random)},${space(random)}`)}${space(random)}}`;
  });
  const parts = [`"seq":${space(random)}${pick(random, [0, 1, int(random, 1e9), Number.MAX_SAFE_INTEGER])}`, `"readings":[${readings.join(',')}${space(random)}]`];
  if (random() < 0.5) parts.reverse();
  return `${space(random)}{${parts.join(`,${space(random)}`)}}${space(random)}`;
}

const MUTATIONS = ['"', '\\', '{', '}', '[', ']', ',', ':', ' ', '0', '1', '9', '.', 'e', 'E', '+', '-', 'Z', 'T', 'x', 'é', '\u0000', 'true', 'null', '1e400', '"x":1', '\\u0041', '\\"'];

/** The text with a few characters inserted, removed or replaced. */
function mutated(random: Random, text: string): string {
  let result = text;
  for (let n = 1 + int(random, 3); n > 0; n -= 1) {
    const at = int(random, result.length + 1);
    const kind = int(random, 3);
    const insert = kind === 1 ? '' : pick(random, MUTATIONS);
    result = result.slice(0, at) + insert + result.slice(kind === 0 ? at : at + 1);
  }
  return result;
}

/** Where the scanner answers, the general way answers the same; returns whether the scanner answered. */
function expectAgreement(text: string, seed: number): boolean {
  const scanned = scanReadingsMessage(text);
  if (scanned === undefined) return false;
  const general = parseReadingsMessage(text);
  try {
    expect(scanned).toEqual(general);
  } catch (error) {
    throw new Error(`seed ${seed}, text ${JSON.stringify(text)}: ${(error as Error).message}`);
  }
  return true;
}

describe('the readings scanner against JSON.parse and the schema', () => {
  it('takes valid messages in any layout and reads the same readings from them', () => {
    for (let seed = 1; seed <= 2000; seed += 1) {
      const random = generator(seed);
      const text = validMessage(random, seed % 100 === 0 ? 1000 : 20);
      const taken = expectAgreement(text, seed);
      // Everything generated is valid except a rare number beyond a double, which only the general way reads.
      if (!taken) expect({ seed, text, general: parseReadingsMessage(text) }).toMatchObject({ general: { ok: true } });
    }
  });

  it('takes what JSON.stringify writes (the simulator, most device libraries)', () => {
    const readings = [
      { sensor: 'temp', ts: '2026-01-02T03:04:05.123456Z', value: -1e-7 },
      { sensor: 'temp', ts: '2026-01-02T03:04:05+01:00', value: 1.7976931348623157e308, quality: 'BAD' },
      { sensor: 'hum', ts: '2026-01-02T03:04:05.1234567Z', value: 5e-324 },
    ];
    const text = JSON.stringify({ seq: 42, readings });
    expect(expectAgreement(text, 0)).toBe(true);
    const negativeZero = '{"seq":1,"readings":[{"sensor":"t","ts":"2026-01-02T03:04:05Z","value":-0.0}]}';
    expect(expectAgreement(negativeZero, 0)).toBe(true);
    expect(scanReadingsMessage(negativeZero)?.items[0]).toMatchObject({ reading: { value: -0 } });
  });

  it('agrees on every mutated message it takes, and leaves the rest to the general way', () => {
    let taken = 0;
    for (let seed = 1; seed <= 20_000; seed += 1) {
      const random = generator(seed);
      if (expectAgreement(mutated(random, validMessage(random, 4)), seed)) taken += 1;
    }
    // Many mutations leave the message valid (a digit for a digit, a space): both ways must read them alike.
    expect(taken).toBeGreaterThan(1000);
    expect(taken).toBeLessThan(20_000);
  });

  it.each([
    ['an escape in a key', '{"seq":1,"readings":[{"sens\\u006fr":"t","ts":"2026-01-02T03:04:05Z","value":1}]}'],
    ['an escape in a value', '{"seq":1,"readings":[{"sensor":"\\u0074","ts":"2026-01-02T03:04:05Z","value":1}]}'],
    ['a key twice', '{"seq":1,"readings":[{"sensor":"t","sensor":"u","ts":"2026-01-02T03:04:05Z","value":1}]}'],
    ['the compact form', '{"seq":1,"sensor":"t","t0":"2026-01-02T03:04:05Z","dtMs":1000,"values":[1,2]}'],
    ['a value beyond a double', '{"seq":1,"readings":[{"sensor":"t","ts":"2026-01-02T03:04:05Z","value":1e400}]}'],
    ['a seq written as a decimal', '{"seq":1.0,"readings":[{"sensor":"t","ts":"2026-01-02T03:04:05Z","value":1}]}'],
    ['a seq beyond 2^53 - 1', '{"seq":9007199254740992,"readings":[{"sensor":"t","ts":"2026-01-02T03:04:05Z","value":1}]}'],
    ['no readings', '{"seq":1,"readings":[]}'],
    ['an unknown key', '{"seq":1,"readings":[{"sensor":"t","ts":"2026-01-02T03:04:05Z","value":1,"unit":"C"}]}'],
    ['text after the message', '{"seq":1,"readings":[{"sensor":"t","ts":"2026-01-02T03:04:05Z","value":1}]}x'],
    ['a leading zero', '{"seq":1,"readings":[{"sensor":"t","ts":"2026-01-02T03:04:05Z","value":01}]}'],
  ])('leaves %s to the general way', (_name, text) => {
    expect(scanReadingsMessage(text)).toBeUndefined();
  });

  it('was written against the schema as it stands: a change to the schema must reach the scanner too', () => {
    const schema = JSON.parse(readFileSync(path.join(__dirname, '..', 'schemas', 'mqtt', 'readings.json'), 'utf8')) as Record<string, unknown>;
    const strip = (value: unknown): unknown =>
      Array.isArray(value) ? value.map(strip) : typeof value === 'object' && value !== null ? Object.fromEntries(Object.entries(value).filter(([key]) => !['description', 'title', '$schema', '$id'].includes(key)).map(([key, v]) => [key, strip(v)])) : value;
    // What readings-scanner.ts checks, constraint by constraint.
    expect(strip(schema)).toEqual({
      type: 'object',
      required: ['seq', 'readings'],
      additionalProperties: false,
      properties: {
        seq: { type: 'integer', minimum: 0, maximum: 9007199254740991 },
        readings: {
          type: 'array',
          minItems: 1,
          maxItems: 1000,
          items: {
            type: 'object',
            required: ['sensor', 'ts', 'value'],
            additionalProperties: false,
            properties: {
              sensor: { type: 'string', pattern: '^[a-z0-9][a-z0-9_.-]{0,63}$' },
              ts: { type: 'string', format: 'date-time', maxLength: 40 },
              value: { type: 'number' },
              quality: { enum: ['GOOD', 'UNCERTAIN', 'BAD'] },
            },
          },
        },
      },
    });
  });

  it('takes at most 1000 readings', () => {
    const reading = '{"sensor":"t","ts":"2026-01-02T03:04:05Z","value":1}';
    expect(scanReadingsMessage(`{"seq":1,"readings":[${Array(1000).fill(reading).join(',')}]}`)?.items).toHaveLength(1000);
    expect(scanReadingsMessage(`{"seq":1,"readings":[${Array(1001).fill(reading).join(',')}]}`)).toBeUndefined();
  });
});

/** RFC 3339 as schemas/mqtt/readings.json means it, written the plain way: a regular expression, then Date for the calendar. */
function referenceMicros(text: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/.exec(text);
  if (!match) return Number.NaN;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  const calendarDay = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  const offsetHours = Number(match[9] ?? 0);
  const offsetMinutes = Number(match[10] ?? 0);
  if (year === 0 || !calendarDay || hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return Number.NaN;
  const offset = (match[8] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  const ms = date.getTime() + ((hour * 60 + minute) * 60 + second) * 1000 - offset;
  const fraction = match[7] ?? '';
  const micros = fraction.length > 7 ? Math.round(Number(fraction) * 1e6) : Number((fraction.slice(1) + '000000').slice(0, 6));
  return ms * 1000 + micros;
}

describe('reading RFC 3339 timestamps in one pass', () => {
  it('agrees with a regular expression and Date on mutated timestamps', () => {
    const alphabet = ['0', '1', '2', '3', '9', '-', ':', '.', 'T', 't', 'Z', 'z', '+', ' ', 'x', '٣'];
    let valid = 0;
    for (let seed = 1; seed <= 50_000; seed += 1) {
      const random = generator(seed);
      let text = timestampText(random);
      if (random() < 0.7) {
        const at = int(random, text.length + 1);
        const kind = int(random, 3);
        text = text.slice(0, at) + (kind === 1 ? '' : pick(random, alphabet)) + text.slice(kind === 0 ? at : at + 1);
      }
      const expected = referenceMicros(text);
      const actual = dateTimeMicros(text);
      // Half-way fractions of more than six digits round to even in Postgres (rint); the reference rounds half up.
      const sameOrTie = Object.is(actual, expected) || (Math.abs(actual - expected) <= 1 && /\.\d{7,}/.test(text));
      if (!sameOrTie) throw new Error(`seed ${seed}: ${text} read as ${actual}, expected ${expected}`);
      expect(isDateTime(text)).toBe(!Number.isNaN(expected));
      if (!Number.isNaN(expected)) valid += 1;
    }
    expect(valid).toBeGreaterThan(10_000);
  });
});
