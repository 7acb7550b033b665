/**
 * hashJoin against a nested-loop join: every `how`, one key and several, string keys with
 * different dictionaries on each side, int keys meeting float and int64 keys, -0 and 0, null
 * keys matching nothing (or each other with matchNulls), duplicates on both sides, empty sides.
 */

import { beforeAll, describe, expect, it } from "vitest";
import type { Kernels } from "../../src/kernels/kernels.js";
import type { Column, Frame } from "../../src/dataframe/frame.js";
import { hashJoin, type JoinHow } from "../../src/dataframe/kernels/index.js";
import { kernels } from "../kernels/helpers.js";
import { type Cell, cell, keyOf, partOf, randomFrame } from "./kernels-reference.js";

let k: Kernels;
beforeAll(async () => {
  k = await kernels();
});

function same(a: Cell, b: Cell, matchNulls: boolean): boolean {
  const x = keyOf(a), y = keyOf(b);
  if (x === null || y === null) return matchNulls && x === null && y === null;
  if (typeof x === "string" || typeof y === "string") return x === y;
  return Number(x) === Number(y);
}

function joinRef(l: Frame, r: Frame, lon: string[], ron: string[], how: JoinHow, matchNulls: boolean): [number[], number[]] {
  const lc = lon.map((n) => l.columns[l.names.indexOf(n)]!), rc = ron.map((n) => r.columns[r.names.indexOf(n)]!);
  const L: number[] = [], R: number[] = [];
  const matched = new Uint8Array(r.length);
  for (let i = 0; i < l.length; i++) {
    let any = false;
    for (let j = 0; j < r.length; j++) {
      if (lc.every((c, t) => same(cell(c, i), cell(rc[t]!, j), matchNulls))) {
        L.push(i);
        R.push(j);
        matched[j] = 1;
        any = true;
      }
    }
    if (!any && (how === "left" || how === "outer")) {
      L.push(i);
      R.push(-1);
    }
  }
  if (how === "right" || how === "outer") {
    for (let j = 0; j < r.length; j++) {
      if (!matched[j]) {
        L.push(-1);
        R.push(j);
      }
    }
  }
  return [L, R];
}

const HOWS: JoinHow[] = ["inner", "left", "right", "outer"];

function check(l: Frame, r: Frame, lon: string[], ron: string[], label: string): void {
  for (const how of HOWS) {
    for (const matchNulls of [false, true]) {
      const got = hashJoin(k, l, r, lon, ron, how, { matchNulls });
      const [L, R] = joinRef(l, r, lon, ron, how, matchNulls);
      const tag = `${label} ${how} matchNulls=${matchNulls}`;
      expect(Array.from(got.leftRows), tag).toEqual(L);
      expect(Array.from(got.rightRows), tag).toEqual(R);
    }
  }
}

describe("hashJoin", () => {
  const base = randomFrame(400, 12);
  const left = partOf(base, 0, 250, 1);
  const right = partOf(base, 150, 400, 2); // other dictionaries (one with a duplicate entry)

  for (const on of [["k_i32"], ["k_str"], ["k_f64"], ["k_i64"], ["k_bool"], ["k_str", "k_i32"], ["v_str", "k_bool"]]) {
    it(`on ${on.join(",")}`, () => check(left, right, on, on, on.join(",")));
  }

  it("int32 keys meet int64 and float64 keys by value", () => {
    const l: Frame = { length: 6, names: ["a"], columns: [{ type: "int32", data: Int32Array.from([1, 2, 3, 0, 7, 2]) }] };
    const f64: Column = { type: "float64", data: Float64Array.from([2, 2.5, -0, NaN, 1, 3]) };
    const i64: Column = { type: "int64", data: BigInt64Array.from([2n, 9n, 0n, 1n, 2n ** 40n, 3n]), valid: Uint8Array.from([1, 1, 1, 0, 1, 1]) };
    check(l, { length: 6, names: ["b"], columns: [f64] }, ["a"], ["b"], "int32-float64");
    check(l, { length: 6, names: ["b"], columns: [i64] }, ["a"], ["b"], "int32-int64");
    check({ length: 6, names: ["b"], columns: [f64] }, { length: 6, names: ["b"], columns: [i64] }, ["b"], ["b"], "float64-int64");
  });

  it("empty sides", () => {
    const empty = partOf(base, 0, 0, 3);
    check(empty, right, ["k_str"], ["k_str"], "empty left");
    check(left, empty, ["k_i32"], ["k_i32"], "empty right");
  });

  it("many rows and duplicate keys (table growth, output in left order)", () => {
    const big = randomFrame(3000, 13, 1500);
    check(partOf(big, 0, 1300, 4), partOf(big, 1000, 3000, 5), ["k_i32", "k_bool"], ["k_i32", "k_bool"], "big");
  });

  it("rejects mismatched key lists and incompatible types", () => {
    expect(() => hashJoin(k, left, right, ["k_i32"], [], "inner")).toThrow(/same number/);
    expect(() => hashJoin(k, left, right, ["k_str"], ["k_i32"], "inner")).toThrow(/incompatible types/);
    expect(() => hashJoin(k, left, right, ["k_i32"], ["k_i32"], "cross" as JoinHow)).toThrow(/how must be/);
  });
});
