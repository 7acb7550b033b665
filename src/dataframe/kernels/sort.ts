/**
 * Sorting a partition, and choosing range boundaries for a sort shuffle.
 *
 * argsortFrame is a stable LSD radix sort in wasm (assembly/sort.ts). Every `by` column, last
 * first, contributes 32-bit words whose unsigned order is its value order (one word for types
 * up to 32 bits, low then high for 64-bit ones and floats); the (word, row) pairs are sorted
 * after gathering the words in the current row order. A column with nulls (or NaN, which pandas
 * sorts with the nulls) adds a most significant 0/1 null flag. Strings sort by the rank of
 * their value in the partition's sorted dictionary. Passes whose digit never varies are
 * skipped, so an int32 column of small range costs one or two scatter passes.
 *
 * sampleQuantiles and rangePartition are the two halves of a range shuffle (sortValues,
 * setIndex): values at quantiles of a sample of each partition, then each row's partition.
 */

import type { Kernels } from "../../kernels/kernels.js";
import { TesseraError } from "../../errors.js";
import { column, type Column, type Frame } from "../frame.js";
import { dictionaryRanks, isMissingAt } from "./columns.js";
import { BlockReader, T, copyOut, dfExports, i32, u32, withArena } from "./wasm.js";

export interface SortKey {
  column: string;
  /** Default true. */
  ascending?: boolean;
  /** Place nulls (and NaN) first; default false (pandas' na_position="last"). */
  nullsFirst?: boolean;
}

export type ScalarValue = number | bigint | string;

const WIDE = new Set<number>([T.F64, T.F32, T.I64, T.U64]);

/** Row order that sorts the frame by `by` (stable: equal rows keep their order). */
export function argsortFrame(k: Kernels, frame: Frame, by: readonly SortKey[]): Int32Array {
  const n = frame.length;
  if (by.length === 0) throw new TesseraError("argsortFrame: no sort columns given");
  const cols = by.map((b) => column(frame, b.column, "sort"));
  if (n === 0) return new Int32Array(0);
  const ex = dfExports(k);
  return withArena(k, (arena) => {
    const keys = arena.alloc(n * 4), rows = arena.alloc(n * 4), words = arena.alloc(n * 4);
    const tmpK = arena.alloc(n * 4), tmpI = arena.alloc(n * 4), hist = arena.alloc(3 * 2048 * 4);
    const r = i32(k, rows, n);
    for (let i = 0; i < n; i++) r[i] = i;
    let sorted = false;
    const sortBy = (): void => {
      if (sorted) ex.gatherU32(words, rows, n, keys);
      else u32(k, keys, n).set(u32(k, words, n));
      ex.radixSortPairs(keys, rows, n, tmpK, tmpI, hist);
      sorted = true;
    };
    for (let j = by.length - 1; j >= 0; j--) {
      const c = cols[j]!, desc = by[j]!.ascending === false, nullWord = by[j]!.nullsFirst ? 0 : 1;
      if (c.type === "object") throw new TesseraError(`sort: column ${JSON.stringify(by[j]!.column)} of type object cannot be sorted`);
      if (c.type === "string") {
        stringWords(k, c, desc, words);
        sortBy();
        if (c.valid && nullFlagsJs(k, c, nullWord, words) > 0) sortBy();
        continue;
      }
      const data = new BlockReader(k, arena, c.data as Float64Array, n);
      const src = data.ptr(0, n);
      const valid = c.valid ? new BlockReader(k, arena, c.valid, n).ptr(0, n) : 0;
      const t = typeOf(c);
      const parts = WIDE.has(t) ? [0, 1] : [0];
      for (const part of parts) {
        ex.sortWords(t, src, valid, n, part, desc ? 1 : 0, words);
        sortBy();
      }
      if ((valid || t === T.F64 || t === T.F32) && ex.nullFlags(t, src, valid, n, nullWord, words) > 0) sortBy();
    }
    return copyOut(k, Int32Array, rows, n);
  });
}

