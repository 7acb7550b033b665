/**
 * Worker ops for linear algebra on array blocks (`array.linalg.*`), registered in every worker
 * by importing this module from ops.ts.
 *
 *   array.linalg.matmul     C = Σ_p op(A_p)·op(B_p) over the k-blocks of one output block (or of
 *                           one group of them): the wasm gemm accumulates into the one C block
 *                           (`accumulate: true`), so no partial product is materialized
 *   array.linalg.sum        the elementwise sum of partial C blocks (nodes of the k-split tree)
 *   array.linalg.transpose  a block's transpose (crossed full contractions)
 *
 * A block is used as a matrix by its size alone: the spec says m, n and each k, so a 1-D block
 * is a row or a column and an n-d block a flattened vector (outer products). `ta` / `tb` say the
 * stored blocks hold the transposes (shape [k, m] / [n, k]); they are transposed into a
 * temporary in wasm memory, one pass, since the gemm kernel takes only row strides.
 *
 * Floats run on the SIMD kernel. Integer and bool blocks take an exact JS loop that wraps like
 * numpy's fixed-width integer arithmetic (Math.imul, sums mod 2^32, then the target width), and
 * bool@bool is "any of the ands" — slow (~1 GFLOP/s) but exact, for the rare integer product.
 */

import { TesseraError } from "../errors.js";
import { isFloat, type Dtype, type TypedArray } from "../kernels/dtypes.js";
import { binary, input, type Expr } from "../kernels/expr.js";
import { withKernels } from "../kernels/instance.js";
import type { Kernels } from "../kernels/kernels.js";
import { registerOp } from "../worker/registry.js";
import { asBlock, inWasm, WasmChunk, type Block, type InWasm } from "./block.js";
import { product } from "./chunks.js";

export interface LinalgMatmulSpec {
  /** Dtype of both operands and of the output (the client cast them to it). */
  dtype: Dtype;
  /** The output block's shape (m·n elements). */
  shape: number[];
  m: number;
  n: number;
  /** The contracted size of each (A, B) pair; the task's blocks are A_0..A_K-1, B_0..B_K-1. */
  ks: number[];
  /** A blocks are stored as [k, m] (B blocks as [n, k]): transpose them before use. */
  ta: boolean;
  tb: boolean;
}

export interface LinalgBlockSpec {
  dtype: Dtype;
  /** Output block shape (for transpose: the input block's shape is its reverse). */
  shape: number[];
}

registerOp("array.linalg.matmul", (spec: LinalgMatmulSpec, ...blocks: unknown[]) =>
  withKernels((k) => {
    const K = spec.ks.length;
    if (blocks.length !== 2 * K) throw new TesseraError(`array.linalg.matmul: expected ${2 * K} blocks (${K} pairs), got ${blocks.length}`);
    const as = blocks.slice(0, K).map((b, p) => asBlock(b, `array.linalg.matmul A input ${p}`));
    const bs = blocks.slice(K).map((b, p) => asBlock(b, `array.linalg.matmul B input ${p}`));
    return isFloat(spec.dtype) ? matmulFloat(k, spec, as, bs) : matmulExact(k, spec, as, bs);
  }),
);

function checkBlock(b: Block, spec: { dtype: Dtype }, size: number, what: string): void {
  if (b.dtype !== spec.dtype) throw new TesseraError(`array.linalg.matmul: ${what} is ${b.dtype}, expected ${spec.dtype}`);
  if (product(b.shape) !== size) {
    throw new TesseraError(`array.linalg.matmul: ${what} has shape [${b.shape}] (${product(b.shape)} elements), expected ${size}`);
  }
}

function matmulFloat(k: Kernels, spec: LinalgMatmulSpec, as: Block[], bs: Block[]): WasmChunk {
  const dtype = spec.dtype as "float32" | "float64";
  const { m, n } = spec;
  const out = WasmChunk.alloc(k, dtype, spec.shape);
  try {
    if (spec.ks.length === 0) out.view().fill(0);
    spec.ks.forEach((kk, p) => {
      checkBlock(as[p]!, spec, m * kk, `A input ${p}`);
      checkBlock(bs[p]!, spec, kk * n, `B input ${p}`);
      const a = operandIn(k, as[p]!, spec.ta, m, kk);
      try {
        const b = operandIn(k, bs[p]!, spec.tb, kk, n);
        try {
          k.matmul(dtype, m, n, kk, a.ptr, b.ptr, out.ptr, { accumulate: p > 0 });
        } finally {
          b.done();
        }
      } finally {
        a.done();
      }
    });
    return out;
  } catch (err) {
    k.free(out.ptr);
    throw err;
  }
}

/** A block in wasm memory as a row-major rows x cols matrix: in place, copied in, or transposed. */
function operandIn(k: Kernels, b: Block, transposed: boolean, rows: number, cols: number): Pick<InWasm, "ptr" | "done"> {
  if (!transposed) return inWasm(k, b);
  const n = rows * cols;
  const ptr = k.allocArray(b.dtype, Math.max(1, n));
  try {
    // Views only after the allocation: it may grow (and detach) the memory.
    transposeInto(dataOf(b), k.view(b.dtype, ptr, n), cols, rows);
  } catch (err) {
    k.free(ptr);
    throw err;
  }
  return { ptr, done: () => k.free(ptr) };
}

