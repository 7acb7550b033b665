// A groupby partial's filters and lazily assigned columns evaluated in wasm memory
// (src/dataframe/kernels/block-eval.ts) against the JS block evaluators they replace: the same
// mask bytes and the same float64 bits, NaN, -0 and infinities included, and the same groupby
// partial; columns with nulls stay on the JS path.
import { beforeAll, describe, expect, it } from "vitest";
import type { Kernels } from "../../src/kernels/kernels.js";
import type { Column, Frame } from "../../src/dataframe/frame.js";
import { col, lit } from "../../src/dataframe/expr.js";
import { applyStepsMasked, type Step } from "../../src/dataframe/steps.js";
import { BlockScope, wasmFloat64 } from "../../src/dataframe/kernels/block-eval.js";
import { groupbyPartial } from "../../src/dataframe/kernels/index.js";
import { BLOCK } from "../../src/dataframe/kernels/wasm.js";
import { kernels, rng } from "../kernels/helpers.js";

let k: Kernels;
beforeAll(async () => {
  k = await kernels();
});

const SPECIAL = [NaN, 0, -0, Infinity, -Infinity, 1, -1];

/** key int32 in [0, 50), f0..f2 float64 with specials, n0 / n1 float64 with nulls, kn a key with nulls. */
function frame(n: number, seed: number): Frame {
  const r = rng(seed);
  const float = () => Float64Array.from({ length: n }, () => (r() < 0.05 ? SPECIAL[Math.floor(r() * SPECIAL.length)]! : r() * 4 - 2));
  const withNulls = (): Column => {
    const valid = Uint8Array.from({ length: n }, () => (r() < 0.1 ? 0 : 1));
    return { type: "float64", data: float(), valid };
  };
  return {
    length: n,
    names: ["key", "f0", "f1", "f2", "n0", "n1", "kn"],
    columns: [{ type: "int32", data: Int32Array.from({ length: n }, () => Math.floor(r() * 50)) }, { type: "float64", data: float() }, { type: "float64", data: float() }, { type: "float64", data: float() }, withNulls(), withNulls(), { type: "int32", data: Int32Array.from({ length: n }, () => Math.floor(r() * 9)), valid: Uint8Array.from({ length: n }, () => +(r() > 0.1)) }],
  };
}

const bits = (a: ArrayLike<number>) => Array.from(new Uint8Array(Float64Array.from(a).buffer));
/** Rows [start, start + n) of lazy data, or of an array evaluated whole. */
const read = (d: unknown, start: number, n: number): number[] =>
  d && typeof (d as { block?: unknown }).block === "function" ? Array.from((d as { block(s: number, n: number): ArrayLike<number> }).block(start, n)).slice(0, n) : Array.from((d as Float64Array).subarray(start, start + n));

/** Steps evaluated on the JS path and in wasm: same mask and same z, block by block. */
function compare(f: Frame, steps: Step[], wantWasm: boolean): void {
  const js = applyStepsMasked(f, steps, new Set(["z"]), true);
  const scope = new BlockScope(k);
  try {
    const wasm = applyStepsMasked(f, steps, new Set(["z"]), true, scope);
    const z = (x: { frame: Frame }) => x.frame.columns[x.frame.names.indexOf("z")]!.data;
    expect("ptr" in (wasm.mask as object) || "ptr" in (z(wasm) as object)).toBe(wantWasm);
    for (let start = 0; start < f.length; start += BLOCK) {
      const n = Math.min(BLOCK, f.length - start);
      expect(read(wasm.mask, start, n)).toEqual(read(js.mask, start, n));
      expect(bits(read(z(wasm), start, n))).toEqual(bits(read(z(js), start, n)));
    }
  } finally {
    scope.free();
  }
}

