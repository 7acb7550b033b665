/**
 * Strided gathers: the one copy loop behind slicing with steps and transposing a block.
 *
 * A strided view of a row-major buffer is an offset plus, per output axis, a stride (in
 * elements, possibly negative) and a count. Walking the output in row-major order reads
 *
 *   src[offset + i0*strides[0] + i1*strides[1] + ...]   for every (i0, i1, ...) < counts
 *
 * and writes the values contiguously. A slice `x[a:b:s]` of a block is offset a*stride,
 * stride s*stride; a transpose is offset 0 with the source strides permuted. When the last
 * axis is contiguous (stride 1), each run is one `set` of a subarray (a memcpy); otherwise a
 * plain loop.
 */

import { product } from "./chunks.js";

/** What the loop needs of a typed array (any dtype: the source and destination share one). */
export interface Source {
  readonly [i: number]: number;
  subarray(begin: number, end: number): ArrayLike<number>;
}
export interface Dest {
  [i: number]: number;
  set(values: ArrayLike<number>, offset: number): void;
}

export function gatherStrided(src: Source, offset: number, strides: readonly number[], counts: readonly number[], dst: Dest): void {
  const nd = counts.length;
  if (product(counts) === 0) return;
  if (nd === 0) {
    dst[0] = src[offset]!;
    return;
  }
  const run = counts[nd - 1]!;
  const step = strides[nd - 1]!;
  const idx = new Array<number>(nd - 1).fill(0);
  let base = offset;
  let at = 0;
  for (;;) {
    if (step === 1) dst.set(src.subarray(base, base + run), at);
    else for (let i = 0, p = base; i < run; i++, p += step) dst[at + i] = src[p]!;
    at += run;
    let a = nd - 2;
    while (a >= 0) {
      base += strides[a]!;
      if (++idx[a]! < counts[a]!) break;
      base -= strides[a]! * counts[a]!;
      idx[a] = 0;
      a--;
    }
    if (a < 0) return;
  }
}
