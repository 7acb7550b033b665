/**
 * LogisticRegression (sklearn.linear_model.LogisticRegression, L2, solver "lbfgs" or "newton"):
 * binary (one weight vector, sigmoid) or multinomial (one per class, softmax), minimizing
 *
 *   f(W, b) = (1/n) Σ_i loss_i + ||W||² / (2·C·n)      (the intercept b is not penalized)
 *
 * which has scikit-learn's minimizer (it minimizes C·Σ loss_i + ||W||²/2, divided by C·n), so
 * `tol` means what it means there: either solver stops when max |∇f| <= tol.
 *
 * Where it runs: fit persists X and y (class indices) on the workers, in wasm memory (resident.ts:
 * a block that is plain data is copied in once, not once per pass), then every evaluation of
 * f and ∇f is one pass of `ml.logistic` tasks, one per block (the wasm kernel mlLogistic: one
 * read of the block; two rows per SIMD step in the binary case), summed on the client in block
 * order (a tree beyond 16 blocks); only W and b travel to the workers and only (loss, gradient)
 * comes back. The L-BFGS step, the line search and the regularization are on the client.
 *
 * Solver "newton" (scikit-learn's "newton-cholesky", an accepted alias): each iteration is one
 * such pass that also sums each block's Hessian term X̃ᵀ diag(p(1 - p)) X̃ (in the same kernel
 * and read), and the client solves the (K(d + 1))² system by Cholesky (logistic-objective.ts,
 * newton.ts). Fewer passes, each costlier: for small K·d (at most MAX_NEWTON_P = 2048).
 */

import type { ComputeOptions } from "../client/current.js";
import { TesseraError } from "../errors.js";
import { HighLevelGraph, MaterializedLayer } from "../graph/layers.js";
import { opSpec } from "../graph/spec.js";
import { Task, TaskRef, blockKey } from "../graph/task.js";
import { randomToken } from "../graph/tokenize.js";
import type { ChunkedArray } from "../array/core.js";
import type { DataFrame } from "../dataframe/dataframe.js";
import { toRows, type MatrixInput, type Rows, type TargetInput } from "./data.js";
import { boolOption, checkKeys, intOption, numberOption, notFitted } from "./estimator.js";
import { sumPartials, type LogisticPartial } from "./kernels.js";
import { lbfgs, type LbfgsResult } from "./lbfgs.js";
import { MAX_NEWTON_P, fitNewton, objectiveAt, specAt, thetaLength, type LogisticShape } from "./logistic-objective.js";
import type { LogisticSpec } from "./ops.js";
import { estimatorScore } from "./metrics.js";
import type { PredictSpec } from "./ops-predict.js";
import { blockOutput } from "./output.js";
import { residentRows } from "./resident.js";
import { GraphValue, computeValue, inspect, persistRows, reduceBlocks, rethrow, type Held } from "./run.js";
import { currentClient } from "../client/current.js";
import { encodeNumbers, estimatorJSON, fittedFields, registerEstimator, type EstimatorJSON } from "./serialize.js";

/** scikit-learn's names; "newton-cholesky" is "newton". */
export const LOGISTIC_SOLVERS = ["lbfgs", "newton", "newton-cholesky"] as const;
export type LogisticSolver = (typeof LOGISTIC_SOLVERS)[number];

export interface LogisticRegressionOptions {
  /** Inverse of the L2 regularization strength (default 1). */
  C?: number;
  /**
   * "lbfgs" (default): one loss-and-gradient pass per evaluation. "newton" (or scikit-learn's
   * "newton-cholesky"): one pass per iteration that also sums the Hessian, solved by Cholesky
   * on the client; few iterations, for K·(d + 1) up to 2048 (K: 1 for two classes, else the classes).
   */
  solver?: LogisticSolver;
  /** Iterations at most (default 100). */
  maxIter?: number;
  /** Stop when max |gradient| <= tol (default 1e-4). */
  tol?: number;
  /** Fit an intercept (default true). */
  fitIntercept?: boolean;
}

/** Predictions: an array for an array (or plain data), a dataframe for a dataframe. */
export type Predicted<X> = X extends DataFrame ? DataFrame : ChunkedArray;

export class LogisticRegression {
  readonly C: number;
  readonly solver: LogisticSolver;
  readonly maxIter: number;
  readonly tol: number;
  readonly fitIntercept: boolean;
  /** The class labels, sorted (after fit). */
  classes: Float64Array | null = null;
  /** Weights, row-major [rows, nFeaturesIn]: one row for two classes, one per class otherwise. */
  coef: Float64Array | null = null;
  /** One intercept per row of coef. */
  intercept: Float64Array | null = null;
  nFeaturesIn = 0;
  /** Column names, when fitted on a dataframe. */
  featureNames: string[] | null = null;
  /** Iterations the fit took (L-BFGS or Newton), and whether it met tol. */
  nIter = 0;
  converged = false;

