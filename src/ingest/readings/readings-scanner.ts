import { dateTimeMicros } from '../../platform/mqtt/date-time-format';
import { QUALITIES } from './reading-quality';
import { acceptedReading } from './accepted-reading';
import type { DecodedMessage, ItemOutcome } from './readings-message';

const SPACE = 32;
const TAB = 9;
const LF = 10;
const CR = 13;
const QUOTE = 34;
const COMMA = 44;
const COLON = 58;
const LBRACE = 123;
const RBRACE = 125;
const LBRACKET = 91;
const RBRACKET = 93;
const MINUS = 45;
const PLUS = 43;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
const LOWER_E = 101;
const UPPER_E = 69;
const LOWER_A = 97;
const LOWER_Z = 122;
const UNDERSCORE = 95;

/** The schema's limits (schemas/mqtt/readings.json). */
const MAX_READINGS = 1000;
const MAX_TS_LENGTH = 40;
const MAX_SENSOR_LENGTH = 64;

/** Object keys with distinct first letters, found by it. */
interface Keys {
  readonly names: readonly string[];
  readonly byFirst: Int8Array;
}

function keys(...names: string[]): Keys {
  const byFirst = new Int8Array(128).fill(-1);
  names.forEach((name, i) => {
    const first = name.charCodeAt(0);
    if (byFirst[first] !== -1) throw new Error(`keys ${names.join(', ')} share a first letter`);
    byFirst[first] = i;
  });
  return { names, byFirst };
}

/** The keys of a message and of a reading, by their index. */
const MESSAGE_KEYS = keys('seq', 'readings');
const SEQ = 0;
const READINGS = 1;
const READING_KEYS = keys('sensor', 'ts', 'value', 'quality');
const SENSOR = 0;
const TS = 1;
const VALUE = 2;
const QUALITY = 3;

/** Integers of up to 15 digits are exact doubles, as is every power of ten up to 10^22. */
const MAX_EXACT_DIGITS = 15;
const MAX_EXACT_POWER = 22;
const POWERS_OF_TEN = Array.from({ length: MAX_EXACT_POWER + 1 }, (_, i) => Number(`1e${i}`));
/** An exponent beyond this is far outside the fast path: the number goes to Number(). */
const LARGE_EXPONENT = 1000;

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

/** `^[a-z0-9][a-z0-9_.-]{0,63}$`, the sensor key pattern. */
function isSensorKey(key: string): boolean {
  const length = key.length;
  if (length < 1 || length > MAX_SENSOR_LENGTH) return false;
  for (let i = 0; i < length; i += 1) {
    const c = key.charCodeAt(i);
    if ((c >= LOWER_A && c <= LOWER_Z) || isDigit(c)) continue;
    if (i > 0 && (c === UNDERSCORE || c === DOT || c === MINUS)) continue;
    return false;
  }
  return true;
}

/**
 * Reads JSON text left to right. Every method answers undefined (or false,
 * or -1) for anything outside the plain subset it knows — an unknown key,
 * an escape, a number that is not finite — so the caller gives the text to
 * the general path instead.
 */
class Scanner {
  at = 0;

  constructor(private readonly text: string) {}

  /** The next character code after white space (NaN at the end). */
  peek(): number {
    const text = this.text;
    let at = this.at;
    let c = text.charCodeAt(at);
    while (c === SPACE || c === LF || c === CR || c === TAB) c = text.charCodeAt((at += 1));
    this.at = at;
    return c;
  }

  /** Consumes `c` (after white space). */
  take(c: number): boolean {
    const next = this.text.charCodeAt(this.at);
    if (next !== c && (next > SPACE || this.peek() !== c)) return false;
    this.at += 1;
    return true;
  }

  atEnd(): boolean {
    return Number.isNaN(this.peek());
  }

  /**
   * The text up to the next quote, as is. Only for values whose check
   * refuses a backslash (and so an escape, which would end it early): a
   * sensor key, a timestamp, a quality name.
   */
  plainString(): string | undefined {
    if (this.peek() !== QUOTE) return undefined;
    const start = this.at + 1;
    const end = this.text.indexOf('"', start);
    if (end < 0) return undefined;
    this.at = end + 1;
    return this.text.slice(start, end);
  }

  /**
   * An object key and its colon, when it is one of the keys: its index
   * among them, else -1. Compared in place, without making a string of it.
   */
  key(keys: Keys): number {
    if (this.peek() !== QUOTE) return -1;
    const start = this.at + 1;
    const index = keys.byFirst[this.text.charCodeAt(start)] ?? -1;
    const name = keys.names[index];
    if (name === undefined || this.text.charCodeAt(start + name.length) !== QUOTE || !this.text.startsWith(name, start)) return -1;
    this.at = start + name.length + 1;
    return this.take(COLON) ? index : -1;
  }

