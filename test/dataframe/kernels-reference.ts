/**
 * Straightforward JavaScript references for the dataframe kernels (groupby, sort, join), and
 * random frames with the awkward values they must handle: nulls, NaN, -0, duplicate keys,
 * int64, strings whose partitions each have their own (shuffled, even duplicated) dictionary.
 */

import type { Column, Frame } from "../../src/dataframe/frame.js";
import type { AggName } from "../../src/dataframe/kernels/index.js";
import { rng } from "../kernels/helpers.js";

export type Cell = number | bigint | string | null;

/** Row i of column c as a plain value: null for nulls, strings through the dictionary. */
export function cell(c: Column, i: number): Cell {
  if (c.valid && !c.valid[i]) return null;
  if (c.type === "string") return c.dictionary![(c.data as Int32Array)[i]!]!;
  return (c.data as ArrayLike<number | bigint>)[i]!;
}

export const cells = (c: Column): Cell[] => Array.from({ length: c.data.length }, (_, i) => cell(c, i));

/** Missing as pandas sees it: null or NaN. */
export const missing = (v: Cell): boolean => v === null || (typeof v === "number" && Number.isNaN(v));

/** A key value for grouping/joining: -0 as 0, NaN as null. */
export function keyOf(v: Cell): Cell {
  if (typeof v === "number") return Number.isNaN(v) ? null : v === 0 ? 0 : v;
  return v;
}

const tupleKey = (vs: Cell[]) => JSON.stringify(vs.map((v) => (typeof v === "bigint" ? `${v}n` : v)));