const dataOf = (b: Block): TypedArray => (b instanceof WasmChunk ? b.view() : b.data);

/** dst (cols x rows) = transpose of src (rows x cols), in 32 x 32 tiles to stay in cache. */
function transposeInto(src: TypedArray, dst: TypedArray, rows: number, cols: number): void {
  const T = 32;
  for (let i0 = 0; i0 < rows; i0 += T) {
    const i1 = Math.min(rows, i0 + T);
    for (let j0 = 0; j0 < cols; j0 += T) {
      const j1 = Math.min(cols, j0 + T);
      for (let i = i0; i < i1; i++) {
        const row = i * cols;
        for (let j = j0; j < j1; j++) dst[j * rows + i] = src[row + j]!;
      }
    }
  }
}

/** Row-major rows x cols data of a block (a JS copy when transposed). */
function rowMajor(b: Block, transposed: boolean, rows: number, cols: number): TypedArray {
  const src = dataOf(b);
  if (!transposed) return src;
  const dst = new (src.constructor as new (n: number) => TypedArray)(rows * cols);
  transposeInto(src, dst, cols, rows);
  return dst;
}

/** Integers and bools: exact, wrapping like numpy's fixed-width arithmetic. */
function matmulExact(k: Kernels, spec: LinalgMatmulSpec, as: Block[], bs: Block[]): WasmChunk {
  const { m, n } = spec;
  const acc = new Int32Array(m * n);
  spec.ks.forEach((kk, p) => {
    checkBlock(as[p]!, spec, m * kk, `A input ${p}`);
    checkBlock(bs[p]!, spec, kk * n, `B input ${p}`);
    const a = rowMajor(as[p]!, spec.ta, m, kk);
    const b = rowMajor(bs[p]!, spec.tb, kk, n);
    for (let i = 0; i < m; i++) {
      const ci = i * n;
      for (let q = 0; q < kk; q++) {
        const av = a[i * kk + q]! | 0;
        if (av === 0) continue;
        const bq = q * n;
        // Int32Array stores wrap mod 2^32: the sum of two int32s is exact in a double first.
        for (let j = 0; j < n; j++) acc[ci + j] += Math.imul(av, b[bq + j]! | 0);
      }
    }
  });
  return fromInt32(k, spec, acc);
}

/** An exact int32 accumulator as a block of spec.dtype (typed-array stores wrap; bool is != 0). */
function fromInt32(k: Kernels, spec: LinalgBlockSpec, acc: Int32Array): WasmChunk {
  const out = WasmChunk.alloc(k, spec.dtype, spec.shape);
  const v = out.view();
  if (spec.dtype === "bool") for (let i = 0; i < acc.length; i++) v[i] = acc[i] !== 0 ? 1 : 0;
  else v.set(acc);
  return out;
}

const ADD: Expr = binary("add", input(0), input(1));

/** The sum of partial blocks, in order: out = p0; out += p1; ... (in place, one pass each). */
registerOp("array.linalg.sum", (spec: LinalgBlockSpec, ...parts: unknown[]) =>
  withKernels((k) => {
    if (parts.length === 0) throw new TesseraError("array.linalg.sum: nothing to sum");
    const blocks = parts.map((b, i) => asBlock(b, `array.linalg.sum input ${i}`));
    const n = product(spec.shape);
    blocks.forEach((b, i) => checkBlock(b, spec, n, `partial ${i}`));
    if (!isFloat(spec.dtype)) {
      const acc = new Int32Array(n);
      for (const b of blocks) {
        const d = dataOf(b);
        for (let i = 0; i < n; i++) acc[i] += d[i]!;
      }
      return fromInt32(k, spec, acc);
    }
    const out = WasmChunk.alloc(k, spec.dtype, spec.shape);
    try {
      out.view().set(dataOf(blocks[0]!));
      const program = k.compile(ADD, [spec.dtype, spec.dtype]);
      for (let i = 1; i < blocks.length; i++) {
        const w = inWasm(k, blocks[i]!);
        try {
          if (n > 0) k.runProgram(program, [out.ptr, w.ptr], n, out.ptr);
        } finally {
          w.done();
        }
      }
      return out;
    } catch (err) {
      k.free(out.ptr);
      throw err;
    }
  }),
);

/** The transpose of a 2-D block: spec.shape is the output's [cols, rows]. */
registerOp("array.linalg.transpose", (spec: LinalgBlockSpec, block: unknown) =>
  withKernels((k) => {
    const b = asBlock(block, "array.linalg.transpose input");
    const [cols, rows] = spec.shape as [number, number];
    if (b.dtype !== spec.dtype || b.shape.length !== 2 || b.shape[0] !== rows || b.shape[1] !== cols) {
      throw new TesseraError(`array.linalg.transpose: input is ${b.dtype} [${b.shape}], expected ${spec.dtype} [${rows}, ${cols}]`);
    }
    const out = WasmChunk.alloc(k, spec.dtype, spec.shape);
    transposeInto(dataOf(b), out.view(), rows, cols);
    return out;
  }),
);
