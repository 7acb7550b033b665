/**
 * Kernels of the machine-learning estimators (src/ml/): one pass over a block of rows
 * (f64, row-major n x d, in wasm memory) that accumulates what the client's optimizer needs.
 *
 *   mlLogistic   loss and gradient of binary (K = 1, sigmoid) or multinomial (K >= 2,
 *                softmax) logistic regression: per row the K scores z = W·x + b, the loss
 *                term, and G += r·x with r = p - onehot(y). One read of the block.
 *   mlKmeans     per row the nearest of k centres (exact squared distances, ties to the
 *                lower index), and optionally: its label, its distance, and the per-centre
 *                sums and counts of a Lloyd step. Returns the block's inertia.
 *   mlKmeansStep one Lloyd assignment with Hamerly's bounds: per row its centre, an upper
 *                bound on the distance to it and a lower bound on the distance to every
 *                other centre, carried from iteration to iteration; a row is measured again
 *                only when its bounds no longer prove its centre is the nearest.
 *   mlMoments    per column: the mean, Σ (x - mean)² (two passes), and optionally min / max.
 *   mlGram       the centred scatter of [x, y]: Σ (z - m)(z - m)ᵀ over rows, z = (x_i, y_i),
 *                upper triangle only (the host mirrors it). The normal equations of
 *                linear regression, combined across blocks by Chan's update.
 *
 * Rows are short (d is tens to hundreds), so the loops are over d with f64x2 and the per-row
 * scalar work (exp, log) is paid once per row. Accumulators (G, sums) belong to the caller,
 * which zeroes them; the kernels only add.
 */

