const SHAPE = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The two decimal digits at `at` (the shape is checked first). */
function two(text: string, at: number): number {
  return (text.charCodeAt(at) - 48) * 10 + text.charCodeAt(at + 1) - 48;
}

function daysIn(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : DAYS[month - 1] ?? 0;
}

/**
 * RFC 3339 `date-time` with an offset: one regular expression for the shape,
 * then the ranges read digit by digit, allocating nothing (the readings hot
 * path checks one per reading). Stricter than ajv-formats in two ways: no
 * leap second (`:60`), which JavaScript cannot represent and Postgres would
 * move to the next minute; no year 0000, which Postgres refuses (there is
 * no year zero in its calendar). The API's schemas use it too.
 */
export function isDateTime(text: string): boolean {
  if (!SHAPE.test(text)) return false;
  const year = two(text, 0) * 100 + two(text, 2);
  const month = two(text, 5);
  const day = two(text, 8);
  if (year === 0 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return false;
  if (two(text, 11) > 23 || two(text, 14) > 59 || two(text, 17) > 59) return false;
  const end = text.length;
  const last = text.charCodeAt(end - 1);
  if (last === 90 || last === 122) return true; // Z, z
  return two(text, end - 5) <= 23 && two(text, end - 2) <= 59;
}

/** Days from 1970-01-01 to the given proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** Round half to even, as C's rint() in Postgres' fractional-second parsing. */
function rint(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Microseconds since 1970-01-01 UTC of a text `isDateTime` accepted, read
 * in one pass with the offset applied: the time as Postgres stores it (exact
 * as a double until the year 2255). Up to six fraction digits are read as an
 * integer; more are read as Postgres reads them (strtod, × 10⁶, rint), so
 * `.9999996` carries into the next second. Date.parse would keep milliseconds only.
 */
export function dateTimeMicros(text: string): number {
  const days = daysFromCivil(two(text, 0) * 100 + two(text, 2), two(text, 5), two(text, 8));
  let seconds = days * 86_400 + two(text, 11) * 3600 + two(text, 14) * 60 + two(text, 17);
  const end = text.length;
  const last = text.charCodeAt(end - 1);
  if (last !== 90 && last !== 122) {
    const offsetSeconds = two(text, end - 5) * 3600 + two(text, end - 2) * 60;
    seconds += text.charCodeAt(end - 6) === 45 /* - */ ? offsetSeconds : -offsetSeconds;
  }
  let fraction = 0;
  if (text.charCodeAt(19) === 46 /* . */) {
    let digitsEnd = 20;
    while (digitsEnd < end && text.charCodeAt(digitsEnd) >= 48 && text.charCodeAt(digitsEnd) <= 57) digitsEnd += 1;
    if (digitsEnd - 20 > 6) {
      fraction = rint(Number.parseFloat(text.slice(19, digitsEnd)) * 1_000_000);
    } else {
      for (let i = 20; i < 26; i += 1) fraction = fraction * 10 + (i < digitsEnd ? text.charCodeAt(i) - 48 : 0);
    }
  }
  return seconds * 1_000_000 + fraction;
}
