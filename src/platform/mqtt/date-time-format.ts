const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const DASH = 45;
const PLUS = 43;
const COLON = 58;
const DOT = 46;

/** The decimal digit at `at`, NaN for anything else (NaN then fails every range check). */
function digit(text: string, at: number): number {
  const d = text.charCodeAt(at) - 48;
  return d >= 0 && d <= 9 ? d : Number.NaN;
}

function two(text: string, at: number): number {
  return digit(text, at) * 10 + digit(text, at + 1);
}

function daysIn(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : DAYS[month - 1] ?? 0;
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
 * RFC 3339 `date-time` with an offset, `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)`
 * (T and Z in either case), read in one pass, digit by digit: the
 * microseconds since 1970-01-01 UTC with the offset applied — the time as
 * Postgres stores it, exact as a double until the year 2255 — or NaN when
 * the text is not one. Up to six fraction digits are read as an integer;
 * more are read as Postgres reads them (strtod, × 10⁶, rint), so `.9999996`
 * carries into the next second. Date.parse would keep milliseconds only.
 * Stricter than ajv-formats in two ways: no leap second (`:60`), which
 * JavaScript cannot represent and Postgres would move to the next minute;
 * no year 0000, which Postgres refuses (there is no year zero in its
 * calendar). The readings hot path reads one per reading; the API's schemas use it too.
 */
export function dateTimeMicros(text: string): number {
  const year = two(text, 0) * 100 + two(text, 2);
  const month = two(text, 5);
  const day = two(text, 8);
  const hour = two(text, 11);
  const minute = two(text, 14);
  const second = two(text, 17);
  const t = text.charCodeAt(10);
  if (text.charCodeAt(4) !== DASH || text.charCodeAt(7) !== DASH || (t !== 84 && t !== 116) || text.charCodeAt(13) !== COLON || text.charCodeAt(16) !== COLON) {
    return Number.NaN;
  }
  if (!(year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month) && hour <= 23 && minute <= 59 && second <= 59)) return Number.NaN;
  let at = 19;
  let fraction = 0;
  if (text.charCodeAt(at) === DOT) {
    while (!Number.isNaN(digit(text, (at += 1))));
    const digits = at - 20;
    if (digits < 1 || digits > 9) return Number.NaN;
    if (digits > 6) fraction = rint(Number.parseFloat(text.slice(19, at)) * 1_000_000);
    else for (let i = 20; i < 26; i += 1) fraction = fraction * 10 + (i < at ? text.charCodeAt(i) - 48 : 0);
  }
  let seconds = daysFromCivil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
  const zone = text.charCodeAt(at);
  const left = text.length - at;
  if (left === 6 && (zone === PLUS || zone === DASH) && text.charCodeAt(at + 3) === COLON) {
    const offsetHours = two(text, at + 1);
    const offsetMinutes = two(text, at + 4);
    if (!(offsetHours <= 23 && offsetMinutes <= 59)) return Number.NaN;
    const offsetSeconds = offsetHours * 3600 + offsetMinutes * 60;
    seconds += zone === DASH ? offsetSeconds : -offsetSeconds;
  } else if (!(left === 1 && (zone === 90 || zone === 122))) {
    return Number.NaN; // neither ±HH:MM nor Z, z
  }
  return seconds * 1_000_000 + fraction;
}

/** Whether the text is an RFC 3339 `date-time` as dateTimeMicros reads it. */
export function isDateTime(text: string): boolean {
  return !Number.isNaN(dateTimeMicros(text));
}
