/**
 * k-means' nearest-centre search over an f32 copy of the rows kept beside the f64 block.
 *
 * The copy ("quads") holds the rows four at a time, transposed: per group of 4 rows, d f32x4
 * of x_j - m0 (one row per lane), then an f32x4 of ‖x - m0‖ rounded up. m0 is fixed for a fit
 * (the data's mean), so the copy is made once and read by every Lloyd step: 68 bytes a row for
 * d = 16 instead of the f64 row's 128, and four rows score each centre in one vector with no
 * horizontal sums, the running best and runner-up kept per lane (no branch per row).
 *
 * Which centre is nearest is decided on scores s_c = ½‖c'‖² - x'·c' (x' = x - m0, c' = c -
 * m0; ‖x - c‖² = ‖x'‖² + 2 s_c). A lane's best is taken only when its lead over the runner-up
 * is more than twice the scores' rounding bound, err = errScale·(‖x'‖·cmax + ½cmax²) with
 * errScale twice the (d + 4) roundings of 2^-24 a score can collect (the factor two also covers
 * evaluating the bound and the lead in f32). Then the true lead is at least err, so exact f64
 * distances order them the same way. Otherwise that row is measured against every centre in f64
 * from the f64 block, as plain Lloyd does (ties to the lower index).
 *
 * Centres ("qpack", made by the host, see src/ml/kernels.ts): k x d f64 centres, then k x d
 * f32x4 splats of c' (a centre's value in every lane), then k f32 ½‖c'‖² (padded to 16 bytes).
 */

import { axpy, nearestExact, sqdist } from "./ml";

/** Bytes of the quads of n rows of d features. */
export function mlQuadBytes(n: i32, d: i32): i32 {
  return ((n + 3) >> 2) * (d + 1) * 16;
}

/** Write the quads of x (n x d f64) shifted by m0 (d f64) at out; a last partial group is zero-padded. */
export function mlQuads(x: usize, n: i32, d: i32, m0: usize, out: usize): void {
  const rowBytes = <usize>d << 3;
  const groupBytes = <usize>(d + 1) << 4;
  const groups = (n + 3) >> 2;
  for (let g = 0; g < groups; g++) {
    const q = out + <usize>g * groupBytes;
    for (let r = 0; r < 4; r++) {
      const i = (g << 2) + r;
      const lane = q + (<usize>r << 2);
      if (i >= n) {
        for (let j = 0; j <= d; j++) store<f32>(lane + (<usize>j << 4), 0);
        continue;
      }
      const xi = x + <usize>i * rowBytes;
      let n2: f64 = 0;
      for (let j = 0; j < d; j++) {
        const v = load<f64>(xi + (<usize>j << 3)) - load<f64>(m0 + (<usize>j << 3));
        n2 += v * v;
        store<f32>(lane + (<usize>j << 4), <f32>v);
      }
      // Rounded up: the rounding bound must not be underestimated.
      const norm = Math.sqrt(n2);
      store<f32>(lane + (<usize>d << 4), nextUp(<f32>norm, norm));
    }
  }
}

/** v (an f32 rounding of a >= 0) or the next f32 above it, whichever is >= a. */
// @ts-ignore: decorator
@inline function nextUp(v: f32, a: f64): f32 {
  return <f64>v >= a ? v : reinterpret<f32>(reinterpret<i32>(v) + 1);
}

/** The best centre of each lane, from the last quadBest call. */
let quadLabels: v128 = i32x4.splat(0);

/**
 * Scores of the k centres for the 4 rows of quad q (into sc, k f32x4); leaves the per-lane best
 * in quadLabels and returns the mask of lanes whose lead is safe. errA = errScale·cmax, errB =
 * errScale·½cmax².
 */
// @ts-ignore: decorator
@inline function quadBest(q: usize, d: i32, c32: usize, h: usize, k: i32, errA: v128, errB: v128, sc: usize): i32 {
  const cBytes = <usize>d << 4;
  let c = 0;
  // Four centres at a time: each x_j load feeds four products.
  for (; c + 4 <= k; c += 4) {
    const p0 = c32 + <usize>c * cBytes;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let j = 0; j < d; j++) {
      const xj = v128.load(q + (<usize>j << 4));
      const p = p0 + (<usize>j << 4);
      a0 = f32x4.add(a0, f32x4.mul(xj, v128.load(p)));
      a1 = f32x4.add(a1, f32x4.mul(xj, v128.load(p + cBytes)));
      a2 = f32x4.add(a2, f32x4.mul(xj, v128.load(p + 2 * cBytes)));
      a3 = f32x4.add(a3, f32x4.mul(xj, v128.load(p + 3 * cBytes)));
    }
    const hc = h + (<usize>c << 2);
    const o = sc + (<usize>c << 4);
    v128.store(o, f32x4.sub(v128.load32_splat(hc), a0));
    v128.store(o + 16, f32x4.sub(v128.load32_splat(hc + 4), a1));
    v128.store(o + 32, f32x4.sub(v128.load32_splat(hc + 8), a2));
    v128.store(o + 48, f32x4.sub(v128.load32_splat(hc + 12), a3));
  }
  for (; c < k; c++) {
    const p0 = c32 + <usize>c * cBytes;
    let a0 = f32x4.splat(0);
    for (let j = 0; j < d; j++) a0 = f32x4.add(a0, f32x4.mul(v128.load(q + (<usize>j << 4)), v128.load(p0 + (<usize>j << 4))));
    v128.store(sc + (<usize>c << 4), f32x4.sub(v128.load32_splat(h + (<usize>c << 2)), a0));
  }
  // Per lane the best (the first of equals) and the runner-up.
  const inf = f32x4.splat(Infinity);
  let b1 = inf, b2 = inf;
  let bi = i32x4.splat(0);
  for (c = 0; c < k; c++) {
    const s = v128.load(sc + (<usize>c << 4));
    const lt = f32x4.lt(s, b1);
    b2 = f32x4.min(b2, f32x4.max(s, b1));
    b1 = v128.bitselect(s, b1, lt);
    bi = v128.bitselect(i32x4.splat(c), bi, lt);
  }
  quadLabels = bi;
  const err = f32x4.add(f32x4.mul(v128.load(q + (<usize>d << 4)), errA), errB);
  // Both scores finite (an overflow or NaN fails) and the lead over twice the bound.
  const ok = v128.and(v128.and(f32x4.lt(b2, inf), f32x4.gt(b1, f32x4.neg(inf))), f32x4.gt(f32x4.sub(b2, b1), f32x4.add(err, err)));
  return i32x4.bitmask(ok);
}

