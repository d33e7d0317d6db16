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

const SPACE = 0x20;
const TILDE = 0x7e;
const ZERO = 0x30;
const NINE = 0x39;
const PLUS = 0x2b;
const MINUS = 0x2d;
const DOT = 0x2e;

/**
 * The end of the decimal literal `DECIMAL` matches in `text` from `i` on (its sign, digits, point, exponent),
 * or -1 when there is none there: the regex without its per-call cost, for {@link decimalValue}.
 */
function decimalEnd(text: string, i: number): number {
  // Past the end charCodeAt is NaN, which no comparison matches.
  let c = text.charCodeAt(i);
  if (c === PLUS || c === MINUS) c = text.charCodeAt(++i);
  let digits = 0;
  while (c >= ZERO && c <= NINE) {
    digits++;
    c = text.charCodeAt(++i);
  }
  if (c === DOT) {
    c = text.charCodeAt(++i);
    while (c >= ZERO && c <= NINE) {
      digits++;
      c = text.charCodeAt(++i);
    }
  }
  if (digits === 0) return -1;
  if (c === 0x65 || c === 0x45) {
    c = text.charCodeAt(++i);
    if (c === PLUS || c === MINUS) c = text.charCodeAt(++i);
    const from = i;
    while (c >= ZERO && c <= NINE) c = text.charCodeAt(++i);
    if (i === from) return -1;
  }
  return i;
}

/**
 * {@link parseDecimal}'s value, or NaN where it refuses the text (then ask it why). No object per value: the
 * Preprocessor's path. Text whose ends are printable ASCII needs no `trim()`.
 */
export function decimalValue(text: string | undefined): number {
  if (text === undefined) return Number.NaN;
  const n = text.length;
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(n - 1);
  if (!(first > SPACE && first <= TILDE && last > SPACE && last <= TILDE)) {
    const parsed = parseDecimal(text);
    return parsed.ok ? parsed.value : Number.NaN;
  }
  if (decimalEnd(text, 0) !== n) return Number.NaN;
  const value = Number(text);
  return Number.isFinite(value) ? value : Number.NaN;
}

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
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * {@link parseDayOfYear}'s value for a bare `YYYY-MM-DD`, read char by char; NaN for anything else, valid or
 * not (then ask it). No object per value: the Preprocessor's path.
 */
export function dayOfYearValue(text: string | undefined): number {
  if (text === undefined || text.length !== 10) return Number.NaN;
  if (text.charCodeAt(4) !== MINUS || text.charCodeAt(7) !== MINUS) return Number.NaN;
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  // A part that is not all digits is negative; an impossible date NaN too: parseDayOfYear says which.
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return Number.NaN;
  const leapDay = month > 2 && isLeapYear(year) ? 1 : 0;
  return (DAYS_BEFORE_MONTH[month - 1] as number) + day + leapDay;
}

/** The number the `count` ASCII digits at `at` spell, or -1 if one is not a digit. */
function digitsAt(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const d = text.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
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