function typeOf(c: Column): number {
  const t: Record<string, number> = {
    float64: T.F64, float32: T.F32, int32: T.I32, date32: T.I32, uint8: T.U8, bool: T.U8, int8: T.I8, int16: T.I16,
    uint16: T.U16, uint32: T.U32, int64: T.I64, timestamp: T.I64, uint64: T.U64,
  };
  return t[c.type]!;
}

function stringWords(k: Kernels, c: Column, desc: boolean, words: number): void {
  const { rank } = dictionaryRanks(c.dictionary ?? []);
  const codes = c.data as Int32Array;
  const w = u32(k, words, codes.length);
  for (let i = 0; i < codes.length; i++) {
    const v = c.valid && !c.valid[i] ? 0 : rank[codes[i]!]!;
    w[i] = desc ? ~v : v;
  }
}

function nullFlagsJs(k: Kernels, c: Column, nullWord: number, words: number): number {
  const valid = c.valid!;
  const w = u32(k, words, valid.length);
  let nulls = 0;
  for (let i = 0; i < valid.length; i++) {
    const isNull = valid[i] === 0;
    w[i] = isNull ? nullWord : 1 - nullWord;
    if (isNull) nulls++;
  }
  return nulls;
}

/** A column's value at row i as a JS scalar (strings through the dictionary); undefined if missing. */
export function scalarAt(c: Column, i: number): ScalarValue | undefined {
  if (isMissingAt(c, i)) return undefined;
  if (c.type === "string") return (c.dictionary ?? [])[(c.data as Int32Array)[i]!];
  const v = (c.data as ArrayLike<unknown>)[i];
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "string") return v;
  throw new TesseraError(`column of type ${c.type} has no ordered scalar values`);
}

export function compareScalars(a: ScalarValue, b: ScalarValue): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Values of `name` at quantiles q (each in [0, 1]) of at most `sampleSize` evenly spaced rows,
 * nulls and NaN left out: the lower of the two nearest values. Empty when no row has a value.
 */
export function sampleQuantiles(frame: Frame, name: string, q: readonly number[], options: { sampleSize?: number } = {}): ScalarValue[] {
  const c = column(frame, name, "sampleQuantiles");
  for (const x of q) if (!(x >= 0 && x <= 1)) throw new TesseraError(`sampleQuantiles: quantiles must be in [0, 1], got ${x}`);
  const size = Math.max(1, options.sampleSize ?? 10000);
  const n = frame.length;
  const step = n > size ? n / size : 1;
  const values: ScalarValue[] = [];
  for (let s = 0; s < Math.min(n, size); s++) {
    const v = scalarAt(c, Math.floor(s * step));
    if (v !== undefined) values.push(v);
  }
  if (values.length === 0) return [];
  values.sort(compareScalars);
  return q.map((x) => values[Math.floor(x * (values.length - 1))]!);
}

/**
 * Each row's partition for a range shuffle: with ascending boundaries b (p - 1 of them, for p
 * partitions) row value v goes to the number of boundaries <= v; descending boundaries count
 * those >= v. Nulls and NaN go to the last partition (first with nullsFirst).
 */
export function rangePartition(frame: Frame, name: string, boundaries: readonly ScalarValue[], options: { ascending?: boolean; nullsFirst?: boolean } = {}): Int32Array {
  const c = column(frame, name, "rangePartition");
  const asc = options.ascending ?? true;
  const last = options.nullsFirst ? 0 : boundaries.length;
  const place = (v: ScalarValue): number => {
    let lo = 0, hi = boundaries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const cmp = compareScalars(boundaries[mid]!, v);
      if (asc ? cmp <= 0 : cmp >= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const out = new Int32Array(frame.length);
  if (c.type === "string") {
    const byCode = Int32Array.from(c.dictionary ?? [], place);
    const codes = c.data as Int32Array;
    for (let i = 0; i < out.length; i++) out[i] = c.valid && !c.valid[i] ? last : byCode[codes[i]!]!;
    return out;
  }
  for (let i = 0; i < out.length; i++) {
    const v = scalarAt(c, i);
    out[i] = v === undefined ? last : place(v);
  }
  return out;
}
