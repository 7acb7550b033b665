/**
 * Histogram and bincount, accumulating into f64 counts (exact to 2^53, and partial counts of
 * chunks combine by adding) so one counts buffer can take several chunks.
 *
 * Bins follow numpy.histogram: bin k is [edges[k], edges[k+1]), except the last, which also
 * takes its right edge. Values outside [edges[0], edges[nbins]] and NaN are not counted.
 * With uniform bins the index is computed from (x - lo) * nbins / (hi - lo) and then corrected
 * against the edges (as numpy does), so a value on an edge lands where a search would put it.
 */

import { F64, F32, I32, U8, I8, I16, U16, U32, loadF64 } from "./types";

/** Index of x's bin by binary search over the nbins+1 edges, or -1 when outside. */
// @ts-ignore: decorator
@inline function searchBin(x: f64, edges: usize, nbins: i32): i32 {
  const lo = load<f64>(edges), hi = load<f64>(edges + (<usize>nbins) * 8);
  if (!(x >= lo && x <= hi)) return -1; // also drops NaN
  if (x == hi) return nbins - 1;
  // Largest k with edges[k] <= x.
  let a = 0, b = nbins;
  while (b - a > 1) {
    const mid = (a + b) >>> 1;
    if (load<f64>(edges + (<usize>mid) * 8) <= x) a = mid;
    else b = mid;
  }
  return a;
}

/** Index for uniform bins, corrected against the exact edges. */
// @ts-ignore: decorator
@inline function uniformBin(x: f64, edges: usize, nbins: i32, lo: f64, hi: f64, norm: f64): i32 {
  if (!(x >= lo && x <= hi)) return -1;
  let k = <i32>((x - lo) * norm);
  if (k >= nbins) k = nbins - 1;
  if (x < load<f64>(edges + (<usize>k) * 8)) k--;
  else if (k < nbins - 1 && x >= load<f64>(edges + (<usize>(k + 1)) * 8)) k++;
  return k;
}

function histogramT<T>(p: usize, n: i32, edges: usize, nbins: i32, uniform: bool, counts: usize): void {
  const lo = load<f64>(edges), hi = load<f64>(edges + (<usize>nbins) * 8);
  const norm = <f64>nbins / (hi - lo);
  for (let i = 0; i < n; i++) {
    const x = loadF64<T>(p, i);
    const k = uniform ? uniformBin(x, edges, nbins, lo, hi, norm) : searchBin(x, edges, nbins);
    if (k >= 0) {
      const q = counts + (<usize>k) * 8;
      store<f64>(q, load<f64>(q) + 1);
    }
  }
}

/** Add the histogram of n elements of dtype t at p into counts[nbins]. */
export function histogram(t: i32, p: usize, n: i32, edges: usize, nbins: i32, uniform: bool, counts: usize): void {
  switch (t) {
    case F64: histogramT<f64>(p, n, edges, nbins, uniform, counts); break;
    case F32: histogramT<f32>(p, n, edges, nbins, uniform, counts); break;
    case I32: histogramT<i32>(p, n, edges, nbins, uniform, counts); break;
    case U8: histogramT<u8>(p, n, edges, nbins, uniform, counts); break;
    case I8: histogramT<i8>(p, n, edges, nbins, uniform, counts); break;
    case I16: histogramT<i16>(p, n, edges, nbins, uniform, counts); break;
    case U16: histogramT<u16>(p, n, edges, nbins, uniform, counts); break;
    case U32: histogramT<u32>(p, n, edges, nbins, uniform, counts); break;
    default: unreachable();
  }
}

function bincountT<T>(p: usize, n: i32, counts: usize, nbins: i32): i32 {
  let outside = 0;
  for (let i = 0; i < n; i++) {
    const v = <i64>load<T>(p + (<usize>i) * sizeof<T>());
    if (v < 0 || v >= <i64>nbins) {
      outside++;
      continue;
    }
    const q = counts + (<usize>v) * 8;
    store<f64>(q, load<f64>(q) + 1);
  }
  return outside;
}

/**
 * Add counts of each value 0..nbins-1 of an integer array into counts[nbins]. Returns how many
 * values fell outside [0, nbins) (not counted), so the caller can report negatives.
 */
export function bincount(t: i32, p: usize, n: i32, counts: usize, nbins: i32): i32 {
  switch (t) {
    case I32: return bincountT<i32>(p, n, counts, nbins);
    case U8: return bincountT<u8>(p, n, counts, nbins);
    case I8: return bincountT<i8>(p, n, counts, nbins);
    case I16: return bincountT<i16>(p, n, counts, nbins);
    case U16: return bincountT<u16>(p, n, counts, nbins);
    case U32: return bincountT<u32>(p, n, counts, nbins);
    default: unreachable();
  }
  return 0;
}