// @ts-ignore: decorator
@inline function lanes(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

/** Σ a[j]·b[j] for j < d. */
// @ts-ignore: decorator
@inline function dot(a: usize, b: usize, d: i32): f64 {
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
  let j = 0;
  for (; j + 4 <= d; j += 4) {
    const o = <usize>j << 3;
    s0 = f64x2.add(s0, f64x2.mul(v128.load(a + o), v128.load(b + o)));
    s1 = f64x2.add(s1, f64x2.mul(v128.load(a + o + 16), v128.load(b + o + 16)));
  }
  for (; j + 2 <= d; j += 2) {
    const o = <usize>j << 3;
    s0 = f64x2.add(s0, f64x2.mul(v128.load(a + o), v128.load(b + o)));
  }
  let s = lanes(f64x2.add(s0, s1));
  if (j < d) s += load<f64>(a + (<usize>j << 3)) * load<f64>(b + (<usize>j << 3));
  return s;
}

/** Σ (a[j] - b[j])² for j < d. */
// @ts-ignore: decorator
@inline function sqdist(a: usize, b: usize, d: i32): f64 {
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
  let j = 0;
  for (; j + 4 <= d; j += 4) {
    const o = <usize>j << 3;
    const e0 = f64x2.sub(v128.load(a + o), v128.load(b + o));
    const e1 = f64x2.sub(v128.load(a + o + 16), v128.load(b + o + 16));
    s0 = f64x2.add(s0, f64x2.mul(e0, e0));
    s1 = f64x2.add(s1, f64x2.mul(e1, e1));
  }
  for (; j + 2 <= d; j += 2) {
    const o = <usize>j << 3;
    const e0 = f64x2.sub(v128.load(a + o), v128.load(b + o));
    s0 = f64x2.add(s0, f64x2.mul(e0, e0));
  }
  let s = lanes(f64x2.add(s0, s1));
  if (j < d) {
    const e = load<f64>(a + (<usize>j << 3)) - load<f64>(b + (<usize>j << 3));
    s += e * e;
  }
  return s;
}

/** g[j] += r·x[j] for j < d. */
// @ts-ignore: decorator
@inline function axpy(r: f64, x: usize, g: usize, d: i32): void {
  const rv = f64x2.splat(r);
  let j = 0;
  for (; j + 2 <= d; j += 2) {
    const o = <usize>j << 3;
    v128.store(g + o, f64x2.add(v128.load(g + o), f64x2.mul(rv, v128.load(x + o))));
  }
  if (j < d) {
    const o = <usize>j << 3;
    store<f64>(g + o, load<f64>(g + o) + r * load<f64>(x + o));
  }
}

// ---- binary logistic regression, two rows at a time ----------------------------------------
// The binary case is the hot loop of LogisticRegression.fit: per row a dot product, one exp
// and one log1p. Two rows share each f64x2 step: their dot products side by side, e^-|s| and
// log1p(e) in the lanes by polynomials accurate to a few ulp, and one pass over g for both.
// A lone last row goes through the same code paired with itself (its second lane dropped),
// so every row's terms are computed alike however the rows fall into blocks.

/** Lanes of e^a for a <= 0; below -708 (e^a < 1e-307) the result is e^-708. */
// @ts-ignore: decorator
@inline function logisticExp(a: v128): v128 {
  const xv = f64x2.max(a, f64x2.splat(-708.0));
  const k = f64x2.nearest(f64x2.mul(xv, f64x2.splat(1.4426950408889634)));
  // r = x - k·ln2 with ln2 in two parts (fdlibm's): k·ln2hi is exact for |k| < 2^20.
  let r = f64x2.sub(xv, f64x2.mul(k, f64x2.splat(6.93147180369123816490e-1)));
  r = f64x2.sub(r, f64x2.mul(k, f64x2.splat(1.90821492927058770002e-10)));
  // e^r for |r| <= ln2/2: Taylor to r^13 (the next term is below 1e-17 of the sum), by
  // Estrin's scheme: pairs, then powers r², r⁴, r⁸, so the chain of dependent steps is short.
  const r2 = f64x2.mul(r, r);
  const r4 = f64x2.mul(r2, r2);
  const r8 = f64x2.mul(r4, r4);
  const p01 = f64x2.add(f64x2.splat(1.0), r);
  const p23 = f64x2.add(f64x2.splat(0.5), f64x2.mul(r, f64x2.splat(1.0 / 6.0)));
  const p45 = f64x2.add(f64x2.splat(1.0 / 24.0), f64x2.mul(r, f64x2.splat(1.0 / 120.0)));
  const p67 = f64x2.add(f64x2.splat(1.0 / 720.0), f64x2.mul(r, f64x2.splat(1.0 / 5040.0)));
  const p89 = f64x2.add(f64x2.splat(1.0 / 40320.0), f64x2.mul(r, f64x2.splat(1.0 / 362880.0)));
  const pab = f64x2.add(f64x2.splat(1.0 / 3628800.0), f64x2.mul(r, f64x2.splat(1.0 / 39916800.0)));
  const pcd = f64x2.add(f64x2.splat(1.0 / 479001600.0), f64x2.mul(r, f64x2.splat(1.0 / 6227020800.0)));
  const lo = f64x2.add(f64x2.add(p01, f64x2.mul(r2, p23)), f64x2.mul(r4, f64x2.add(p45, f64x2.mul(r2, p67))));
  const hi = f64x2.add(f64x2.add(p89, f64x2.mul(r2, pab)), f64x2.mul(r4, pcd));
  const p = f64x2.add(lo, f64x2.mul(r8, hi));
  // 2^k from its exponent bits (k in [-1021, 0]: a normal number).
  const ki = i64x2.extend_low_i32x4_s(i32x4.trunc_sat_f64x2_s_zero(k));
  return f64x2.mul(p, i64x2.shl(i64x2.add(ki, i64x2.splat(1023)), 52));
}

/** 1 + e of the last pair, in its lanes (1 for a lane that does not count). */
let logisticFactor: v128 = f64x2.splat(1.0);

/**
 * Rows x0 and x1 (x1 may be x0 with `both` false: then only x0 counts): adds r0·x0 + r1·x1 to
 * g and r0 + r1 to gb (r = sigmoid(s) - t); returns max(s, 0) - t·s of the rows in the lanes
 * and leaves 1 + e^-|s| in logisticFactor: the loss adds log of that, which the caller takes
 * once for many rows (of their product) instead of once per row.
 */
// @ts-ignore: decorator
@inline function logisticPair(x0: usize, x1: usize, t: v128, w: usize, bv: v128, d: i32, g: usize, gb: usize, both: bool): v128 {
  // Two accumulators per row: shorter chains of dependent adds.
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0), c0 = f64x2.splat(0), c1 = f64x2.splat(0);
  let j = 0;
  for (; j + 4 <= d; j += 4) {
    const o = <usize>j << 3;
    const wv = v128.load(w + o);
    const wu = v128.load(w + o + 16);
    a0 = f64x2.add(a0, f64x2.mul(v128.load(x0 + o), wv));
    a1 = f64x2.add(a1, f64x2.mul(v128.load(x1 + o), wv));
    c0 = f64x2.add(c0, f64x2.mul(v128.load(x0 + o + 16), wu));
    c1 = f64x2.add(c1, f64x2.mul(v128.load(x1 + o + 16), wu));
  }
  for (; j + 2 <= d; j += 2) {
    const o = <usize>j << 3;
    const wv = v128.load(w + o);
    a0 = f64x2.add(a0, f64x2.mul(v128.load(x0 + o), wv));
    a1 = f64x2.add(a1, f64x2.mul(v128.load(x1 + o), wv));
  }
  a0 = f64x2.add(a0, c0);
  a1 = f64x2.add(a1, c1);
  // (a0.0 + a0.1, a1.0 + a1.1): each row's dot product in its lane.
  let s = f64x2.add(v128.shuffle<f64>(a0, a1, 0, 2), v128.shuffle<f64>(a0, a1, 1, 3));
  if (j < d) {
    const o = <usize>j << 3;
    const wl = load<f64>(w + o);
    s = f64x2.add(s, f64x2.replace_lane(f64x2.splat(load<f64>(x0 + o) * wl), 1, load<f64>(x1 + o) * wl));
  }
  s = f64x2.add(s, bv);
  const zero = f64x2.splat(0);
  // log(1 + e^s) and sigmoid(s) from one e = exp(-|s|): neither overflows.
  const e = logisticExp(f64x2.neg(f64x2.abs(s)));
  const term = f64x2.sub(f64x2.max(s, zero), f64x2.mul(t, s));
  const onePlusE = f64x2.add(f64x2.splat(1.0), e);
  const inv = f64x2.div(f64x2.splat(1.0), onePlusE);
  const p = v128.bitselect(inv, f64x2.mul(e, inv), f64x2.ge(s, zero));
  let r = f64x2.sub(p, t);
  let l = term;
  logisticFactor = onePlusE;
  if (!both) {
    r = f64x2.replace_lane(r, 1, 0.0);
    l = f64x2.replace_lane(l, 1, 0.0);
    logisticFactor = f64x2.replace_lane(onePlusE, 1, 1.0);
  }
  store<f64>(gb, load<f64>(gb) + lanes(r));
  const r0 = f64x2.splat(f64x2.extract_lane(r, 0));
  const r1 = f64x2.splat(f64x2.extract_lane(r, 1));
  j = 0;
  for (; j + 2 <= d; j += 2) {
    const o = <usize>j << 3;
    v128.store(g + o, f64x2.add(v128.load(g + o), f64x2.add(f64x2.mul(r0, v128.load(x0 + o)), f64x2.mul(r1, v128.load(x1 + o)))));
  }
  if (j < d) {
    const o = <usize>j << 3;
    store<f64>(g + o, load<f64>(g + o) + (f64x2.extract_lane(r, 0) * load<f64>(x0 + o) + f64x2.extract_lane(r, 1) * load<f64>(x1 + o)));
  }
  return l;
}

