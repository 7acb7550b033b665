/**
 * Key helpers that are not node classes: natural ordering and parsing of block keys.
 *
 * Natural order compares runs of digits by value, so `x[2]` < `x[10]` and `a[0,2]` < `a[0,10]`;
 * everything else compares by UTF-16 code unit. It is a total order (ties such as `x01` vs `x1`
 * fall back to plain string order), so sorting with it is deterministic. `order` uses it to
 * break ties and to pick which output to compute first.
 */

import type { Key } from "./task.js";

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Natural-order comparison of two keys; negative, zero (only when equal) or positive. */
export function naturalCompare(a: string, b: string): number {
  const la = a.length;
  const lb = b.length;
  let i = 0;
  let j = 0;
  while (i < la && j < lb) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    if (isDigit(ca) && isDigit(cb)) {
      // Compare digit runs by value: skip leading zeros, then longer run is larger,
      // then the first differing digit decides. No allocation: this runs inside sorts.
      while (i < la && a.charCodeAt(i) === 48) i++;
      while (j < lb && b.charCodeAt(j) === 48) j++;
      let ei = i;
      let ej = j;
      while (ei < la && isDigit(a.charCodeAt(ei))) ei++;
      while (ej < lb && isDigit(b.charCodeAt(ej))) ej++;
      if (ei - i !== ej - j) return ei - i - (ej - j);
      for (; i < ei; i++, j++) {
        const d = a.charCodeAt(i) - b.charCodeAt(j);
        if (d !== 0) return d;
      }
      continue;
    }
    if (ca !== cb) return ca - cb;
    i++;
    j++;
  }
  const rest = la - i - (lb - j);
  if (rest !== 0) return rest;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A parsed block key: `name[i,j]` -> { name, index: [i, j] }. */
export interface BlockKey {
  readonly name: string;
  readonly index: number[];
}

/**
 * Inverse of `blockKey`: undefined unless `key` is exactly `name[i,j,...]` with non-negative
 * integer indices written without sign, spaces or leading zeros (so parse(format(x)) round-trips
 * and two spellings never name one block).
 */
export function parseBlockKey(key: Key): BlockKey | undefined {
  const open = key.indexOf("[");
  if (open <= 0 || key.charCodeAt(key.length - 1) !== 93 /* ] */) return undefined;
  const index: number[] = [];
  let value = 0;
  let digits = 0;
  for (let i = open + 1; i < key.length - 1; i++) {
    const c = key.charCodeAt(i);
    if (isDigit(c)) {
      if (digits === 1 && value === 0) return undefined; // leading zero
      value = value * 10 + (c - 48);
      digits++;
    } else if (c === 44 /* , */ && digits > 0) {
      if (!Number.isSafeInteger(value)) return undefined;
      index.push(value);
      value = 0;
      digits = 0;
    } else {
      return undefined;
    }
  }
  if (digits === 0) {
    // `name[]` is the key of a 0-d collection's only block; `name[1,]` is malformed.
    if (index.length > 0) return undefined;
  } else {
    index.push(value);
  }
  if (!Number.isSafeInteger(value)) return undefined;
  return { name: key.slice(0, open), index };
}