/** Labels of quad g's rows (valid lanes: min(4, n - 4g)) into lab (4 i32; then k f32x4 of scratch), each exact. */
// @ts-ignore: decorator
@inline function quadNearest(q: usize, x: usize, g: i32, n: i32, d: i32, qpack: usize, k: i32, errA: v128, errB: v128, lab: usize): void {
  const c32 = qpack + (<usize>(k * d) << 3);
  const h = c32 + (<usize>(k * d) << 4);
  const ok = k == 1 ? 15 : quadBest(q, d, c32, h, k, errA, errB, lab + 16);
  v128.store(lab, k == 1 ? i32x4.splat(0) : quadLabels);
  if (ok == 15) return;
  const rows = min(4, n - (g << 2));
  for (let r = 0; r < rows; r++) {
    if ((ok >> r) & 1) continue;
    const i = (g << 2) + r;
    store<i32>(lab + (<usize>r << 2), nearestExact(x + <usize>i * (<usize>d << 3), d, qpack, k));
  }
}

/**
 * One Lloyd assignment: the nearest centre of each of the n rows (x f64, quads its copy) to
 * `out` (n i32, padded to a multiple of 4). With the previous labels `old` (0 on the first
 * step), a row that changes centre moves its values from the old centre's sums and count to the
 * new one's (dsums k x d, dcounts k, f64); on the first step every row adds to its centre's.
 * lab: scratch, 4 i32 and k f32x4.
 */
export function mlKmeansAssign(quads: usize, x: usize, n: i32, d: i32, qpack: usize, k: i32, errA: f32, errB: f32, old: usize, out: usize, dsums: usize, dcounts: usize, lab: usize): void {
  const rowBytes = <usize>d << 3;
  const groupBytes = <usize>(d + 1) << 4;
  const ea = f32x4.splat(errA), eb = f32x4.splat(errB);
  const groups = (n + 3) >> 2;
  for (let g = 0; g < groups; g++) {
    quadNearest(quads + <usize>g * groupBytes, x, g, n, d, qpack, k, ea, eb, lab);
    const labels = v128.load(lab);
    const o = <usize>g << 4;
    v128.store(out + o, labels);
    if (old && i32x4.all_true(i32x4.eq(labels, v128.load(old + o)))) continue;
    const rows = min(4, n - (g << 2));
    for (let r = 0; r < rows; r++) {
      const best = load<i32>(lab + (<usize>r << 2));
      const xi = x + <usize>((g << 2) + r) * rowBytes;
      if (old) {
        const a = load<i32>(old + o + (<usize>r << 2));
        if (a == best) continue;
        axpy(-1.0, xi, dsums + <usize>a * rowBytes, d);
        store<f64>(dcounts + (<usize>a << 3), load<f64>(dcounts + (<usize>a << 3)) - 1);
      }
      axpy(1.0, xi, dsums + <usize>best * rowBytes, d);
      store<f64>(dcounts + (<usize>best << 3), load<f64>(dcounts + (<usize>best << 3)) + 1);
    }
  }
}

/**
 * Per row the nearest of k centres and its exact squared distance (f64, from the f64 row),
 * against `prev` ([d², number] per row, or 0; ties keep prev's); written to out ([d², base +
 * nearest] per row, or 0: not written). Returns Σ d² (k-means‖'s φ, or the inertia). lab:
 * scratch, 4 i32 and k f32x4.
 */
export function mlKmeansNearestQ(quads: usize, x: usize, n: i32, d: i32, qpack: usize, k: i32, errA: f32, errB: f32, base: i32, prev: usize, out: usize, lab: usize): f64 {
  const rowBytes = <usize>d << 3;
  const groupBytes = <usize>(d + 1) << 4;
  const ea = f32x4.splat(errA), eb = f32x4.splat(errB);
  const groups = (n + 3) >> 2;
  let phi: f64 = 0;
  for (let g = 0; g < groups; g++) {
    quadNearest(quads + <usize>g * groupBytes, x, g, n, d, qpack, k, ea, eb, lab);
    const rows = min(4, n - (g << 2));
    for (let r = 0; r < rows; r++) {
      const i = (g << 2) + r;
      const best = load<i32>(lab + (<usize>r << 2));
      let d2 = sqdist(x + <usize>i * rowBytes, qpack + <usize>best * rowBytes, d);
      let who = <f64>(base + best);
      const o = <usize>i << 4;
      if (prev && load<f64>(prev + o) <= d2) {
        d2 = load<f64>(prev + o);
        who = load<f64>(prev + o + 8);
      }
      if (out) {
        store<f64>(out + o, d2);
        store<f64>(out + o + 8, who);
      }
      phi += d2;
    }
  }
  return phi;
}