/**
 * Logistic loss and gradient over n rows. x: n x d; y: n class indices (f64; 0/1 when K = 1);
 * w: K x d; b: K intercepts; g: K x d and gb: K accumulated; z: K scratch. Returns Σ loss.
 */
export function mlLogistic(x: usize, n: i32, d: i32, y: usize, w: usize, b: usize, K: i32, g: usize, gb: usize, z: usize): f64 {
  let loss: f64 = 0;
  const rowBytes = <usize>d << 3;
  if (K == 1) {
    const bv = f64x2.splat(load<f64>(b));
    let lv = f64x2.splat(0);
    // Σ log(1 + e) as the log of products of 16 pairs' factors (each in (1, 2]: no overflow).
    let prod = f64x2.splat(1.0);
    let logs: f64 = 0;
    let i = 0;
    for (let m = 0; i + 2 <= n; i += 2) {
      const x0 = x + <usize>i * rowBytes;
      lv = f64x2.add(lv, logisticPair(x0, x0 + rowBytes, v128.load(y + (<usize>i << 3)), w, bv, d, g, gb, true));
      prod = f64x2.mul(prod, logisticFactor);
      if (++m == 16) {
        logs += Math.log(f64x2.extract_lane(prod, 0)) + Math.log(f64x2.extract_lane(prod, 1));
        prod = f64x2.splat(1.0);
        m = 0;
      }
    }
    if (i < n) {
      const x0 = x + <usize>i * rowBytes;
      lv = f64x2.add(lv, logisticPair(x0, x0, f64x2.splat(load<f64>(y + (<usize>i << 3))), w, bv, d, g, gb, false));
      prod = f64x2.mul(prod, logisticFactor);
    }
    logs += Math.log(f64x2.extract_lane(prod, 0)) + Math.log(f64x2.extract_lane(prod, 1));
    return lanes(lv) + logs;
  }
  for (let i = 0; i < n; i++) {
    const xi = x + <usize>i * rowBytes;
    const t = <i32>load<f64>(y + (<usize>i << 3));
    let m = -Infinity;
    for (let k = 0; k < K; k++) {
      const s = dot(xi, w + <usize>k * rowBytes, d) + load<f64>(b + (<usize>k << 3));
      store<f64>(z + (<usize>k << 3), s);
      if (s > m) m = s;
    }
    let sum: f64 = 0;
    for (let k = 0; k < K; k++) {
      const e = Math.exp(load<f64>(z + (<usize>k << 3)) - m);
      store<f64>(z + (<usize>k << 3), e);
      sum += e;
    }
    // loss = logsumexp(z) - z_t = log(sum) - log(e_t), with e_t = exp(z_t - m).
    loss += Math.log(sum) - Math.log(load<f64>(z + (<usize>t << 3)));
    const inv = 1 / sum;
    for (let k = 0; k < K; k++) {
      const r = load<f64>(z + (<usize>k << 3)) * inv - (k == t ? 1.0 : 0.0);
      store<f64>(gb + (<usize>k << 3), load<f64>(gb + (<usize>k << 3)) + r);
      axpy(r, xi, g + <usize>k * rowBytes, d);
    }
  }
  return loss;
}

