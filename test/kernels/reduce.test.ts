/**
 * Reductions, axis reductions, partial states, cumsum, histogram and bincount against the JS
 * reference. Sums are compared with a relative tolerance (the kernels add in a different order
 * than the compensated reference); min/max/argmin/argmax/any/all and cumsum must be exact.
 */

import { beforeAll, describe, expect, it } from "vitest";
import type { Kernels } from "../../src/kernels/kernels.js";
import { type Dtype, type TypedArray, itemSize } from "../../src/kernels/dtypes.js";
import { type ReduceOp, REDUCE_OPS, combine, combineAxis, finalize, finalizeAxis, offsetIndex, reduceResultDtype } from "../../src/kernels/reduce-state.js";
import { input, mul, add, pow } from "../../src/kernels/expr.js";
import { reduceRef, reduceAxisRef, cumsumRef, histogramRef, bincountRef } from "../../src/kernels/reference/reduce.js";
import { evalExpr } from "../../src/kernels/reference/elementwise.js";
import { LENGTHS, kernels, data, firstDiff } from "./helpers.js";

let k: Kernels;
beforeAll(async () => {
  k = await kernels();
});

const DTYPES: Dtype[] = ["float64", "float32", "int32", "uint8", "int8", "int16", "uint16", "uint32", "bool"];
const EXACT = new Set<ReduceOp>(["min", "max", "argmin", "argmax", "any", "all"]);

function close(got: number, want: number, rel: number, label: string): void {
  if (Number.isNaN(want)) {
    expect(got, label).toBeNaN();
    return;
  }
  if (!Number.isFinite(want)) {
    expect(got, label).toBe(want);
    return;
  }
  expect(Math.abs(got - want), `${label}: got ${got}, want ${want}`).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(want)));
}

function withArray<T>(a: TypedArray, fn: (ptr: number) => T): T {
  const p = k.copyIn(a);
  try {
    return fn(p);
  } finally {
    k.free(p);
  }
}

const ops = (n: number) => REDUCE_OPS.filter((op) => n > 0 || !["min", "max", "argmin", "argmax"].includes(op));

