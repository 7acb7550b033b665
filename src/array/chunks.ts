/**
 * Chunk geometry: how an array of `shape` is cut into blocks. `chunks[axis]` lists the block
 * sizes along that axis (they sum to shape[axis]); blocks are numbered row-major by their
 * index along each axis, and named `<name>[i,j,...]`.
 *
 *   shape [10, 7], chunks [[4, 4, 2], [7]]  ->  3 x 1 blocks: [4,7] [4,7] [2,7]
 *
 * Chunk specs as users write them: a number (every axis, that size), one entry per axis (a
 * size, or explicit sizes), or "auto" (blocks of about AUTO_BLOCK_BYTES).
 */

import { TesseraError } from "../errors.js";
import { itemSize, type Dtype } from "../kernels/dtypes.js";

export type Chunks = readonly (readonly number[])[];
export type ChunksSpec = number | "auto" | readonly (number | "auto" | readonly number[])[];

/** Blocks of about 64 MiB: big enough to amortize a task, small enough for every worker to get some. */
export const AUTO_BLOCK_BYTES = 64 * 2 ** 20;

export function product(xs: readonly number[]): number {
  let p = 1;
  for (const x of xs) p *= x;
  return p;
}

export function checkShape(shape: readonly number[], what = "shape"): number[] {
  if (!Array.isArray(shape)) throw new TesseraError(`${what} must be an array of sizes, got ${JSON.stringify(shape)}`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new TesseraError(`${what} must hold non-negative integers, got [${shape.join(", ")}]`);
  }
  return [...shape];
}

/** Sizes of blocks of (at most) `size` covering `n`; the last one may be smaller. */
export function regular(n: number, size: number): number[] {
  if (n === 0) return [0];
  const out: number[] = [];
  for (let at = 0; at < n; at += size) out.push(Math.min(size, n - at));
  return out;
}

export function normalizeChunks(spec: ChunksSpec | undefined, shape: readonly number[], dtype: Dtype): number[][] {
  const nd = shape.length;
  const s = spec ?? "auto";
  let perAxis: (number | "auto" | readonly number[])[];
  if (typeof s === "number" || s === "auto") perAxis = shape.map(() => s);
  else if (Array.isArray(s)) {
    if (s.length !== nd) {
      throw new TesseraError(`chunks ${JSON.stringify(s)} has ${s.length} entries for an array of ${nd} dimension(s) (shape [${shape}])`);
    }
    perAxis = [...s];
  } else throw new TesseraError(`chunks must be a number, "auto" or one entry per axis, got ${JSON.stringify(s)}`);
  const autoAxes = perAxis.filter((c) => c === "auto").length;
  let autoSize = 0;
  if (autoAxes > 0) {
    const fixed = perAxis.reduce<number>((p, c, a) => p * (c === "auto" ? 1 : typeof c === "number" ? Math.min(c, shape[a]!) : Math.max(...c)), 1);
    const budget = Math.max(1, AUTO_BLOCK_BYTES / itemSize(dtype) / Math.max(1, fixed));
    autoSize = Math.max(1, Math.floor(budget ** (1 / autoAxes)));
  }
  return perAxis.map((c, a) => {
    const n = shape[a]!;
    if (c === "auto") return regular(n, Math.min(n, autoSize) || 1);
    if (typeof c === "number") {
      if (!Number.isInteger(c) || c < 1) throw new TesseraError(`chunk size along axis ${a} must be a positive integer, got ${c}`);
      return regular(n, c);
    }
    const sizes = [...c];
    const total = sizes.reduce((x, y) => x + y, 0);
    if (sizes.some((x) => !Number.isInteger(x) || x < 0) || total !== n) {
      throw new TesseraError(`chunks along axis ${a} must be non-negative integers summing to ${n}, got [${sizes}]`);
    }
    return sizes;
  });
}

export function numblocks(chunks: Chunks): number[] {
  return chunks.map((c) => c.length);
}

/** Start offset of every block along one axis, plus the end: [0, c0, c0+c1, ..., n]. */
export function boundaries(sizes: readonly number[]): number[] {
  const out = [0];
  for (const s of sizes) out.push(out[out.length - 1]! + s);
  return out;
}

export function blockShape(chunks: Chunks, index: readonly number[]): number[] {
  return index.map((i, a) => chunks[a]![i]!);
}

export function blockOffset(chunks: Chunks, index: readonly number[]): number[] {
  return index.map((i, a) => {
    let o = 0;
    for (let j = 0; j < i; j++) o += chunks[a]![j]!;
    return o;
  });
}

/** Row-major position of a block among all blocks. */
export function blockNumber(numblocks: readonly number[], index: readonly number[]): number {
  let n = 0;
  for (let a = 0; a < index.length; a++) n = n * numblocks[a]! + index[a]!;
  return n;
}

/** Every block index in row-major order. */
export function* blockIndices(numblocks: readonly number[]): Generator<number[]> {
  const nd = numblocks.length;
  if (numblocks.some((n) => n === 0)) return;
  const idx = new Array<number>(nd).fill(0);
  for (;;) {
    yield [...idx];
    let a = nd - 1;
    while (a >= 0) {
      idx[a]!++;
      if (idx[a]! < numblocks[a]!) break;
      idx[a] = 0;
      a--;
    }
    if (a < 0) return;
  }
}

export function sameChunks(a: Chunks, b: Chunks): boolean {
  return a.length === b.length && a.every((c, i) => c.length === b[i]!.length && c.every((x, j) => x === b[i]![j]));
}

/** Row-major strides (in elements) of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  let s = 1;
  for (let a = shape.length - 1; a >= 0; a--) {
    out[a] = s;
    s *= shape[a]!;
  }
  return out;
}

export function normalizeAxis(axis: number, ndim: number, what = "axis"): number {
  if (!Number.isInteger(axis) || axis < -ndim || axis >= ndim) {
    throw new TesseraError(`${what} ${axis} is out of bounds for an array of ${ndim} dimension(s)`);
  }
  return axis < 0 ? axis + ndim : axis;
}