/**
 * Nearest centre per row. x: n x d; c: k x d. Optional outputs (0 = skip): labels (i32 per
 * row), mind (f64 per row: the squared distance), sums (k x d) and counts (k) accumulated.
 * Returns Σ of the squared distances (the inertia of this block).
 */
export function mlKmeans(x: usize, n: i32, d: i32, c: usize, k: i32, labels: usize, mind: usize, sums: usize, counts: usize): f64 {
  let inertia: f64 = 0;
  const rowBytes = <usize>d << 3;
  for (let i = 0; i < n; i++) {
    const xi = x + <usize>i * rowBytes;
    let best = 0;
    let bd = sqdist(xi, c, d);
    for (let j = 1; j < k; j++) {
      const dj = sqdist(xi, c + <usize>j * rowBytes, d);
      if (dj < bd) {
        bd = dj;
        best = j;
      }
    }
    inertia += bd;
    if (labels) store<i32>(labels + (<usize>i << 2), best);
    if (mind) store<f64>(mind + (<usize>i << 3), bd);
    if (sums) {
      axpy(1.0, xi, sums + <usize>best * rowBytes, d);
      store<f64>(counts + (<usize>best << 3), load<f64>(counts + (<usize>best << 3)) + 1);
    }
  }
  return inertia;
}

