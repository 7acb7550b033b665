/**
 * Scalar parsers for CSV fields: each reads text[s, e) in place (no substring, no regex) and
 * says whether the field is a value of its type. Shared by type inference (csv-infer.ts) and
 * the partition parser (csv-parse.ts), so a column is inferred as a type exactly when every
 * sampled value parses as it.
 *
 * Spaces and tabs around a value are ignored (as pandas does for numbers); strings keep theirs.
 *
 *   integers    [+-]digits
 *   floats      decimal or scientific notation, inf / infinity / nan in any case, with a sign;
 *               not hex, not "1_000", not "1,5"
 *   bools       true / false in any case (and 1 / 0 where the column was declared bool)
 *   dates       YYYY-MM-DD
 *   timestamps  YYYY-MM-DD[(T|t| )HH:MM[:SS[(.|,)fraction]]][Z|z|±HH[:MM]|±HHMM]
 *               an offset converts the value to UTC; digits past the unit are truncated
 */

const SPACE = 32;
const TAB = 9;

/** The range without surrounding spaces and tabs, in `trimmed` (reused: no allocation). */
export const trimmed = { s: 0, e: 0 };

export function trim(text: string, s: number, e: number): void {
  while (s < e && (text.charCodeAt(s) === SPACE || text.charCodeAt(s) === TAB)) s++;
  while (e > s && (text.charCodeAt(e - 1) === SPACE || text.charCodeAt(e - 1) === TAB)) e--;
  trimmed.s = s;
  trimmed.e = e;
}

