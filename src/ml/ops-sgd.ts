/**
 * Stochastic gradient descent (sklearn.linear_model's _plain_sgd) over one block of rows: the
 * per-row update as a tight JS loop, the same code on a worker (`ml.sgd`, which holds the
 * block) and on the client (partialFit on plain data).
 *
 * The model state (weights, intercepts, the sample counter t, the L1 bookkeeping, the epoch's
 * summed loss) travels with the task: `ml.sgd` takes the previous block's output state (or,
 * for the first block of a pass, the state in its spec) and returns the next one, so a pass
 * over the data is a chain of tasks, one per block, each run where its block is.
 *
 * Per row, for each of the K binary (one-vs-rest) or regression models still active, as
 * scikit-learn does it:
 *
 *   p = w·x + b;  eta from the learning-rate schedule at t
 *   sumloss += loss(p, y);  update = -eta · clip(dloss(p, y), ±1e12)
 *   update *= classWeight · sampleWeight                 (class weight: target +1 or -1's)
 *   w *= max(0, 1 - (1 - l1Ratio)·eta·alpha)            (l2, elasticnet; kept as a scale factor)
 *   w += update · x;  b += update
 *   average (from t = average on): the running mean of w and b, kept lazily as scikit-learn's
 *     WeightVector does (aw, a, b: the mean is (aw + a·w) / b; Bottou's trick)
 *   L1 (l1, elasticnet): the cumulative penalty of Tsuruoka et al. (u, q)
 *   t += 1
 *
 * Rows of the validation split (early stopping) are skipped. Classifier targets are ±1 for
 * class k against the rest (binary: classes[1] is +1).
 */

import { TesseraError } from "../errors.js";
import { withKernels } from "../kernels/instance.js";
import { registerOp } from "../worker/registry.js";
import { matrix, show, using, vector } from "./blocks.js";
import { permutation } from "./ops-postfit.js";

export type SgdLoss = "hinge" | "log_loss" | "modified_huber" | "squared_error" | "huber";
export type SgdPenalty = "l2" | "l1" | "elasticnet" | null;
export type SgdLearningRate = "optimal" | "constant" | "invscaling" | "adaptive";

/** What the update needs besides the state: fixed for a fit. */
export interface SgdParams {
  d: number;
  /** Models: 1 for a regressor or a binary classifier, one per class otherwise. */
  K: number;
  loss: SgdLoss;
  penalty: SgdPenalty;
  alpha: number;
  l1Ratio: number;
  epsilon: number;
  learningRate: SgdLearningRate;
  eta0: number;
  powerT: number;
  /** optimal's t0: eta = 1 / (alpha · (optimalInit + t - 1)). */
  optimalInit: number;
  fitIntercept: boolean;
  /** A classifier's classes (sorted); null for a regressor. */
  classes: number[] | null;
  /** Averaging starts at this t (0: off). */
  average: number;
  /** Per model: the class weight of a +1 and of a -1 target (1 for a regressor). */
  weightPos: number[];
  weightNeg: number[];
}

export interface SgdState {
  /** K x d, row-major. */
  W: Float64Array;
  b: Float64Array;
  /** scikit-learn's t_: 1 + rows seen. */
  t: number;
  /** Per model: false once its stopping rule fired (its weights then stay as they are). */
  active: boolean[];
  /** Per model: w = wscale · W (the L2 shrink is one multiply per row; folded in when small and at the end of a fit or partialFit, as scikit-learn does). */
  wscale: Float64Array;
  /** Per model: the current step of "constant" / "adaptive" (adaptive divides it by 5). */
  eta: Float64Array;
  /** L1, per model: the total penalty a weight could have had (u) and what each weight had (q, K x d). */
  u: Float64Array;
  q: Float64Array | null;
  /** Per model: Σ loss over this pass's rows so far. */
  sumloss: Float64Array;
  /** Rows this pass has seen so far. */
  n: number;
  problem: string | null;
  /** Averaging (null when off), per model: aw (K x d), the averaged intercept, and the a, b scalars. */
  avg: { aw: Float64Array; b: Float64Array; a: Float64Array; div: Float64Array } | null;
}

