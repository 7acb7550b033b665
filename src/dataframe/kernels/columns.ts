/**
 * Column helpers shared by the dataframe kernels: gathering rows into a new column (with -1 for
 * a null row), dictionaries (deduplicating, compacting to the codes used, ranking strings for
 * ordering) and the value hash of a string.
 *
 * Strings are compared by JavaScript's `<` (UTF-16 code units). That matches Python's code point
 * order except between characters above U+FFFF and those in U+E000..U+FFFF.
 */

import { fmix32 } from "../../hash.js";
import { allocColumnData, type Column, type ColumnData } from "../frame.js";

type Indexable = { [i: number]: unknown; length: number };

/**
 * The rows `rows[i]` of c, in that order; rows[i] = -1 gives a null. String columns keep only
 * the dictionary entries they use (in first-use order).
 */
export function takeColumn(c: Column, rows: Int32Array): Column {
  const n = rows.length;
  let valid: Uint8Array | undefined;
  const srcValid = c.valid;
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    if (r < 0 || (srcValid !== undefined && srcValid[r] === 0)) {
      (valid ??= new Uint8Array(n).fill(1))[i] = 0;
      nulls++;
    }
  }
  if (c.type === "string") {
    const src = c.data as Int32Array;
    const codes = new Int32Array(n);
    for (let i = 0; i < n; i++) codes[i] = valid && !valid[i] ? -1 : src[rows[i]!]!;
    return compactStrings(codes, valid, c.dictionary ?? []);
  }
  const data = allocColumnData(c.type, n) as unknown as Indexable;
  const src = c.data as unknown as Indexable;
  if (Array.isArray(src)) {
    for (let i = 0; i < n; i++) data[i] = rows[i]! < 0 ? null : src[rows[i]!];
  } else if (nulls === 0) {
    for (let i = 0; i < n; i++) data[i] = src[rows[i]!];
  } else {
    for (let i = 0; i < n; i++) if (rows[i]! >= 0) data[i] = src[rows[i]!];
  }
  const out: Column = { ...c, data: data as unknown as ColumnData };
  if (valid) out.valid = valid;
  else delete out.valid;
  return out;
}

/** A string column from codes into dict (ignored where valid is 0), with a compacted dictionary. */
export function compactStrings(codes: Int32Array, valid: Uint8Array | undefined, dict: readonly string[]): Column {
  const map = new Int32Array(dict.length).fill(-1);
  const out: string[] = [];
  const data = new Int32Array(codes.length);
  for (let i = 0; i < codes.length; i++) {
    if (valid && !valid[i]) continue;
    const c = codes[i]!;
    let m = map[c]!;
    if (m < 0) {
      m = map[c] = out.length;
      out.push(dict[c]!);
    }
    data[i] = m;
  }
  const col: Column = { type: "string", data, dictionary: out };
  if (valid) col.valid = valid;
  return col;
}

/**
 * The column with a duplicate-free dictionary (codes of equal strings made equal), so codes can
 * stand for values inside one partition. Returned as is when the dictionary has no duplicates.
 */
export function dedupeDictionary(c: Column): Column {
  const dict = c.dictionary ?? [];
  const index = new Map<string, number>();
  let remap: Int32Array | undefined;
  for (let i = 0; i < dict.length; i++) {
    const s = dict[i]!;
    const first = index.get(s);
    if (first === undefined) index.set(s, i);
    else (remap ??= Int32Array.from(dict, (_, j) => j))[i] = first;
  }
  if (!remap) return c;
  const src = c.data as Int32Array;
  const data = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) data[i] = c.valid && !c.valid[i] ? 0 : remap[src[i]!]!;
  return { ...c, data };
}

/** Codes of c re-expressed in `target`'s dictionary (-1 where the string is absent; nulls 0). */
export function recode(c: Column, target: readonly string[]): Int32Array {
  const index = new Map<string, number>();
  for (let i = target.length - 1; i >= 0; i--) index.set(target[i]!, i);
  const map = Int32Array.from(c.dictionary ?? [], (s) => index.get(s) ?? -1);
  const src = c.data as Int32Array;
  const out = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = c.valid && !c.valid[i] ? 0 : map[src[i]!]!;
  return out;
}

/** rank[code] = position of dict[code] in sorted order (equal strings share a rank), and the sorted strings. */
export function dictionaryRanks(dict: readonly string[]): { rank: Int32Array; sorted: string[] } {
  const order = Array.from(dict.keys()).sort((a, b) => (dict[a]! < dict[b]! ? -1 : dict[a]! > dict[b]! ? 1 : 0));
  const rank = new Int32Array(dict.length);
  const sorted: string[] = [];
  for (const i of order) {
    const s = dict[i]!;
    if (sorted.length === 0 || sorted[sorted.length - 1] !== s) sorted.push(s);
    rank[i] = sorted.length - 1;
  }
  return { rank, sorted };
}

/** A 32-bit hash of a string's UTF-16 code units (FNV-1a, then murmur3's finalizer). */
export function stringHash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return fmix32(h);
}

/** Missing in pandas' sense: null, or NaN in a float column. */
export function isMissingAt(c: Column, i: number): boolean {
  if (c.valid && !c.valid[i]) return true;
  if (c.type === "float64" || c.type === "float32") {
    const x = (c.data as Float64Array)[i]!;
    return x !== x;
  }
  return false;
}