// ---- nearest centre: f32 scores, checked in f64 --------------------------------------------
// Which centre is nearest is decided on scores s_c = ½‖c‖² - x·c (‖x - c‖² = ‖x‖² + 2 s_c), in
// f32x4, four centres to a vector: half the work of exact f64 distances. x and the centres are
// first shifted by the centres' mean m (which changes no distance) so the scores stay small.
// The best is taken only when its lead over the runner-up is more than twice the scores'
// rounding bound; otherwise every centre is measured exactly in f64. Either way the distance
// to the chosen centre is exact, and the runner-up's gives a lower bound on the others.
//
// A packed set of centres ("pack", made by the host): at pack + 0 the centres (k x d f64), then
// m (d f64), then per group of 4 centres d f32x4 of their shifted values, then per group an
// f32x4 of ½‖c - m‖² (+∞ for the padding of the last group), then scratch (d + 4·groups f32).

/** The nearest of the last nearestOf call, its exact squared distance, and a lower bound on the others'. */
let nearBest: i32 = 0;
let nearD2: f64 = 0;
let nearLow2: f64 = 0;

// @ts-ignore: decorator
@inline function packGroups(k: i32): i32 {
  return (k + 3) >> 2;
}

/**
 * The nearest of the k packed centres to row xi (ties to the lower index). errScale·(‖x - m‖·cmax
 * + ½cmax²) bounds a score's rounding, cmax the largest ‖c - m‖ (both from the host).
 */