  /**
   * A number in JSON's grammar, finite, with the value JSON.parse gives it.
   * Up to 15 significant digits and a power of ten within 10^±22, it is the
   * digits as an integer times or divided by that power: both exact doubles,
   * so the one rounding is the correct one (Clinger's fast path). Any other
   * is read by Number() on its text, which rounds as JSON.parse does.
   */
  number(): number | undefined {
    const text = this.text;
    const start = this.at;
    let at = start;
    const negative = text.charCodeAt(at) === MINUS;
    if (negative) at += 1;
    let digits = 0;
    let mantissa = 0;
    let c = text.charCodeAt(at);
    if (c === ZERO) {
      c = text.charCodeAt((at += 1));
    } else if (isDigit(c)) {
      do {
        mantissa = mantissa * 10 + (c - ZERO);
        digits += 1;
        c = text.charCodeAt((at += 1));
      } while (isDigit(c));
    } else {
      return undefined;
    }
    let exponent = 0;
    if (c === DOT) {
      c = text.charCodeAt((at += 1));
      if (!isDigit(c)) return undefined;
      do {
        if (digits > 0 || c !== ZERO) digits += 1;
        mantissa = mantissa * 10 + (c - ZERO);
        exponent -= 1;
        c = text.charCodeAt((at += 1));
      } while (isDigit(c));
    }
    let exact = digits <= MAX_EXACT_DIGITS;
    if (c === LOWER_E || c === UPPER_E) {
      c = text.charCodeAt((at += 1));
      const sign = c === MINUS ? -1 : 1;
      if (c === PLUS || c === MINUS) c = text.charCodeAt((at += 1));
      if (!isDigit(c)) return undefined;
      let written = 0;
      do {
        written = written * 10 + (c - ZERO);
        if (written > LARGE_EXPONENT) exact = false;
        c = text.charCodeAt((at += 1));
      } while (isDigit(c));
      exponent += sign * written;
    }
    this.at = at;
    if (exact && exponent >= -MAX_EXACT_POWER && exponent <= MAX_EXACT_POWER) {
      const magnitude = exponent < 0 ? mantissa / (POWERS_OF_TEN[-exponent] as number) : mantissa * (POWERS_OF_TEN[exponent] as number);
      return negative ? -magnitude : magnitude;
    }
    const value = Number(text.slice(start, at));
    return Number.isFinite(value) ? value : undefined;
  }

  /** A non-negative safe integer written as plain digits (the schema's seq). */
  seq(): number | undefined {
    this.peek();
    const text = this.text;
    const start = this.at;
    let at = start;
    if (text.charCodeAt(at) === ZERO) at += 1;
    else if (isDigit(text.charCodeAt(at))) while (isDigit(text.charCodeAt((at += 1))));
    else return undefined;
    // A fraction or exponent after the digits is left unread, and the caller refuses it.
    const value = Number(text.slice(start, at));
    if (!Number.isSafeInteger(value)) return undefined;
    this.at = at;
    return value;
  }

  /** One reading object: sensor, ts, value and optional quality, each once and valid, in any order. */
  reading(): ItemOutcome | undefined {
    if (!this.take(LBRACE)) return undefined;
    let sensor: string | undefined;
    let ts: string | undefined;
    let tsMicros = Number.NaN;
    let value: number | undefined;
    let quality: number | undefined;
    for (;;) {
      const key = this.key(READING_KEYS);
      if (key === SENSOR && sensor === undefined) {
        sensor = this.plainString();
        if (sensor === undefined || !isSensorKey(sensor)) return undefined;
      } else if (key === TS && ts === undefined) {
        ts = this.plainString();
        if (ts === undefined || ts.length > MAX_TS_LENGTH) return undefined;
        tsMicros = dateTimeMicros(ts);
        if (Number.isNaN(tsMicros)) return undefined;
      } else if (key === VALUE && value === undefined) {
        this.peek();
        value = this.number();
        if (value === undefined) return undefined;
      } else if (key === QUALITY && quality === undefined) {
        const name = this.plainString();
        quality = name === undefined ? -1 : QUALITIES.indexOf(name as (typeof QUALITIES)[number]);
        if (quality < 0) return undefined;
      } else {
        return undefined;
      }
      if (this.take(COMMA)) continue;
      if (!this.take(RBRACE)) return undefined;
      break;
    }
    if (sensor === undefined || ts === undefined || value === undefined) return undefined;
    return acceptedReading(sensor, ts, tsMicros, value, quality ?? 0);
  }

  /** The readings array: 1 to 1000 valid readings. */
  readings(): ItemOutcome[] | undefined {
    if (!this.take(LBRACKET)) return undefined;
    const readings: ItemOutcome[] = [];
    for (;;) {
      const reading = this.reading();
      if (reading === undefined || readings.push(reading) > MAX_READINGS) return undefined;
      if (this.take(COMMA)) continue;
      return this.take(RBRACKET) ? readings : undefined;
    }
  }
}

/**
 * A readings message of the full form read straight from its text, for
 * the messages devices send nearly always: valid, without escapes. It
 * answers only when JSON.parse followed by the schema check would accept
 * the message, and then with the same readings; for anything else
 * (invalid, the compact form, an escape, a key twice, a number beyond a
 * double) it answers undefined and the general path decides. It saves
 * building the parsed object tree and walking it again in the schema
 * check: measured on 100-reading messages, 270–300 ns per reading against
 * 415–480 ns. test/readings-scanner.unit.test.ts holds it to the general path.
 */
export function scanReadingsMessage(text: string): Extract<DecodedMessage, { ok: true }> | undefined {
  const scanner = new Scanner(text);
  if (!scanner.take(LBRACE)) return undefined;
  let seq: number | undefined;
  let readings: ItemOutcome[] | undefined;
  for (;;) {
    const key = scanner.key(MESSAGE_KEYS);
    if (key === SEQ && seq === undefined) seq = scanner.seq();
    else if (key === READINGS && readings === undefined) readings = scanner.readings();
    else return undefined;
    if (key === SEQ ? seq === undefined : readings === undefined) return undefined;
    if (scanner.take(COMMA)) continue;
    if (!scanner.take(RBRACE)) return undefined;
    break;
  }
  if (seq === undefined || readings === undefined || !scanner.atEnd()) return undefined;
  return { ok: true, seq, items: readings };
}
