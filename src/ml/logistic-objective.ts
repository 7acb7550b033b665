/**
 * LogisticRegression's objective, put together on the client from the blocks' summed partials
 * (kernels.ts LogisticPartial), for both solvers:
 *
 *   f(θ) = loss / n + ||W||² / (2·C·n),   θ = (W row-major K x d, then b: K when fitIntercept)
 *
 * Its gradient adds penalty·W to grad / n (the intercept is not penalized). Its Hessian (solver
 * "newton") reorders the kernel's P x P data term, P = K(d + 1) with class a's block of d + 1
 * (weights, intercept), into θ's order, divides by n and adds penalty on W's diagonal.
 *
 * With K >= 2 classes and an intercept the softmax objective is flat along one direction: the
 * same shift of every intercept changes no probability, and the gradient is orthogonal to it.
 * Adding c·uuᵀ (u that unit direction) to the Hessian makes it positive definite without
 * changing the step in the other directions, and leaves the step orthogonal to u, so the
 * intercepts keep the zero sum they start from: the minimum-norm Newton step, which is what
 * lstsq gives and where L-BFGS (its steps made of gradients) stays too.
 */

import type { LogisticPartial } from "./kernels.js";
import type { LbfgsResult } from "./lbfgs.js";
import { newton, type SecondOrder } from "./newton.js";
import type { LogisticSpec } from "./ops.js";

export interface LogisticShape {
  d: number;
  K: number;
  n: number;
  /** 1 / (C·n) */
  penalty: number;
  fitIntercept: boolean;
}

/** One pass over the blocks: their partials summed. */
export type LogisticPass = (spec: LogisticSpec) => Promise<LogisticPartial>;

/** Parameters in θ: K·d weights, and K intercepts when fitted. */
export const thetaLength = (s: LogisticShape): number => s.K * s.d + (s.fitIntercept ? s.K : 0);

/** The spec of a pass at θ. */
export function specAt(s: LogisticShape, theta: Float64Array, hessian: boolean): LogisticSpec {
  const nw = s.K * s.d;
  const b = s.fitIntercept ? theta.slice(nw, nw + s.K) : new Float64Array(s.K);
  return { d: s.d, K: s.K, W: theta.slice(0, nw), b, ...(hessian ? { hessian } : {}) };
}

/** f and ∇f at θ from the summed partials of a pass at θ. */
export function objectiveAt(s: LogisticShape, theta: Float64Array, p: LogisticPartial): { f: number; g: Float64Array } {
  const nw = s.K * s.d;
  let f = p.loss / s.n;
  const g = new Float64Array(theta.length);
  for (let i = 0; i < nw; i++) {
    f += 0.5 * s.penalty * theta[i]! * theta[i]!;
    g[i] = p.grad[i]! / s.n + s.penalty * theta[i]!;
  }
  if (s.fitIntercept) for (let k = 0; k < s.K; k++) g[nw + k] = p.gradB[k]! / s.n;
  return { f, g };
}

/** ∇²f in θ's order (m x m) from the kernel's upper-triangle data term (see the header). */
export function hessianAt(s: LogisticShape, hess: Float64Array): Float64Array {
  const { d, K } = s;
  const m = thetaLength(s);
  const P = K * (d + 1);
  // Index in θ of the kernel's index a(d + 1) + j, or -1 for an intercept not fitted.
  const index = (q: number) => {
    const a = Math.floor(q / (d + 1));
    const j = q - a * (d + 1);
    return j < d ? a * d + j : s.fitIntercept ? K * d + a : -1;
  };
  const map = Array.from({ length: P }, (_, q) => index(q));
  const H = new Float64Array(m * m);
  for (let r = 0; r < P; r++) {
    const ir = map[r]!;
    if (ir < 0) continue;
    for (let c = r; c < P; c++) {
      const ic = map[c]!;
      if (ic < 0) continue;
      const v = hess[r * P + c]! / s.n;
      H[ir * m + ic] = v;
      H[ic * m + ir] = v;
    }
  }
  for (let i = 0; i < K * d; i++) H[i * m + i] += s.penalty;
  if (K > 1 && s.fitIntercept) {
    // c·uuᵀ on the intercepts, c their mean curvature (any c > 0 gives the same step).
    let c = 0;
    for (let a = 0; a < K; a++) c += H[(K * d + a) * (m + 1)]!;
    c = c / K || 1;
    for (let a = 0; a < K; a++) for (let b = 0; b < K; b++) H[(K * d + a) * m + K * d + b] += c / K;
  }
  return H;
}

/** Kernel's P = K(d + 1) beyond which the Hessian (P² f64 per block) is too big to gather. */
export const MAX_NEWTON_P = 2048;

/** Newton's method from θ = 0: one pass with the Hessian per iteration (newton.ts). */
export async function fitNewton(s: LogisticShape, pass: LogisticPass, options: { maxIter: number; tol: number; what: string; signal?: AbortSignal | undefined }): Promise<LbfgsResult> {
  const full = async (theta: Float64Array): Promise<SecondOrder> => {
    const p = await pass(specAt(s, theta, true));
    return { ...objectiveAt(s, theta, p), H: hessianAt(s, p.hess!) };
  };
  const loss = async (theta: Float64Array) => objectiveAt(s, theta, await pass(specAt(s, theta, false))).f;
  return newton({ full, loss }, new Float64Array(thetaLength(s)), { maxIter: options.maxIter, gtol: options.tol, what: options.what, signal: options.signal });
}
