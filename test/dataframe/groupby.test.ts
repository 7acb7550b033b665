/**
 * Groupby kernels against a direct JS reference over the whole table: every aggregation, key
 * types (int32, string, float64 with -0/NaN, int64, bool, several at once), null keys dropped
 * or kept, and results independent of how rows are partitioned (random cuts, empty partitions,
 * each partition with its own string dictionary, partials combined in random trees).
 */

import { beforeAll, describe, expect, it } from "vitest";
import type { Kernels } from "../../src/kernels/kernels.js";
import type { Frame } from "../../src/dataframe/frame.js";
import { type AggName, combineGroupbyPartials, finalizeGroupby, groupbyPartial } from "../../src/dataframe/kernels/index.js";
import { kernels, rng } from "../kernels/helpers.js";
import { ALL_AGGS, type Cell, closeCell, frameRows, groupbyRef, partOf, randomFrame } from "./kernels-reference.js";

let k: Kernels;
beforeAll(async () => {
  k = await kernels();
});

function expectRows(got: Cell[][], want: Cell[][], label: string): void {
  expect(got.length, `${label}: number of groups`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    for (let j = 0; j < want[i]!.length; j++) {
      const g = got[i]![j]!, w = want[i]![j]!;
      if (!closeCell(g, w)) expect.fail(`${label}: group ${i} (${JSON.stringify(want[i]!.slice(0, 3), (_, v) => (typeof v === "bigint" ? `${v}n` : v))}) column ${j}: got ${String(g)}, want ${String(w)}`);
    }
  }
}

/** Partial per random partition, combined in a random tree, finalized. */
function partitioned(f: Frame, by: string[], aggs: Record<string, AggName[]>, dropna: boolean, seed: number, parts: number): Frame {
  const r = rng(seed);
  const cuts = [0, ...Array.from({ length: parts - 1 }, () => Math.floor(r() * (f.length + 1))).sort((a, b) => a - b), f.length];
  let partials = cuts.slice(1).map((e, i) => groupbyPartial(k, partOf(f, cuts[i]!, e, seed + i), by, aggs, { dropna }));
  while (partials.length > 1) {
    const at = Math.floor(r() * (partials.length - 1));
    const take = Math.min(partials.length - at, 2 + Math.floor(r() * 2));
    partials.splice(at, take, combineGroupbyPartials(k, partials.slice(at, at + take)));
  }
  return finalizeGroupby(k, partials[0]!, aggs);
}

const KEY_SETS: string[][] = [["k_i32"], ["k_str"], ["k_f64"], ["k_i64"], ["k_bool"], ["k_str", "k_i32"], ["k_bool", "k_f64", "k_i64"]];

