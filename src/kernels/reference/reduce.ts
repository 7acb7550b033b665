/**
 * Reference reductions, scans, histogram and bincount: straightforward loops in float64 with
 * compensated (Neumaier) sums and two-pass variance, so they are accurate oracles rather than
 * copies of the kernels' arithmetic.
 */

import type { Dtype } from "../dtypes.js";
import { type ReduceOp, reduceResultDtype } from "../reduce-state.js";

type Data = ArrayLike<number>;

function neumaier(xs: Data, from = 0, to = xs.length, step = 1): number {
  let s = 0, c = 0;
  for (let i = from; i < to; i += step) {
    const x = xs[i]!;
    const t = s + x;
    c += Math.abs(s) >= Math.abs(x) ? s - t + x : x - t + s;
    s = t;
  }
  return s + c;
}

/** One reduction over xs[from], xs[from+step], ... (count elements). */
function reduceStrided(op: ReduceOp, xs: Data, from: number, count: number, step: number, ddof: number): number {
  const to = from + count * step;
  switch (op) {
    case "sum": return neumaier(xs, from, to, step);
    case "mean": return neumaier(xs, from, to, step) / count;
    case "prod": {
      let p = 1;
      for (let i = from; i < to; i += step) p *= xs[i]!;
      return p;
    }
    case "min":
    case "max":
    case "argmin":
    case "argmax": {
      if (count === 0) throw new Error(`reference: ${op} of an empty array`);
      const isMax = op === "max" || op === "argmax";
      let best = xs[from]!, at = 0;
      for (let j = 1; j < count; j++) {
        const x = xs[from + j * step]!;
        if (Number.isNaN(best)) break;
        if (Number.isNaN(x) || (isMax ? x > best : x < best)) {
          best = x;
          at = j;
        }
      }
      return op === "argmin" || op === "argmax" ? at : best;
    }
    case "var":
    case "std": {
      const mean = neumaier(xs, from, to, step) / count;
      const d = new Float64Array(count);
      for (let j = 0; j < count; j++) d[j] = (xs[from + j * step]! - mean) ** 2;
      const v = neumaier(d) / (count - ddof);
      return op === "std" ? Math.sqrt(v) : v;
    }
    case "any": {
      for (let i = from; i < to; i += step) if (xs[i] !== 0) return 1;
      return 0;
    }
    case "all": {
      for (let i = from; i < to; i += step) if (xs[i] === 0) return 0;
      return 1;
    }
  }
}

const round = (op: ReduceOp, dtype: Dtype, v: number) => (reduceResultDtype(op, dtype) === "float32" ? Math.fround(v) : v);

/** The reduction of all of xs (as numpy would give it, int64 results as numbers). */
export function reduceRef(op: ReduceOp, xs: Data, dtype: Dtype = "float64", ddof = 0): number {
  return round(op, dtype, reduceStrided(op, xs, 0, xs.length, 1, ddof));
}

/** The reduction along `axis` of a C-order array of `shape`. */
export function reduceAxisRef(op: ReduceOp, xs: Data, shape: readonly number[], axis: number, dtype: Dtype = "float64", ddof = 0): Float64Array {
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const len = shape[axis]!;
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) out[o * inner + i] = round(op, dtype, reduceStrided(op, xs, o * len * inner + i, len, inner, ddof));
  }
  return out;
}

/** Cumulative sum along `axis` (flattened when undefined); float32 accumulates in float32. */
export function cumsumRef(xs: Data, dtype: Dtype, shape: readonly number[], axis?: number): Float64Array | Float32Array {
  const n = xs.length;
  const single = dtype === "float32";
  const out = single ? new Float32Array(n) : new Float64Array(n);
  const [outer, len, inner] =
    axis === undefined ? [1, n, 1] : [shape.slice(0, axis).reduce((a, b) => a * b, 1), shape[axis]!, shape.slice(axis + 1).reduce((a, b) => a * b, 1)];
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let s = 0;
      for (let a = 0; a < len; a++) {
        const k = (o * len + a) * inner + i;
        s = single ? Math.fround(s + xs[k]!) : s + xs[k]!;
        out[k] = s;
      }
    }
  }
  return out;
}

/** numpy.histogram counts for increasing edges (last bin closed, NaN and outliers dropped). */
export function histogramRef(xs: Data, edges: Data): Float64Array {
  const nb = edges.length - 1;
  const counts = new Float64Array(nb);
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    if (!(x >= edges[0]! && x <= edges[nb]!)) continue;
    let k = nb - 1;
    for (let j = 0; j < nb; j++) {
      if (x < edges[j + 1]!) {
        k = j;
        break;
      }
    }
    counts[k]!++;
  }
  return counts;
}

export function bincountRef(xs: Data, minlength = 0): Float64Array {
  let max = -1;
  for (let i = 0; i < xs.length; i++) max = Math.max(max, xs[i]!);
  const counts = new Float64Array(Math.max(max + 1, minlength));
  for (let i = 0; i < xs.length; i++) counts[xs[i]!]!++;
  return counts;
}
