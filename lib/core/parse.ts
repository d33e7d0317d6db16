/**
 * Strict parsing of raw CSV cell text. `Number()` accepts '', ' ', '0x1f' and 'Infinity'; a data pipeline
 * must not, so a value is a decimal literal or it is refused with a reason. A reason quotes the text, cut short
 * when it is long: a huge field must not make a huge rejects file.
 */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
/** `YYYY-MM-DD`, optionally with an ISO 8601 time: `T` or a space, `hh[:mm[:ss[.fff]]]`, a zone. */
const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,]\d+)?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** The text as a reason shows it: JSON-quoted, at most 40 characters of it. */
function quote(text: string): string {
  return text.length <= 40
    ? JSON.stringify(text)
    : `${JSON.stringify(text.slice(0, 40))}… (${text.length} characters)`;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

export function parseDecimal(text: string | undefined): Parsed<number> {
  if (text === undefined) return { ok: false, reason: 'missing value' };
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, reason: 'empty value' };
  if (!DECIMAL.test(trimmed)) return { ok: false, reason: `not a number: ${quote(text)}` };
  const value = Number(trimmed);
  if (!Number.isFinite(value)) return { ok: false, reason: `number out of range: ${quote(text)}` };
  return { ok: true, value };
}

const DAYS_BEFORE_MONTH = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** 1-based day of the year of an ISO date (`YYYY-MM-DD`, optionally followed by a time): 1 … 366. */
export function parseDayOfYear(text: string | undefined): Parsed<number> {
  if (text === undefined) return { ok: false, reason: 'missing value' };
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, reason: 'empty value' };
  const match = ISO_DATE.exec(trimmed);
  if (!match) return { ok: false, reason: `not an ISO date (YYYY-MM-DD): ${quote(text)}` };
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return { ok: false, reason: `impossible date: ${quote(text)}` };
  }
  // Hours to 23, minutes to 59, seconds to 60 (a leap second); absent parts match as undefined.
  if (Number(match[4] ?? 0) > 23 || Number(match[5] ?? 0) > 59 || Number(match[6] ?? 0) > 60) {
    return { ok: false, reason: `impossible time: ${quote(text)}` };
  }
  const leapDay = month > 2 && isLeapYear(year) ? 1 : 0;
  return { ok: true, value: (DAYS_BEFORE_MONTH[month - 1] ?? 0) + day + leapDay };
}
