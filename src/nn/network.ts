/**
 * A sequential network bound to one thread's kernels: parameters, gradients and every
 * activation live in wasm memory, so forward and backward are the f32 matmul plus the fused
 * passes of assembly/nn.ts (nnGemm, in nn-gemm.ts, reads either operand transposed), with no copy
 * between layers.
 *
 * Layout: one flat f32 parameter vector (per dense layer W [in, out] row-major then b; per
 * layerNorm gamma then beta) and a gradient vector of the same shape. Activation buffers are
 * sized for `capacity` rows and regrown when a bigger batch comes. A Dense followed by a ReLU
 * is one matmul whose epilogue adds the bias and applies the ReLU; followed by another
 * activation, a matmul then one bias+activation pass. The backward of elementwise layers
 * works in place on the gradient buffer.
 *
 * Pointers are stable; views are taken after the last allocation of a call, since growing the
 * memory detaches them. Gradients are sums over the batch's rows (the caller divides), so
 * replicas can add theirs and divide by the global row count.
 */

import { TesseraError } from "../errors.js";
import type { Kernels } from "../kernels/kernels.js";
import { ACT, mixSeed, nnKernels, uniformStream, type NnExports } from "./kernels.js";
import { type LayerSpec, type LossName, type SequentialSpec, widths } from "./spec.js";

/** Where a layer's parameters sit in the flat vector (in floats). */
interface Slot {
  w: number;
  b: number;
  /** layerNorm: gamma at w, beta at b. */
}

export interface LossResult {
  /** Σ of the per-row losses. */
  loss: number;
  /** Rows whose prediction is right (classification losses; 0 for mse). */
  correct: number;
}

const isAct = (l: LayerSpec): l is { type: "relu" | "gelu" | "tanh" | "sigmoid" } => l.type === "relu" || l.type === "gelu" || l.type === "tanh" || l.type === "sigmoid";

/** Number of parameters of a spec. */
export function parameterCount(spec: SequentialSpec): number {
  widths(spec);
  let n = 0;
  for (const l of spec.layers) {
    if (l.type === "dense") n += l.inputs * l.outputs + (l.bias ? l.outputs : 0);
    else if (l.type === "layerNorm") n += 2 * l.features;
    else if (l.type === "embedding") n += l.num * l.dim;
  }
  return n;
}

/** The initial parameters of a spec (seeded by spec.seed). */
export function initialParameters(spec: SequentialSpec): Float32Array {
  const out = new Float32Array(parameterCount(spec));
  let at = 0;
  spec.layers.forEach((l, i) => {
    if (l.type === "dense") {
      const u = uniformStream(mixSeed(spec.seed, i));
      const limit = l.init === "he" ? Math.sqrt(6 / l.inputs) : Math.sqrt(6 / (l.inputs + l.outputs));
      for (let j = 0; j < l.inputs * l.outputs; j++) out[at++] = (2 * u() - 1) * limit;
      if (l.bias) at += l.outputs;
    } else if (l.type === "layerNorm") {
      out.fill(1, at, at + l.features);
      at += 2 * l.features;
    } else if (l.type === "embedding") {
      // Keras's default: uniform in [-0.05, 0.05).
      const u = uniformStream(mixSeed(spec.seed, i));
      for (let j = 0; j < l.num * l.dim; j++) out[at++] = (2 * u() - 1) * 0.05;
    }
  });
  return out;
}

export class Network {
  readonly size: number;
  readonly widths: number[];
  readonly inputs: number;
  readonly outputs: number;
  readonly params: number;
  readonly grads: number;
  private readonly nn: NnExports;
  private readonly slots: (Slot | null)[] = [];
  private capacity = 0;
  /** act[i]: input of layer i (act[0] the batch, act[L] the output), [capacity, widths[i]]. */
  private act: number[] = [];
  /** grad[i]: d loss / d act[i]; elementwise layers share their output's buffer. */
  private grad: number[] = [];
  /** Per-layer extra buffers: dropout masks, layerNorm x̂ and 1/σ per row. */
  private extra: number[] = [];
  /** nnGemm's packing buffers (one per Kernels instance, shared by its networks). */
  private readonly work: number;
  private freed = false;