  constructor(options: LogisticRegressionOptions = {}) {
    const E = "LogisticRegression";
    checkKeys(E, options, ["C", "solver", "maxIter", "tol", "fitIntercept"]);
    this.C = numberOption(E, "C", options.C, 1, 0, Infinity, { lo: true });
    if (options.solver !== undefined && !LOGISTIC_SOLVERS.includes(options.solver)) {
      throw new TesseraError(`${E}: solver must be one of ${LOGISTIC_SOLVERS.map((s) => JSON.stringify(s)).join(", ")}, got ${JSON.stringify(options.solver)}`);
    }
    this.solver = options.solver ?? "lbfgs";
    this.maxIter = intOption(E, "maxIter", options.maxIter, 100, 0);
    this.tol = numberOption(E, "tol", options.tol, 1e-4, 0, Infinity);
    this.fitIntercept = boolOption(E, "fitIntercept", options.fitIntercept, true);
  }

  /** The shape of coef: [1 or nClasses, nFeaturesIn]. */
  get coefShape(): [number, number] {
    return [this.coef ? this.coef.length / Math.max(1, this.nFeaturesIn) : 0, this.nFeaturesIn];
  }

  /** Fit on X (n x d) and labels y: any numbers, at least two distinct values. */
  async fit(X: MatrixInput, y: TargetInput, options: ComputeOptions = {}): Promise<this> {
    const what = "LogisticRegression.fit";
    if (y === undefined) throw new TesseraError(`${what}: y (the labels) is missing`);
    const rows = await toRows(X, y, what);
    const persisted = await persistRows(rows, what, options);
    const held: Held[] = [persisted.held];
    try {
      // Every L-BFGS evaluation reads every block: keep them in wasm memory, not copied in per pass.
      const data = await residentRows(persisted, what, options, false);
      held.push(data.held);
      const info = await inspect(data, what, { labels: true }, options);
      // The blocks are in wasm memory now: the plain copies can go (a caller's own persisted blocks stay).
      held.shift()!.release();
      const classes = info.classes!;
      if (classes.length < 2) throw new TesseraError(`${what}: y has one class only (${classes[0]}); a classifier needs at least two`);
      const K = classes.length === 2 ? 1 : classes.length;
      const encoded = await encodeLabels(data, classes, what, options);
      if (encoded !== data) held.push(encoded.held);
      const result = await this.optimize(encoded, K, info.n, options);
      const d = rows.d;
      this.classes = Float64Array.from(classes);
      this.coef = result.x.slice(0, K * d);
      this.intercept = this.fitIntercept ? result.x.slice(K * d, K * d + K) : new Float64Array(K);
      this.nFeaturesIn = d;
      this.featureNames = rows.columns;
      this.nIter = result.nIter;
      this.converged = result.converged;
      return this;
    } finally {
      for (const h of held) h.release();
    }
  }

  private async optimize(data: Rows, K: number, n: number, options: ComputeOptions): Promise<LbfgsResult> {
    const what = "LogisticRegression.fit";
    const shape: LogisticShape = { d: data.d, K, n, penalty: 1 / (this.C * n), fitIntercept: this.fitIntercept };
    if (this.solver !== "lbfgs") {
      const P = K * (data.d + 1);
      if (P > MAX_NEWTON_P) {
        throw new TesseraError(`${what}: solver "${this.solver}" gathers a ${P} x ${P} Hessian (${K} weight vectors of ${data.d} features and an intercept), more than ${MAX_NEWTON_P} x ${MAX_NEWTON_P}; use solver "lbfgs"`);
      }
      const pass = (spec: LogisticSpec) => sumBlocks(data, spec, options);
      return fitNewton(shape, pass, { maxIter: this.maxIter, tol: this.tol, what, signal: options.signal });
    }
    const objective = async (theta: Float64Array) => objectiveAt(shape, theta, await sumBlocks(data, specAt(shape, theta, false), options));
    return lbfgs(objective, new Float64Array(thetaLength(shape)), { maxIter: this.maxIter, gtol: this.tol, signal: options.signal });
  }

  private model(method: string): { d: number; K: number; W: Float64Array; b: Float64Array; classes: number[] } {
    if (!this.coef || !this.intercept || !this.classes) throw notFitted("LogisticRegression", method);
    return { d: this.nFeaturesIn, K: this.intercept.length, W: this.coef, b: this.intercept, classes: [...this.classes] };
  }

  /** Class labels per row (lazy). */
  predict<X extends MatrixInput>(X: X): Predicted<X> {
    const m = this.model("predict");
    const predict: PredictSpec = { kind: "logistic-label", ...m };
    return blockOutput(X, { predict, prefix: "logistic-predict", names: ["prediction"], columns: this.featureNames, what: "LogisticRegression.predict" }) as Predicted<X>;
  }

