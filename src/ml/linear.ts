/**
 * LinearRegression and Ridge (sklearn.linear_model) by the normal equations, in one pass:
 * each block's `ml.gram` task (the wasm kernel mlGram) gives its row count, the means of
 * (x, y) and the centred scatter Σ (z - mean)(z - mean)ᵀ of z = (x, y); a tree merges them
 * with Chan's update, which stays accurate however far the data are from zero and whatever the
 * blocks. The client then solves the d x d system
 *
 *   (Sxx + alpha·I) w = Sxy,   intercept = mean_y - mean_x·w        (fitIntercept, centred)
 *   (XᵀX + alpha·I) w = Xᵀy                                         (without an intercept)
 *
 * by Cholesky, or — when it is singular (collinear features, alpha = 0) — by the
 * minimum-norm solution that lstsq would give.
 */

import type { ComputeOptions } from "../client/current.js";
import { TesseraError } from "../errors.js";
import type { ChunkedArray } from "../array/core.js";
import type { DataFrame } from "../dataframe/dataframe.js";
import { toRows, type MatrixInput, type TargetInput } from "./data.js";
import { boolOption, checkKeys, notFitted, numberOption } from "./estimator.js";
import type { Gram } from "./kernels.js";
import { solveNormal } from "./linalg.js";
import { estimatorScore } from "./metrics.js";
import type { PredictSpec } from "./ops-predict.js";
import { blockOutput } from "./output.js";
import { reduceBlocks, rowOffsets } from "./run.js";
import { encodeNumber, encodeNumbers, estimatorJSON, fittedFields, registerEstimator, type EstimatorJSON } from "./serialize.js";

export type Predicted<X> = X extends DataFrame ? DataFrame : ChunkedArray;

abstract class LinearModel {
  readonly fitIntercept: boolean;
  coef: Float64Array | null = null;
  intercept = 0;
  nFeaturesIn = 0;
  featureNames: string[] | null = null;
  /** True when XᵀX (+ alpha·I) was singular and the minimum-norm solution was taken. */
  singular = false;
  protected abstract readonly estimator: string;
  protected abstract readonly penalty: number;

  constructor(estimator: string, options: { fitIntercept?: boolean }) {
    this.fitIntercept = boolOption(estimator, "fitIntercept", options.fitIntercept, true);
  }

