/**
 * Elementwise ops against the JS reference (src/kernels/reference), on every dtype and on
 * lengths around the tile and vector sizes. Exact ops must match bit for bit; transcendentals
 * (exp, log, sin, cos, tanh, sigmoid, pow with a non-integer exponent) run musl's algorithms in
 * wasm and V8's fdlibm in JS, so they are held to TRANSCENDENTAL_ULPS instead.
 */

import { beforeAll, describe, expect, it } from "vitest";
import type { Kernels } from "../../src/kernels/kernels.js";
import { type Dtype, type TypedArray, itemSize } from "../../src/kernels/dtypes.js";
import { type Expr, type ExprLike, input, binary, unary, where, clip, astype, add, mul, sub, div, pow } from "../../src/kernels/expr.js";
import { exprDtype } from "../../src/kernels/lower.js";
import { evalExpr } from "../../src/kernels/reference/elementwise.js";
import { LENGTHS, ALL_DTYPES, kernels, data, firstDiff, ulps } from "./helpers.js";

/**
 * Max ulps between wasm (musl) and JS (V8's fdlibm) transcendentals. Measured on this data:
 * f64 exp, log, sin, cos, pow 1 ulp, sigmoid 2, tanh 3; f32 (musl's *f vs fround(Math.*))
 * 1 ulp, tanh 2.
 */
const TRANSCENDENTAL_ULPS = { float64: 3, float32: 2 } as const;

let k: Kernels;
beforeAll(async () => {
  k = await kernels();
});

interface Arr {
  data: TypedArray;
  dtype: Dtype;
}

/** Evaluate expr in wasm and in the reference over the given arrays. */
function both(expr: Expr, arrays: Arr[], n: number): { got: TypedArray; want: TypedArray; dtype: Dtype } {
  const ptrs = arrays.map((a) => k.copyIn(a.data));
  const dtype = exprDtype(expr, arrays.map((a) => a.dtype));
  const out = k.allocArray(dtype, n);
  try {
    k.evaluate(expr, arrays.map((a, i) => ({ ptr: ptrs[i]!, dtype: a.dtype })), n, out);
    return { got: k.copyOut(dtype, out, n), want: evalExpr(expr, arrays, n).data, dtype };
  } finally {
    ptrs.forEach((p) => k.free(p));
    k.free(out);
  }
}

function expectExact(expr: Expr, arrays: Arr[], n: number, label: string): void {
  const { got, want } = both(expr, arrays, n);
  const i = firstDiff(got, want);
  if (i >= 0) expect.fail(`${label} n=${n}: element ${i} is ${got[i]}, reference ${want[i]}`);
}

const ARITH_DTYPES: Dtype[] = ["float64", "float32", "int32", "uint8", "int8", "int16", "uint16"];
const x = input(0), y = input(1);

