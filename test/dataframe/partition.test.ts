/**
 * Hash partitioning: equal key values land in the same partition whatever the column's width,
 * type or dictionary (int32 5 = int64 5 = float 5.0, -0 = 0, NaN = null, strings by value);
 * partitions are used evenly; splitByPartition keeps every row, in order, once.
 */

import { beforeAll, describe, expect, it } from "vitest";
import type { Kernels } from "../../src/kernels/kernels.js";
import type { Column, Frame } from "../../src/dataframe/frame.js";
import { hashPartition, splitByPartition } from "../../src/dataframe/kernels/index.js";
import { kernels, rng } from "../kernels/helpers.js";
import { cells, frameRows, randomFrame, stringCol } from "./kernels-reference.js";

let k: Kernels;
beforeAll(async () => {
  k = await kernels();
});

const frame = (cols: Record<string, Column>): Frame => {
  const names = Object.keys(cols);
  return { length: cols[names[0]!]!.data.length, names, columns: names.map((n) => cols[n]!) };
};

describe("hashPartition", () => {
  it("hashes values, not representations", () => {
    const ints = [0, 5, -7, 123456, 2 ** 31 - 1];
    const a = frame({
      i32: { type: "int32", data: Int32Array.from(ints) },
      f64: { type: "float64", data: Float64Array.from(ints) },
      i64: { type: "int64", data: BigInt64Array.from(ints.map(BigInt)) },
      i16: { type: "int16", data: Int16Array.from(ints.map((x) => (Math.abs(x) < 30000 ? x : 1))) },
    });
    for (const np of [1, 2, 7, 64]) {
      const p = hashPartition(k, a, ["i32"], np);
      expect(Array.from(hashPartition(k, a, ["f64"], np))).toEqual(Array.from(p));
      expect(Array.from(hashPartition(k, a, ["i64"], np))).toEqual(Array.from(p));
      for (const x of p) expect(x >= 0 && x < np).toBe(true);
    }
    const small = hashPartition(k, a, ["i16"], 16), wide = hashPartition(k, a, ["i32"], 16);
    [0, 1, 2].forEach((i) => expect(small[i]).toBe(wide[i])); // row 3 does not fit in int16
  });

  it("-0 is 0, NaN is null, strings by value whatever the dictionary", () => {
    const f = frame({
      x: { type: "float64", data: Float64Array.from([0, -0, NaN, 1, 2.5]), valid: Uint8Array.from([1, 1, 1, 0, 1]) },
      s1: stringCol(["a", "b", null, "a", "ccc"], 1),
      s2: stringCol(["a", "b", null, "a", "ccc"], 2, true),
    });
    const p = hashPartition(k, f, ["x"], 1000);
    expect(p[0]).toBe(p[1]);
    expect(p[2]).toBe(p[3]);
    expect(f.columns[1]!.dictionary).not.toEqual(f.columns[2]!.dictionary);
    expect(Array.from(hashPartition(k, f, ["s1"], 97))).toEqual(Array.from(hashPartition(k, f, ["s2"], 97)));
    expect(Array.from(hashPartition(k, f, ["s1", "x"], 97))).toEqual(Array.from(hashPartition(k, f, ["s2", "x"], 97)));
  });

  it("spreads many keys evenly, and multi-column keys depend on every column", () => {
    const n = 100000, np = 8;
    const r = rng(3);
    const f = frame({
      a: { type: "int32", data: Int32Array.from({ length: n }, (_, i) => i) },
      b: { type: "int32", data: Int32Array.from({ length: n }, () => Math.floor(r() * 4)) },
    });
    for (const by of [["a"], ["b", "a"]]) {
      const counts = new Array(np).fill(0);
      for (const p of hashPartition(k, f, by, np)) counts[p]++;
      for (const c of counts) expect(Math.abs(c - n / np)).toBeLessThan(0.05 * (n / np));
    }
    const one = hashPartition(k, f, ["a"], 1 << 20), two = hashPartition(k, f, ["a", "b"], 1 << 20);
    let same = 0;
    for (let i = 0; i < n; i++) if (one[i] === two[i]) same++;
    expect(same).toBeLessThan(n / 100);
  });

  it("handles empty frames and rejects bad arguments", () => {
    const f = randomFrame(0, 1);
    expect(hashPartition(k, f, ["k_str", "k_f64"], 4).length).toBe(0);
    expect(() => hashPartition(k, randomFrame(3, 1), ["k_i32"], 0)).toThrow(/npartitions must be a positive integer/);
    expect(() => hashPartition(k, randomFrame(3, 1), ["nope"], 2)).toThrow(/no column "nope"/);
  });
});

describe("wasm memory", () => {
  it("every kernel frees what it allocates, also when it throws", async () => {
    const { argsortFrame, combineGroupbyPartials, finalizeGroupby, groupbyPartial, hashJoin } = await import("../../src/dataframe/kernels/index.js");
    const f = randomFrame(40000, 3, 500);
    const used = k.stats().used;
    const aggs = { v_f64: ["sum", "var", "min", "first", "nunique"], v_str: ["max"] } as const;
    const p = groupbyPartial(k, f, ["k_i32", "k_str"], aggs);
    finalizeGroupby(k, combineGroupbyPartials(k, [p, p]), aggs);
    hashPartition(k, f, ["k_str", "v_f64"], 8);
    argsortFrame(k, f, [{ column: "v_ts" }, { column: "k_str" }]);
    hashJoin(k, f, f, ["k_i32"], ["k_i32"], "outer");
    const withObject: Frame = { ...f, names: [...f.names, "o"], columns: [...f.columns, { type: "object", data: new Array(f.length).fill({}) }] };
    expect(() => hashPartition(k, withObject, ["k_i32", "o"], 4)).toThrow(/type object cannot be hashed/);
    expect(k.stats().used).toBe(used);
  });
});

describe("splitByPartition", () => {
  it("keeps every row once, in order, with values and nulls", () => {
    const f = randomFrame(3000, 5);
    const np = 5;
    const ids = hashPartition(k, f, ["k_str", "k_i64"], np);
    const parts = splitByPartition(f, ids, np);
    const rows = frameRows(f);
    parts.forEach((part, p) => {
      const want = rows.filter((_, i) => ids[i] === p);
      expect(frameRows(part)).toEqual(want);
      expect(part.names).toEqual(f.names);
    });
    expect(parts.reduce((s, x) => s + x.length, 0)).toBe(f.length);
    // Each part's string column keeps only the strings it uses.
    for (const part of parts) {
      const used = new Set(cells(part.columns[1]!).filter((x) => x !== null));
      expect(part.columns[1]!.dictionary!.length).toBe(used.size);
    }
  });

  it("rejects ids outside [0, n)", () => {
    const f = randomFrame(3, 1);
    expect(() => splitByPartition(f, Int32Array.from([0, 2, 1]), 2)).toThrow(/row 1 has partition 2/);
  });
});