function nearestOf(xi: usize, d: i32, pack: usize, k: i32, errScale: f64, cmax: f64): void {
  const rowBytes = <usize>d << 3;
  const groups = packGroups(k);
  const m = pack + <usize>k * rowBytes;
  const ct = m + rowBytes;
  const cn = ct + (<usize>(groups * d) << 4);
  const xs = cn + (<usize>groups << 4);
  const sc = xs + (<usize>d << 2);
  // x - m: its squared norm in f64, its values in f32 (two lanes at a time).
  let n0 = f64x2.splat(0), n1 = f64x2.splat(0);
  let j = 0;
  for (; j + 4 <= d; j += 4) {
    const o = <usize>j << 3;
    const v0 = f64x2.sub(v128.load(xi + o), v128.load(m + o));
    const v1 = f64x2.sub(v128.load(xi + o + 16), v128.load(m + o + 16));
    n0 = f64x2.add(n0, f64x2.mul(v0, v0));
    n1 = f64x2.add(n1, f64x2.mul(v1, v1));
    v128.store64_lane(xs + (<usize>j << 2), f32x4.demote_f64x2_zero(v0), 0);
    v128.store64_lane(xs + (<usize>j << 2) + 8, f32x4.demote_f64x2_zero(v1), 0);
  }
  let xn = lanes(f64x2.add(n0, n1));
  for (; j < d; j++) {
    const v = load<f64>(xi + (<usize>j << 3)) - load<f64>(m + (<usize>j << 3));
    xn += v * v;
    store<f32>(xs + (<usize>j << 2), <f32>v);
  }
  // Scores, 8 centres at a time; even and odd features in separate sums (shorter add chains).
  let g = 0;
  for (; g + 2 <= groups; g += 2) {
    const t0 = ct + (<usize>(g * d) << 4);
    const t1 = t0 + (<usize>d << 4);
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), b0 = f32x4.splat(0), b1 = f32x4.splat(0);
    let jj = 0;
    for (; jj + 2 <= d; jj += 2) {
      const xa = v128.load32_splat(xs + (<usize>jj << 2));
      const xb = v128.load32_splat(xs + (<usize>jj << 2) + 4);
      const o = <usize>jj << 4;
      a0 = f32x4.add(a0, f32x4.mul(xa, v128.load(t0 + o)));
      a1 = f32x4.add(a1, f32x4.mul(xa, v128.load(t1 + o)));
      b0 = f32x4.add(b0, f32x4.mul(xb, v128.load(t0 + o + 16)));
      b1 = f32x4.add(b1, f32x4.mul(xb, v128.load(t1 + o + 16)));
    }
    if (jj < d) {
      const xa = v128.load32_splat(xs + (<usize>jj << 2));
      const o = <usize>jj << 4;
      a0 = f32x4.add(a0, f32x4.mul(xa, v128.load(t0 + o)));
      a1 = f32x4.add(a1, f32x4.mul(xa, v128.load(t1 + o)));
    }
    v128.store(sc + (<usize>g << 4), f32x4.sub(v128.load(cn + (<usize>g << 4)), f32x4.add(a0, b0)));
    v128.store(sc + (<usize>g << 4) + 16, f32x4.sub(v128.load(cn + (<usize>g << 4) + 16), f32x4.add(a1, b1)));
  }
  if (g < groups) {
    const t0 = ct + (<usize>(g * d) << 4);
    let a0 = f32x4.splat(0), b0 = f32x4.splat(0);
    let jj = 0;
    for (; jj + 2 <= d; jj += 2) {
      a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(xs + (<usize>jj << 2)), v128.load(t0 + (<usize>jj << 4))));
      b0 = f32x4.add(b0, f32x4.mul(v128.load32_splat(xs + (<usize>jj << 2) + 4), v128.load(t0 + (<usize>jj << 4) + 16)));
    }
    if (jj < d) a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(xs + (<usize>jj << 2)), v128.load(t0 + (<usize>jj << 4))));
    v128.store(sc + (<usize>g << 4), f32x4.sub(v128.load(cn + (<usize>g << 4)), f32x4.add(a0, b0)));
  }
  let b = 0;
  let s1: f32 = load<f32>(sc);
  let s2: f32 = Infinity;
  for (let c = 1; c < k; c++) {
    const v = load<f32>(sc + (<usize>c << 2));
    if (v < s1) {
      s2 = s1;
      s1 = v;
      b = c;
    } else if (v < s2) s2 = v;
  }
  const err = errScale * (Math.sqrt(xn) * cmax + 0.5 * cmax * cmax);
  // (A score that overflowed f32 is +∞ or NaN and fails the test: measured in f64.)
  if (k == 1 || (<f64>s2 < Infinity && <f64>s2 - <f64>s1 > 2 * err)) {
    nearBest = b;
    nearD2 = sqdist(xi, pack + <usize>b * rowBytes, d);
    // ‖x - c‖² >= ‖x - m‖² + 2(s2 - err) for every other c; a hair lower for xn's own rounding.
    nearLow2 = Math.max(0, xn + 2 * (<f64>s2 - err) - 1e-12 * xn);
    return;
  }
  // Too close to call in f32: every centre in f64.
  let best = 0;
  let bd = sqdist(xi, pack, d);
  let sd = Infinity;
  for (let j = 1; j < k; j++) {
    const dj = sqdist(xi, pack + <usize>j * rowBytes, d);
    if (dj < bd) {
      sd = bd;
      bd = dj;
      best = j;
    } else if (dj < sd) sd = dj;
  }
  nearBest = best;
  nearD2 = bd;
  nearLow2 = sd;
}

/** Bytes of a pack of k centres of d features (see nearestOf). */
export function mlPackBytes(k: i32, d: i32): i32 {
  const groups = packGroups(k);
  return (k + 1) * d * 8 + groups * d * 16 + groups * 16 + d * 4 + groups * 16;
}

