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
 * path checks one per reading). Stricter than ajv-formats in one way: no
 * leap second (`:60`), which JavaScript cannot represent and Postgres would
 * move to the next minute.
 */
export function isDateTime(text: string): boolean {
  if (!SHAPE.test(text)) return false;
  const year = two(text, 0) * 100 + two(text, 2);
  const month = two(text, 5);
  const day = two(text, 8);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return false;
  if (two(text, 11) > 23 || two(text, 14) > 59 || two(text, 17) > 59) return false;
  const end = text.length;
  const last = text.charCodeAt(end - 1);
  if (last === 90 || last === 122) return true; // Z, z
  return two(text, end - 5) <= 23 && two(text, end - 2) <= 59;
}
