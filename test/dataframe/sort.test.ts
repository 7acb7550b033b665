/**
 * argsortFrame against a stable JS sort (Array.prototype.sort) of the rows, for every column
 * type, ascending and descending, nulls last and first, one key and several; sampleQuantiles
 * and rangePartition against direct computations.
 */

import { beforeAll, describe, expect, it } from "vitest";
import type { Kernels } from "../../src/kernels/kernels.js";
import type { Frame } from "../../src/dataframe/frame.js";
import { argsortFrame, rangePartition, sampleQuantiles, type SortKey } from "../../src/dataframe/kernels/index.js";
import { kernels, rng } from "../kernels/helpers.js";
import { type Cell, cell, missing, randomFrame } from "./kernels-reference.js";

let k: Kernels;
beforeAll(async () => {
  k = await kernels();
});

function sortRef(f: Frame, by: SortKey[]): number[] {
  const cols = by.map((b) => f.columns[f.names.indexOf(b.column)]!);
  const rows = Array.from({ length: f.length }, (_, i) => i);
  const cmp = (a: Cell, b: Cell, key: SortKey): number => {
    const na = missing(a), nb = missing(b);
    if (na || nb) return na === nb ? 0 : (na ? 1 : -1) * (key.nullsFirst ? -1 : 1);
    const d = a! < b! ? -1 : a! > b! ? 1 : 0;
    return key.ascending === false ? -d : d;
  };
  return rows.sort((x, y) => {
    for (let j = 0; j < by.length; j++) {
      const d = cmp(cell(cols[j]!, x), cell(cols[j]!, y), by[j]!);
      if (d) return d;
    }
    return 0;
  });
}

const COLUMNS = ["k_i32", "k_str", "k_f64", "k_i64", "k_bool", "v_f64", "v_f32", "v_i32", "v_u8", "v_i64", "v_ts", "v_str"];

describe("argsortFrame", () => {
  it("sorts by any one column, either way, nulls either end (stable)", () => {
    for (const [n, seed] of [[0, 1], [1, 2], [500, 3], [5000, 4]] as const) {
      const f = randomFrame(n, seed);
      for (const column of COLUMNS) {
        for (const ascending of [true, false]) {
          for (const nullsFirst of [false, true]) {
            const by = [{ column, ascending, nullsFirst }];
            expect(Array.from(argsortFrame(k, f, by)), `${column} asc=${ascending} nullsFirst=${nullsFirst} n=${n}`).toEqual(sortRef(f, by));
          }
        }
      }
    }
  });

  it("sorts by several columns", () => {
    const r = rng(8);
    const f = randomFrame(4000, 9);
    for (let t = 0; t < 30; t++) {
      const by = Array.from({ length: 1 + Math.floor(r() * 3) }, () => ({ column: COLUMNS[Math.floor(r() * COLUMNS.length)]!, ascending: r() < 0.5, nullsFirst: r() < 0.3 }));
      expect(Array.from(argsortFrame(k, f, by)), JSON.stringify(by)).toEqual(sortRef(f, by));
    }
  });

  it("orders -0 with 0 and extreme values correctly", () => {
    const x = [Infinity, -0, 0, -Infinity, 5e-324, -5e-324, Number.MAX_VALUE, -Number.MAX_VALUE, NaN, 1];
    const f: Frame = { length: x.length, names: ["x"], columns: [{ type: "float64", data: Float64Array.from(x) }] };
    expect(Array.from(argsortFrame(k, f, [{ column: "x" }]))).toEqual([3, 7, 5, 1, 2, 4, 9, 6, 0, 8]);
    const big: Frame = { length: 4, names: ["x"], columns: [{ type: "uint64", data: BigUint64Array.from([2n ** 64n - 1n, 0n, 2n ** 63n, 1n]) }] };
    expect(Array.from(argsortFrame(k, big, [{ column: "x" }]))).toEqual([1, 3, 2, 0]);
  });

  it("rejects object columns and unknown names", () => {
    const f: Frame = { length: 1, names: ["o"], columns: [{ type: "object", data: [{}] }] };
    expect(() => argsortFrame(k, f, [{ column: "o" }])).toThrow(/type object cannot be sorted/);
    expect(() => argsortFrame(k, f, [{ column: "p" }])).toThrow(/no column "p"/);
  });
});

describe("range partitioning", () => {
  it("sampleQuantiles gives values at quantiles of the non-missing values", () => {
    const f = randomFrame(1000, 4);
    const values = (f.columns[f.names.indexOf("v_i32")]!.data as Int32Array).filter((_, i) => !missing(cell(f.columns[7]!, i)));
    const sorted = Array.from(values).sort((a, b) => a - b);
    const q = sampleQuantiles(f, "v_i32", [0, 0.25, 0.5, 1]);
    expect(q).toEqual([0, 0.25, 0.5, 1].map((x) => sorted[Math.floor(x * (sorted.length - 1))]));
    const s = sampleQuantiles(f, "v_str", [0, 1]);
    expect(s).toEqual(["", "Äpfel"]); // UTF-16 order: "Ä" (U+00C4) sorts after "z"
    expect(sampleQuantiles(randomFrame(0, 1), "v_f64", [0.5])).toEqual([]);
    expect(sampleQuantiles(f, "v_f64", [0.5], { sampleSize: 10 }).length).toBe(1);
  });

  it("rangePartition puts each row after the boundaries it reaches, nulls at an end", () => {
    const f = randomFrame(2000, 6);
    for (const name of ["v_i32", "v_str", "v_ts", "k_f64"]) {
      const c = f.columns[f.names.indexOf(name)]!;
      const b = sampleQuantiles(f, name, [0.2, 0.5, 0.8]);
      for (const ascending of [true, false]) {
        const bounds = ascending ? b : [...b].reverse();
        const ids = rangePartition(f, name, bounds, { ascending });
        for (let i = 0; i < f.length; i++) {
          const v = cell(c, i);
          const want = missing(v) ? bounds.length : bounds.filter((x) => (ascending ? x <= v! : x >= v!)).length;
          expect(ids[i], `${name} row ${i}`).toBe(want);
        }
        const first = rangePartition(f, name, bounds, { ascending, nullsFirst: true });
        for (let i = 0; i < f.length; i++) if (missing(cell(c, i))) expect(first[i]).toBe(0);
      }
    }
  });
});