/**
 * k-means‖ candidates: per row the nearest of k new candidates (packed), numbered from base,
 * against the row's nearest so far in prev ([d², number] per row; 0 for none, ties keep the
 * older); written to out ([d², number] per row). Returns Σ d² (φ).
 */
export function mlKmeansNearest(x: usize, n: i32, d: i32, pack: usize, k: i32, errScale: f64, cmax: f64, base: i32, prev: usize, out: usize): f64 {
  const rowBytes = <usize>d << 3;
  let phi: f64 = 0;
  for (let i = 0; i < n; i++) {
    nearestOf(x + <usize>i * rowBytes, d, pack, k, errScale, cmax);
    let d2 = nearD2;
    let who = <f64>(base + nearBest);
    const o = <usize>i << 4;
    if (prev && load<f64>(prev + o) <= d2) {
      d2 = load<f64>(prev + o);
      who = load<f64>(prev + o + 8);
    }
    store<f64>(out + o, d2);
    store<f64>(out + o + 8, who);
    phi += d2;
  }
  return phi;
}

/** Distances of the state (3 f64 per row) that mlKmeansStep reads and writes. */
const STATE_BYTES: usize = 24;

/**
 * One Lloyd assignment with Hamerly's bounds (Hamerly 2010, "Making k-means even faster").
 * x: n x d; the centres of this iteration packed at pack (see nearestOf). State per row at old
 * (input) and out (output): [centre, u, l] with u >= the distance to its centre and l <= the
 * distance to every other centre (Euclidean), valid for the previous centres; old = 0 on the
 * first iteration, when every row is measured. p: how far each centre moved since then (k);
 * s: half the distance from each centre to its nearest other (k). A row whose bounds, moved
 * by p, still show u + eps < max(s, l) keeps its centre unmeasured; otherwise it is measured
 * against its centre, and then if need be against all of them. eps (>= 0) absorbs the
 * rounding of bounds carried over many iterations. dsums (k x d) and dcounts (k): a row that
 * changes centre moves its values from the old centre's to the new (on the first iteration
 * every row adds to its centre's).
 */
export function mlKmeansStep(x: usize, n: i32, d: i32, pack: usize, k: i32, errScale: f64, cmax: f64, s: usize, p: usize, eps: f64, old: usize, out: usize, dsums: usize, dcounts: usize): void {
  // Every other centre moved at most the largest move, or the second largest for the centre
  // that moved most.
  let p1: f64 = 0, p2: f64 = 0;
  let r1 = -1;
  if (old) {
    for (let j = 0; j < k; j++) {
      const pj = load<f64>(p + (<usize>j << 3));
      if (pj > p1) {
        p2 = p1;
        p1 = pj;
        r1 = j;
      } else if (pj > p2) p2 = pj;
    }
  }
  const rowBytes = <usize>d << 3;
  for (let i = 0; i < n; i++) {
    const xi = x + <usize>i * rowBytes;
    const o = out + <usize>i * STATE_BYTES;
    let a = -1;
    if (old) {
      const oi = old + <usize>i * STATE_BYTES;
      a = <i32>load<f64>(oi);
      let u = load<f64>(oi + 8) + load<f64>(p + (<usize>a << 3));
      const l = load<f64>(oi + 16) - (a == r1 ? p2 : p1);
      const m = Math.max(load<f64>(s + (<usize>a << 3)), l);
      if (u + eps >= m) u = Math.sqrt(sqdist(xi, pack + <usize>a * rowBytes, d));
      if (u + eps < m) {
        store<f64>(o, <f64>a);
        store<f64>(o + 8, u);
        store<f64>(o + 16, l);
        continue;
      }
    }
    nearestOf(xi, d, pack, k, errScale, cmax);
    const best = nearBest;
    if (best != a) {
      if (a >= 0) {
        axpy(-1.0, xi, dsums + <usize>a * rowBytes, d);
        store<f64>(dcounts + (<usize>a << 3), load<f64>(dcounts + (<usize>a << 3)) - 1);
      }
      axpy(1.0, xi, dsums + <usize>best * rowBytes, d);
      store<f64>(dcounts + (<usize>best << 3), load<f64>(dcounts + (<usize>best << 3)) + 1);
    }
    store<f64>(o, <f64>best);
    store<f64>(o + 8, Math.sqrt(nearD2));
    store<f64>(o + 16, Math.sqrt(nearLow2));
  }
}

