/**
 * Neural-network kernels: what a Dense layer and its activation need around the product
 * (nnGemm, in nn-gemm.ts, reads either operand transposed, so the backward needs no transposed
 * copies), and the optimizer's and data-parallel training's passes.
 *
 *   nnBiasAct    z += b per row, then a = act(z)         (one pass: bias and activation fused)
 *   nnActBack    g *= act'(z, a)                         (in place; ReLU's mask from a)
 *   nnColSum     out[j] (=|+=) Σ_i x[i, j]                (the bias gradient)
 *   nnGemm       C (=|+=) op(A)·op(B) [+ b] [ReLU], op = identity or transpose, f32 (nn-gemm.ts)
 *   nnAdam       one Adam/AdamW update of a flat parameter vector, in f64 per element (f64x2)
 *   nnMeanOf     out = (Σ of `count` f32 vectors, in order, in f64) / rows   (the all-reduce's mean)
 *   nnGatherRows dst[r] = x[order[lo + r]] for n rows of d f32s           (a replica's batch)
 *
 * Activation codes: 0 none, 1 relu, 2 tanh, 3 sigmoid, 4 gelu (tanh approximation); they match
 * src/nn/kernels.ts. All f32, row-major, contiguous.
 */

const ACT_NONE: i32 = 0;
const ACT_RELU: i32 = 1;
const ACT_TANH: i32 = 2;
const ACT_SIGMOID: i32 = 3;
const ACT_GELU: i32 = 4;

const GELU_C: f32 = 0.7978845608028654; // sqrt(2 / pi)
const GELU_A: f32 = 0.044715;

// @ts-ignore: decorator
@inline function act(x: f32, code: i32): f32 {
  if (code == ACT_RELU) return x > 0 ? x : 0;
  if (code == ACT_TANH) return Mathf.tanh(x);
  if (code == ACT_SIGMOID) return 1 / (1 + Mathf.exp(-x));
  if (code == ACT_GELU) return 0.5 * x * (1 + Mathf.tanh(GELU_C * (x + GELU_A * x * x * x)));
  return x;
}

/** z[rows x cols] += b (when b != 0); a = act(z) (a may be z; with act 0 nothing is written to a). */
export function nnBiasAct(z: usize, a: usize, b: usize, rows: i32, cols: i32, code: i32): void {
  if (b != 0) {
    const vec = cols & ~3;
    for (let i = 0; i < rows; i++) {
      const r = z + ((<usize>i) * <usize>cols) * 4;
      let j = 0;
      for (; j < vec; j += 4) {
        const p = r + (<usize>j) * 4;
        v128.store(p, f32x4.add(v128.load(p), v128.load(b + (<usize>j) * 4)));
      }
      for (; j < cols; j++) store<f32>(r + (<usize>j) * 4, load<f32>(r + (<usize>j) * 4) + load<f32>(b + (<usize>j) * 4));
    }
  }
  if (code == ACT_NONE) return;
  const n = <usize>rows * <usize>cols;
  if (code == ACT_RELU) {
    const zero = f32x4.splat(0);
    const vec = n & ~(<usize>3);
    let i: usize = 0;
    for (; i < vec; i += 4) v128.store(a + i * 4, f32x4.max(v128.load(z + i * 4), zero));
    for (; i < n; i++) store<f32>(a + i * 4, max<f32>(load<f32>(z + i * 4), 0));
    return;
  }
  for (let i: usize = 0; i < n; i++) store<f32>(a + i * 4, act(load<f32>(z + i * 4), code));
}

/** g[n] *= act'(z) in place; a = act(z) is given so tanh and sigmoid need no exp again (ReLU reads only a). */
export function nnActBack(g: usize, z: usize, a: usize, n: i32, code: i32): void {
  let i: usize = 0;
  if (code == ACT_RELU) {
    // g *= (a > 0), a = max(z, 0): a mask and, four at a time. Read from a, not z: a Dense + ReLU
    // is one nnGemm with an epilogue, which writes no z. (a > 0 exactly where z > 0, NaN and -0 too.)
    const zero = f32x4.splat(0);
    const vec = (<usize>n) & ~(<usize>3);
    for (; i < vec; i += 4) v128.store(g + i * 4, v128.and(v128.load(g + i * 4), f32x4.gt(v128.load(a + i * 4), zero)));
  }
  for (; i < <usize>n; i++) {
    const p = g + i * 4;
    const x = load<f32>(z + i * 4);
    const y = load<f32>(a + i * 4);
    let d: f32 = 1;
    if (code == ACT_RELU) d = y > 0 ? 1 : 0;
    else if (code == ACT_TANH) d = 1 - y * y;
    else if (code == ACT_SIGMOID) d = y * (1 - y);
    else if (code == ACT_GELU) {
      const t = Mathf.tanh(GELU_C * (x + GELU_A * x * x * x));
      d = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_C * (1 + 3 * GELU_A * x * x);
    }
    store<f32>(p, load<f32>(p) * d);
  }
}

/** out[cols] (= or +=) column sums of x[rows x cols]. */
export function nnColSum(x: usize, rows: i32, cols: i32, out: usize, accumulate: bool): void {
  if (!accumulate) memory.fill(out, 0, (<usize>cols) * 4);
  const vec = cols & ~3;
  for (let i = 0; i < rows; i++) {
    const r = x + ((<usize>i) * <usize>cols) * 4;
    let j = 0;
    for (; j < vec; j += 4) {
      const p = out + (<usize>j) * 4;
      v128.store(p, f32x4.add(v128.load(p), v128.load(r + (<usize>j) * 4)));
    }
    for (; j < cols; j++) store<f32>(out + (<usize>j) * 4, load<f32>(out + (<usize>j) * 4) + load<f32>(r + (<usize>j) * 4));
  }
}

