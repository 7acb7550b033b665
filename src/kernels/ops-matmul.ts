/**
 * matmul: C = A·B (or C += A·B) on row-major f32/f64 blocks in wasm memory. Leading dimensions
 * (row strides, in elements) let A, B and C be blocks of bigger matrices; `accumulate` adds into
 * C, so a blocked product sums over k-blocks without a temporary. The packing buffers the
 * kernel needs (assembly/matmul.ts) are allocated once per Kernels instance.
 */

import { DTYPE_CODE } from "./abi.js";
import type { Kernels } from "./kernels.js";
import { KernelError } from "./errors.js";

export interface MatmulOptions {
  /** Row stride of A in elements (default k). */
  lda?: number;
  /** Row stride of B in elements (default n). */
  ldb?: number;
  /** Row stride of C in elements (default n). */
  ldc?: number;
  /** C += A·B instead of C = A·B. */
  accumulate?: boolean;
}

export function matmul(
  k: Kernels,
  dtype: "float32" | "float64",
  m: number,
  n: number,
  kk: number,
  a: number,
  b: number,
  c: number,
  options: MatmulOptions = {},
): void {
  if (dtype !== "float32" && dtype !== "float64") throw new KernelError(`matmul: dtype must be float32 or float64, got ${JSON.stringify(dtype)}`);
  for (const [name, v] of [["m", m], ["n", n], ["k", kk]] as const) k.checkCount(v, `matmul ${name}`);
  const lda = options.lda ?? kk, ldb = options.ldb ?? n, ldc = options.ldc ?? n;
  const check = (name: string, ld: number, cols: number) => {
    if (!Number.isInteger(ld) || ld < cols || ld > 0x7fffffff) throw new KernelError(`matmul: ${name} must be an integer >= ${cols} (the row length), got ${ld}`);
  };
  check("lda", lda, kk);
  check("ldb", ldb, n);
  check("ldc", ldc, n);
  // Elements each operand spans: (rows - 1) * ld + cols.
  const span = (rows: number, ld: number, cols: number) => (rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols);
  k.checkArray({ ptr: a, dtype }, span(m, lda, kk), "matmul A");
  k.checkArray({ ptr: b, dtype }, span(kk, ldb, n), "matmul B");
  k.checkArray({ ptr: c, dtype }, span(m, ldc, n), "matmul C");
  if (m === 0 || n === 0) return;
  const t = DTYPE_CODE[dtype];
  const work = k.workArea(`matmul-${dtype}`, k.exports.matmulWorkBytes(t));
  k.exports.matmul(t, m, n, kk, a, lda, b, ldb, c, ldc, options.accumulate ? 1 : 0, work);
}