describe("groupby: one partition", () => {
  for (const by of KEY_SETS) {
    for (const dropna of [true, false]) {
      it(`by ${by.join(",")} (dropna ${dropna}) matches the reference`, () => {
        for (const [n, seed] of [[0, 1], [1, 2], [37, 3], [2000, 4]] as const) {
          const f = randomFrame(n, seed);
          const got = finalizeGroupby(k, groupbyPartial(k, f, by, ALL_AGGS, { dropna }), ALL_AGGS);
          expectRows(frameRows(got), groupbyRef(f, by, ALL_AGGS, dropna), `n=${n}`);
        }
      });
    }
  }

  it("names results <column>_<agg> with pandas-like types", () => {
    const f = randomFrame(100, 9);
    const aggs: Record<string, AggName[]> = { v_f64: ["count", "sum", "mean", "size", "nunique"], v_i32: ["sum", "min"], v_u8: ["sum"], v_ts: ["max"], v_str: ["first"] };
    const got = finalizeGroupby(k, groupbyPartial(k, f, ["k_str"], aggs), aggs);
    expect(got.names).toEqual(["k_str", "v_f64_count", "v_f64_sum", "v_f64_mean", "v_f64_size", "v_f64_nunique", "v_i32_sum", "v_i32_min", "v_u8_sum", "v_ts_max", "v_str_first"]);
    expect(got.columns.map((c) => c.type)).toEqual(["string", "int64", "float64", "float64", "int64", "int64", "int64", "int32", "int64", "timestamp", "string"]);
    expect(got.columns[9]!.unit).toBe("ms");
  });

  it("takes keys and values of every storage type", () => {
    const r = rng(21);
    const n = 3000;
    const small = (lo: number, hi: number) => Array.from({ length: n }, () => lo + Math.floor(r() * (hi - lo)));
    const nulls = () => Uint8Array.from({ length: n }, () => (r() < 0.05 ? 0 : 1));
    const f: Frame = {
      length: n,
      names: ["i8", "i16", "u16", "u32", "f32", "d32", "u64", "x"],
      columns: [
        { type: "int8", data: Int8Array.from(small(-128, -125)), valid: nulls() },
        { type: "int16", data: Int16Array.from(small(30000, 30003)) },
        { type: "uint16", data: Uint16Array.from(small(65533, 65536)) },
        { type: "uint32", data: Uint32Array.from(small(2 ** 32 - 3, 2 ** 32)), valid: nulls() },
        { type: "float32", data: Float32Array.from(small(0, 3), (x) => (x === 2 ? NaN : x / 3)) },
        { type: "date32", data: Int32Array.from(small(19000, 19004)), valid: nulls() },
        { type: "uint64", data: BigUint64Array.from(small(0, 4), (x) => 2n ** 64n - 1n - BigInt(x)), valid: nulls() },
        { type: "int32", data: Int32Array.from(small(-5, 5)) },
      ],
    };
    const aggs: Record<string, AggName[]> = { u64: ["sum", "min", "max", "mean", "first"], u32: ["sum", "max"], i8: ["min", "sum"], d32: ["min", "max", "last"], f32: ["mean", "min"], x: ["size"] };
    for (const by of [["i8"], ["i16"], ["u16"], ["u32"], ["f32"], ["d32"], ["u64"], ["i8", "u32", "f32", "d32", "u64"]]) {
      for (const dropna of [true, false]) {
        const want = groupbyRef(f, by, aggs, dropna);
        expectRows(frameRows(finalizeGroupby(k, groupbyPartial(k, f, by, aggs, { dropna }), aggs)), want, `by ${by} dropna ${dropna}`);
        expectRows(frameRows(partitioned(f, by, aggs, dropna, 5, 4)), want, `by ${by} dropna ${dropna}, partitioned`);
      }
    }
    const out = finalizeGroupby(k, groupbyPartial(k, f, ["d32"], aggs), aggs);
    expect(out.columns.map((c) => c.type)).toEqual(["date32", "uint64", "uint64", "uint64", "float64", "uint64", "int64", "uint32", "int8", "int64", "date32", "date32", "date32", "float64", "float32", "int64"]);
  });

  it("sort: false keeps groups in order of first appearance", () => {
    const f: Frame = { length: 5, names: ["k", "x"], columns: [{ type: "int32", data: Int32Array.from([5, 3, 5, 9, 3]) }, { type: "float64", data: Float64Array.from([1, 2, 3, 4, 5]) }] };
    const aggs: Record<string, AggName[]> = { x: ["sum"] };
    const got = finalizeGroupby(k, groupbyPartial(k, f, ["k"], aggs), aggs, { sort: false });
    expect(Array.from(got.columns[0]!.data as Int32Array)).toEqual([5, 3, 9]);
    expect(Array.from(got.columns[1]!.data as Float64Array)).toEqual([4, 7, 4]);
  });

  it("rejects unknown aggregations, impossible ones and missing columns with the column's name", () => {
    const f = randomFrame(10, 1);
    expect(() => groupbyPartial(k, f, ["k_i32"], { v_str: ["mean"] })).toThrow(/mean of column "v_str" \(type string\)/);
    expect(() => groupbyPartial(k, f, ["k_i32"], { v_f64: ["median" as AggName] })).toThrow(/unknown aggregation "median"/);
    expect(() => groupbyPartial(k, f, ["nope"], { v_f64: ["sum"] })).toThrow(/no column "nope"/);
  });
});

describe("groupby: partials combine to the whole-table answer", () => {
  for (const by of KEY_SETS) {
    it(`by ${by.join(",")}, any partitioning`, () => {
      for (const dropna of [true, false]) {
        for (let seed = 1; seed <= 4; seed++) {
          const f = randomFrame(1500, seed * 7);
          const want = groupbyRef(f, by, ALL_AGGS, dropna);
          expectRows(frameRows(partitioned(f, by, ALL_AGGS, dropna, seed, 1 + seed * 2)), want, `dropna ${dropna}, seed ${seed}`);
        }
      }
    });
  }
});