/**
 * One Adam step over n parameters, element by element in f64 and rounded once, exactly as
 * src/nn/optim.ts's JS loop (same operations in the same order, so the two agree bit for bit):
 * g = grad (+ wd·p unless decoupled; decoupled: p -= lr·wd·p first), m = b1·m + (1-b1)·g,
 * v = b2·v + (1-b2)·g², p -= (lr/c1)·m / (√v·(1/√c2) + eps) (PyTorch's lr·m̂ / (√v̂ + eps) with the
 * bias corrections c1, c2 folded into two constants), with m and v kept in f32 but the update
 * using their f64 values.
 */
export function nnAdam(p: usize, g: usize, m: usize, v: usize, n: i32, lr: f64, b1: f64, b2: f64, eps: f64, c1: f64, c2: f64, wd: f64, decoupled: bool): void {
  const lrwd = lr * wd;
  const ob1 = 1 - b1, ob2 = 1 - b2;
  // Two lanes of f64 at a time: lane-wise IEEE operations, the same bits as the scalar loop.
  const vlrwd = f64x2.splat(lrwd), vwd = f64x2.splat(wd);
  const vb1 = f64x2.splat(b1), vb2 = f64x2.splat(b2), vob1 = f64x2.splat(ob1), vob2 = f64x2.splat(ob2);
  // lr·m̂ / (√v̂ + eps) as (lr/c1)·m / (√v·(1/√c2) + eps): one division and one square root per
  // element (the divider is what the pass waits on), the bias corrections folded into constants.
  const lc1 = lr / c1, rc2 = 1 / Math.sqrt(c2);
  const vlc1 = f64x2.splat(lc1), vrc2 = f64x2.splat(rc2), veps = f64x2.splat(eps);
  const pairs = (<usize>n) & ~(<usize>1);
  let i: usize = 0;
  for (; i < pairs; i += 2) {
    const o = i * 4;
    let pv = f64x2.promote_low_f32x4(v128.load64_zero(p + o));
    let gv = f64x2.promote_low_f32x4(v128.load64_zero(g + o));
    if (decoupled) pv = f64x2.sub(pv, f64x2.mul(vlrwd, pv));
    else gv = f64x2.add(gv, f64x2.mul(vwd, pv));
    const mv = f64x2.add(f64x2.mul(vb1, f64x2.promote_low_f32x4(v128.load64_zero(m + o))), f64x2.mul(vob1, gv));
    const vv = f64x2.add(f64x2.mul(vb2, f64x2.promote_low_f32x4(v128.load64_zero(v + o))), f64x2.mul(f64x2.mul(vob2, gv), gv));
    v128.store64_lane(m + o, f32x4.demote_f64x2_zero(mv), 0);
    v128.store64_lane(v + o, f32x4.demote_f64x2_zero(vv), 0);
    const step = f64x2.div(f64x2.mul(vlc1, mv), f64x2.add(f64x2.mul(f64x2.sqrt(vv), vrc2), veps));
    v128.store64_lane(p + o, f32x4.demote_f64x2_zero(f64x2.sub(pv, step)), 0);
  }
  for (; i < <usize>n; i++) {
    const o = i * 4;
    let pi = <f64>load<f32>(p + o);
    let gi = <f64>load<f32>(g + o);
    if (decoupled) pi -= lrwd * pi;
    else gi += wd * pi;
    const mi = b1 * <f64>load<f32>(m + o) + ob1 * gi;
    const vi = b2 * <f64>load<f32>(v + o) + ob2 * gi * gi;
    store<f32>(m + o, <f32>mi);
    store<f32>(v + o, <f32>vi);
    store<f32>(p + o, <f32>(pi - (lc1 * mi) / (Math.sqrt(vi) * rc2 + eps)));
  }
}

/**
 * out[i] = f32((x0[i] + x1[i] + … + x{count-1}[i]) / rows), the sum in f64 from 0, in order,
 * for `count` f32 vectors of n values at src + w·stride bytes: the data-parallel all-reduce's
 * mean gradient, the same bits as the scalar f64 loop (f64x2 lanes are lane-wise IEEE).
 */
export function nnMeanOf(src: usize, count: i32, stride: usize, n: i32, rows: f64, out: usize): void {
  const vr = f64x2.splat(rows);
  const pairs = (<usize>n) & ~(<usize>1);
  let i: usize = 0;
  for (; i < pairs; i += 2) {
    const o = i * 4;
    let s = f64x2.splat(0);
    for (let w = 0; w < count; w++) s = f64x2.add(s, f64x2.promote_low_f32x4(v128.load64_zero(src + (<usize>w) * stride + o)));
    v128.store64_lane(out + o, f32x4.demote_f64x2_zero(f64x2.div(s, vr)), 0);
  }
  for (; i < <usize>n; i++) {
    const o = i * 4;
    let s: f64 = 0;
    for (let w = 0; w < count; w++) s += <f64>load<f32>(src + (<usize>w) * stride + o);
    store<f32>(out + o, <f32>(s / rows));
  }
}

/** dst[r, :] = x[order[lo + r], :] for r < n: rows of d f32 values, order an i32 permutation. */
export function nnGatherRows(x: usize, d: i32, order: usize, lo: i32, n: i32, dst: usize): void {
  const bytes = (<usize>d) * 4;
  const vec = bytes & ~(<usize>15);
  let q = dst;
  let o = order + (<usize>lo) * 4;
  for (let r = 0; r < n; r++) {
    const src = x + (<usize>load<i32>(o)) * bytes;
    let j: usize = 0;
    for (; j < vec; j += 16) v128.store(q + j, v128.load(src + j));
    for (; j < bytes; j += 4) store<f32>(q + j, load<f32>(src + j));
    q += bytes;
    o += 4;
  }
}
