/** Blocked SIMD matmul against the naive triple loop, on odd shapes, blocks and accumulation. */

import { beforeAll, describe, expect, it } from "vitest";
import type { Kernels } from "../../src/kernels/kernels.js";
import { matmulRef } from "../../src/kernels/reference/matmul.js";
import { kernels, data } from "./helpers.js";

let k: Kernels;
beforeAll(async () => {
  k = await kernels();
});

const SHAPES: [number, number, number][] = [
  [1, 1, 1], [3, 7, 5], [65, 17, 33], [256, 256, 256], [4, 8, 300], [5, 1030, 3], [70, 9, 520], [0, 3, 2], [3, 0, 2], [3, 2, 0],
];

/**
 * |C - naive| <= 2 k eps (|A|·|B|): the standard bound for a dot product of length k in any
 * summation order (relative to |C| alone it fails under cancellation).
 */
function check(got: ArrayLike<number>, want: ArrayLike<number>, bound: ArrayLike<number>, k_: number, single: boolean, label: string): void {
  const eps = single ? 2 ** -24 : 2 ** -53;
  for (let i = 0; i < want.length; i++) {
    if (Math.abs(got[i]! - want[i]!) > 2 * Math.max(1, k_) * eps * bound[i]! + 1e-300) expect.fail(`${label}: C[${i}] = ${got[i]}, naive ${want[i]}`);
  }
}

const abs = (xs: ArrayLike<number>) => Array.from(xs, Math.abs);

describe("matmul", () => {
  for (const dtype of ["float32", "float64"] as const) {
    it(`${dtype}: C = A·B on odd shapes matches the naive product`, () => {
      for (const [m, n, kk] of SHAPES) {
        const a = data(dtype, m * kk, m + 1), b = data(dtype, kk * n, n + 2);
        const pa = k.copyIn(a), pb = k.copyIn(b), pc = k.allocArray(dtype, m * n);
        k.view(dtype, pc, m * n).fill(123); // must be overwritten, even for k = 0
        k.matmul(dtype, m, n, kk, pa, pb, pc);
        const bound = matmulRef(m, n, kk, abs(a), abs(b));
        check(k.copyOut(dtype, pc, m * n), matmulRef(m, n, kk, a, b), bound, kk, dtype === "float32", `${m}x${kk}·${kk}x${n}`);
        [pa, pb, pc].forEach((p) => k.free(p));
      }
    });

    it(`${dtype}: blocks of bigger matrices via leading dimensions, and C += A·B`, () => {
      // A is the [2:9, 3:14] block of a 10x20 matrix, B the [1:12, 0:6] block of 15x8, C the
      // [4:11, 2:8] block of 12x9, accumulated twice over the same product.
      const big = { a: data(dtype, 200, 7), b: data(dtype, 120, 8), c: new Float64Array(108) };
      const pa = k.copyIn(big.a), pb = k.copyIn(big.b);
      const pc = k.allocArray(dtype, 108);
      k.view(dtype, pc, 108).fill(0);
      const sz = dtype === "float32" ? 4 : 8;
      const m = 7, kk = 11, n = 6;
      const A = pa + (2 * 20 + 3) * sz, B = pb + (1 * 8 + 0) * sz, C = pc + (4 * 9 + 2) * sz;
      k.matmul(dtype, m, n, kk, A, B, C, { lda: 20, ldb: 8, ldc: 9 });
      k.matmul(dtype, m, n, kk, A, B, C, { lda: 20, ldb: 8, ldc: 9, accumulate: true });
      const sub = (src: ArrayLike<number>, ld: number, r0: number, c0: number, rows: number, cols: number) =>
        Array.from({ length: rows * cols }, (_, i) => src[(r0 + Math.floor(i / cols)) * ld + c0 + (i % cols)]!);
      const sa = sub(big.a, 20, 2, 3, m, kk), sb = sub(big.b, 8, 1, 0, kk, n);
      const want = matmulRef(m, n, kk, sa, sb).map((v) => 2 * v);
      const bound = matmulRef(m, n, kk, abs(sa), abs(sb)).map((v) => 2 * v);
      const got = k.copyOut(dtype, pc, 108);
      check(sub(got, 9, 4, 2, m, n), want, bound, kk, dtype === "float32", "block");
      // Outside the C block nothing was written.
      for (let i = 0; i < 108; i++) {
        const r = Math.floor(i / 9), c = i % 9;
        if (r < 4 || r >= 11 || c < 2 || c >= 8) expect(got[i]).toBe(0);
      }
      [pa, pb, pc].forEach((p) => k.free(p));
    });
  }

  it("validates shapes, strides and bounds", () => {
    const p = k.allocArray("float32", 16);
    expect(() => k.matmul("int32" as "float32", 2, 2, 2, p, p, p)).toThrow(/float32 or float64/);
    expect(() => k.matmul("float32", 2, 2, 2, p, p, p, { lda: 1 })).toThrow(/lda must be an integer >= 2/);
    expect(() => k.matmul("float32", 20_000_000, 2, 2, p, p, p)).toThrow(/matmul A.*outside the heap/);
    expect(() => k.matmul("float64", 2, 2, 2, p + 4, p, p)).toThrow(/not aligned to 8 bytes/);
    k.free(p);
  });
});
