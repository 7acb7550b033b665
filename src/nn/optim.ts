/**
 * Optimizers over one flat f32 parameter vector. State (momentum, Adam's moments) is f32 in
 * typed arrays; each update is computed in f64 per element and rounded once, by the same code
 * on every replica, so replicas given the same gradient stay bit-identical.
 */

import { TesseraError } from "../errors.js";
import type { Kernels } from "../kernels/kernels.js";
import { nnKernels, type NnExports } from "./kernels.js";
import { type OptimizerSpec, learningRate } from "./spec.js";

function checkSpec(spec: OptimizerSpec): void {
  if (spec?.type !== "sgd" && spec?.type !== "adam") throw new TesseraError(`nn: optimizer must come from nn.sgd, nn.adam or nn.adamw; got ${JSON.stringify(spec)}`);
  if (!(spec.lr > 0)) throw new TesseraError(`nn.${spec.type}: lr must be positive, got ${spec.lr}`);
}

/** SGD's update (shared by both optimizers below). */
function sgdStep(s: Extract<OptimizerSpec, { type: "sgd" }>, lr: number, params: Float32Array, grad: Float32Array, v: Float32Array): void {
  const n = params.length;
  for (let i = 0; i < n; i++) {
    const p = params[i]!;
    let g = grad[i]! + s.weightDecay * p;
    if (s.momentum) {
      const vi = (v[i] = s.momentum * v[i]! + g);
      g = s.nesterov ? g + s.momentum * vi : vi;
    }
    params[i] = p - lr * g;
  }
}

export class Optimizer {
  /** Updates taken so far. */
  t = 0;
  /** SGD: [velocity]; Adam: [m, v]. */
  readonly state: Float32Array[];

  constructor(
    readonly spec: OptimizerSpec,
    readonly size: number,
    /** Updates in the whole run (what a cosine schedule without `steps` anneals over). */
    readonly totalSteps: number | null = null,
  ) {
    checkSpec(spec);
    this.state = spec.type === "sgd" ? [new Float32Array(spec.momentum ? size : 0)] : [new Float32Array(size), new Float32Array(size)];
  }

  /** The learning rate of the next update (the spec's lr under its schedule). */
  get lr(): number {
    return learningRate(this.spec.schedule, this.spec.lr, this.t, this.totalSteps);
  }

  /** One update of `params` in place from the mean gradient `grad` (at learning rate `lr`, default this.lr). */
  step(params: Float32Array, grad: Float32Array, lr = this.lr): void {
    this.t++;
    const s = this.spec;
    const n = this.size;
    if (s.type === "sgd") {
      sgdStep(s, lr, params.subarray(0, n), grad, this.state[0]!);
      return;
    }
    const [m, v] = this.state as [Float32Array, Float32Array];
    const c1 = 1 - Math.pow(s.beta1, this.t);
    const c2 = 1 - Math.pow(s.beta2, this.t);
    // lr·m̂ / (√v̂ + eps) with the bias corrections folded into two constants, as nnAdam does.
    const lc1 = lr / c1, rc2 = 1 / Math.sqrt(c2);
    for (let i = 0; i < n; i++) {
      let p = params[i]!;
      let g = grad[i]!;
      if (s.decoupled) p -= lr * s.weightDecay * p;
      else g += s.weightDecay * p;
      const mi = (m[i] = s.beta1 * m[i]! + (1 - s.beta1) * g);
      const vi = (v[i] = s.beta2 * v[i]! + (1 - s.beta2) * g * g);
      params[i] = p - (lc1 * mi) / (Math.sqrt(vi) * rc2 + s.eps);
    }
  }
}

/**
 * The same optimizer with its state in wasm memory, updating parameters in place there from a
 * gradient there: Adam runs as one nnAdam pass (the JS loop's arithmetic, in wasm), SGD as the JS
 * loop on views. A replica's per-step update; bit for bit what Optimizer computes.
 */
export class KernelOptimizer {
  t: number;
  private readonly ptrs: number[];
  private readonly nn: NnExports;

  constructor(
    readonly k: Kernels,
    readonly spec: OptimizerSpec,
    readonly size: number,
    readonly totalSteps: number | null = null,
    from?: { t: number; state: Float32Array[] },
  ) {
    checkSpec(spec);
    this.nn = nnKernels(k);
    const lengths = spec.type === "sgd" ? [spec.momentum ? size : 0] : [size, size];
    if (from && (from.state.length !== lengths.length || from.state.some((s, i) => s.length !== lengths[i]))) {
      throw new TesseraError(`nn: the saved ${spec.type} state does not fit a model of ${size} parameters`);
    }
    this.t = from?.t ?? 0;
    this.ptrs = lengths.map((n, i) => {
      const p = k.allocArray("float32", Math.max(1, n));
      const v = k.view("float32", p, n);
      if (from) v.set(from.state[i]!);
      else v.fill(0);
      return p;
    });
  }

  /** The state, copied out (what a checkpoint stores). */
  get state(): Float32Array[] {
    const lengths = this.spec.type === "sgd" ? [this.spec.momentum ? this.size : 0] : [this.size, this.size];
    return this.ptrs.map((p, i) => this.k.copyOut("float32", p, lengths[i]!) as Float32Array);
  }

  get lr(): number {
    return learningRate(this.spec.schedule, this.spec.lr, this.t, this.totalSteps);
  }

  /**
   * One update of parameters [from, to) (default all) from the gradient there. Element-wise, so a
   * replica that updates only its share (a reduce-scatter) computes the same bits for it.
   */
  step(params: number, grad: number, lr = this.lr, from = 0, to = this.size): void {
    this.t++;
    const s = this.spec;
    const n = to - from, o = 4 * from;
    if (s.type === "sgd") {
      sgdStep(s, lr, this.k.view("float32", params + o, n), this.k.view("float32", grad + o, n), this.k.view("float32", this.ptrs[0]! + (s.momentum ? o : 0), s.momentum ? n : 0));
      return;
    }
    const c1 = 1 - Math.pow(s.beta1, this.t);
    const c2 = 1 - Math.pow(s.beta2, this.t);
    this.nn.nnAdam(params + o, grad + o, this.ptrs[0]! + o, this.ptrs[1]! + o, n, lr, s.beta1, s.beta2, s.eps, c1, c2, s.weightDecay, s.decoupled ? 1 : 0);
  }

  /** The state vectors in wasm memory (pointer and length; SGD without momentum: length 0). */
  get vectors(): { ptr: number; n: number }[] {
    const lengths = this.spec.type === "sgd" ? [this.spec.momentum ? this.size : 0] : [this.size, this.size];
    return this.ptrs.map((ptr, i) => ({ ptr, n: lengths[i]! }));
  }

  dispose(): void {
    for (const p of this.ptrs) this.k.free(p);
    this.ptrs.length = 0;
  }
}