describe("block evaluation in wasm memory", () => {
  const f = frame(2 * BLOCK + 123, 7);

  it("gives the JS evaluators' masks and values (NaN, -0, infinities)", () => {
    const predicates = [
      col("f0").gt(0),
      lit(0).lt(col("f0")),
      col("f0").ge(col("f1")),
      col("f0").eq(0),
      col("f0").ne(col("f0")), // NaN rows
      col("f0").le(-0).or(col("f1").gt(1)),
      col("f0").lt(1).and(col("f2").mul(2).ge(col("f1").div(3))).not(),
      col("f1").sub(col("f2")).gt(Infinity),
    ];
    const zs = [col("f1").mul(col("f2")), col("f1").div(col("f2")), lit(1).sub(col("f1")), col("f1").add(0.5).mul(col("f1")), col("f2").div(0)];
    for (const p of predicates) for (const z of zs) compare(f, [{ kind: "filter", predicate: p.node }, { kind: "assign", columns: [{ name: "z", expr: z.node }] }], true);
  });

  it("combines several filters, each over the columns it sees", () => {
    const steps: Step[] = [
      { kind: "filter", predicate: col("f0").gt(-1).node },
      { kind: "rename", mapping: { f1: "g" } },
      { kind: "filter", predicate: col("g").le(col("f2")).node },
      { kind: "assign", columns: [{ name: "z", expr: col("g").mul(col("f2")).node }] },
      { kind: "filter", predicate: col("f0").ne(0.25).node },
    ];
    compare(f, steps, true);
  });

  it("leaves columns with nulls, and pow, to the JS path", () => {
    compare(f, [{ kind: "filter", predicate: col("n0").gt(0).node }, { kind: "assign", columns: [{ name: "z", expr: col("n1").mul(col("f2")).node }] }], false);
    compare(f, [{ kind: "filter", predicate: col("f0").gt(0).node }, { kind: "assign", columns: [{ name: "z", expr: col("f1").mul(col("n1")).node }] }], true); // the mask in wasm
    const scope = new BlockScope(k);
    try {
      expect(wasmFloat64(scope, f, col("f1").pow(2).node)).toBeNull();
      expect(wasmFloat64(scope, f, col("n0").add(1).node)).toBeNull();
    } finally {
      scope.free();
    }
  });

  it("reads a column that lives in wasm memory in place", () => {
    const scope = new BlockScope(k);
    const p = k.alloc(f.length * 8, 16);
    try {
      const inWasm = new Float64Array(k.memory.buffer, p, f.length);
      inWasm.set(f.columns[3]!.data as Float64Array); // f2
      const g: Frame = { ...f, columns: f.columns.map((c, i) => (i === 3 ? { type: "float64", data: inWasm } : c)) };
      const lazy = wasmFloat64(scope, g, col("f1").mul(col("f2")).node)!;
      const f1 = f.columns[2]!.data as Float64Array;
      const want = Array.from(inWasm.subarray(BLOCK, BLOCK + 100), (v, i) => f1[BLOCK + i]! * v);
      expect(bits(read(lazy, BLOCK, 100))).toEqual(bits(want));
    } finally {
      scope.free();
      k.free(p);
    }
  });

  it("gives the same groupby partials, with NaN and nulls in the filter and in the values", () => {
    const cases: Step[][] = [
      [{ kind: "filter", predicate: col("f0").gt(0).node }, { kind: "assign", columns: [{ name: "z", expr: col("f1").mul(col("f2")).node }] }],
      [{ kind: "filter", predicate: col("n0").gt(0).node }, { kind: "assign", columns: [{ name: "z", expr: col("f1").mul(col("f2")).node }] }],
      [{ kind: "filter", predicate: col("f0").gt(0).node }, { kind: "assign", columns: [{ name: "z", expr: col("n1").mul(col("f2")).node }] }],
      [{ kind: "filter", predicate: col("f0").le(col("f1")).node }, { kind: "assign", columns: [{ name: "z", expr: col("f1").div(col("f0")).node }] }],
    ];
    for (const steps of cases) {
      for (const [by, aggs] of [[["key"], { z: ["mean" as const] }], [["kn"], { z: ["sum" as const, "count" as const, "var" as const] }]] as const) {
        const js = applyStepsMasked(f, steps, new Set(["z"]), true);
        const want = groupbyPartial(k, js.frame, [...by], aggs, { rows: js.mask });
        const scope = new BlockScope(k);
        try {
          const wasm = applyStepsMasked(f, steps, new Set(["z"]), true, scope);
          expect(groupbyPartial(k, wasm.frame, [...by], aggs, { rows: wasm.mask })).toEqual(want);
        } finally {
          scope.free();
        }
      }
    }
  });
});
