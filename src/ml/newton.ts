/**
 * Newton's method with a backtracking line search, on the client, for a smooth strictly convex
 * objective whose Hessian is small (m x m, m up to a few thousand): each iteration solves
 * H·s = -g by Cholesky and tries the full step first.
 *
 * The objective is async and each evaluation is a pass over the data on the workers, so what
 * matters is the number of passes. `full(x)` returns f, g and H in one pass; the full step is
 * evaluated with it, so when the step is accepted (nearly always, and always close to the
 * optimum) that pass is already the next iteration's. Only a rejected step costs more: halving
 * with the cheaper `loss(x)` until Armijo holds, then one `full` at the accepted point.
 *
 * Stops like scikit-learn's newton-cholesky: max |g| <= gtol, or maxIter iterations. Close to
 * the optimum the decrease of f falls below its rounding, so a step that leaves f equal to
 * rounding and shrinks the gradient is taken as progress (as scikit-learn does).
 */

import { TesseraError } from "../errors.js";
import { choleskySolve } from "./linalg.js";
import type { LbfgsResult } from "./lbfgs.js";

export interface SecondOrder {
  f: number;
  g: Float64Array;
  /** m x m, row-major, symmetric. */
  H: Float64Array;
}

export interface NewtonProblem {
  /** f, ∇f and ∇²f at x: one pass. */
  full(x: Float64Array): Promise<SecondOrder>;
  /** f at x: a cheaper pass, for the line search's shorter steps. */
  loss(x: Float64Array): Promise<number>;
}

export interface NewtonOptions {
  maxIter: number;
  /** Converged when max |g_i| <= gtol. */
  gtol: number;
  /** Halvings of the step before giving up (default 30). */
  maxLineSearch?: number;
  /** Who is asking, for errors. */
  what: string;
  signal?: AbortSignal | undefined;
}

const EPS = 2.220446049250313e-16;

const maxAbs = (a: Float64Array): number => {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
};

export async function newton(problem: NewtonProblem, x0: Float64Array, options: NewtonOptions): Promise<LbfgsResult> {
  let nEval = 0;
  const full = async (x: Float64Array): Promise<SecondOrder> => {
    options.signal?.throwIfAborted();
    nEval++;
    return problem.full(x);
  };
  const loss = async (x: Float64Array): Promise<number> => {
    options.signal?.throwIfAborted();
    nEval++;
    return problem.loss(x);
  };
  let x: Float64Array = Float64Array.from(x0);
  let cur = await full(x);
  const done = (nIter: number, converged: boolean, message: string): LbfgsResult => ({ x, f: cur.f, g: cur.g, nIter, nEval, converged, message });
  if (maxAbs(cur.g) <= options.gtol) return done(0, true, "the gradient is below gtol at the start");
  const m = x.length;
  for (let k = 0; k < options.maxIter; k++) {
    const s = newtonStep(cur.H, cur.g, m, options.what);
    // A step that would not move θ beyond its rounding: the optimum as f64 resolves it (tol 0);
    // past it f and the gradient are rounding noise that a step may "decrease" by chance.
    if (maxAbs(s) <= 4 * EPS * Math.max(1, maxAbs(x))) return done(k, false, "the Newton step is below the rounding of the parameters");
    let slope = 0;
    for (let i = 0; i < m; i++) slope += s[i]! * cur.g[i]!;
    const at = (t: number) => x.map((v, i) => v + t * s[i]!);
    const accept = (f: number, t: number) => f <= cur.f + 1e-4 * t * slope;
    const trial = at(1);
    let next = await full(trial);
    let xNext = trial;
    // At rounding level f cannot tell better from worse; a smaller gradient can. Neither
    // moving: the optimum as far as f64 resolves it (tol 0), and shorter steps cannot help.
    const level = Number.isFinite(next.f) && next.f - cur.f <= 64 * EPS * Math.abs(cur.f);
    const smaller = maxAbs(next.g) < maxAbs(cur.g);
    if (level && !smaller && !accept(next.f, 1)) return done(k, false, "the loss and gradient stopped decreasing (rounding level reached)");
    if (!(Number.isFinite(next.f) && accept(next.f, 1)) && !(level && smaller)) {
      let t = 1;
      let found = false;
      for (let j = 0; j < (options.maxLineSearch ?? 30) && !found; j++) {
        t /= 2;
        const f = await loss(at(t));
        found = Number.isFinite(f) && accept(f, t);
      }
      if (!found) return done(k, false, "the line search found no step that decreases the loss (rounding level reached)");
      xNext = at(t);
      next = await full(xNext);
    }
    x = xNext;
    cur = next;
    if (maxAbs(cur.g) <= options.gtol) return done(k + 1, true, "max |gradient| <= gtol");
  }
  return done(options.maxIter, false, `reached maxIter (${options.maxIter})`);
}

/**
 * s with H·s = -g, by Cholesky. A Hessian that is positive definite in exact arithmetic may
 * not be after rounding (a huge C, nearly collinear columns): then a ridge of 1e-12 up to 1e-6
 * of its largest diagonal entry, which only shortens the step; past that the data is at fault.
 */
export function newtonStep(H: Float64Array, g: Float64Array, m: number, what: string): Float64Array {
  const minus = g.map((v) => -v);
  const direct = choleskySolve(H, minus, m);
  if (direct) return direct;
  let maxDiag = 0;
  for (let i = 0; i < m; i++) maxDiag = Math.max(maxDiag, Math.abs(H[i * m + i]!));
  if (Number.isFinite(maxDiag) && maxDiag > 0) {
    for (let r = 1e-12; r <= 1e-6; r *= 100) {
      const A = Float64Array.from(H);
      for (let i = 0; i < m; i++) A[i * m + i] += r * maxDiag;
      const s = choleskySolve(A, minus, m);
      if (s) return s;
    }
  }
  throw new TesseraError(
    `${what}: the Hessian (${m} x ${m}) is not positive definite, even with a ridge of 1e-6 of its largest diagonal entry (${maxDiag}): ` +
      `are there huge values in X, or is C huge? Scale X, lower C, or use solver "lbfgs"`,
  );
}