/**
 * Column moments of x (n x d): mean (d) = Σ x / n, then m2 (d) = Σ (x - mean)²; mn and mx (0 =
 * skip) the columns' min and max. Each column sums its rows in row order, as a plain loop would.
 * mean, m2, mn, mx belong to the caller: mean and m2 zeroed, mn +∞ and mx -∞.
 */
export function mlMoments(x: usize, n: i32, d: i32, mean: usize, m2: usize, mn: usize, mx: usize): void {
  const rowBytes = <usize>d << 3;
  const even = d & ~1;
  for (let i = 0; i < n; i++) {
    const xi = x + <usize>i * rowBytes;
    for (let j = 0; j < even; j += 2) {
      const o = <usize>j << 3;
      const v = v128.load(xi + o);
      v128.store(mean + o, f64x2.add(v128.load(mean + o), v));
      if (mn) {
        v128.store(mn + o, f64x2.pmin(v128.load(mn + o), v));
        v128.store(mx + o, f64x2.pmax(v128.load(mx + o), v));
      }
    }
    if (even < d) {
      const o = <usize>even << 3;
      const v = load<f64>(xi + o);
      store<f64>(mean + o, load<f64>(mean + o) + v);
      if (mn) {
        if (v < load<f64>(mn + o)) store<f64>(mn + o, v);
        if (v > load<f64>(mx + o)) store<f64>(mx + o, v);
      }
    }
  }
  if (n > 0) for (let j = 0; j < d; j++) store<f64>(mean + (<usize>j << 3), load<f64>(mean + (<usize>j << 3)) / <f64>n);
  for (let i = 0; i < n; i++) {
    const xi = x + <usize>i * rowBytes;
    for (let j = 0; j < even; j += 2) {
      const o = <usize>j << 3;
      const e = f64x2.sub(v128.load(xi + o), v128.load(mean + o));
      v128.store(m2 + o, f64x2.add(v128.load(m2 + o), f64x2.mul(e, e)));
    }
    if (even < d) {
      const o = <usize>even << 3;
      const e = load<f64>(xi + o) - load<f64>(mean + o);
      store<f64>(m2 + o, load<f64>(m2 + o) + e * e);
    }
  }
}

/**
 * out (p x p, p = d + 1, upper triangle) += Σ_i (z_i - m)(z_i - m)ᵀ with z_i = (x_i, y_i)
 * (y may be 0: then p = d and z_i = x_i). m: p means; t: p scratch.
 */
export function mlGram(x: usize, n: i32, d: i32, y: usize, m: usize, out: usize, t: usize): void {
  const p = y ? d + 1 : d;
  const rowBytes = <usize>d << 3;
  for (let i = 0; i < n; i++) {
    const xi = x + <usize>i * rowBytes;
    let j = 0;
    for (; j + 2 <= d; j += 2) {
      const o = <usize>j << 3;
      v128.store(t + o, f64x2.sub(v128.load(xi + o), v128.load(m + o)));
    }
    if (j < d) store<f64>(t + (<usize>j << 3), load<f64>(xi + (<usize>j << 3)) - load<f64>(m + (<usize>j << 3)));
    if (y) store<f64>(t + (<usize>d << 3), load<f64>(y + (<usize>i << 3)) - load<f64>(m + (<usize>d << 3)));
    // Row a of the upper triangle: out[a, a..p) += t[a] * t[a..p).
    for (let a = 0; a < p; a++) {
      const ta = load<f64>(t + (<usize>a << 3));
      const row = out + (<usize>(a * p + a) << 3);
      axpy(ta, t + (<usize>a << 3), row, p - a);
    }
  }
}