  /** Fit on X (n x d) and a real target y: one pass over the data. */
  async fit(X: MatrixInput, y: TargetInput, options: ComputeOptions = {}): Promise<this> {
    const what = `${this.estimator}.fit`;
    if (y === undefined) throw new TesseraError(`${what}: y (the target) is missing`);
    const rows = await toRows(X, y, what);
    const offsets = rows.rows ? rowOffsets(rows.rows) : null;
    const g = await reduceBlocks<Gram & { problem: string | null }>(
      rows,
      {
        name: "ml-gram",
        op: "ml.gram",
        combine: "ml.gram.combine",
        spec: (block) => ({ d: rows.d, block, offset: offsets ? offsets[block]! : null, columns: rows.columns }),
      },
      what,
      options,
    );
    if (g.problem) throw new TesseraError(`${what}: ${g.problem}`);
    if (g.n === 0) throw new TesseraError(`${what}: X has no rows`);
    const d = rows.d;
    const p = d + 1;
    const A = new Float64Array(d * d);
    const b = new Float64Array(d);
    const mx = g.mean.subarray(0, d);
    const my = g.mean[d]!;
    // Uncentred moments when there is no intercept: XᵀX = S + n·m·mᵀ.
    const c = this.fitIntercept ? 0 : g.n;
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) A[i * d + j] = g.scatter[i * p + j]! + c * mx[i]! * mx[j]!;
      A[i * d + i] += this.penalty;
      b[i] = g.scatter[i * p + d]! + c * mx[i]! * my;
    }
    const { x, singular } = solveNormal(A, b, d);
    this.coef = x;
    this.intercept = this.fitIntercept ? my - x.reduce((s, w, j) => s + w * mx[j]!, 0) : 0;
    this.nFeaturesIn = d;
    this.featureNames = rows.columns;
    this.singular = singular;
    return this;
  }

  private spec(method: string): PredictSpec & { kind: "linear" } {
    if (!this.coef) throw notFitted(this.estimator, method);
    return { kind: "linear", d: this.nFeaturesIn, coef: this.coef, intercept: this.intercept };
  }

  /** X·coef + intercept per row (lazy). */
  predict<X extends MatrixInput>(X: X): Predicted<X> {
    const predict = this.spec("predict");
    return blockOutput(X, { predict, prefix: "linear-predict", names: ["prediction"], columns: this.featureNames, what: `${this.estimator}.predict` }) as Predicted<X>;
  }

  /** R² on (X, y) (scikit-learn's score): one pass, as r2Score. */
  async score(X: MatrixInput, y: TargetInput, options: ComputeOptions = {}): Promise<number> {
    const predict = this.spec("score");
    return estimatorScore(X, y, { op: "ml.score", d: predict.d, spec: { predict } }, "r2", `${this.estimator}.score`, options);
  }

  protected abstract params(): Record<string, unknown>;

  /** `{ format: "tessera-ml", version: 1, estimator, params, fitted }`; see ml.fromJSON. */
  toJSON(): EstimatorJSON {
    const fitted = this.coef
      ? { coef: encodeNumbers(this.coef), intercept: encodeNumber(this.intercept), nFeaturesIn: this.nFeaturesIn, featureNames: this.featureNames, singular: this.singular }
      : null;
    return estimatorJSON(this.estimator, this.params(), fitted);
  }

  protected static load<T extends LinearModel>(out: T, json: EstimatorJSON): T {
    const f = fittedFields(json);
    if (f) {
      out.nFeaturesIn = f.int("nFeaturesIn");
      out.coef = f.f64("coef", out.nFeaturesIn);
      out.intercept = f.number("intercept");
      out.featureNames = f.strings("featureNames");
      out.singular = f.bool("singular");
    }
    return out;
  }
}

export interface LinearRegressionOptions {
  /** Fit an intercept (default true). */
  fitIntercept?: boolean;
}

/** Ordinary least squares. */
export class LinearRegression extends LinearModel {
  protected readonly estimator = "LinearRegression";
  protected readonly penalty = 0;
  constructor(options: LinearRegressionOptions = {}) {
    checkKeys("LinearRegression", options, ["fitIntercept"]);
    super("LinearRegression", options);
  }

  protected params() {
    return { fitIntercept: this.fitIntercept };
  }

  static fromJSON(json: EstimatorJSON): LinearRegression {
    return LinearModel.load(new LinearRegression(json.params as LinearRegressionOptions), json);
  }
}

export interface RidgeOptions {
  /** L2 penalty (default 1). */
  alpha?: number;
  /** Fit an intercept (default true). */
  fitIntercept?: boolean;
}

/** Least squares with an L2 penalty alpha·||w||² (the intercept is not penalized). */
export class Ridge extends LinearModel {
  protected readonly estimator = "Ridge";
  protected readonly penalty: number;
  readonly alpha: number;
  constructor(options: RidgeOptions = {}) {
    checkKeys("Ridge", options, ["alpha", "fitIntercept"]);
    super("Ridge", options);
    this.alpha = numberOption("Ridge", "alpha", options.alpha, 1, 0, Infinity);
    this.penalty = this.alpha;
  }

  protected params() {
    return { alpha: this.alpha, fitIntercept: this.fitIntercept };
  }

  static fromJSON(json: EstimatorJSON): Ridge {
    return LinearModel.load(new Ridge(json.params as RidgeOptions), json);
  }
}

registerEstimator("LinearRegression", LinearRegression.fromJSON);
registerEstimator("Ridge", Ridge.fromJSON);