  constructor(
    readonly k: Kernels,
    readonly spec: SequentialSpec,
    params?: Float32Array,
  ) {
    this.nn = nnKernels(k);
    this.work = k.workArea("nn-gemm", this.nn.nnGemmWorkBytes());
    this.widths = widths(spec);
    this.inputs = this.widths[0]!;
    this.outputs = this.widths[this.widths.length - 1]!;
    this.size = parameterCount(spec);
    let at = 0;
    for (const l of spec.layers) {
      if (l.type === "dense") {
        this.slots.push({ w: at, b: l.bias ? at + l.inputs * l.outputs : -1 });
        at += l.inputs * l.outputs + (l.bias ? l.outputs : 0);
      } else if (l.type === "layerNorm") {
        this.slots.push({ w: at, b: at + l.features });
        at += 2 * l.features;
      } else if (l.type === "embedding") {
        this.slots.push({ w: at, b: -1 });
        at += l.num * l.dim;
      } else this.slots.push(null);
    }
    this.params = k.allocArray("float32", Math.max(1, this.size));
    this.grads = k.allocArray("float32", Math.max(1, this.size));
    const init = params ?? initialParameters(spec);
    if (init.length !== this.size) throw new TesseraError(`nn: the model has ${this.size} parameters but ${init.length} were given`);
    this.paramView().set(init);
  }

  /** A fresh view of the parameters (invalid after the next allocation). */
  paramView(): Float32Array {
    return this.k.view("float32", this.params, this.size);
  }
  gradView(): Float32Array {
    return this.k.view("float32", this.grads, this.size);
  }

  dispose(): void {
    if (this.freed) return;
    this.freed = true;
    this.release();
    this.k.free(this.params);
    this.k.free(this.grads);
  }

  private release(): void {
    for (const p of new Set([...this.act, ...this.grad, ...this.extra])) if (p > 0) this.k.free(p);
    this.act = [];
    this.grad = [];
    this.extra = [];
    this.capacity = 0;
  }

  /** Make room for `rows` rows (buffers are regrown by halves above, not per batch). */
  reserve(rows: number): void {
    if (rows <= this.capacity) return;
    this.release();
    const cap = Math.max(rows, 1);
    const f32 = (n: number) => this.k.allocArray("float32", Math.max(1, n));
    const L = this.spec.layers.length;
    this.act = this.widths.map((w) => f32(cap * w));
    this.grad = new Array<number>(L + 1).fill(0);
    this.grad[L] = f32(cap * this.widths[L]!);
    for (let i = L - 1; i >= 0; i--) {
      const l = this.spec.layers[i]!;
      this.grad[i] = isAct(l) || l.type === "dropout" ? this.grad[i + 1]! : f32(cap * this.widths[i]!);
    }
    this.extra = this.spec.layers.map((l) => {
      if (l.type === "dropout") return f32(cap * this.widths[this.spec.layers.indexOf(l)]!);
      if (l.type === "layerNorm") return f32(cap * l.features + cap);
      return 0;
    });
    this.capacity = cap;
  }

  /** The batch buffer: write `rows` rows of `inputs` values here before forward(). */
  inputPtr(rows: number): number {
    this.reserve(rows);
    return this.act[0]!;
  }

  /** Copy a row-major f32 batch in. */
  setInput(x: ArrayLike<number>, rows: number): void {
    if (x.length !== rows * this.inputs) throw new TesseraError(`nn: a batch of ${rows} rows of ${this.inputs} features needs ${rows * this.inputs} values, got ${x.length}`);
    const p = this.inputPtr(rows);
    this.k.view("float32", p, rows * this.inputs).set(x);
  }

