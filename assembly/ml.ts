/**
 * Kernels of the machine-learning estimators (src/ml/): one pass over a block of rows
 * (f64, row-major n x d, in wasm memory) that accumulates what the client's optimizer needs.
 *
 *   mlLogistic   loss and gradient of binary (K = 1, sigmoid) or multinomial (K >= 2,
 *                softmax) logistic regression: per row the K scores z = W·x + b, the loss
 *                term, and G += r·x with r = p - onehot(y). One read of the block. With h
 *                (the Newton solver) also the Hessian's data term, in the same read.
 *   mlKmeans     per row the nearest of k centres (exact squared distances, ties to the
 *                lower index), and optionally: its label, its distance, and the per-centre
 *                sums and counts of a Lloyd step. Returns the block's inertia.
 *   (k-means' Lloyd steps and k-means‖ search over an f32 copy of the rows: kmeans.ts)
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
@inline export function sqdist(a: usize, b: usize, d: i32): f64 {
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
@inline export function axpy(r: f64, x: usize, g: usize, d: i32): void {
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

/** p(1 - p) of the last pair, in its lanes: the rows' weights in the Hessian (Newton). */
let logisticCurv: v128 = f64x2.splat(0.0);

/**
 * Rows x0 and x1 (x1 may be x0 with `both` false: then only x0 counts): adds r0·x0 + r1·x1 to
 * g and r0 + r1 to gb (r = sigmoid(s) - t); returns max(s, 0) - t·s of the rows in the lanes
 * and leaves 1 + e^-|s| in logisticFactor: the loss adds log of that, which the caller takes
 * once for many rows (of their product) instead of once per row. With `curv`, the rows'
 * p(1 - p) in logisticCurv.
 */