  /** Class probabilities per row, [n, nClasses], columns in the order of `classes` (lazy). */
  predictProba<X extends MatrixInput>(X: X): Predicted<X> {
    const { classes, ...m } = this.model("predictProba");
    const predict: PredictSpec = { kind: "logistic-proba", d: m.d, K: m.K, W: m.W, b: m.b };
    const names = classes.map((c) => `proba_${c}`);
    return blockOutput(X, { predict, prefix: "logistic-proba", names, columns: this.featureNames, what: "LogisticRegression.predictProba" }) as Predicted<X>;
  }

  /** Mean accuracy on (X, y) (scikit-learn's score): one pass, as accuracyScore. */
  async score(X: MatrixInput, y: TargetInput, options: ComputeOptions = {}): Promise<number> {
    const predict: PredictSpec = { kind: "logistic-label", ...this.model("score") };
    return estimatorScore(X, y, { op: "ml.score", d: predict.d, spec: { predict } }, "accuracy", "LogisticRegression.score", options);
  }

  /** `{ format: "tessera-ml", version: 1, estimator, params, fitted }`; see ml.fromJSON. */
  toJSON(): EstimatorJSON {
    const params = { C: this.C, solver: this.solver, maxIter: this.maxIter, tol: this.tol, fitIntercept: this.fitIntercept };
    const fitted =
      this.coef && this.intercept && this.classes
        ? {
            classes: encodeNumbers(this.classes),
            coef: encodeNumbers(this.coef),
            intercept: encodeNumbers(this.intercept),
            nFeaturesIn: this.nFeaturesIn,
            featureNames: this.featureNames,
            nIter: this.nIter,
            converged: this.converged,
          }
        : null;
    return estimatorJSON("LogisticRegression", params, fitted);
  }

  static fromJSON(json: EstimatorJSON): LogisticRegression {
    const out = new LogisticRegression(json.params as LogisticRegressionOptions);
    const f = fittedFields(json);
    if (f) {
      out.classes = f.f64("classes");
      if (out.classes.length < 2) throw new TesseraError("ml.fromJSON: LogisticRegression.fitted.classes must hold at least two classes");
      const K = out.classes.length === 2 ? 1 : out.classes.length;
      out.nFeaturesIn = f.int("nFeaturesIn");
      out.coef = f.f64("coef", K * out.nFeaturesIn);
      out.intercept = f.f64("intercept", K);
      out.featureNames = f.strings("featureNames");
      out.nIter = f.int("nIter");
      out.converged = f.bool("converged");
    }
    return out;
  }
}

registerEstimator("LogisticRegression", LogisticRegression.fromJSON);

/**
 * Σ of the blocks' (loss, gradient[, Hessian]) partials. With few blocks the client adds them (in block
 * order) as they arrive: one hop less per evaluation than a combine task, which would wait for
 * every partial to reach one worker before the sum comes back. Many blocks go through the tree.
 */
async function sumBlocks(data: Rows, spec: LogisticSpec, options: ComputeOptions): Promise<LogisticPartial> {
  const what = "LogisticRegression.fit";
  const prefix = spec.hessian ? "ml-logistic-newton" : "ml-logistic";
  if (data.x.length > 16) return reduceBlocks<LogisticPartial>(data, { name: prefix, op: "ml.logistic", combine: "ml.sum", spec: () => spec }, what, options);
  const name = `${prefix}-${randomToken()}`;
  const nodes = data.x.map((xk, i) => new Task(blockKey(name, [i]), "ml.logistic", [opSpec(spec), new TaskRef(xk), new TaskRef(data.y![i]!)]));
  const graph = new HighLevelGraph([new MaterializedLayer(name, nodes)]);
  return computeValue(new GraphValue(graph, nodes.map((t) => t.key), data.external, (parts) => sumPartials(parts as LogisticPartial[])), what, options);
}

/** y as class indices 0..K-1 (binary: 0/1), persisted; `data` itself when y already is. */
async function encodeLabels(data: Rows & { held: Held }, classes: number[], what: string, options: ComputeOptions): Promise<Rows & { held: Held }> {
  if (classes.every((c, i) => c === i)) return data;
  const name = `ml-encode-${randomToken()}`;
  const nodes = data.y!.map((k, i) => new Task(blockKey(name, [i]), "ml.encode", [opSpec({ classes }), new TaskRef(k)]));
  const keys = nodes.map((n) => n.key);
  const graph = new HighLevelGraph([new MaterializedLayer(name, nodes)]);
  const held = currentClient().persist(new GraphValue(graph, keys, data.y!, () => undefined), options) as unknown as Held;
  try {
    await Promise.all(held.futures.map((f) => f.wait()));
  } catch (err) {
    held.release();
    rethrow(err, what);
  }
  return { ...data, y: keys, external: [...data.x, ...keys], held };
}