  /** Forward pass over the batch in the input buffer; returns the output's pointer ([rows, outputs]). */
  forward(rows: number, training: boolean, stream = 0): number {
    this.reserve(rows);
    const { nn } = this;
    const layers = this.spec.layers;
    for (let i = 0; i < layers.length; i++) {
      const l = layers[i]!;
      const x = this.act[i]!, y = this.act[i + 1]!;
      if (l.type === "dense") {
        const s = this.slots[i]!;
        const next = layers[i + 1];
        const bias = s.b >= 0 ? this.params + 4 * s.b : 0;
        if (next?.type === "relu") {
          // Dense + ReLU in one product: its epilogue adds the bias and writes a = max(z, 0)
          // straight into act[i+2]; z (act[i+1]) is never written, the ReLU backward reads only a.
          nn.nnGemm(rows, l.outputs, l.inputs, x, l.inputs, 0, this.params + 4 * s.w, l.outputs, 0, this.act[i + 2]!, l.outputs, 0, bias, 1, this.work);
          i++;
          continue;
        }
        nn.nnGemm(rows, l.outputs, l.inputs, x, l.inputs, 0, this.params + 4 * s.w, l.outputs, 0, y, l.outputs, 0, 0, 0, this.work);
        if (next && isAct(next)) {
          // Fused: bias and the activation in one pass; act[i+1] keeps z for the backward.
          nn.nnBiasAct(y, this.act[i + 2]!, bias, rows, l.outputs, ACT[next.type]);
          i++;
        } else if (bias) nn.nnBiasAct(y, y, bias, rows, l.outputs, 0);
      } else if (isAct(l)) {
        nn.nnBiasAct(x, y, 0, rows, this.widths[i]!, ACT[l.type]);
      } else if (l.type === "dropout") {
        this.dropoutForward(i, l.rate, rows, training, stream);
      } else if (l.type === "embedding") {
        this.embeddingForward(i, l.inputs, l.num, l.dim, rows);
      } else {
        this.layerNormForward(i, l.features, l.eps, rows);
      }
    }
    return this.act[layers.length]!;
  }

  /**
   * Loss of the output against y (one label or target per row) and its gradient (of the sum)
   * into the output's gradient buffer.
   */
  loss(name: LossName, y: ArrayLike<number>, rows: number): LossResult {
    const K = this.outputs;
    const L = this.spec.layers.length;
    if (y.length !== rows) throw new TesseraError(`nn: ${rows} rows but ${y.length} labels`);
    const o = this.k.view("float32", this.act[L]!, rows * K);
    const g = this.k.view("float32", this.grad[L]!, rows * K);
    return lossAndGrad(name, o, g, y, rows, K);
  }

  /** Backward pass after forward + loss: the gradient sums into `grads`. */
  backward(rows: number): void {
    const { nn, k } = this;
    const layers = this.spec.layers;
    for (let i = layers.length - 1; i >= 0; i--) {
      const l = layers[i]!;
      const gy = this.grad[i + 1]!;
      if (isAct(l)) {
        nn.nnActBack(gy, this.act[i]!, this.act[i + 1]!, rows * this.widths[i]!, ACT[l.type]);
      } else if (l.type === "dropout") {
        const n = rows * this.widths[i]!;
        const g = k.view("float32", gy, n);
        const m = k.view("float32", this.extra[i]!, n);
        for (let j = 0; j < n; j++) g[j] = g[j]! * m[j]!;
      } else if (l.type === "dense") {
        const s = this.slots[i]!;
        // dW = Xᵀ·dY, db = Σ_rows dY, dX = dY·Wᵀ: the gemm reads X and W transposed while packing.
        nn.nnGemm(l.inputs, l.outputs, rows, this.act[i]!, l.inputs, 1, gy, l.outputs, 0, this.grads + 4 * s.w, l.outputs, 0, 0, 0, this.work);
        if (s.b >= 0) nn.nnColSum(gy, rows, l.outputs, this.grads + 4 * s.b, 0);
        if (i > 0) nn.nnGemm(rows, l.inputs, l.outputs, gy, l.outputs, 0, this.params + 4 * s.w, l.outputs, 1, this.grad[i]!, l.inputs, 0, 0, 0, this.work);
      } else if (l.type === "embedding") {
        this.embeddingBackward(i, l.inputs, l.num, l.dim, rows);
      } else {
        this.layerNormBackward(i, l.features, rows);
      }
    }
  }

