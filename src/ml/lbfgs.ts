/**
 * L-BFGS on the client (Nocedal & Wright, algorithms 7.4, 3.5 and 3.6). The objective is
 * async: each evaluation is one pass over the data on the workers (loss and gradient per block,
 * tree-reduced), so the optimizer's own cost — a few vectors of the parameters' length — is
 * nothing next to it, and what matters is the number of evaluations: a strong-Wolfe line search
 * that almost always accepts the first step after the first iteration.
 *
 * Stops like scipy's L-BFGS-B as scikit-learn calls it: max |gradient| <= gtol, or a relative
 * decrease of f below ftol, or maxIter iterations.
 */

export interface Evaluation {
  f: number;
  g: Float64Array;
}

export type Objective = (x: Float64Array) => Promise<Evaluation>;

export interface LbfgsOptions {
  maxIter: number;
  /** Converged when max |g_i| <= gtol. */
  gtol: number;
  /** Converged when (f_k - f_k+1) / max(|f_k|, |f_k+1|, 1) <= ftol. */
  ftol?: number;
  /** Correction pairs kept (default 10). */
  memory?: number;
  /** Evaluations per line search (default 20). */
  maxLineSearch?: number;
  signal?: AbortSignal | undefined;
}

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  g: Float64Array;
  nIter: number;
  nEval: number;
  converged: boolean;
  message: string;
}

const dot = (a: Float64Array, b: Float64Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};
const maxAbs = (a: Float64Array): number => {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
};

export async function lbfgs(objective: Objective, x0: Float64Array, options: LbfgsOptions): Promise<LbfgsResult> {
  const m = options.memory ?? 10;
  const ftol = options.ftol ?? 64 * 2.220446049250313e-16;
  let nEval = 0;
  const evaluate = async (x: Float64Array): Promise<Evaluation> => {
    options.signal?.throwIfAborted();
    nEval++;
    return objective(x);
  };
  let x: Float64Array = Float64Array.from(x0);
  let { f, g }: { f: number; g: Float64Array } = await evaluate(x);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const R: number[] = [];
  if (maxAbs(g) <= options.gtol) return { x, f, g, nIter: 0, nEval, converged: true, message: "the gradient is below gtol at the start" };
  for (let k = 0; k < options.maxIter; k++) {
    const d = direction(g, S, Y, R);
    let dg0 = dot(d, g);
    if (!(dg0 < 0)) {
      // Not a descent direction (curvature pairs gone stale): restart from steepest descent.
      S.length = Y.length = R.length = 0;
      for (let i = 0; i < d.length; i++) d[i] = -g[i]!;
      dg0 = dot(d, g);
    }
    const first = S.length === 0 ? Math.min(1, 1 / Math.sqrt(dot(g, g))) : 1;
    const step = await wolfe(evaluate, x, d, f, dg0, first, options.maxLineSearch ?? 20);
    if (!step) {
      return { x, f, g, nIter: k, nEval, converged: false, message: "the line search found no step that decreases the loss (rounding level reached)" };
    }
    const s = new Float64Array(x.length);
    const y = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      s[i] = step.x[i]! - x[i]!;
      y[i] = step.g[i]! - g[i]!;
    }
    const sy = dot(s, y);
    if (sy > 2.220446049250313e-16 * dot(y, y)) {
      S.push(s);
      Y.push(y);
      R.push(1 / sy);
      if (S.length > m) {
        S.shift();
        Y.shift();
        R.shift();
      }
    }
    const fPrev = f;
    x = step.x;
    f = step.f;
    g = step.g;
    if (maxAbs(g) <= options.gtol) return { x, f, g, nIter: k + 1, nEval, converged: true, message: "max |gradient| <= gtol" };
    if ((fPrev - f) / Math.max(Math.abs(fPrev), Math.abs(f), 1) <= ftol) {
      return { x, f, g, nIter: k + 1, nEval, converged: true, message: "relative reduction of the loss <= ftol" };
    }
  }
  return { x, f, g, nIter: options.maxIter, nEval, converged: false, message: `reached maxIter (${options.maxIter})` };
}

