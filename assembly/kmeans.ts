/**
 * k-means' nearest-centre search over an int16 copy of the rows kept beside the f64 block.
 *
 * The copy ("quads") holds the rows four at a time: per group of 4 rows, ceil(d/2) i16x8 of
 * (xq_j, xq_j+1) per row (d padded to even), then an i32x4 of each row's ‖xq‖₁. xq_j =
 * round((x_j - m0_j) / a_j), a_j = max |x_j - m0_j| / 32767 over the block (a_j = 0 for a
 * constant column: xq_j = 0). m0 is fixed for a fit (the data's mean), so the copy is made once
 * and read by every pass: 36 bytes a row for d = 16 (the f64 row is 128), and i32x4.dot_i16x8_s
 * does 8 multiply-adds an instruction, for four rows at once with no horizontal sums.
 * A header before the groups: R = max ‖xq‖₂, Rx = max ‖x - m0‖₂ (f64, rounded up), a (d f64),
 * and the scales 1 / a_j used to make xq (d f64).
 *
 * Which centre is nearest is decided on integer scores S_c = H_c - xq·cq, cq_j = round(Sc·a_j·c'_j)
 * (c' = c - m0), H_c = round(½ Sc ‖c'‖²): Sc times the score ½‖c'‖² - x'·c' (‖x - c‖² =
 * ‖x'‖² + 2 score) up to e_c <= ½‖xq‖₁ + ½‖cq_c‖₁ + 3d/4 + ½ (the roundings of xq, cq and H).
 * The host picks Sc so that |cq_j| <= 32767, R·‖cq‖₂ and H stay below 2^29 (no i32 overflow of
 * the exact sums; pairs never overflow since |xq|, |cq| <= 32767), and passes K = max ‖cq‖₁ +
 * 3d/2 + 3 + F, F a bound on f64's own rounding of the distances (Sc units). A lane's best is
 * taken only when its lead over the runner-up is more than ‖xq‖₁ + K (>= 2e + F): then the true
 * lead exceeds F, so plain Lloyd's f64 distances order them the same way. Otherwise that row is
 * measured against every centre in f64 from the f64 block, as plain Lloyd does (ties to the
 * lower index).
 *
 * Centres ("qpack", made by the host, see src/ml/kernels.ts): k x d f64 centres, then k x
 * ceil(d/2) i32 (cq_j, cq_j+1 as two i16), then k i32 H_c (padded to 16 bytes).
 */

import { axpy, nearestExact, sqdist } from "./ml";

/** Bytes of the header of a block's quads. */
// @ts-ignore: decorator
@inline function headBytes(d: i32): usize {
  return <usize>(16 + 16 * d);
}

/** Bytes of one group of four rows. */
// @ts-ignore: decorator
@inline function groupBytes(d: i32): usize {
  return <usize>(((d + 1) >> 1) + 1) << 4;
}

/** Bytes of the quads of n rows of d features. */
export function mlQuadBytes(n: i32, d: i32): i32 {
  return <i32>headBytes(d) + ((n + 3) >> 2) * <i32>groupBytes(d);
}

