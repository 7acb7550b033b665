/**
 * Reductions, cumulative sums, histograms and bincount over arrays in wasm memory: argument
 * checks, temporary buffers, and the calls into assembly/reduce.ts, axis.ts, histogram.ts.
 */

import { DTYPE_CODE, REDUCE_KIND } from "./abi.js";
import { type Dtype, isFloat } from "./dtypes.js";
import { type AxisPartial, type Partial, type ReduceOp, REDUCE_OPS, finalize } from "./reduce-state.js";
import type { ArrayArg, Kernels } from "./kernels.js";
import { KernelError } from "./errors.js";

function kindOf(op: ReduceOp): number {
  if (!REDUCE_OPS.includes(op)) throw new KernelError(`unknown reduction ${JSON.stringify(op)}; expected one of ${REDUCE_OPS.join(", ")}`);
  return op === "mean" ? REDUCE_KIND.sum : op === "std" ? REDUCE_KIND.var : REDUCE_KIND[op];
}

export function reduce(k: Kernels, op: ReduceOp, a: ArrayArg, n: number, options: { index0?: number }): Partial {
  const kind = kindOf(op);
  k.checkCount(n, `reduce ${op}`);
  k.checkArray(a, n, `reduce ${op}`);
  const { state } = k.scratchLayout;
  const s = new Float64Array(k.memory.buffer, state, 4);
  s.set([0, op === "prod" || op === "all" ? 1 : 0, 0, 0]);
  k.exports.reduce(DTYPE_CODE[a.dtype], kind, a.ptr, n, state, options.index0 ?? 0);
  return { op, dtype: a.dtype, count: s[0]!, value: s[1]!, extra: s[2]! };
}

/** [outer, len, inner] of a C-order shape around `axis`. */
export function splitShape(shape: readonly number[], axis: number, what: string): [number, number, number] {
  shape.forEach((d, i) => {
    if (!Number.isInteger(d) || d < 0) throw new KernelError(`${what}: shape[${i}] must be a non-negative integer, got ${d}`);
  });
  const ax = axis < 0 ? axis + shape.length : axis;
  if (!Number.isInteger(ax) || ax < 0 || ax >= shape.length) {
    throw new KernelError(`${what}: axis ${axis} is out of bounds for a ${shape.length}-d array`);
  }
  const prod = (xs: readonly number[]) => xs.reduce((x, y) => x * y, 1);
  return [prod(shape.slice(0, ax)), shape[ax]!, prod(shape.slice(ax + 1))];
}

export function reduceAxis(k: Kernels, op: ReduceOp, a: ArrayArg, shape: readonly number[], axis: number): AxisPartial {
  const kind = kindOf(op);
  const [outer, len, inner] = splitShape(shape, axis, `reduceAxis ${op}`);
  const n = outer * len * inner;
  k.checkCount(n, `reduceAxis ${op}`);
  k.checkArray(a, n, `reduceAxis ${op}`);
  const m = outer * inner;
  if (m === 0) return { op, dtype: a.dtype, count: len, value: new Float64Array(0), extra: new Float64Array(0) };
  const out = k.alloc(m * 16);
  try {
    const { work } = k.scratchLayout;
    k.exports.reduceAxis(DTYPE_CODE[a.dtype], kind, a.ptr, outer, len, inner, out, work);
    return { op, dtype: a.dtype, count: len, value: k.copyOut("float64", out, m), extra: k.copyOut("float64", out + m * 8, m) };
  } finally {
    k.free(out);
  }
}

/** Output dtype of cumsum: float32 stays float32, everything else accumulates in float64. */
export const cumsumDtype = (d: Dtype): Dtype => (d === "float32" ? "float32" : "float64");

export function cumsum(k: Kernels, a: ArrayArg, shape: readonly number[], out: number, axis?: number): Dtype {
  const n = shape.reduce((x, y) => x * y, 1);
  const [outer, len, inner] = axis === undefined ? [1, n, 1] : splitShape(shape, axis, "cumsum");
  k.checkCount(n, "cumsum");
  k.checkArray(a, n, "cumsum");
  const dtype = cumsumDtype(a.dtype);
  k.checkArray({ ptr: out, dtype }, n, "cumsum out");
  if (n > 0) k.exports.cumsum(DTYPE_CODE[a.dtype], a.ptr, outer, len, inner, out);
  return dtype;
}

