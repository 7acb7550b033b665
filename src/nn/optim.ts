/**
 * Optimizers over one flat f32 parameter vector. State (momentum, Adam's moments) is f32 in
 * typed arrays; each update is computed in f64 per element and rounded once, by the same code
 * on every replica, so replicas given the same gradient stay bit-identical.
 */

import { TesseraError } from "../errors.js";
import type { OptimizerSpec } from "./spec.js";

export class Optimizer {
  /** Updates taken so far. */
  t = 0;
  /** SGD: [velocity]; Adam: [m, v]. */
  readonly state: Float32Array[];

  constructor(
    readonly spec: OptimizerSpec,
    readonly size: number,
  ) {
    if (spec?.type !== "sgd" && spec?.type !== "adam") throw new TesseraError(`nn: optimizer must come from nn.sgd, nn.adam or nn.adamw; got ${JSON.stringify(spec)}`);
    if (!(spec.lr > 0)) throw new TesseraError(`nn.${spec.type}: lr must be positive, got ${spec.lr}`);
    this.state = spec.type === "sgd" ? [new Float32Array(spec.momentum ? size : 0)] : [new Float32Array(size), new Float32Array(size)];
  }

  /** One update of `params` in place from the mean gradient `grad`. */
  step(params: Float32Array, grad: Float32Array): void {
    this.t++;
    const s = this.spec;
    const n = this.size;
    if (s.type === "sgd") {
      const v = this.state[0]!;
      for (let i = 0; i < n; i++) {
        const p = params[i]!;
        let g = grad[i]! + s.weightDecay * p;
        if (s.momentum) {
          const vi = (v[i] = s.momentum * v[i]! + g);
          g = s.nesterov ? g + s.momentum * vi : vi;
        }
        params[i] = p - s.lr * g;
      }
      return;
    }
    const [m, v] = this.state as [Float32Array, Float32Array];
    const c1 = 1 - Math.pow(s.beta1, this.t);
    const c2 = 1 - Math.pow(s.beta2, this.t);
    for (let i = 0; i < n; i++) {
      let p = params[i]!;
      let g = grad[i]!;
      if (s.decoupled) p -= s.lr * s.weightDecay * p;
      else g += s.weightDecay * p;
      const mi = (m[i] = s.beta1 * m[i]! + (1 - s.beta1) * g);
      const vi = (v[i] = s.beta2 * v[i]! + (1 - s.beta2) * g * g);
      params[i] = p - (s.lr * (mi / c1)) / (Math.sqrt(vi / c2) + s.eps);
    }
  }
}
