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

/**
 * Logistic loss and gradient over n rows. x: n x d; y: n class indices (f64; 0/1 when K = 1);
 * w: K x d; b: K intercepts; g: K x d and gb: K accumulated; z: K scratch. Returns Σ loss.
 */
export function mlLogistic(x: usize, n: i32, d: i32, y: usize, w: usize, b: usize, K: i32, g: usize, gb: usize, z: usize): f64 {
  let loss: f64 = 0;
  const rowBytes = <usize>d << 3;
  if (K == 1) {
    const b0 = load<f64>(b);
    let gb0: f64 = 0;
    for (let i = 0; i < n; i++) {
      const xi = x + <usize>i * rowBytes;
      const t = load<f64>(y + (<usize>i << 3));
      const s = dot(xi, w, d) + b0;
      // log(1 + e^s) and sigmoid(s) from one exp of -|s|: neither overflows.
      const e = Math.exp(-Math.abs(s));
      loss += Math.max(s, 0) + Math.log1p(e) - t * s;
      const p = s >= 0 ? 1 / (1 + e) : e / (1 + e);
      const r = p - t;
      gb0 += r;
      axpy(r, xi, g, d);
    }
    store<f64>(gb, load<f64>(gb) + gb0);
    return loss;
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