/** Bins for histogram: explicit increasing edges, or numpy's `bins` equal bins over `range`. */
export type HistogramBins = { edges: ArrayLike<number> } | { bins: number; range: [number, number] };

/** numpy.histogram_bin_edges for `bins` equal bins over [lo, hi] (lo == hi widens by 0.5). */
export function uniformEdges(bins: number, range: [number, number]): Float64Array {
  if (!Number.isInteger(bins) || bins < 1) throw new KernelError(`histogram: bins must be a positive integer, got ${bins}`);
  let [lo, hi] = range;
  if (!(Number.isFinite(lo) && Number.isFinite(hi)) || lo > hi) throw new KernelError(`histogram: range must be finite with min <= max, got [${lo}, ${hi}]`);
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const edges = new Float64Array(bins + 1);
  const step = (hi - lo) / bins;
  for (let i = 0; i < bins; i++) edges[i] = i * step + lo;
  edges[bins] = hi;
  return edges;
}

export function histogram(k: Kernels, a: ArrayArg, n: number, bins: HistogramBins, counts?: Float64Array): { counts: Float64Array; edges: Float64Array } {
  k.checkCount(n, "histogram");
  k.checkArray(a, n, "histogram");
  const uniform = "bins" in bins;
  const edges = uniform ? uniformEdges(bins.bins, bins.range) : Float64Array.from(bins.edges);
  const nbins = edges.length - 1;
  if (nbins < 1) throw new KernelError(`histogram: need at least 2 bin edges, got ${edges.length}`);
  for (let i = 0; i < nbins; i++) {
    if (!(edges[i]! < edges[i + 1]!)) throw new KernelError(`histogram: bin edges must increase strictly; edges[${i}] = ${edges[i]} >= edges[${i + 1}] = ${edges[i + 1]}`);
  }
  if (counts && counts.length !== nbins) throw new KernelError(`histogram: counts has ${counts.length} entries for ${nbins} bins`);
  const ep = k.copyIn(edges);
  const cp = k.alloc(nbins * 8);
  try {
    k.view("float64", cp, nbins).fill(0);
    k.exports.histogram(DTYPE_CODE[a.dtype], a.ptr, n, ep, nbins, uniform ? 1 : 0, cp);
    const got = k.view("float64", cp, nbins);
    const result = counts ?? new Float64Array(nbins);
    for (let i = 0; i < nbins; i++) result[i]! += got[i]!;
    return { counts: result, edges };
  } finally {
    k.free(ep);
    k.free(cp);
  }
}

export function bincount(k: Kernels, a: ArrayArg, n: number, minlength: number): Float64Array {
  if (isFloat(a.dtype)) throw new KernelError(`bincount: needs an integer array, got ${a.dtype} (astype to int32 first)`);
  if (!Number.isInteger(minlength) || minlength < 0) throw new KernelError(`bincount: minlength must be a non-negative integer, got ${minlength}`);
  k.checkCount(n, "bincount");
  k.checkArray(a, n, "bincount");
  const lo = n > 0 ? finalize(reduce(k, "min", a, n, {})) : 0;
  if (lo < 0) throw new KernelError(`bincount: the array holds a negative value (${lo}); numpy raises too`);
  const hi = n > 0 ? finalize(reduce(k, "max", a, n, {})) : -1;
  const nbins = Math.max(hi + 1, minlength);
  if (nbins === 0) return new Float64Array(0);
  const cp = k.alloc(nbins * 8);
  try {
    k.view("float64", cp, nbins).fill(0);
    const outside = k.exports.bincount(DTYPE_CODE[a.dtype], a.ptr, n, cp, nbins);
    if (outside !== 0) throw new KernelError(`bincount: internal error, ${outside} values outside [0, ${nbins})`);
    return k.copyOut("float64", cp, nbins);
  } finally {
    k.free(cp);
  }
}