describe("exact elementwise ops", () => {
  it("add, sub, mul, div, maximum, minimum: array op array, array op scalar, scalar op array, x op x", () => {
    for (const dtype of ARITH_DTYPES) {
      for (const n of LENGTHS) {
        const a = { data: data(dtype, n, n + 1, { specials: true }), dtype };
        const b = { data: data(dtype, n, n + 2, { specials: true }), dtype };
        for (const op of ["add", "sub", "mul", "div", "maximum", "minimum"] as const) {
          const forms: [string, Expr][] = [
            ["x,y", binary(op, x, y)],
            ["x,3", binary(op, x, 3)],
            ["3,x", binary(op, 3, x)],
            ["x,x", binary(op, x, x)],
          ];
          if (dtype === "float64" || dtype === "float32") forms.push(["x,0.5", binary(op, x, 0.5)], ["-0.25,y", binary(op, -0.25, y)]);
          for (const [form, e] of forms) expectExact(e, [a, b], n, `${op}(${form}) ${dtype}`);
        }
      }
    }
  });

  it("neg, abs, sqrt, and integer powers (compiled to multiplies)", () => {
    for (const dtype of ARITH_DTYPES) {
      for (const n of LENGTHS) {
        const a = { data: data(dtype, n, n + 3, { specials: true }), dtype };
        for (const op of ["neg", "abs", "sqrt"] as const) expectExact(unary(op, x), [a], n, `${op} ${dtype}`);
        const powers = dtype.startsWith("float") ? [0, 1, 2, 3, 4, 7, 16, -1, -2] : [0, 1, 2, 3, 5];
        for (const p of powers) expectExact(pow(x, p), [a], n, `x**${p} ${dtype}`);
      }
    }
  });

  it("comparisons give bool masks on every dtype, against arrays and scalars", () => {
    for (const dtype of ALL_DTYPES) {
      for (const n of LENGTHS) {
        const a = { data: data(dtype, n, n + 4, { specials: true, small: true }), dtype };
        const b = { data: data(dtype, n, n + 5, { specials: true, small: true }), dtype };
        for (const op of ["eq", "ne", "lt", "le", "gt", "ge"] as const) {
          expectExact(binary(op, x, y), [a, b], n, `${op} ${dtype}`);
          expectExact(binary(op, x, 1), [a, b], n, `${op}(x, 1) ${dtype}`);
          expectExact(binary(op, x, 0.5), [a, b], n, `${op}(x, 0.5) ${dtype}`);
        }
      }
    }
  });

  it("where, logical ops and clip", () => {
    for (const dtype of ALL_DTYPES) {
      for (const n of LENGTHS) {
        const c = { data: data("bool", n, n + 6), dtype: "bool" as Dtype };
        const a = { data: data(dtype, n, n + 7, { specials: true }), dtype };
        const b = { data: data(dtype, n, n + 8, { specials: true }), dtype };
        expectExact(where(input(2), x, y), [a, b, c], n, `where ${dtype}`);
        expectExact(where(x, y, 0), [a, b, c], n, `where(x != 0, y, 0) ${dtype}`);
        for (const op of ["and", "or", "xor"] as const) expectExact(binary(op, x, input(2)), [a, b, c], n, `${op} ${dtype}`);
        expectExact(unary("not", x), [a], n, `not ${dtype}`);
        if (dtype !== "uint32" && dtype !== "bool") {
          expectExact(clip(x, 1, 5), [a], n, `clip scalar ${dtype}`);
          expectExact(clip(x, y, 100), [a, b], n, `clip array ${dtype}`);
        }
      }
    }
  });

  it("astype between every pair of dtypes, including NaN, infinities and out-of-range values", () => {
    for (const from of ALL_DTYPES) {
      const n = 1000;
      const a = { data: data(from, n, 9, { specials: true }), dtype: from };
      if (from.startsWith("float")) for (let i = 0; i < 50; i++) a.data[i] = [3e9, -3e9, 2.5e10, -1.5, 255.9, 65536.5, 1e300, -0.5][i % 8]!;
      for (const to of ALL_DTYPES) expectExact(astype(x, to), [a], n, `astype ${from}->${to}`);
    }
  });
});

describe("transcendentals", () => {
  it(`exp, log, sin, cos, tanh, sigmoid, pow are within ${TRANSCENDENTAL_ULPS.float64} ulp (f64) / ${TRANSCENDENTAL_ULPS.float32} ulp (f32) of Math.*`, () => {
    for (const dtype of ["float64", "float32"] as const) {
      const worst = new Map<string, number>();
      for (const n of LENGTHS) {
        const a = { data: data(dtype, n, n + 10, { specials: true }), dtype };
        const p = { data: data(dtype, n, n + 11, { positive: true }), dtype };
        const cases: [string, Expr, Arr[]][] = [
          ...(["exp", "sin", "cos", "tanh", "sigmoid"] as const).map((op): [string, Expr, Arr[]] => [op, unary(op, x), [a]]),
          ["log", unary("log", x), [p]],
          ["pow", pow(x, y), [p, a]],
          ["pow 0.5", pow(x, 0.5), [p]],
        ];
        for (const [name, e, arrays] of cases) {
          const { got, want } = both(e, arrays, n);
          for (let i = 0; i < n; i++) worst.set(name, Math.max(worst.get(name) ?? 0, ulps(got[i]!, want[i]!, dtype)));
        }
      }
      const summary = JSON.stringify(Object.fromEntries(worst));
      for (const [name, u] of worst) expect(u, `${name} ${dtype}: ${summary}`).toBeLessThanOrEqual(TRANSCENDENTAL_ULPS[dtype]);
    }
  });

  it("ints promote to float64 for sqrt/exp/..., as numpy does for int32", () => {
    const a = { data: data("int32", 100, 12, { small: true }), dtype: "int32" as Dtype };
    const { got, dtype } = both(unary("exp", x), [a], 100);
    expect(dtype).toBe("float64");
    expect(got[0]).toBeCloseTo(Math.exp(a.data[0]!), 10);
  });
});