describe("full reductions", () => {
  it("every reduction on every dtype and awkward length matches the reference", () => {
    for (const dtype of DTYPES) {
      for (const n of LENGTHS) {
        const a = data(dtype, n, n * 7 + 1, { small: dtype !== "float64" && dtype !== "float32" });
        for (const op of ops(n)) {
          const got = finalize(withArray(a, (ptr) => k.reduce(op, { ptr, dtype }, n)));
          const want = reduceRef(op, a, dtype);
          const label = `${op} ${dtype} n=${n}`;
          if (EXACT.has(op)) expect(got, label).toBe(want);
          else close(got, want, dtype === "float32" ? 1e-5 : 1e-11, label);
        }
      }
    }
  });

  it("propagates NaN and picks the first of ties, like numpy", () => {
    const a = new Float64Array([3, 1, 1, NaN, 0, NaN, -1]);
    const r = (op: ReduceOp) => finalize(withArray(a, (ptr) => k.reduce(op, { ptr, dtype: "float64" }, a.length)));
    expect(r("min")).toBeNaN();
    expect(r("max")).toBeNaN();
    expect(r("argmin")).toBe(3);
    expect(r("argmax")).toBe(3);
    const b = new Float64Array(1000).fill(5);
    b[600] = 1;
    b[900] = 1;
    expect(finalize(withArray(b, (ptr) => k.reduce("argmin", { ptr, dtype: "float64" }, 1000)))).toBe(600);
  });

  it("var and std stay accurate on 1e9 + small noise", () => {
    const n = 100_000;
    const a = new Float64Array(n);
    const noise = data("float64", n, 3);
    for (let i = 0; i < n; i++) a[i] = 1e9 + (noise[i]! as number) * 1e-3;
    const want = reduceRef("var", a);
    for (const op of ["var", "std"] as const) {
      const got = finalize(withArray(a, (ptr) => k.reduce(op, { ptr, dtype: "float64" }, n)));
      close(got, op === "var" ? want : Math.sqrt(want), 1e-6, op);
    }
    // ddof as numpy's.
    const p = withArray(a, (ptr) => k.reduce("var", { ptr, dtype: "float64" }, n));
    close(finalize(p, { ddof: 1 }), reduceRef("var", a, "float64", 1), 1e-6, "var ddof=1");
  });

  it("chunk partials combine to the whole, in any grouping", () => {
    const n = 10007, dtype = "float64";
    const a = data(dtype, n, 5, { specials: false });
    const p = k.copyIn(a);
    const cuts = [0, 1, 256, 257, 5000, 9999, n];
    for (const op of REDUCE_OPS) {
      const parts = cuts.slice(0, -1).map((c, i) =>
        offsetIndex(k.reduce(op, { ptr: p + c * itemSize(dtype), dtype }, cuts[i + 1]! - c), c),
      );
      const left = parts.reduce((x, y) => combine(x, y));
      const tree = combine(combine(parts[0]!, combine(parts[1]!, parts[2]!)), combine(combine(parts[3]!, parts[4]!), parts[5]!));
      const want = reduceRef(op, a);
      for (const [how, part] of [["left", left], ["tree", tree]] as const) {
        const got = finalize(part);
        if (EXACT.has(op)) expect(got, `${op} ${how}`).toBe(want);
        else close(got, want, 1e-11, `${op} ${how}`);
      }
    }
    k.free(p);
  });

  it("a fused program reduces in the same pass: ((x*2+1)**2).sum() and friends", () => {
    const n = 10007;
    const a = data("float64", n, 6);
    const e = pow(add(mul(input(0), 2), 1), 2);
    const ref = evalExpr(e, [{ data: a, dtype: "float64" }], n).data;
    withArray(a, (ptr) => {
      for (const op of REDUCE_OPS) {
        const got = finalize(k.evaluateReduce(e, [{ ptr, dtype: "float64" }], n, op));
        const want = reduceRef(op, ref);
        if (EXACT.has(op)) expect(got, op).toBe(want);
        else close(got, want, 1e-11, op);
        // Fused and unfused reductions are the same code: bit-identical.
        const tmp = k.allocArray("float64", n);
        k.evaluate(e, [{ ptr, dtype: "float64" }], n, tmp);
        expect(finalize(k.reduce(op, { ptr: tmp, dtype: "float64" }, n)), `${op} unfused`).toBe(got);
        k.free(tmp);
      }
    });
  });

  it("result dtypes follow numpy (int64 -> float64)", () => {
    expect(reduceResultDtype("sum", "int32")).toBe("float64");
    expect(reduceResultDtype("sum", "float32")).toBe("float32");
    expect(reduceResultDtype("max", "uint8")).toBe("uint8");
    expect(reduceResultDtype("mean", "float32")).toBe("float32");
    expect(reduceResultDtype("any", "float64")).toBe("bool");
    expect(() => finalize(k.reduce("min", { ptr: k.scratchLayout.work, dtype: "float64" }, 0))).toThrow(/empty array/);
  });
});

describe("axis reductions", () => {
  const shapes: [number[], number][] = [
    [[7, 5], 0], [[7, 5], 1], [[1, 1], 0], [[3, 257], 1], [[257, 3], 0], [[4, 3, 5], 1], [[4, 3, 5], 2], [[4, 3, 5], 0], [[2, 0, 3], 2], [[6, 1000], 0],
  ];
  it("match the reference along every axis, and their partials combine", () => {
    for (const dtype of ["float64", "float32", "int32", "uint8"] as Dtype[]) {
      for (const [shape, axis] of shapes) {
        const n = shape.reduce((x, y) => x * y, 1);
        const a = data(dtype, n, n + axis, { small: true });
        withArray(a, (ptr) => {
          for (const op of REDUCE_OPS) {
            if (shape[axis] === 0 && ["min", "max", "argmin", "argmax"].includes(op)) continue;
            const got = finalizeAxis(k.reduceAxis(op, { ptr, dtype }, shape, axis));
            const want = reduceAxisRef(op, a, shape, axis, dtype);
            const label = `${op} ${dtype} ${JSON.stringify(shape)} axis ${axis}`;
            expect(got.length, label).toBe(want.length);
            for (let i = 0; i < got.length; i++) {
              if (EXACT.has(op)) expect(got[i], label).toBe(want[i]);
              else close(got[i]!, want[i]!, 1e-5, label);
            }
          }
        });
      }
    }
    // Split a [6, 1000] array along axis 0 into two blocks and combine.
    const a = data("float64", 6000, 9);
    withArray(a, (ptr) => {
      for (const op of REDUCE_OPS) {
        const top = k.reduceAxis(op, { ptr, dtype: "float64" }, [2, 1000], 0);
        const bottom = offsetIndex(k.reduceAxis(op, { ptr: ptr + 2000 * 8, dtype: "float64" }, [4, 1000], 0), 2);
        const got = finalizeAxis(combineAxis(top, bottom));
        const want = reduceAxisRef(op, a, [6, 1000], 0);
        for (let i = 0; i < 1000; i++) {
          if (EXACT.has(op)) expect(got[i], op).toBe(want[i]);
          else close(got[i]!, want[i]!, 1e-11, op);
        }
      }
    });
  });

  it("rejects bad axes", () => {
    expect(() => k.reduceAxis("sum", { ptr: k.scratchLayout.work, dtype: "float64" }, [2, 2], 2)).toThrow(/axis 2 is out of bounds for a 2-d array/);
  });
});