  /** y[r, c·dim ..] = E[x[r, c]]; the indices are checked (integers in [0, num)). */
  private embeddingForward(i: number, inputs: number, num: number, dim: number, rows: number): void {
    const s = this.slots[i]!;
    const x = this.k.view("float32", this.act[i]!, rows * inputs);
    const y = this.k.view("float32", this.act[i + 1]!, rows * inputs * dim);
    const p = this.paramView();
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < inputs; c++) {
        const v = x[r * inputs + c]!;
        if (!Number.isInteger(v) || v < 0 || v >= num) throw new TesseraError(`nn.embedding: input column ${c} of row ${r} of the batch is ${v}; it must be an integer index in [0, ${num})`);
        y.set(p.subarray(s.w + v * dim, s.w + v * dim + dim), (r * inputs + c) * dim);
      }
    }
  }

  /** dE[x[r, c]] += dy[r, c·dim ..] (rows sharing an index add up); the integer inputs get no gradient. */
  private embeddingBackward(i: number, inputs: number, num: number, dim: number, rows: number): void {
    const s = this.slots[i]!;
    const x = this.k.view("float32", this.act[i]!, rows * inputs);
    const gy = this.k.view("float32", this.grad[i + 1]!, rows * inputs * dim);
    const g = this.gradView();
    g.fill(0, s.w, s.w + num * dim);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < inputs; c++) {
        const at = s.w + x[r * inputs + c]! * dim, from = (r * inputs + c) * dim;
        for (let j = 0; j < dim; j++) g[at + j] = g[at + j]! + gy[from + j]!;
      }
    }
  }

  private dropoutForward(i: number, rate: number, rows: number, training: boolean, stream: number): void {
    const n = rows * this.widths[i]!;
    const x = this.k.view("float32", this.act[i]!, n);
    const y = this.k.view("float32", this.act[i + 1]!, n);
    const m = this.k.view("float32", this.extra[i]!, n);
    if (!training || rate === 0) {
      y.set(x);
      m.fill(1);
      return;
    }
    const u = uniformStream(mixSeed(this.spec.seed, i, stream));
    const keep = Math.fround(1 / (1 - rate));
    for (let j = 0; j < n; j++) {
      const v = u() < rate ? 0 : keep;
      m[j] = v;
      y[j] = x[j]! * v;
    }
  }

  private layerNormForward(i: number, d: number, eps: number, rows: number): void {
    const s = this.slots[i]!;
    const x = this.k.view("float32", this.act[i]!, rows * d);
    const y = this.k.view("float32", this.act[i + 1]!, rows * d);
    const ex = this.k.view("float32", this.extra[i]!, rows * d + rows);
    const p = this.paramView();
    for (let r = 0; r < rows; r++) {
      const o = r * d;
      let mean = 0;
      for (let j = 0; j < d; j++) mean += x[o + j]!;
      mean /= d;
      let v = 0;
      for (let j = 0; j < d; j++) v += (x[o + j]! - mean) ** 2;
      const rstd = 1 / Math.sqrt(v / d + eps);
      ex[rows * d + r] = rstd;
      for (let j = 0; j < d; j++) {
        const xh = (ex[o + j] = (x[o + j]! - mean) * rstd);
        y[o + j] = p[s.w + j]! * xh + p[s.b + j]!;
      }
    }
  }

  private layerNormBackward(i: number, d: number, rows: number): void {
    const s = this.slots[i]!;
    const gy = this.k.view("float32", this.grad[i + 1]!, rows * d);
    const gx = this.k.view("float32", this.grad[i]!, rows * d);
    const ex = this.k.view("float32", this.extra[i]!, rows * d + rows);
    const p = this.paramView();
    const gp = this.gradView();
    gp.fill(0, s.w, s.w + 2 * d);
    const dg = new Float64Array(d), db = new Float64Array(d);
    for (let r = 0; r < rows; r++) {
      const o = r * d;
      const rstd = ex[rows * d + r]!;
      let m1 = 0, m2 = 0;
      for (let j = 0; j < d; j++) {
        const g = gy[o + j]!, xh = ex[o + j]!;
        dg[j] += g * xh;
        db[j] += g;
        const dxh = g * p[s.w + j]!;
        m1 += dxh;
        m2 += dxh * xh;
      }
      m1 /= d;
      m2 /= d;
      // Written after the row is read: with i = 0 gx is unused, otherwise it never aliases gy.
      for (let j = 0; j < d; j++) gx[o + j] = rstd * (gy[o + j]! * p[s.w + j]! - m1 - ex[o + j]! * m2);
    }
    for (let j = 0; j < d; j++) {
      gp[s.w + j] = dg[j]!;
      gp[s.b + j] = db[j]!;
    }
  }
}