describe("groupby: many rows and groups", () => {
  it("grows its table, gives up the direct map for wide keys, and sums with compensation for many groups", () => {
    const r = rng(5);
    const n = 70000;
    const wide: Frame = {
      length: n,
      names: ["k", "x"],
      columns: [
        { type: "int32", data: Int32Array.from({ length: n }, () => Math.floor(r() * 40000) * (r() < 0.01 ? 99991 : 1)) },
        { type: "float64", data: Float64Array.from({ length: n }, () => r() * 2 - 1) },
      ],
    };
    const aggs: Record<string, AggName[]> = { x: ["count", "sum", "mean", "min", "max", "var"] };
    const want = groupbyRef(wide, ["k"], aggs, true);
    expectRows(frameRows(finalizeGroupby(k, groupbyPartial(k, wide, ["k"], aggs), aggs)), want, "wide keys");
    expectRows(frameRows(partitioned(wide, ["k"], aggs, true, 3, 4)), want, "wide keys, partitioned");
  });

  it("widens the direct map for drifting (sorted) keys", () => {
    const n = 100000;
    const f: Frame = {
      length: n,
      names: ["k", "x"],
      columns: [
        { type: "int32", data: Int32Array.from({ length: n }, (_, i) => 1_000_000 - Math.floor(i / 3)) },
        { type: "int32", data: Int32Array.from({ length: n }, (_, i) => i % 7) },
      ],
    };
    const aggs: Record<string, AggName[]> = { x: ["sum", "size", "first", "last"] };
    expectRows(frameRows(finalizeGroupby(k, groupbyPartial(k, f, ["k"], aggs), aggs)), groupbyRef(f, ["k"], aggs, true), "sorted keys");
  });

  it("counts and sums float columns without nulls right when a block holds a NaN or infinities of both signs", () => {
    // Few groups and whole blocks of rows: sums run untested first, and are redone tested only
    // for a block whose sums come out NaN.
    const n = 70000;
    const r = rng(17);
    const key = Int32Array.from({ length: n }, () => Math.floor(r() * 4));
    const x = Float64Array.from({ length: n }, () => r() * 2 - 1);
    const aggs: Record<string, AggName[]> = { x: ["count", "sum", "mean"], y: ["count", "sum"] };
    const frame = (xs: Float64Array): Frame => ({
      length: n,
      names: ["k", "x", "y"],
      columns: [
        { type: "int32", data: key },
        { type: "float64", data: xs },
        { type: "float32", data: Float32Array.from(xs) },
      ],
    });
    const check = (f: Frame, label: string) => {
      const want = groupbyRef(f, ["k"], aggs, true);
      expectRows(frameRows(finalizeGroupby(k, groupbyPartial(k, f, ["k"], aggs), aggs)), want, label);
      expectRows(frameRows(partitioned(f, ["k"], aggs, true, 5, 3)), want, `${label}, partitioned`);
      return want;
    };
    const clean = check(frame(x), "clean");
    expect(clean.map((row) => Number(row[1]))).toEqual([0, 1, 2, 3].map((g) => key.filter((v) => v === g).length));
    // NaNs in the second block (rows 16384..32767) and the last: not counted, not summed.
    const withNaN = x.slice();
    for (const i of [20000, 20001, 30000, n - 1]) withNaN[i] = NaN;
    const nanRows = check(frame(withNaN), "NaN");
    expect(nanRows.reduce((s, row) => s + Number(row[1]), 0)).toBe(n - 4);
    // +inf and -inf in one group of one block: that group's sum is NaN, but every row counts.
    const withInf = x.slice();
    const g0 = [...key.keys()].filter((i) => key[i] === 0 && i > 40000).slice(0, 2);
    withInf[g0[0]!] = Infinity;
    withInf[g0[1]!] = -Infinity;
    const infRows = check(frame(withInf), "infinities");
    expect(Number(infRows[0]![1])).toBe(key.filter((v) => v === 0).length);
    expect(infRows[0]![2]).toBeNaN();
    expect(Number.isFinite(infRows[1]![2] as number)).toBe(true);
  });

  it("sums do not depend on row order beyond rounding (compensated)", () => {
    const n = 50000;
    const r = rng(11);
    const x = Float64Array.from({ length: n }, (_, i) => (i % 2 ? 1e16 : -1e16) + r());
    const key = new Int32Array(n);
    const aggs: Record<string, AggName[]> = { x: ["sum"] };
    const sum = (data: Float64Array) =>
      (finalizeGroupby(k, groupbyPartial(k, { length: n, names: ["k", "x"], columns: [{ type: "int32", data: key }, { type: "float64", data }] }, ["k"], aggs), aggs).columns[1]!.data as Float64Array)[0]!;
    const reversed = x.slice().reverse();
    expect(Math.abs(sum(x) - sum(reversed))).toBeLessThanOrEqual(4);
  });

  it("reads columns that live in wasm memory in place", () => {
    const n = 40000;
    const p = k.alloc(n * 4), q = k.alloc(n * 8);
    const key = new Int32Array(k.memory.buffer, p, n), x = new Float64Array(k.memory.buffer, q, n);
    for (let i = 0; i < n; i++) {
      key[i] = i % 13;
      x[i] = i;
    }
    const f: Frame = { length: n, names: ["k", "x"], columns: [{ type: "int32", data: key }, { type: "float64", data: x }] };
    const aggs: Record<string, AggName[]> = { x: ["sum", "count"] };
    const want = groupbyRef(f, ["k"], aggs, true);
    expectRows(frameRows(finalizeGroupby(k, groupbyPartial(k, f, ["k"], aggs), aggs)), want, "in wasm memory");
    k.free(p);
    k.free(q);
  });
});
