/**
 * k-means on the client over a small weighted point set: the last step of k-means‖, which
 * reduces the few hundred or thousand candidates (weighted by the rows nearest each) to k
 * centres. Weighted k-means++ (scikit-learn's greedy variant: 2 + ln k trials per centre, keep
 * the one that lowers the potential most), then weighted Lloyd iterations.
 */

import type { Stream } from "./random.js";

function sqdist(a: Float64Array, i: number, b: Float64Array, j: number, d: number): number {
  let s = 0;
  for (let t = 0; t < d; t++) {
    const e = a[i * d + t]! - b[j * d + t]!;
    s += e * e;
  }
  return s;
}

/** The index of the first cumulative weight above u (clamped to the last point). */
function draw(cum: Float64Array, u: number): number {
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cum[mid]! <= u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** k centres chosen among the m points (row-major, d wide) by weighted k-means++. */
export function kmeansPlusPlus(points: Float64Array, weights: Float64Array, m: number, d: number, k: number, rng: Stream): Float64Array {
  const centres = new Float64Array(k * d);
  const trials = 2 + Math.floor(Math.log(k));
  const cum = new Float64Array(m);
  let total = 0;
  for (let i = 0; i < m; i++) cum[i] = total += weights[i]!;
  const first = total > 0 ? draw(cum, rng.next() * total) : rng.int(m);
  centres.set(points.subarray(first * d, first * d + d), 0);
  const closest = new Float64Array(m);
  let pot = 0;
  for (let i = 0; i < m; i++) pot += weights[i]! * (closest[i] = sqdist(points, i, points, first, d));
  const candidate = new Float64Array(m);
  const best = new Float64Array(m);
  for (let c = 1; c < k; c++) {
    let acc = 0;
    for (let i = 0; i < m; i++) cum[i] = acc += weights[i]! * closest[i]!;
    let bestPot = Infinity;
    let bestId = -1;
    for (let t = 0; t < trials; t++) {
      // No potential left (fewer distinct points than k): any point will do.
      const id = acc > 0 ? draw(cum, rng.next() * acc) : rng.int(m);
      let p = 0;
      for (let i = 0; i < m; i++) p += weights[i]! * (candidate[i] = Math.min(closest[i]!, sqdist(points, i, points, id, d)));
      if (p < bestPot) {
        bestPot = p;
        bestId = id;
        best.set(candidate);
      }
    }
    centres.set(points.subarray(bestId * d, bestId * d + d), c * d);
    closest.set(best);
    pot = bestPot;
  }
  return centres;
}

/** Weighted Lloyd iterations from `start`, until the centres move <= tol (squared, in all). */
export function lloyd(points: Float64Array, weights: Float64Array, m: number, d: number, start: Float64Array, k: number, o: { maxIter: number; tol: number }): Float64Array {
  let C = Float64Array.from(start);
  const sums = new Float64Array(k * d);
  const mass = new Float64Array(k);
  for (let it = 0; it < o.maxIter; it++) {
    sums.fill(0);
    mass.fill(0);
    for (let i = 0; i < m; i++) {
      let bc = 0;
      let bd = Infinity;
      for (let c = 0; c < k; c++) {
        const dist = sqdist(points, i, C, c, d);
        if (dist < bd) {
          bd = dist;
          bc = c;
        }
      }
      const w = weights[i]!;
      mass[bc] += w;
      for (let t = 0; t < d; t++) sums[bc * d + t] += w * points[i * d + t]!;
    }
    const next = new Float64Array(k * d);
    let shift = 0;
    for (let c = 0; c < k; c++) {
      for (let t = 0; t < d; t++) {
        const v = mass[c]! > 0 ? sums[c * d + t]! / mass[c]! : C[c * d + t]!;
        next[c * d + t] = v;
        shift += (v - C[c * d + t]!) ** 2;
      }
    }
    C = next;
    if (shift <= o.tol) break;
  }
  return C;
}