export function initialState(p: SgdParams): SgdState {
  const l1 = p.penalty === "l1" || p.penalty === "elasticnet";
  return {
    W: new Float64Array(p.K * p.d),
    b: new Float64Array(p.K),
    t: 1,
    active: new Array<boolean>(p.K).fill(true),
    wscale: new Float64Array(p.K).fill(1),
    eta: new Float64Array(p.K).fill(p.eta0),
    u: new Float64Array(p.K),
    q: l1 ? new Float64Array(p.K * p.d) : null,
    sumloss: new Float64Array(p.K),
    n: 0,
    problem: null,
    avg: p.average > 0 ? { aw: new Float64Array(p.K * p.d), b: new Float64Array(p.K), a: new Float64Array(p.K), div: new Float64Array(p.K).fill(1) } : null,
  };
}

const copyAvg = (a: SgdState["avg"]): SgdState["avg"] => a && { aw: Float64Array.from(a.aw), b: Float64Array.from(a.b), a: Float64Array.from(a.a), div: Float64Array.from(a.div) };

/** A copy of the state to start a pass with: this pass's loss and row count at zero. */
export function startPass(s: SgdState): SgdState {
  return { ...startFrom(s), sumloss: new Float64Array(s.b.length), n: 0, problem: null };
}

const MAX_DLOSS = 1e12;

function lossAndSlope(loss: SgdLoss, epsilon: number, p: number, y: number): [number, number] {
  switch (loss) {
    case "hinge": {
      const z = p * y;
      return z <= 1 ? [1 - z, -y] : [0, 0];
    }
    case "log_loss": {
      const z = p * y;
      if (z > 18) return [Math.exp(-z), -y * Math.exp(-z)];
      if (z < -18) return [-z, -y];
      return [Math.log1p(Math.exp(-z)), -y / (Math.exp(z) + 1)];
    }
    case "modified_huber": {
      const z = p * y;
      if (z >= 1) return [0, 0];
      if (z >= -1) return [(1 - z) * (1 - z), -2 * (1 - z) * y];
      return [-4 * z, -4 * y];
    }
    case "squared_error": {
      const r = p - y;
      return [0.5 * r * r, r];
    }
    case "huber": {
      const r = p - y;
      const a = Math.abs(r);
      return a <= epsilon ? [0.5 * r * r, r] : [epsilon * a - 0.5 * epsilon * epsilon, r > 0 ? epsilon : -epsilon];
    }
  }
}

/** scikit-learn's t0 for the "optimal" schedule (Bottou's heuristic). */
export function optimalInit(loss: SgdLoss, epsilon: number, alpha: number): number {
  const typw = Math.sqrt(1 / Math.sqrt(alpha));
  const eta0 = typw / Math.max(1, lossAndSlope(loss, epsilon, -typw, 1)[1]);
  return 1 / (eta0 * alpha);
}

export interface SgdBlockSpec {
  params: SgdParams;
  /** The task's arguments hold a block of sample weights after y. */
  weighted: boolean;
  /** Skip the validation split's rows (fit with early stopping). */
  validation: ValidationSpec | null;
  /** Shuffle the block's rows with this seed and stream (null: in order). */
  shuffle: { seed: number; stream: number } | null;
  /** For messages: the block's number and its first row's number (null for dataframe partitions). */
  block: number;
  offset: number | null;
  /** The state to start from, when no earlier block's state is given as an argument. */
  state?: SgdState;
}

/**
 * One pass of SGD over rows [rows, d] (row-major) and targets y: `s` is updated in place.
 * A NaN / infinity in x or y, or a label not among the classes, sets s.problem and stops.
 */