describe("cumsum, histogram, bincount", () => {
  it("cumsum is exact (sequential) along any axis and flattened", () => {
    for (const dtype of ["float64", "float32", "int32", "uint8", "int16"] as Dtype[]) {
      for (const [shape, axis] of [[[10007], undefined], [[7, 5], 0], [[7, 5], 1], [[4, 3, 5], 1], [[3, 4], undefined]] as [number[], number | undefined][]) {
        const n = shape.reduce((x, y) => x * y, 1);
        const a = data(dtype, n, n, { small: true });
        withArray(a, (ptr) => {
          const outDtype = dtype === "float32" ? "float32" : "float64";
          const out = k.allocArray(outDtype, n);
          expect(k.cumsum({ ptr, dtype }, shape, out, axis)).toBe(outDtype);
          const want = cumsumRef(a, dtype, shape, axis);
          expect(firstDiff(k.copyOut(outDtype, out, n), want), `${dtype} ${JSON.stringify(shape)} ${axis}`).toBe(-1);
          k.free(out);
        });
      }
    }
  });

  it("histogram matches numpy's rules for explicit and uniform bins", () => {
    for (const n of LENGTHS) {
      const a = data("float64", n, n + 3, { specials: true });
      withArray(a, (ptr) => {
        const edges = [-5, -1, -0.5, 0, 0.25, 1, 3, 10];
        expect(Array.from(k.histogram({ ptr, dtype: "float64" }, n, { edges }).counts)).toEqual(Array.from(histogramRef(a, edges)));
        const u = k.histogram({ ptr, dtype: "float64" }, n, { bins: 7, range: [-1, 1] });
        expect(Array.from(u.counts)).toEqual(Array.from(histogramRef(a, u.edges)));
      });
    }
    const ints = data("int16", 1000, 4, { small: true });
    withArray(ints, (ptr) => {
      const u = k.histogram({ ptr, dtype: "int16" }, 1000, { bins: 40, range: [-20, 20] });
      expect(Array.from(u.counts)).toEqual(Array.from(histogramRef(ints, u.edges)));
      expect(u.counts.reduce((x, y) => x + y)).toBe(1000);
    });
    expect(() => k.histogram({ ptr: k.scratchLayout.work, dtype: "float64" }, 0, { edges: [0, 0] })).toThrow(/increase strictly/);
  });

  it("bincount counts non-negative integers and rejects negatives and floats", () => {
    for (const dtype of ["int32", "uint8", "uint16"] as Dtype[]) {
      const a = data(dtype, 10007, 5, { small: true }).map((v) => Math.abs(v));
      withArray(a, (ptr) => {
        expect(Array.from(k.bincount({ ptr, dtype }, 10007, 30))).toEqual(Array.from(bincountRef(a, 30)));
      });
    }
    withArray(new Int32Array([1, -2]), (ptr) => expect(() => k.bincount({ ptr, dtype: "int32" }, 2)).toThrow(/negative value/));
    expect(() => k.bincount({ ptr: k.scratchLayout.work, dtype: "float64" }, 0)).toThrow(/integer array/);
  });
});