/** An integer literal as a number: exact up to 15 digits, a larger magnitude beyond; NaN if not an integer. */
export function parseIntText(text: string, s0: number, e0: number): number {
  trim(text, s0, e0);
  let s = trimmed.s;
  const e = trimmed.e;
  let neg = false;
  const c0 = text.charCodeAt(s);
  if (c0 === 45 || c0 === 43) {
    neg = c0 === 45;
    s++;
  }
  if (s >= e) return NaN;
  let v = 0;
  for (let i = s; i < e; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return neg ? -v : v;
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/**
 * A float literal; NaN when it is not one (callers tell a real NaN apart with isNanWord).
 * Plain decimals of up to 15 significant digits take the exact fast path (an integer divided
 * by a power of ten: one correctly rounded operation); the rest go through Number().
 */
export function parseFloatText(text: string, s0: number, e0: number): number {
  trim(text, s0, e0);
  let s = trimmed.s;
  const e = trimmed.e;
  if (s >= e) return NaN;
  let neg = false;
  const c0 = text.charCodeAt(s);
  if (c0 === 45 || c0 === 43) {
    neg = c0 === 45;
    s++;
  }
  let mant = 0;
  let digits = 0;
  let frac = -1;
  let i = s;
  for (; i < e; i++) {
    const c = text.charCodeAt(i);
    const d = c - 48;
    if (d >= 0 && d <= 9) {
      mant = mant * 10 + d;
      if (mant !== 0) digits++;
    } else if (c === 46 && frac < 0) frac = i;
    else break;
  }
  if (i === e && digits <= 15) {
    const intDigits = frac < 0 ? e - s : frac - s;
    const fracDigits = frac < 0 ? 0 : e - frac - 1;
    if (intDigits + fracDigits === 0) return NaN; // "." or "-"
    const v = fracDigits === 0 ? mant : mant / POW10[fracDigits]!;
    if (fracDigits <= 22) return neg ? -v : v;
  }
  return slowFloat(text, trimmed.s, e);
}

function slowFloat(text: string, s: number, e: number): number {
  // Only [0-9+-.eE]: Number() alone would take "0x1f", "Infinity", "1_0" and " ".
  let hasDigit = false;
  for (let i = s; i < e; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) hasDigit = true;
    else if (c !== 43 && c !== 45 && c !== 46 && c !== 101 && c !== 69) return infinity(text, s, e);
  }
  return hasDigit ? Number(text.slice(s, e)) : NaN;
}

function lowerWord(text: string, s: number, e: number): string {
  return e - s > 9 ? "" : text.slice(s, e).toLowerCase();
}

function infinity(text: string, s: number, e: number): number {
  const w = lowerWord(text, s, e);
  if (w === "inf" || w === "+inf" || w === "infinity" || w === "+infinity") return Infinity;
  if (w === "-inf" || w === "-infinity") return -Infinity;
  return NaN;
}

export function isNanWord(text: string, s0: number, e0: number): boolean {
  trim(text, s0, e0);
  const w = lowerWord(text, trimmed.s, trimmed.e);
  return w === "nan" || w === "-nan" || w === "+nan";
}

/** A 64-bit integer literal, or undefined when it is not one or does not fit. */
export function parseBigIntText(text: string, s0: number, e0: number, signed: boolean): bigint | undefined {
  const v = parseIntText(text, s0, e0);
  if (v !== v) return undefined;
  if (Number.isSafeInteger(v) && (signed || v >= 0)) return BigInt(v);
  const b = BigInt(text.slice(trimmed.s, trimmed.e));
  if (signed ? b < -(2n ** 63n) || b >= 2n ** 63n : b < 0n || b >= 2n ** 64n) return undefined;
  return b;
}

/** 1 for true, 0 for false, -1 when neither; `digits` also takes "1" and "0". */
export function parseBoolText(text: string, s0: number, e0: number, digits: boolean): number {
  trim(text, s0, e0);
  const s = trimmed.s;
  const n = trimmed.e - s;
  if (n === 1 && digits) {
    const c = text.charCodeAt(s);
    return c === 49 ? 1 : c === 48 ? 0 : -1;
  }
  if (n !== 4 && n !== 5) return -1;
  const w = text.slice(s, trimmed.e).toLowerCase();
  return w === "true" ? 1 : w === "false" ? 0 : -1;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const MONTH_DAYS = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digitsAt(text: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** YYYY-MM-DD at text[s..s+10) as days since the epoch, or NaN. */
function dateAt(text: string, s: number): number {
  if (text.charCodeAt(s + 4) !== 45 || text.charCodeAt(s + 7) !== 45) return NaN;
  const y = digitsAt(text, s, 4);
  const m = digitsAt(text, s + 5, 2);
  const d = digitsAt(text, s + 8, 2);
  if (y < 0 || m < 1 || m > 12 || d < 1 || d > MONTH_DAYS[m]!) return NaN;
  if (m === 2 && d === 29 && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0))) return NaN;
  return daysFromCivil(y, m, d);
}

export function parseDateText(text: string, s0: number, e0: number): number {
  trim(text, s0, e0);
  return trimmed.e - trimmed.s === 10 ? dateAt(text, trimmed.s) : NaN;
}

/** The parts of a parsed timestamp (one reused object: parsing allocates nothing). */
export interface TimestampParts {
  /** Seconds since the epoch, in UTC when the text had an offset. */
  seconds: number;
  /** The fraction's first nine digits, as nanoseconds. */
  nanos: number;
  /** Fraction digits written (may exceed nine). */
  fractionDigits: number;
  hasTime: boolean;
  hasOffset: boolean;
}

export const stamp: TimestampParts = { seconds: 0, nanos: 0, fractionDigits: 0, hasTime: false, hasOffset: false };

/** Parse an ISO-8601 date or date-time into `stamp`; false if the text is not one. */
export function parseTimestampText(text: string, s0: number, e0: number): boolean {
  trim(text, s0, e0);
  const s = trimmed.s;
  const e = trimmed.e;
  if (e - s < 10) return false;
  const days = dateAt(text, s);
  if (days !== days) return false;
  stamp.seconds = days * 86400;
  stamp.nanos = 0;
  stamp.fractionDigits = 0;
  stamp.hasTime = false;
  stamp.hasOffset = false;
  let i = s + 10;
  if (i === e) return true;
  const t = text.charCodeAt(i);
  if (t !== 84 && t !== 116 && t !== SPACE) return false;
  const h = digitsAt(text, i + 1, 2);
  const mi = digitsAt(text, i + 4, 2);
  if (i + 6 > e || text.charCodeAt(i + 3) !== 58 || h < 0 || h > 23 || mi < 0 || mi > 59) return false;
  stamp.hasTime = true;
  let sec = 0;
  i += 6;
  if (i < e && text.charCodeAt(i) === 58) {
    sec = digitsAt(text, i + 1, 2);
    if (i + 3 > e || sec < 0 || sec > 60) return false;
    i += 3;
    const dot = text.charCodeAt(i);
    if (i < e && (dot === 46 || dot === 44)) {
      let n = 0;
      let k = i + 1;
      for (; k < e; k++) {
        const d = text.charCodeAt(k) - 48;
        if (d < 0 || d > 9) break;
        if (k - i <= 9) n = n * 10 + d;
      }
      const written = k - i - 1;
      if (written === 0) return false;
      stamp.fractionDigits = written;
      stamp.nanos = n * POW10[Math.max(0, 9 - written)]!;
      i = k;
    }
  }
  stamp.seconds += h * 3600 + mi * 60 + sec;
  if (i === e) return true;
  const z = text.charCodeAt(i);
  if ((z === 90 || z === 122) && i + 1 === e) {
    stamp.hasOffset = true;
    return true;
  }
  if (z !== 43 && z !== 45) return false;
  const oh = digitsAt(text, i + 1, 2);
  let om = 0;
  const rest = e - i - 3;
  if (oh < 0 || oh > 23) return false;
  if (rest === 3 && text.charCodeAt(i + 3) === 58) om = digitsAt(text, i + 4, 2);
  else if (rest === 2) om = digitsAt(text, i + 3, 2);
  else if (rest !== 0) return false;
  if (om < 0 || om > 59) return false;
  stamp.hasOffset = true;
  stamp.seconds -= (z === 45 ? -1 : 1) * (oh * 3600 + om * 60);
  return true;
}

const PER_SECOND = { s: 1, ms: 1e3, us: 1e6, ns: 1e9 } as const;
const PER_SECOND_BIG = { s: 1n, ms: 1000n, us: 1_000_000n, ns: 1_000_000_000n } as const;

/**
 * The parsed `stamp` as a count of `unit` since the epoch (sub-unit digits truncated), or
 * undefined when that count does not fit 64 bits (nanoseconds reach only 1677-2262).
 */
export function stampValue(unit: "s" | "ms" | "us" | "ns"): bigint | undefined {
  const per = PER_SECOND[unit];
  const sub = Math.floor(stamp.nanos / (1e9 / per));
  const v = stamp.seconds * per + sub;
  if (Number.isSafeInteger(v)) return BigInt(v);
  const big = BigInt(stamp.seconds) * PER_SECOND_BIG[unit] + BigInt(sub);
  return big < -(2n ** 63n) || big >= 2n ** 63n ? undefined : big;
}