// @ts-ignore: decorator
@inline function logisticPair(x0: usize, x1: usize, t: v128, w: usize, bv: v128, d: i32, g: usize, gb: usize, both: bool, curv: bool): v128 {
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
  // p(1 - p) = e / (1 + e)²: no cancellation in 1 - p where p is near 1.
  if (curv) logisticCurv = f64x2.mul(f64x2.mul(e, inv), inv);
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
 * h (P x P, P = d + 1, upper triangle) += v0·x̃0 x̃0ᵀ + v1·x̃1 x̃1ᵀ with x̃ = (x, 1): the
 * binary Hessian's data term for two rows, the intercept last. One pass over h for both rows.
 */
// @ts-ignore: decorator
@inline function hessianPair(x0: usize, x1: usize, v: v128, d: i32, h: usize): void {
  const v0 = f64x2.extract_lane(v, 0);
  const v1 = f64x2.extract_lane(v, 1);
  const P = <usize>(d + 1);
  for (let a = 0; a < d; a++) {
    const c0 = v0 * load<f64>(x0 + (<usize>a << 3));
    const c1 = v1 * load<f64>(x1 + (<usize>a << 3));
    const row = h + ((<usize>a * P + <usize>a) << 3);
    const cv0 = f64x2.splat(c0);
    const cv1 = f64x2.splat(c1);
    const xa0 = x0 + (<usize>a << 3);
    const xa1 = x1 + (<usize>a << 3);
    const len = d - a;
    let j = 0;
    for (; j + 2 <= len; j += 2) {
      const o = <usize>j << 3;
      v128.store(row + o, f64x2.add(v128.load(row + o), f64x2.add(f64x2.mul(cv0, v128.load(xa0 + o)), f64x2.mul(cv1, v128.load(xa1 + o)))));
    }
    if (j < len) {
      const o = <usize>j << 3;
      store<f64>(row + o, load<f64>(row + o) + (c0 * load<f64>(xa0 + o) + c1 * load<f64>(xa1 + o)));
    }
    // Column d: the intercept's.
    const last = row + (<usize>len << 3);
    store<f64>(last, load<f64>(last) + (c0 + c1));
  }
  const hdd = h + ((<usize>d * P + <usize>d) << 3);
  store<f64>(hdd, load<f64>(hdd) + (v0 + v1));
}

/**
 * h (P x P, P = K(d + 1), upper triangle) += x̃ x̃ᵀ ⊗ (diag(p) - p pᵀ) for one row of the
 * multinomial case: block (a, c) of d + 1 rows and columns is weighted by p_a (δ_ac - p_c);
 * index a(d + 1) + j is class a's weight j, a(d + 1) + d its intercept. p: K probabilities.
 */
function hessianRow(xi: usize, d: i32, p: usize, K: i32, h: usize): void {
  const P1 = <usize>(d + 1);
  const P = <usize>K * P1;
  for (let a = 0; a < K; a++) {
    const pa = load<f64>(p + (<usize>a << 3));
    for (let c = a; c < K; c++) {
      const wac = pa * ((a == c ? 1.0 : 0.0) - load<f64>(p + (<usize>c << 3)));
      const r0 = <usize>a * P1;
      const c0 = <usize>c * P1;
      // Diagonal blocks: their upper triangle only (row j from column j); others in full.
      for (let j = 0; j < d; j++) {
        const t = wac * load<f64>(xi + (<usize>j << 3));
        const from = a == c ? j : 0;
        const row = h + (((r0 + <usize>j) * P + c0) << 3);
        axpy(t, xi + (<usize>from << 3), row + (<usize>from << 3), d - from);
        store<f64>(row + (<usize>d << 3), load<f64>(row + (<usize>d << 3)) + t);
      }
      const row = h + (((r0 + <usize>d) * P + c0) << 3);
      if (a != c) axpy(wac, xi, row, d);
      store<f64>(row + (<usize>d << 3), load<f64>(row + (<usize>d << 3)) + wac);
    }
  }
}

/** The binary case of mlLogistic, two rows at a time; `hessian` is a constant at each call. */
// @ts-ignore: decorator
@inline function binaryRows(x: usize, n: i32, d: i32, y: usize, w: usize, b: usize, g: usize, gb: usize, h: usize, hessian: bool): f64 {
  const rowBytes = <usize>d << 3;
  const bv = f64x2.splat(load<f64>(b));
  let lv = f64x2.splat(0);
  // Σ log(1 + e) as the log of products of 16 pairs' factors (each in (1, 2]: no overflow).
  let prod = f64x2.splat(1.0);
  let logs: f64 = 0;
  let i = 0;
  for (let m = 0; i + 2 <= n; i += 2) {
    const x0 = x + <usize>i * rowBytes;
    lv = f64x2.add(lv, logisticPair(x0, x0 + rowBytes, v128.load(y + (<usize>i << 3)), w, bv, d, g, gb, true, hessian));
    prod = f64x2.mul(prod, logisticFactor);
    if (hessian) hessianPair(x0, x0 + rowBytes, logisticCurv, d, h);
    if (++m == 16) {
      logs += Math.log(f64x2.extract_lane(prod, 0)) + Math.log(f64x2.extract_lane(prod, 1));
      prod = f64x2.splat(1.0);
      m = 0;
    }
  }
  if (i < n) {
    const x0 = x + <usize>i * rowBytes;
    lv = f64x2.add(lv, logisticPair(x0, x0, f64x2.splat(load<f64>(y + (<usize>i << 3))), w, bv, d, g, gb, false, hessian));
    prod = f64x2.mul(prod, logisticFactor);
    if (hessian) hessianPair(x0, x0, f64x2.replace_lane(logisticCurv, 1, 0.0), d, h);
  }
  logs += Math.log(f64x2.extract_lane(prod, 0)) + Math.log(f64x2.extract_lane(prod, 1));
  return lanes(lv) + logs;
}

/**
 * Logistic loss and gradient over n rows. x: n x d; y: n class indices (f64; 0/1 when K = 1);
 * w: K x d; b: K intercepts; g: K x d and gb: K accumulated; z: K scratch. h: 0, or the
 * Hessian's data term accumulated (hessianPair, hessianRow: P x P, P = K(d + 1), upper
 * triangle). Returns Σ loss.
 */
export function mlLogistic(x: usize, n: i32, d: i32, y: usize, w: usize, b: usize, K: i32, g: usize, gb: usize, z: usize, h: usize): f64 {
  let loss: f64 = 0;
  const rowBytes = <usize>d << 3;
  // Two copies of the binary loop, one with the Hessian: L-BFGS's passes do not pay for it.
  if (K == 1) return h ? binaryRows(x, n, d, y, w, b, g, gb, h, true) : binaryRows(x, n, d, y, w, b, g, gb, 0, false);
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
      const pk = load<f64>(z + (<usize>k << 3)) * inv;
      const r = pk - (k == t ? 1.0 : 0.0);
      store<f64>(gb + (<usize>k << 3), load<f64>(gb + (<usize>k << 3)) + r);
      axpy(r, xi, g + <usize>k * rowBytes, d);
      if (h) store<f64>(z + (<usize>k << 3), pk);
    }
    if (h) hessianRow(xi, d, z, K, h);
  }
  return loss;
}

/** The squared distance to the centre of the last nearestExact call. */
export let exactD2: f64 = 0;

/** The nearest of the k centres c (k x d) to row xi by f64 squared distance, ties to the lower index. */
export function nearestExact(xi: usize, d: i32, c: usize, k: i32): i32 {
  const rowBytes = <usize>d << 3;
  let best = 0;
  let bd = sqdist(xi, c, d);
  for (let j = 1; j < k; j++) {
    const dj = sqdist(xi, c + <usize>j * rowBytes, d);
    if (dj < bd) {
      bd = dj;
      best = j;
    }
  }
  exactD2 = bd;
  return best;
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
    const best = nearestExact(xi, d, c, k);
    const bd = exactD2;
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