/** Write the quads of x (n x d f64) shifted by m0 (d f64) at out; a last partial group is zero-padded. */
export function mlQuads(x: usize, n: i32, d: i32, m0: usize, out: usize): void {
  const rowBytes = <usize>d << 3;
  const a = out + 16;
  const sc = a + (<usize>d << 3);
  const even = d & ~1;
  for (let j = 0; j < d; j++) store<f64>(a + (<usize>j << 3), 0);
  for (let i = 0; i < n; i++) {
    const xi = x + <usize>i * rowBytes;
    for (let j = 0; j < even; j += 2) {
      const o = <usize>j << 3;
      v128.store(a + o, f64x2.max(v128.load(a + o), f64x2.abs(f64x2.sub(v128.load(xi + o), v128.load(m0 + o)))));
    }
    if (even < d) {
      const o = <usize>even << 3;
      store<f64>(a + o, max(load<f64>(a + o), abs(load<f64>(xi + o) - load<f64>(m0 + o))));
    }
  }
  // a_j, and s_j = 1 / a_j to scale by (s_j differs from 1 / a_j by an ulp: the rounding of xq
  // stays within ½ + 2^-37, inside the host's slack). A constant column scales by 0.
  for (let j = 0; j < d; j++) {
    const o = <usize>j << 3;
    const m = load<f64>(a + o);
    store<f64>(a + o, m / 32767);
    store<f64>(sc + o, m > 0 ? 32767 / m : 0);
  }
  const pairs = (d + 1) >> 1;
  const gb = groupBytes(d);
  const groups = (n + 3) >> 2;
  const lim = f64x2.splat(32767);
  let r2: f64 = 0, rx2: f64 = 0;
  memory.fill(out + headBytes(d), 0, <usize>groups * gb);
  for (let i = 0; i < n; i++) {
    const q = out + headBytes(d) + <usize>(i >> 2) * gb;
    // Lane i & 3 of the i16x8 of pair p holds xq_2p at byte 4(i & 3) and xq_2p+1 two bytes on.
    const lane = q + (<usize>(i & 3) << 2);
    const xi = x + <usize>i * rowBytes;
    let l1 = i32x4.splat(0);
    let n2 = f64x2.splat(0), e2 = f64x2.splat(0);
    for (let j = 0; j < even; j += 2) {
      const o = <usize>j << 3;
      const e = f64x2.sub(v128.load(xi + o), v128.load(m0 + o));
      e2 = f64x2.add(e2, f64x2.mul(e, e));
      // |e·s_j| <= 32767 (+ an ulp), so the rounding stays in range; clamped all the same.
      const r = f64x2.min(lim, f64x2.max(f64x2.neg(lim), f64x2.nearest(f64x2.mul(e, v128.load(sc + o)))));
      const v = i32x4.trunc_sat_f64x2_s_zero(r);
      l1 = i32x4.add(l1, i32x4.abs(v));
      n2 = f64x2.add(n2, f64x2.mul(r, r));
      store<u32>(lane + (<usize>(j >> 1) << 4), (i32x4.extract_lane(v, 0) & 0xffff) | (i32x4.extract_lane(v, 1) << 16));
    }
    let t1 = i32x4.extract_lane(l1, 0) + i32x4.extract_lane(l1, 1);
    let t2 = f64x2.extract_lane(n2, 0) + f64x2.extract_lane(n2, 1);
    let t3 = f64x2.extract_lane(e2, 0) + f64x2.extract_lane(e2, 1);
    if (even < d) {
      const o = <usize>even << 3;
      const e = load<f64>(xi + o) - load<f64>(m0 + o);
      const v = <i32>max(-32767.0, min(32767.0, nearest<f64>(e * load<f64>(sc + o))));
      t1 += abs(v);
      t2 += <f64>(v * v);
      t3 += e * e;
      store<i16>(lane + (<usize>(even >> 1) << 4), <i16>v);
    }
    store<i32>(q + (<usize>pairs << 4) + (<usize>(i & 3) << 2), t1);
    if (t2 > r2) r2 = t2;
    if (t3 > rx2) rx2 = t3;
  }
  // Rounded up a little: both only bound what the host may take as safe.
  store<f64>(out, Math.sqrt(r2) * (1 + 1e-12));
  store<f64>(out + 8, Math.sqrt(rx2) * (1 + 1e-12));
}

/** The best centre of each lane, from the last quadBest call. */
let quadLabels: v128 = i32x4.splat(0);

/** xq·cq of the quad's four rows and one centre (pairs i32 at p0). */
// @ts-ignore: decorator
@inline function dot1(q: usize, pairs: i32, p0: usize): v128 {
  let a0 = i32x4.splat(0);
  for (let p = 0; p < pairs; p++) a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load(q + (<usize>p << 4)), v128.load32_splat(p0 + (<usize>p << 2))));
  return a0;
}

/**
 * Scores of the k centres for the 4 rows of quad q, folded as they come into the per-lane best
 * (the first of equals) and runner-up; leaves the best in quadLabels and returns the mask of
 * lanes whose lead is safe (more than ‖xq‖₁ + K).
 */
