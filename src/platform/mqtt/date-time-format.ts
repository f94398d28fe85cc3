const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : DAYS[month - 1] ?? 0;
}

/**
 * RFC 3339 `date-time` with an offset, checked in one regular expression
 * and a few comparisons (the readings hot path validates one per reading).
 * Stricter than ajv-formats in one way: no leap second (`:60`), which
 * JavaScript cannot represent and Postgres would move to the next minute.
 */
export function isDateTime(text: string): boolean {
  const m = RFC3339.exec(text);
  if (!m) return false;
  const [, year, month, day, hour, minute, second, offsetHour, offsetMinute] = m.map(Number) as number[];
  if (year === undefined || month === undefined || day === undefined) return false;
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return false;
  if ((hour ?? 0) > 23 || (minute ?? 0) > 59 || (second ?? 0) > 59) return false;
  return offsetHour === undefined || Number.isNaN(offsetHour) || (offsetHour <= 23 && (offsetMinute ?? 0) <= 59);
}