export function sgdRows(p: SgdParams, s: SgdState, xv: Float64Array, yv: Float64Array, rows: number, order: Int32Array | null, where: (row: number) => string, sw: Float64Array | null = null, skip: Uint8Array | null = null): void {
  const { d, K } = p;
  if (s.problem) return;
  const l2 = p.penalty === "l2" || p.penalty === "elasticnet";
  const l1 = p.penalty === "l1" || p.penalty === "elasticnet";
  const classIndex = p.classes ? new Map(p.classes.map((c, i) => [c, i])) : null;
  const binary = p.classes !== null && K === 1;
  const wscale = s.wscale;
  for (let r = 0; r < rows; r++) {
    const i = order ? order[r]! : r;
    if (skip && skip[i]) continue;
    const o = i * d;
    const yi = yv[i]!;
    const weight = sw ? sw[i]! : 1;
    if (!(weight >= 0 && weight < Infinity)) {
      s.problem = `sampleWeight has ${show(weight)} at ${where(i)}; weights must be finite and >= 0`;
      break;
    }
    let cls = -1;
    if (classIndex) {
      const c = classIndex.get(yi);
      if (c === undefined) {
        s.problem = Number.isNaN(yi) ? `y has ${show(yi)} at ${where(i)}` : `y has label ${yi} at ${where(i)}, which is not among the classes [${p.classes!.join(", ")}]`;
        break;
      }
      cls = c;
    } else if (!Number.isFinite(yi)) {
      s.problem = `y has ${show(yi)} at ${where(i)}`;
      break;
    }
    for (let j = 0; j < d; j++) {
      if (!Number.isFinite(xv[o + j]!)) {
        s.problem = `X has ${show(xv[o + j]!)} at ${where(i)}, column ${j}`;
        break;
      }
    }
    if (s.problem) break;
    const t = s.t;
    for (let k = 0; k < K; k++) {
      if (!s.active[k]) continue;
      const w = k * d;
      let dot = 0;
      for (let j = 0; j < d; j++) dot += s.W[w + j]! * xv[o + j]!;
      const pred = dot * wscale[k]! + s.b[k]!;
      const target = classIndex ? (binary ? (cls === 1 ? 1 : -1) : cls === k ? 1 : -1) : yi;
      let eta: number;
      if (p.learningRate === "optimal") eta = 1 / (p.alpha * (p.optimalInit + t - 1));
      else if (p.learningRate === "invscaling") eta = p.eta0 / Math.pow(t, p.powerT);
      else eta = s.eta[k]!;
      const [l, slope] = lossAndSlope(p.loss, p.epsilon, pred, target);
      s.sumloss[k] += l;
      const update = -eta * Math.min(MAX_DLOSS, Math.max(-MAX_DLOSS, slope)) * (target > 0 ? p.weightPos[k]! : p.weightNeg[k]!) * weight;
      if (l2) {
        wscale[k] *= Math.max(0, 1 - (1 - p.l1Ratio) * eta * p.alpha);
        if (wscale[k]! < 1e-9) foldScale(s, d, k);
      }
      if (update !== 0) {
        const c = update / wscale[k]!;
        for (let j = 0; j < d; j++) s.W[w + j] += c * xv[o + j]!;
        if (p.fitIntercept) s.b[k] += update;
      }
      if (s.avg && p.average <= t) {
        // scikit-learn's add_average, then the running mean of the intercept.
        const A = s.avg;
        const num = t - p.average + 1;
        const mu = 1 / num;
        const c = A.a[k]! * (-update / wscale[k]!);
        for (let j = 0; j < d; j++) A.aw[w + j] += c * xv[o + j]!;
        if (num > 1) A.div[k] /= 1 - mu;
        A.a[k] += mu * A.div[k]! * wscale[k]!;
        A.b[k] += (s.b[k]! - A.b[k]!) * mu;
      }
      if (l1) {
        const u = (s.u[k] += p.l1Ratio * eta * p.alpha);
        const q = s.q!;
        const c = wscale[k]!;
        for (let j = 0; j < d; j++) {
          const z = s.W[w + j]!;
          if (c * z > 0) s.W[w + j] = Math.max(0, z - (u + q[w + j]!) / c);
          else if (c * z < 0) s.W[w + j] = Math.min(0, z + (u - q[w + j]!) / c);
          q[w + j] += c * (s.W[w + j]! - z);
        }
      }
    }
    s.t = t + 1;
    s.n++;
  }
}