/** null sorts last; otherwise JS order (numbers, bigints and strings never mix in one column). */
export function compareCells(a: Cell, b: Cell): number {
  if (a === null || b === null) return a === null ? (b === null ? 0 : 1) : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function aggregate(agg: AggName, values: Cell[], type: Column["type"]): Cell {
  const ok = values.filter((v) => !missing(v));
  switch (agg) {
    case "size":
      return BigInt(values.length);
    case "count":
      return BigInt(ok.length);
    case "nunique":
      return BigInt(new Set(ok).size);
    case "first":
      return ok.length ? ok[0]! : null;
    case "last":
      return ok.length ? ok[ok.length - 1]! : null;
    case "min":
    case "max": {
      if (!ok.length) return null;
      const vs = ok as Array<number | bigint | string>;
      let best = vs[0]!;
      for (const v of vs) if (agg === "min" ? v < best : v > best) best = v;
      return best;
    }
    case "sum": {
      if (type === "float64" || type === "float32") return (ok as number[]).reduce((a, b) => a + b, 0);
      const s = ok.reduce<bigint>((a, b) => a + BigInt(b as number | bigint), 0n);
      return type === "uint64" ? BigInt.asUintN(64, s) : BigInt.asIntN(64, s);
    }
    case "mean": {
      if (!ok.length) return null;
      return ok.reduce<number>((a, b) => a + Number(b), 0) / ok.length;
    }
    case "var":
    case "std": {
      if (ok.length < 2) return null;
      const xs = ok.map(Number);
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
      return agg === "std" ? Math.sqrt(v) : v;
    }
  }
}

/** groupby(by).agg(aggs) of the whole frame, as rows [keys..., results...] sorted by key. */
export function groupbyRef(frame: Frame, by: string[], aggs: Record<string, AggName[]>, dropna: boolean): Cell[][] {
  const col = (n: string) => frame.columns[frame.names.indexOf(n)]!;
  const groups = new Map<string, { key: Cell[]; rows: number[] }>();
  for (let i = 0; i < frame.length; i++) {
    const key = by.map((n) => keyOf(cell(col(n), i)));
    if (dropna && key.some((v) => v === null)) continue;
    const t = tupleKey(key);
    let g = groups.get(t);
    if (!g) groups.set(t, (g = { key, rows: [] }));
    g.rows.push(i);
  }
  const out = [...groups.values()].map(({ key, rows }) => {
    const row: Cell[] = [...key];
    for (const [name, list] of Object.entries(aggs)) {
      const c = col(name);
      for (const agg of list) row.push(aggregate(agg, rows.map((r) => cell(c, r)), c.type));
    }
    return row;
  });
  return out.sort((a, b) => {
    for (let j = 0; j < by.length; j++) {
      const d = compareCells(a[j]!, b[j]!);
      if (d) return d;
    }
    return 0;
  });
}

/** A frame's rows as plain values. */
export function frameRows(f: Frame): Cell[][] {
  return Array.from({ length: f.length }, (_, i) => f.columns.map((c) => cell(c, i)));
}

/** A string column with its own dictionary: shuffled, and with a duplicate entry when `dup`. */
export function stringCol(values: readonly (string | null)[], seed: number, dup = false): Column {
  const r = rng(seed);
  const distinct = [...new Set(values.filter((v): v is string => v !== null))];
  for (let i = distinct.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [distinct[i], distinct[j]] = [distinct[j]!, distinct[i]!];
  }
  const dict = dup && distinct.length ? [...distinct, distinct[0]!] : distinct;
  const index = new Map(distinct.map((s, i) => [s, i]));
  const data = new Int32Array(values.length);
  let valid: Uint8Array | undefined;
  values.forEach((v, i) => {
    if (v === null) {
      (valid ??= new Uint8Array(values.length).fill(1))[i] = 0;
      data[i] = 12345; // unspecified under a null
    } else data[i] = dup && v === distinct[0] && r() < 0.5 ? dict.length - 1 : index.get(v)!;
  });
  return valid ? { type: "string", data, dictionary: dict, valid } : { type: "string", data, dictionary: dict };
}

/** Rows [s, e) with every string column re-encoded with its own dictionary. */
export function partOf(f: Frame, s: number, e: number, seed: number): Frame {
  return {
    length: e - s,
    names: [...f.names],
    columns: f.columns.map((c, j) => {
      if (c.type === "string") return stringCol(cells(c).slice(s, e) as (string | null)[], seed * 31 + j, seed % 2 === 0);
      const out: Column = { ...c, data: (c.data as Float64Array).slice(s, e) };
      if (c.valid) out.valid = c.valid.slice(s, e);
      return out;
    }),
  };
}

function withNulls(c: Column, r: () => number, p: number): Column {
  if (p === 0) return c;
  const valid = new Uint8Array(c.data.length);
  for (let i = 0; i < valid.length; i++) valid[i] = r() < p ? 0 : 1;
  return { ...c, valid };
}

/** A random frame of n rows: key columns k*, value columns v*, with `groups` distinct int keys. */
export function randomFrame(n: number, seed: number, groups = 6): Frame {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const ints = (lo: number, hi: number) => Int32Array.from({ length: n }, () => lo + Math.floor(r() * (hi - lo)));
  const words = ["apple", "pear", "fig", "kiwi", "plum", "", "Äpfel", "zz"];
  const floats = [1.5, -0, 0, NaN, 2, -3.25, 1e300, Infinity];
  const cols: Array<[string, Column]> = [
    ["k_i32", withNulls({ type: "int32", data: ints(-3, groups - 3) }, r, 0.05)],
    ["k_str", stringCol(Array.from({ length: n }, () => (r() < 0.05 ? null : pick(words.slice(0, 5)))), seed)],
    ["k_f64", withNulls({ type: "float64", data: Float64Array.from({ length: n }, () => pick([1.5, -0, 0, NaN, 2])) }, r, 0.03)],
    ["k_i64", withNulls({ type: "int64", data: BigInt64Array.from({ length: n }, () => pick([-3n, 0n, 7n, 2n ** 40n, -(2n ** 62n)])) }, r, 0.03)],
    ["k_bool", withNulls({ type: "bool", data: Uint8Array.from({ length: n }, () => (r() < 0.5 ? 1 : 0)) }, r, 0.02)],
    ["v_f64", withNulls({ type: "float64", data: Float64Array.from({ length: n }, () => (r() < 0.1 ? pick(floats.slice(0, 6)) : (r() * 2 - 1) * 10 ** Math.floor(r() * 6 - 3))) }, r, 0.1)],
    ["v_f32", { type: "float32", data: Float32Array.from({ length: n }, () => (r() < 0.05 ? NaN : r() * 100 - 50)) }],
    ["v_i32", withNulls({ type: "int32", data: ints(-(2 ** 31), 2 ** 31 - 1) }, r, 0.1)],
    ["v_u8", { type: "uint8", data: Uint8Array.from({ length: n }, () => Math.floor(r() * 256)) }],
    ["v_i64", withNulls({ type: "int64", data: BigInt64Array.from({ length: n }, () => BigInt(Math.floor(r() * 2 ** 52)) * pick([1n, -1n, 1000n])) }, r, 0.1)],
    ["v_ts", withNulls({ type: "timestamp", unit: "ms", data: BigInt64Array.from({ length: n }, () => BigInt(1.6e12 + Math.floor(r() * 1e10))) }, r, 0.1)],
    ["v_str", stringCol(Array.from({ length: n }, () => (r() < 0.1 ? null : pick(words))), seed + 1)],
  ];
  return { length: n, names: cols.map((c) => c[0]), columns: cols.map((c) => c[1]) };
}

export const ALL_AGGS: Record<string, AggName[]> = {
  v_f64: ["count", "sum", "mean", "min", "max", "var", "std", "first", "last", "size", "nunique"],
  v_f32: ["sum", "mean", "min", "max", "first", "last", "var"],
  v_i32: ["count", "sum", "mean", "min", "max", "std", "nunique"],
  v_u8: ["sum", "min", "max", "mean"],
  v_i64: ["count", "sum", "mean", "min", "max", "first", "last", "nunique"],
  v_ts: ["count", "min", "max", "first", "last"],
  v_str: ["count", "min", "max", "first", "last", "nunique", "size"],
};

/** Exact for integers, bigints and strings; relative tolerance for float results. */
export function closeCell(got: Cell, want: Cell, rel = 1e-9): boolean {
  if (typeof got === "number" && typeof want === "number") {
    if (Number.isNaN(want)) return Number.isNaN(got);
    if (!Number.isFinite(want)) return got === want;
    return Math.abs(got - want) <= rel * Math.max(1, Math.abs(want));
  }
  return got === want;
}