/** -H·g by the two-loop recursion, H0 = (s'y / y'y) I from the newest pair. */
function direction(g: Float64Array, S: Float64Array[], Y: Float64Array[], R: number[]): Float64Array {
  const q = Float64Array.from(g);
  const alpha = new Array<number>(S.length);
  for (let i = S.length - 1; i >= 0; i--) {
    const a = R[i]! * dot(S[i]!, q);
    alpha[i] = a;
    const y = Y[i]!;
    for (let j = 0; j < q.length; j++) q[j] -= a * y[j]!;
  }
  if (S.length > 0) {
    const y = Y[S.length - 1]!;
    const gamma = 1 / (R[S.length - 1]! * dot(y, y));
    for (let j = 0; j < q.length; j++) q[j] *= gamma;
  }
  for (let i = 0; i < S.length; i++) {
    const b = R[i]! * dot(Y[i]!, q);
    const s = S[i]!;
    const c = alpha[i]! - b;
    for (let j = 0; j < q.length; j++) q[j] += c * s[j]!;
  }
  for (let j = 0; j < q.length; j++) q[j] = -q[j]!;
  return q;
}

interface Point {
  a: number;
  x: Float64Array;
  f: number;
  g: Float64Array;
  dg: number;
}

/** A step along d satisfying the strong Wolfe conditions (c1 = 1e-4, c2 = 0.9), or null. */
async function wolfe(
  evaluate: (x: Float64Array) => Promise<Evaluation>,
  x0: Float64Array,
  d: Float64Array,
  f0: number,
  dg0: number,
  a1: number,
  maxEval: number,
): Promise<Point | null> {
  const c1 = 1e-4;
  const c2 = 0.9;
  const at = async (a: number): Promise<Point> => {
    const x = new Float64Array(x0.length);
    for (let i = 0; i < x.length; i++) x[i] = x0[i]! + a * d[i]!;
    const { f, g } = await evaluate(x);
    return { a, x, f, g, dg: dot(g, d) };
  };
  const armijo = (p: Point) => p.f <= f0 + c1 * p.a * dg0;
  const curvature = (p: Point) => Math.abs(p.dg) <= -c2 * dg0;
  let prev: Point = { a: 0, x: x0, f: f0, g: new Float64Array(0), dg: dg0 };
  let best: Point | null = null;
  let a = a1;
  let evals = 0;
  let lo: Point | undefined;
  let hi: Point | undefined;
  while (evals < maxEval) {
    const p = await at(a);
    evals++;
    if (Number.isFinite(p.f) && armijo(p) && (!best || p.f < best.f)) best = p;
    if (!Number.isFinite(p.f) || !armijo(p) || (evals > 1 && p.f >= prev.f)) {
      lo = prev;
      hi = p;
      break;
    }
    if (curvature(p)) return p;
    if (p.dg >= 0) {
      lo = p;
      hi = prev;
      break;
    }
    prev = p;
    a *= 2;
  }
  // Zoom between lo (satisfies Armijo, the lower f) and hi.
  while (lo && hi && evals < maxEval) {
    let a = cubicMin(lo, hi);
    const width = Math.abs(hi.a - lo.a);
    if (!Number.isFinite(a) || Math.abs(a - lo.a) < 0.1 * width || Math.abs(a - hi.a) < 0.1 * width) a = (lo.a + hi.a) / 2;
    if (width <= 1e-16 * Math.max(1, Math.abs(lo.a))) break;
    const p = await at(a);
    evals++;
    if (Number.isFinite(p.f) && armijo(p) && (!best || p.f < best.f)) best = p;
    if (!Number.isFinite(p.f) || !armijo(p) || p.f >= lo.f) {
      hi = p;
      continue;
    }
    if (curvature(p)) return p;
    if (p.dg * (hi.a - lo.a) >= 0) hi = lo;
    lo = p;
  }
  // Out of evaluations: a step that lowers the loss is still progress.
  return best && best.f < f0 ? best : null;
}

/** Minimizer of the cubic through two points with their slopes (NaN when there is none). */
function cubicMin(p: Point, q: Point): number {
  if (!Number.isFinite(p.f) || !Number.isFinite(q.f) || !Number.isFinite(p.dg) || !Number.isFinite(q.dg)) return NaN;
  const d1 = p.dg + q.dg - (3 * (p.f - q.f)) / (p.a - q.a);
  const disc = d1 * d1 - p.dg * q.dg;
  if (!(disc >= 0)) return NaN;
  const d2 = Math.sign(q.a - p.a) * Math.sqrt(disc);
  return q.a - ((q.a - p.a) * (q.dg + d2 - d1)) / (q.dg - p.dg + 2 * d2);
}