describe("fusion and chunking do not change results", () => {
  const complex = (a: ExprLike, b: ExprLike): Expr =>
    add(unary("sigmoid", sub(mul(unary("exp", unary("sin", a)), 2), div(unary("tanh", b), 3))), unary("log", add(unary("abs", a), 1)));

  it("a fused program equals the same ops run one by one through temporaries, bit for bit", () => {
    for (const dtype of ["float64", "float32"] as const) {
      const n = 10007;
      const a = data(dtype, n, 13, { specials: true }), b = data(dtype, n, 14);
      const pa = k.copyIn(a), pb = k.copyIn(b);
      const A = { ptr: pa, dtype }, B = { ptr: pb, dtype };
      const fused = k.allocArray(dtype, n);
      k.evaluate(complex(x, y), [A, B], n, fused);
      // Unfused: one kernel call and one temporary per op.
      const t = Array.from({ length: 9 }, () => k.allocArray(dtype, n));
      const T = (i: number) => ({ ptr: t[i]!, dtype });
      k.unary("sin", A, t[0]!, n);
      k.unary("exp", T(0), t[1]!, n);
      k.binary("mul", T(1), 2, t[2]!, n);
      k.unary("tanh", B, t[3]!, n);
      k.binary("div", T(3), 3, t[4]!, n);
      k.binary("sub", T(2), T(4), t[5]!, n);
      k.unary("sigmoid", T(5), t[6]!, n);
      k.unary("abs", A, t[7]!, n);
      k.binary("add", T(7), 1, t[8]!, n);
      k.unary("log", T(8), t[7]!, n);
      k.binary("add", T(6), T(7), t[0]!, n);
      expect(firstDiff(k.copyOut(dtype, fused, n), k.copyOut(dtype, t[0]!, n)), dtype).toBe(-1);
      [pa, pb, fused, ...t].forEach((p) => k.free(p));
    }
  });

  it("evaluating in chunks of any size gives the same bits as one call", () => {
    const n = 10007, dtype = "float64";
    const a = data(dtype, n, 15, { specials: true }), b = data(dtype, n, 16);
    const pa = k.copyIn(a), pb = k.copyIn(b);
    const whole = k.allocArray(dtype, n), parts = k.allocArray(dtype, n);
    const e = complex(x, y);
    k.evaluate(e, [{ ptr: pa, dtype }, { ptr: pb, dtype }], n, whole);
    const sizes = [1, 3, 255, 256, 257, 1000, 511, 513];
    for (let start = 0, j = 0; start < n; j++) {
      const len = Math.min(sizes[j % sizes.length]!, n - start);
      const off = start * itemSize(dtype);
      k.evaluate(e, [{ ptr: pa + off, dtype }, { ptr: pb + off, dtype }], len, parts + off);
      start += len;
    }
    expect(firstDiff(k.copyOut(dtype, whole, n), k.copyOut(dtype, parts, n))).toBe(-1);
    [pa, pb, whole, parts].forEach((p) => k.free(p));
  });

  it("writes in place when out is an input", () => {
    const n = 1000, a = data("float32", n, 17);
    const p = k.copyIn(a);
    k.binary("mul", { ptr: p, dtype: "float32" }, 3, p, n);
    const want = evalExpr(mul(x, 3), [{ data: a, dtype: "float32" }], n).data;
    expect(firstDiff(k.copyOut("float32", p, n), want)).toBe(-1);
    k.free(p);
  });
});

describe("argument errors", () => {
  it("names what is wrong", () => {
    const p = k.allocArray("float64", 16);
    const A = { ptr: p, dtype: "float64" as Dtype };
    expect(() => k.binary("add", { ptr: p + 4, dtype: "float64" }, 1, p, 4)).toThrow(/not aligned to 8 bytes/);
    expect(() => k.binary("add", A, 1, p, 1e12)).toThrow(/element count/);
    expect(() => k.binary("add", A, 1, p, 100_000_000)).toThrow(/outside the heap/);
    expect(() => k.binary("add", { ptr: p, dtype: "float16" as Dtype }, 1, p, 4)).toThrow(/unknown dtype.*"float16"/);
    expect(() => k.binary("add", { ptr: p, dtype: "uint32" }, 1, p, 4)).toThrow(/uint32 is not supported/);
    expect(() => k.binary("add", { ptr: p, dtype: "int32" }, { ptr: p, dtype: "uint32" }, p, 4)).toThrow(/no common dtype for int32 and uint32/);
    expect(() => k.binary("add", { ptr: p, dtype: "bool" }, { ptr: p, dtype: "bool" }, p, 4)).toThrow(/two bool arrays/);
    expect(() => k.binary("pow", { ptr: p, dtype: "int32" }, -1, p, 4)).toThrow(/negative integer powers/);
    expect(() => k.binary("add", { ptr: p, dtype: "uint8" }, 300, p, 4)).toThrow(/300 does not fit uint8/);
    const prog = k.compile(add(x, y), ["float64", "float64"]);
    expect(() => k.runProgram(prog, [p], 4, p)).toThrow(/takes 2 input/);
    expect(() => k.runProgram(prog, [p, p], 4)).toThrow(/pass `out`/);
    k.free(p);
  });
});
