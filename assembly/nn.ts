/**
 * Neural-network passes around the f32 matmul (assembly/matmul.ts): what a Dense layer and its
 * activation need besides the product itself.
 *
 *   nnTranspose  dst[cols x rows] = src[rows x cols]ᵀ   (so Xᵀ·dY and dY·Wᵀ run on the one
 *                                                         row-major gemm; a pass over memory is
 *                                                         small next to the O(n³) product)
 *   nnBiasAct    z += b per row, then a = act(z)         (one pass: bias and activation fused)
 *   nnActBack    g *= act'(z, a)                         (in place)
 *   nnColSum     out[j] (=|+=) Σ_i x[i, j]                (the bias gradient)
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
const TB: i32 = 32;

export function nnTranspose(src: usize, rows: i32, cols: i32, dst: usize): void {
  // 32 x 32 tiles keep both the rows read and the rows written in L1.
  for (let i0 = 0; i0 < rows; i0 += TB) {
    const i1 = min(rows, i0 + TB);
    for (let j0 = 0; j0 < cols; j0 += TB) {
      const j1 = min(cols, j0 + TB);
      for (let i = i0; i < i1; i++) {
        const s = src + ((<usize>i) * <usize>cols) * 4;
        for (let j = j0; j < j1; j++) store<f32>(dst + ((<usize>j) * <usize>rows + <usize>i) * 4, load<f32>(s + (<usize>j) * 4));
      }
    }
  }
}

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

/** g[n] *= act'(z) in place; a = act(z) is given so tanh and sigmoid need no exp again. */
export function nnActBack(g: usize, z: usize, a: usize, n: i32, code: i32): void {
  for (let i: usize = 0; i < <usize>n; i++) {
    const p = g + i * 4;
    const x = load<f32>(z + i * 4);
    const y = load<f32>(a + i * 4);
    let d: f32 = 1;
    if (code == ACT_RELU) d = x > 0 ? 1 : 0;
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