/** Σ loss over rows and d(Σ loss)/d output into g; f64 accumulation. */
export function lossAndGrad(name: LossName, o: Float32Array, g: Float32Array, y: ArrayLike<number>, rows: number, K: number): LossResult {
  let loss = 0;
  let correct = 0;
  if (name === "softmaxCrossEntropy") {
    if (K < 2) throw new TesseraError(`nn: softmaxCrossEntropy needs at least 2 outputs (one per class); the model has ${K}. For two classes with one output use binaryCrossEntropy`);
    const e = new Float64Array(K);
    for (let r = 0; r < rows; r++) {
      const off = r * K;
      const c = y[r]!;
      if (!Number.isInteger(c) || c < 0 || c >= K) throw new TesseraError(`nn: softmaxCrossEntropy needs class labels 0..${K - 1}; row ${r} of the batch has label ${c}`);
      let m = -Infinity, best = 0;
      for (let j = 0; j < K; j++) {
        const v = o[off + j]!;
        if (v > m) {
          m = v;
          best = j;
        }
      }
      // Each e^(o - m) once (the gradient reuses them: the same values, so the same bits).
      let s = 0;
      for (let j = 0; j < K; j++) s += e[j] = Math.exp(o[off + j]! - m);
      loss += Math.log(s) + m - o[off + c]!;
      for (let j = 0; j < K; j++) g[off + j] = e[j]! / s - (j === c ? 1 : 0);
      if (best === c) correct++;
    }
  } else if (name === "binaryCrossEntropy") {
    if (K !== 1) throw new TesseraError(`nn: binaryCrossEntropy takes one output (a logit) per row; the model has ${K}`);
    for (let r = 0; r < rows; r++) {
      const z = o[r]!, t = y[r]!;
      if (!(t >= 0 && t <= 1)) throw new TesseraError(`nn: binaryCrossEntropy needs targets in [0, 1]; row ${r} of the batch has ${t}`);
      // On the logit, stably: max(z, 0) - z·t + log(1 + e^-|z|).
      loss += Math.max(z, 0) - z * t + Math.log1p(Math.exp(-Math.abs(z)));
      g[r] = 1 / (1 + Math.exp(-z)) - t;
      if (z > 0 === t > 0.5) correct++;
    }
  } else if (name === "mse") {
    if (K !== 1) throw new TesseraError(`nn: mse takes one output per row (y is 1-d); the model has ${K}`);
    for (let r = 0; r < rows; r++) {
      const e = o[r]! - y[r]!;
      loss += e * e;
      g[r] = 2 * e;
    }
  } else {
    throw new TesseraError(`nn: unknown loss ${JSON.stringify(name)}; use "softmaxCrossEntropy", "binaryCrossEntropy" or "mse"`);
  }
  return { loss, correct };
}