/** W[k] *= wscale[k], wscale[k] = 1 (all models when k is omitted); the average made explicit too (scikit-learn's reset_wscale). */
export function foldScale(s: SgdState, d: number, k?: number): void {
  for (let m = k ?? 0; m <= (k ?? s.wscale.length - 1); m++) {
    if (s.avg) {
      const A = s.avg;
      for (let j = 0, o = m * d; j < d; j++) A.aw[o + j] = (A.aw[o + j]! + A.a[m]! * s.W[o + j]!) / A.div[m]!;
      A.a[m] = 0;
      A.div[m] = 1;
    }
    const c = s.wscale[m]!;
    for (let j = 0, o = m * d; j < d; j++) s.W[o + j] *= c;
    s.wscale[m] = 1;
  }
}

export const rowWhere = (block: number, offset: number | null) => (row: number): string =>
  offset !== null ? `row ${offset + row}` : `row ${row} of block ${block}`;

registerOp("ml.sgd", (spec: SgdBlockSpec, x: unknown, y: unknown, ...rest: unknown[]) =>
  withKernels((k): SgdState => {
    const w = spec.weighted ? rest[0] : undefined;
    const prev = rest[spec.weighted ? 1 : 0] as SgdState | undefined;
    const from = prev ?? spec.state;
    if (!from) throw new TesseraError("internal: ml.sgd has no state to start from");
    const s = startFrom(from);
    if (s.problem) return s;
    const xm = matrix(k, x, spec.params.d, "ml.sgd X");
    const ym = vector(k, y, "ml.sgd y");
    const wm = w === undefined ? undefined : vector(k, w, "ml.sgd sampleWeight");
    return using([xm, ym, wm], () => {
      if (ym.rows !== xm.rows || (wm && wm.rows !== xm.rows)) {
        s.problem = ym.rows !== xm.rows ? `y has ${ym.rows} values for the ${xm.rows} rows of X in block ${spec.block}` : `sampleWeight has ${wm!.rows} values for the ${xm.rows} rows of X in block ${spec.block}`;
        return s;
      }
      const order = spec.shuffle ? permutation(xm.rows, spec.shuffle.seed, spec.shuffle.stream) : null;
      const xv = k.view("float64", xm.ptr, xm.rows * spec.params.d);
      const yv = k.view("float64", ym.ptr, ym.rows);
      const sw = wm ? k.view("float64", wm.ptr, wm.rows) : null;
      const skip = spec.validation ? validationMask(spec.validation, yv, spec.block) : null;
      sgdRows(spec.params, s, xv, yv, xm.rows, order, rowWhere(spec.block, spec.offset), sw, skip);
      return s;
    });
  }),
);

/** A state this task may change: the one it was given may be the previous task's stored value. */
function startFrom(s: SgdState): SgdState {
  return { ...s, W: Float64Array.from(s.W), b: Float64Array.from(s.b), wscale: Float64Array.from(s.wscale), eta: Float64Array.from(s.eta), u: Float64Array.from(s.u), q: s.q && Float64Array.from(s.q), active: [...s.active], sumloss: Float64Array.from(s.sumloss), avg: copyAvg(s.avg) };
}

// ---- early stopping ---------------------------------------------------------------------

