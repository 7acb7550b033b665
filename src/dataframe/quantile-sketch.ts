/**
 * A mergeable quantile summary, for describe's approximate percentiles (as in Dask):
 *
 *   partition  the sorted values cut into k runs of (nearly) equal length, each kept as its
 *              middle value weighted by its length (every value, weight 1, when there are at
 *              most k; then nothing is approximate)
 *   combine    the union of the inputs' points; past 2k points, neighbours are grouped up to
 *              W/k weight and each group kept as its weighted median with the group's weight
 *   query      the point at position (N - 1)q of the cumulative weights, interpolated linearly
 *              between neighbouring positions like pandas
 *
 * Only one run (or group) of a summary straddles any threshold t, so the count of values <= t
 * read from a summary is off by at most half a run: floor(ceil(n/k) / 2) rows per partition,
 * plus W/2k per compression, and these add up in a union. The summary tracks the bound, E, as
 * it goes; the percentile returned lies between the exact order statistics at ranks
 * (N - 1)q - E - 1 and (N - 1)q + E + 1, where, with L combine levels that compress and P
 * partitions, E <= (1 + L) N / 2k + P/2. With the default k = 4096 and splitEvery 8 that is
 * under 0.025% of the rows up to 8 partitions, 0.05% up to 512 (plus P/2 + 1 rows).
 */

/** Sorted values `v` with weights `w` (rows each stands for), `err` the rank-error bound E, `k` the target size. */
export interface QuantileSketch {
  v: Float64Array;
  w: Float64Array;
  err: number;
  k: number;
}

/** The summary of sorted values (owned: kept as is when there are at most k). */
export function sketchSorted(sorted: Float64Array, k: number): QuantileSketch {
  const n = sorted.length;
  if (n <= k) return { v: sorted, w: new Float64Array(n).fill(1), err: 0, k };
  const v = new Float64Array(k), w = new Float64Array(k);
  let start = 0, err = 0;
  for (let j = 1; j <= k; j++) {
    const end = Math.round((j * n) / k) - 1;
    const mid = (start + end) >>> 1;
    v[j - 1] = sorted[mid]!;
    w[j - 1] = end - start + 1;
    // A threshold inside this run is off by the rows on one side of its middle, at most.
    err = Math.max(err, mid - start, end - mid);
    start = end + 1;
  }
  return { v, w, err, k };
}

/** The union of summaries (their errors add), compressed when it holds more than 2k points. */
export function mergeSketches(parts: readonly QuantileSketch[]): QuantileSketch {
  if (parts.length === 1) return parts[0]!;
  const k = Math.max(...parts.map((p) => p.k));
  const n = parts.reduce((s, p) => s + p.v.length, 0);
  const allV = new Float64Array(n), allW = new Float64Array(n);
  let at = 0, err = 0;
  for (const p of parts) {
    allV.set(p.v, at);
    allW.set(p.w, at);
    at += p.v.length;
    err += p.err;
  }
  const order = Uint32Array.from({ length: n }, (_, i) => i).sort((a, b) => (allV[a]! < allV[b]! ? -1 : allV[a]! > allV[b]! ? 1 : a - b));
  const v = Float64Array.from(order, (i) => allV[i]!), w = Float64Array.from(order, (i) => allW[i]!);
  return n > 2 * k ? compress({ v, w, err, k }) : { v, w, err, k };
}

/**
 * Neighbouring points grouped up to W/k weight (a heavier point alone), each group kept as its
 * weighted median carrying the group's weight: a threshold inside a group is off by the weight
 * on one side of the median, at most W/2k. At most 2k + 1 groups remain.
 */
function compress(s: QuantileSketch): QuantileSketch {
  const n = s.v.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += s.w[i]!;
  const cap = total / s.k;
  const v: number[] = [], w: number[] = [];
  let added = 0;
  for (let i = 0; i < n; ) {
    let j = i + 1, g = s.w[i]!;
    while (j < n && g + s.w[j]! <= cap) g += s.w[j++]!;
    let m = i, below = 0;
    while (below + s.w[m]! < g / 2) below += s.w[m++]!;
    added = Math.max(added, below, g - below - s.w[m]!);
    v.push(s.v[m]!);
    w.push(g);
    i = j;
  }
  return { v: Float64Array.from(v), w: Float64Array.from(w), err: s.err + added, k: s.k };
}

/** The q-quantile (pandas' linear interpolation) of the rows a summary stands for; NaN when empty. */
export function sketchQuantile(s: QuantileSketch, q: number): number {
  const n = s.v.length;
  if (n === 0) return NaN;
  const cum = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) cum[i] = total += s.w[i]!;
  // The point holding 0-based position p: the first whose cumulative weight exceeds p. It lies
  // between the exact order statistics at p - E and p + E.
  const at = (p: number): number => {
    let lo = 0, hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cum[mid]! > p) hi = mid;
      else lo = mid + 1;
    }
    return s.v[lo]!;
  };
  const h = (total - 1) * q;
  const lo = Math.floor(h), frac = h - lo;
  const a = at(lo);
  if (frac === 0) return a;
  const b = at(Math.min(lo + 1, total - 1));
  return a + frac * (b - a);
}