// @ts-ignore: decorator
@inline function quadBest(q: usize, pairs: i32, cq: usize, h: usize, k: i32, K: v128): i32 {
  const cBytes = <usize>pairs << 2;
  let b1 = i32x4.splat(i32.MAX_VALUE), b2 = b1, bi = i32x4.splat(0);
  let s: v128, lt: v128;
  let c = 0;
  // Four centres at a time: each pair's load feeds four dot products.
  for (; c + 4 <= k; c += 4) {
    const p0 = cq + <usize>c * cBytes;
    let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
    for (let p = 0; p < pairs; p++) {
      const xp = v128.load(q + (<usize>p << 4));
      const o = p0 + (<usize>p << 2);
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(xp, v128.load32_splat(o)));
      a1 = i32x4.add(a1, i32x4.dot_i16x8_s(xp, v128.load32_splat(o + cBytes)));
      a2 = i32x4.add(a2, i32x4.dot_i16x8_s(xp, v128.load32_splat(o + 2 * cBytes)));
      a3 = i32x4.add(a3, i32x4.dot_i16x8_s(xp, v128.load32_splat(o + 3 * cBytes)));
    }
    const hc = h + (<usize>c << 2);
    s = i32x4.sub(v128.load32_splat(hc), a0);
    lt = i32x4.lt_s(s, b1);
    b2 = i32x4.min_s(b2, i32x4.max_s(s, b1));
    b1 = v128.bitselect(s, b1, lt);
    bi = v128.bitselect(i32x4.splat(c), bi, lt);
    s = i32x4.sub(v128.load32_splat(hc + 4), a1);
    lt = i32x4.lt_s(s, b1);
    b2 = i32x4.min_s(b2, i32x4.max_s(s, b1));
    b1 = v128.bitselect(s, b1, lt);
    bi = v128.bitselect(i32x4.splat(c + 1), bi, lt);
    s = i32x4.sub(v128.load32_splat(hc + 8), a2);
    lt = i32x4.lt_s(s, b1);
    b2 = i32x4.min_s(b2, i32x4.max_s(s, b1));
    b1 = v128.bitselect(s, b1, lt);
    bi = v128.bitselect(i32x4.splat(c + 2), bi, lt);
    s = i32x4.sub(v128.load32_splat(hc + 12), a3);
    lt = i32x4.lt_s(s, b1);
    b2 = i32x4.min_s(b2, i32x4.max_s(s, b1));
    b1 = v128.bitselect(s, b1, lt);
    bi = v128.bitselect(i32x4.splat(c + 3), bi, lt);
  }
  for (; c < k; c++) {
    s = i32x4.sub(v128.load32_splat(h + (<usize>c << 2)), dot1(q, pairs, cq + <usize>c * cBytes));
    lt = i32x4.lt_s(s, b1);
    b2 = i32x4.min_s(b2, i32x4.max_s(s, b1));
    b1 = v128.bitselect(s, b1, lt);
    bi = v128.bitselect(i32x4.splat(c), bi, lt);
  }
  quadLabels = bi;
  // Scores lie within (-2^29, 2^30) (k >= 2), so the lead is exact.
  const ok = i32x4.gt_s(i32x4.sub(b2, b1), i32x4.add(v128.load(q + (<usize>pairs << 4)), K));
  return i32x4.bitmask(ok);
}

/** Labels of quad g's rows (valid lanes: min(4, n - 4g)) into lab (4 i32), each exact. */
// @ts-ignore: decorator
@inline function quadNearest(q: usize, x: usize, g: i32, n: i32, d: i32, qpack: usize, k: i32, K: v128, lab: usize): void {
  const pairs = (d + 1) >> 1;
  const cq = qpack + (<usize>(k * d) << 3);
  const h = cq + (<usize>(k * pairs) << 2);
  const ok = k == 1 ? 15 : quadBest(q, pairs, cq, h, k, K);
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
 * lab: scratch, 4 i32.
 */
export function mlKmeansAssign(quads: usize, x: usize, n: i32, d: i32, qpack: usize, k: i32, K: i32, old: usize, out: usize, dsums: usize, dcounts: usize, lab: usize): void {
  const rowBytes = <usize>d << 3;
  const gb = groupBytes(d);
  const q0 = quads + headBytes(d);
  const kv = i32x4.splat(K);
  const groups = (n + 3) >> 2;
  for (let g = 0; g < groups; g++) {
    quadNearest(q0 + <usize>g * gb, x, g, n, d, qpack, k, kv, lab);
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
 * scratch, 4 i32.
 */
export function mlKmeansNearestQ(quads: usize, x: usize, n: i32, d: i32, qpack: usize, k: i32, K: i32, base: i32, prev: usize, out: usize, lab: usize): f64 {
  const rowBytes = <usize>d << 3;
  const gb = groupBytes(d);
  const q0 = quads + headBytes(d);
  const kv = i32x4.splat(K);
  const groups = (n + 3) >> 2;
  let phi: f64 = 0;
  for (let g = 0; g < groups; g++) {
    quadNearest(q0 + <usize>g * gb, x, g, n, d, qpack, k, kv, lab);
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
