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
 *   w *= max(0, 1 - (1 - l1Ratio)·eta·alpha)            (l2, elasticnet; kept as a scale factor)
 *   w += update · x;  b += update
 *   L1 (l1, elasticnet): the cumulative penalty of Tsuruoka et al. (u, q)
 *   t += 1
 *
 * Classifier targets are ±1 for class k against the rest (binary: classes[1] is +1).
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
  };
}

/** A copy of the state to start a pass with: this pass's loss and row count at zero. */
export function startPass(s: SgdState): SgdState {
  return { ...s, W: Float64Array.from(s.W), b: Float64Array.from(s.b), wscale: Float64Array.from(s.wscale), eta: Float64Array.from(s.eta), u: Float64Array.from(s.u), q: s.q && Float64Array.from(s.q), active: [...s.active], sumloss: new Float64Array(s.b.length), n: 0, problem: null };
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
export function sgdRows(p: SgdParams, s: SgdState, xv: Float64Array, yv: Float64Array, rows: number, order: Int32Array | null, where: (row: number) => string): void {
  const { d, K } = p;
  if (s.problem) return;
  const l2 = p.penalty === "l2" || p.penalty === "elasticnet";
  const l1 = p.penalty === "l1" || p.penalty === "elasticnet";
  const classIndex = p.classes ? new Map(p.classes.map((c, i) => [c, i])) : null;
  const binary = p.classes !== null && K === 1;
  const wscale = s.wscale;
  for (let r = 0; r < rows; r++) {
    const i = order ? order[r]! : r;
    const o = i * d;
    const yi = yv[i]!;
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
      const update = -eta * Math.min(MAX_DLOSS, Math.max(-MAX_DLOSS, slope));
      if (l2) {
        wscale[k] *= Math.max(0, 1 - (1 - p.l1Ratio) * eta * p.alpha);
        if (wscale[k]! < 1e-9) foldScale(s, d, k);
      }
      if (update !== 0) {
        const c = update / wscale[k]!;
        for (let j = 0; j < d; j++) s.W[w + j] += c * xv[o + j]!;
        if (p.fitIntercept) s.b[k] += update;
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

/** W[k] *= wscale[k], wscale[k] = 1 (all models when k is omitted). */
export function foldScale(s: SgdState, d: number, k?: number): void {
  for (let m = k ?? 0; m <= (k ?? s.wscale.length - 1); m++) {
    const c = s.wscale[m]!;
    for (let j = 0, o = m * d; j < d; j++) s.W[o + j] *= c;
    s.wscale[m] = 1;
  }
}

export const rowWhere = (block: number, offset: number | null) => (row: number): string =>
  offset !== null ? `row ${offset + row}` : `row ${row} of block ${block}`;

registerOp("ml.sgd", (spec: SgdBlockSpec, x: unknown, y: unknown, prev?: SgdState) =>
  withKernels((k): SgdState => {
    const from = prev ?? spec.state;
    if (!from) throw new TesseraError("internal: ml.sgd has no state to start from");
    const s = startFrom(from);
    if (s.problem) return s;
    const xm = matrix(k, x, spec.params.d, "ml.sgd X");
    const ym = vector(k, y, "ml.sgd y");
    return using([xm, ym], () => {
      if (ym.rows !== xm.rows) {
        s.problem = `y has ${ym.rows} values for the ${xm.rows} rows of X in block ${spec.block}`;
        return s;
      }
      const order = spec.shuffle ? permutation(xm.rows, spec.shuffle.seed, spec.shuffle.stream) : null;
      const xv = k.view("float64", xm.ptr, xm.rows * spec.params.d);
      const yv = k.view("float64", ym.ptr, ym.rows);
      sgdRows(spec.params, s, xv, yv, xm.rows, order, rowWhere(spec.block, spec.offset));
      return s;
    });
  }),
);

/** A state this task may change: the one it was given may be the previous task's stored value. */
function startFrom(s: SgdState): SgdState {
  return { ...s, W: Float64Array.from(s.W), b: Float64Array.from(s.b), wscale: Float64Array.from(s.wscale), eta: Float64Array.from(s.eta), u: Float64Array.from(s.u), q: s.q && Float64Array.from(s.q), active: [...s.active], sumloss: Float64Array.from(s.sumloss) };
}