/** fit's validation split: per block, a seeded share of each class's rows (of all rows for a regressor). */
export interface ValidationSpec {
  fraction: number;
  seed: number;
  /** Stratify by label (classifiers). */
  stratify: boolean;
}

/**
 * The validation rows of a block (1 = held out): the block's rows permuted (seeded by seed and
 * block), then per class (or over all rows) the first round(fraction · count) of them, so every
 * block holds out its share of every class, as scikit-learn's StratifiedShuffleSplit does over the
 * whole data. The same rows whatever the pass, so training skips exactly the rows scored.
 */
export function validationMask(v: ValidationSpec, y: ArrayLike<number>, block: number): Uint8Array {
  const n = y.length;
  const mask = new Uint8Array(n);
  const counts = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const key = v.stratify ? y[i]! : 0;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const quota = new Map([...counts].map(([key, c]) => [key, Math.round(v.fraction * c)]));
  const order = permutation(n, v.seed, 2 ** 41 + block);
  for (const i of order) {
    const key = v.stratify ? y[i]! : 0;
    const q = quota.get(key)!;
    if (q > 0) (mask[i] = 1), quota.set(key, q - 1);
  }
  return mask;
}

/** What the validation rows of a block add to the score: (weighted) counts of correct signs per model, or R²'s sums. */
export interface ValidationPartial {
  /** Σ weight over the validation rows. */
  n: number;
  /** Classifiers: per model, Σ weight of rows whose decision sign matches the ±1 target. */
  correct: Float64Array;
  /** Regressors: Σ w·y, Σ w·y², Σ w·(y - p)². */
  sy: number;
  syy: number;
  sse: number;
}

/** The validation partial of a block for weights W (K x d) and b, as scikit-learn's score on the held-out rows. */
export function validationScore(p: SgdParams, W: Float64Array, b: Float64Array, xv: Float64Array, yv: ArrayLike<number>, sw: ArrayLike<number> | null, mask: Uint8Array): ValidationPartial {
  const { d, K } = p;
  const out: ValidationPartial = { n: 0, correct: new Float64Array(K), sy: 0, syy: 0, sse: 0 };
  const classIndex = p.classes ? new Map(p.classes.map((c, i) => [c, i])) : null;
  for (let i = 0; i < yv.length; i++) {
    if (!mask[i]) continue;
    const w = sw ? sw[i]! : 1;
    const yi = yv[i]!;
    out.n += w;
    for (let k = 0; k < K; k++) {
      let dot = b[k]!;
      for (let j = 0; j < d; j++) dot += W[k * d + j]! * xv[i * d + j]!;
      if (classIndex) {
        const cls = classIndex.get(yi);
        const target = K === 1 ? (cls === 1 ? 1 : -1) : cls === k ? 1 : -1;
        if ((dot > 0 ? 1 : -1) === target) out.correct[k] += w;
      } else {
        out.sy += w * yi;
        out.syy += w * yi * yi;
        out.sse += w * (yi - dot) ** 2;
      }
    }
  }
  return out;
}

registerOp("ml.sgd.validate", (spec: { params: SgdParams; W: Float64Array; b: Float64Array; validation: ValidationSpec; block: number; weighted: boolean }, x: unknown, y: unknown, w?: unknown) =>
  withKernels((k): ValidationPartial => {
    const xm = matrix(k, x, spec.params.d, "ml.sgd.validate X");
    const ym = vector(k, y, "ml.sgd.validate y");
    const wm = spec.weighted ? vector(k, w, "ml.sgd.validate sampleWeight") : undefined;
    return using([xm, ym, wm], () => {
      const yv = k.view("float64", ym.ptr, ym.rows);
      const mask = validationMask(spec.validation, yv, spec.block);
      return validationScore(spec.params, spec.W, spec.b, k.view("float64", xm.ptr, xm.rows * spec.params.d), yv, wm ? k.view("float64", wm.ptr, wm.rows) : null, mask);
    });
  }),
);
