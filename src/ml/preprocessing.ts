/**
 * StandardScaler and MinMaxScaler (sklearn.preprocessing). fit is one pass: per block the
 * column count, mean, M² (and min / max), merged by a tree (Chan et al.'s update, so the
 * statistics do not depend on the blocks). transform is lazy and blockwise: for an array, an
 * elementwise expression (x - mean) / scale fused into the kernels' one pass per block; for a
 * dataframe, `assign` of the same expression per feature column (other columns kept).
 *
 * As in scikit-learn, the variance is the population one (ddof 0) and a constant column gets
 * scale 1. Unlike it, NaN in X is an error (scikit-learn skips NaN when fitting).
 *
 * RobustScaler ((x - median) / (q75 - q25)) needs exact quantiles: its fit is one pass whose
 * tasks sort each column of their block and whose combine tree merges the sorted runs, so the
 * client gets every column sorted (n·d numbers: meant for moderate n) and takes numpy's
 * default "linear" quantile of it, as scikit-learn does.
 */

import type { ComputeOptions } from "../client/current.js";
import { TesseraError } from "../errors.js";
import { ChunkedArray } from "../array/core.js";
import { fromTypedArray } from "../array/create.js";
import { DataFrame } from "../dataframe/dataframe.js";
import { col } from "../dataframe/expr.js";
import { toMatrix, toRows, type MatrixInput } from "./data.js";
import { boolOption, checkKeys, notFitted } from "./estimator.js";
import type { SortedPartial } from "./ops-prep.js";
import { prepInput, reducePrep } from "./prep.js";
import { inspect } from "./run.js";
import { encodeNumbers, estimatorJSON, fittedFields, registerEstimator, type EstimatorJSON, type Fields } from "./serialize.js";

/** Transformed X: an array for an array (or plain data), a dataframe for a dataframe. */
export type Transformed<X> = X extends DataFrame ? DataFrame : ChunkedArray;

/** Scales below this are taken for zero (scikit-learn's _handle_zeros_in_scale). */
const ZERO_SCALE = 10 * 2.220446049250313e-16;

type Step = ["sub" | "div" | "mul" | "add", Float64Array];

/** Fitted column statistics, and the two elementwise steps each way that a scaler is. */
abstract class Scaler {
  nFeaturesIn = 0;
  nSamplesSeen = 0;
  /** Column names, when fitted on a dataframe. */
  featureNames: string[] | null = null;
  protected abstract readonly estimator: string;

  /** The steps of transform and of inverseTransform, per column (null when not fitted). */
  protected abstract steps(): { forward: Step[]; inverse: Step[] } | null;

  protected async stats(X: MatrixInput, minmax: boolean, options?: ComputeOptions) {
    const what = `${this.estimator}.fit`;
    const rows = await toRows(X, undefined, what);
    const info = await inspect(rows, what, { moments: !minmax, minmax }, options);
    this.nFeaturesIn = rows.d;
    this.nSamplesSeen = info.n;
    this.featureNames = rows.columns;
    return info.moments!;
  }

  /** Scale X lazily: nothing runs until the result is computed. */
  transform<X extends MatrixInput>(X: X): Transformed<X> {
    return this.apply(X, "transform", false) as Transformed<X>;
  }

  /** Undo transform (lazily). */
  inverseTransform<X extends MatrixInput>(X: X): Transformed<X> {
    return this.apply(X, "inverseTransform", true) as Transformed<X>;
  }

  async fitTransform<X extends MatrixInput>(X: X, options?: ComputeOptions): Promise<Transformed<X>> {
    await this.fit(X, options);
    return this.transform(X);
  }

  abstract fit(X: MatrixInput, options?: ComputeOptions): Promise<this>;

  /** The constructor options. */
  protected abstract params(): Record<string, unknown>;
  /** What fit learnt beyond the shared fields (null: not fitted). */
  protected abstract fittedArrays(): Record<string, Float64Array> | null;

  /** `{ format: "tessera-ml", version: 1, estimator, params, fitted }`; see ml.fromJSON. */
  toJSON(): EstimatorJSON {
    const arrays = this.fittedArrays();
    const fitted = arrays
      ? { nFeaturesIn: this.nFeaturesIn, nSamplesSeen: this.nSamplesSeen, featureNames: this.featureNames, ...Object.fromEntries(Object.entries(arrays).map(([k, v]) => [k, encodeNumbers(v)])) }
      : null;
    return estimatorJSON(this.estimator, this.params(), fitted);
  }

  /** Set the shared fields from JSON; the caller sets its arrays. */
  protected loadShared(f: Fields): void {
    this.nFeaturesIn = f.int("nFeaturesIn");
    this.nSamplesSeen = f.int("nSamplesSeen");
    this.featureNames = f.strings("featureNames");
  }

  private apply(X: MatrixInput, method: string, inverse: boolean): ChunkedArray | DataFrame {
    const what = `${this.estimator}.${method}`;
    const all = this.steps();
    if (!all) throw notFitted(this.estimator, method);
    const steps = inverse ? all.inverse : all.forward;
    const d = this.nFeaturesIn;
    if (X instanceof DataFrame) {
      const names = this.featureNames;
      if (!names) throw new TesseraError(`${what}: this ${this.estimator} was fitted on an array, so it does not know which dataframe columns to scale; fit it on a dataframe`);
      const columns: Record<string, ReturnType<typeof col>> = {};
      names.forEach((name, j) => {
        let e = col(name);
        for (const [op, v] of steps) e = e[op](v[j]!);
        columns[name] = e;
      });
      return X.assign(columns);
    }
    const A = X instanceof ChunkedArray ? X : toMatrix(X, what);
    if (A.ndim !== 2) throw new TesseraError(`${what}: X must be 2-d (samples x features); got shape [${A.shape}]`);
    if (A.shape[1] !== d) throw new TesseraError(`${what}: X has ${A.shape[1]} features, but this ${this.estimator} was fitted with ${d}`);
    // Two fused elementwise steps with a [d] vector broadcast over the rows: one pass per block.
    let out = A.dtype === "float64" ? A : A.astype("float64");
    for (const [op, v] of steps) out = out[op](fromTypedArray(v));
    return out;
  }
}

export interface StandardScalerOptions {
  /** Subtract the mean (default true). */
  withMean?: boolean;
  /** Divide by the standard deviation (default true). */
  withStd?: boolean;
}

/** Standardize features: (x - mean) / std, per column. */
export class StandardScaler extends Scaler {
  protected readonly estimator = "StandardScaler";
  readonly withMean: boolean;
  readonly withStd: boolean;
  /** Per column, after fit. */
  mean: Float64Array | null = null;
  var: Float64Array | null = null;
  scale: Float64Array | null = null;

  constructor(options: StandardScalerOptions = {}) {
    super();
    checkKeys("StandardScaler", options, ["withMean", "withStd"]);
    this.withMean = boolOption("StandardScaler", "withMean", options.withMean, true);
    this.withStd = boolOption("StandardScaler", "withStd", options.withStd, true);
  }

  /** Compute the column means and variances (one pass over X). */
  async fit(X: MatrixInput, options?: ComputeOptions): Promise<this> {
    const m = await this.stats(X, false, options);
    this.mean = Float64Array.from(m.mean);
    this.var = m.m2.map((s) => s / m.n);
    this.scale = this.var.map((v) => (Math.sqrt(v) < ZERO_SCALE ? 1 : Math.sqrt(v)));
    return this;
  }

  protected steps(): { forward: Step[]; inverse: Step[] } | null {
    if (!this.mean || !this.scale) return null;
    const forward: Step[] = [];
    const inverse: Step[] = [];
    if (this.withMean) forward.push(["sub", this.mean]);
    if (this.withStd) forward.push(["div", this.scale]);
    if (this.withStd) inverse.push(["mul", this.scale]);
    if (this.withMean) inverse.push(["add", this.mean]);
    return { forward, inverse };
  }

  protected params() {
    return { withMean: this.withMean, withStd: this.withStd };
  }

  protected fittedArrays() {
    return this.mean && this.var && this.scale ? { mean: this.mean, var: this.var, scale: this.scale } : null;
  }

  static fromJSON(json: EstimatorJSON): StandardScaler {
    const out = new StandardScaler(json.params as StandardScalerOptions);
    const f = fittedFields(json);
    if (f) {
      out.loadShared(f);
      const d = out.nFeaturesIn;
      [out.mean, out.var, out.scale] = [f.f64("mean", d), f.f64("var", d), f.f64("scale", d)];
    }
    return out;
  }
}

export interface MinMaxScalerOptions {
  /** The range features are mapped to (default [0, 1]). */
  featureRange?: readonly [number, number];
}

/** Scale features to a range: (x - min) / (max - min) * (hi - lo) + lo, per column. */
export class MinMaxScaler extends Scaler {
  protected readonly estimator = "MinMaxScaler";
  readonly featureRange: readonly [number, number];
  dataMin: Float64Array | null = null;
  dataMax: Float64Array | null = null;
  dataRange: Float64Array | null = null;
  /** x * scale + min is the transform (scikit-learn's scale_ and min_). */
  scale: Float64Array | null = null;
  min: Float64Array | null = null;

  constructor(options: MinMaxScalerOptions = {}) {
    super();
    checkKeys("MinMaxScaler", options, ["featureRange"]);
    const r = options.featureRange ?? [0, 1];
    if (!Array.isArray(r) || r.length !== 2 || !r.every(Number.isFinite) || !(r[0] < r[1])) {
      throw new TesseraError(`MinMaxScaler: featureRange must be [lo, hi] with lo < hi, got ${JSON.stringify(options.featureRange)}`);
    }
    this.featureRange = [r[0], r[1]];
  }

  /** Compute the column minima and maxima (one pass over X). */
  async fit(X: MatrixInput, options?: ComputeOptions): Promise<this> {
    const m = await this.stats(X, true, options);
    const [lo, hi] = this.featureRange;
    this.dataMin = Float64Array.from(m.min!);
    this.dataMax = Float64Array.from(m.max!);
    this.dataRange = this.dataMax.map((x, j) => x - this.dataMin![j]!);
    this.scale = this.dataRange.map((r) => (hi - lo) / (r < ZERO_SCALE ? 1 : r));
    this.min = this.dataMin.map((x, j) => lo - x * this.scale![j]!);
    return this;
  }

  protected steps(): { forward: Step[]; inverse: Step[] } | null {
    if (!this.scale || !this.min) return null;
    return { forward: [["mul", this.scale], ["add", this.min]], inverse: [["sub", this.min], ["div", this.scale]] };
  }

  protected params() {
    return { featureRange: [...this.featureRange] };
  }

  protected fittedArrays() {
    return this.dataMin && this.dataMax && this.dataRange && this.scale && this.min
      ? { dataMin: this.dataMin, dataMax: this.dataMax, dataRange: this.dataRange, scale: this.scale, min: this.min }
      : null;
  }

  static fromJSON(json: EstimatorJSON): MinMaxScaler {
    const out = new MinMaxScaler(json.params as MinMaxScalerOptions);
    const f = fittedFields(json);
    if (f) {
      out.loadShared(f);
      const d = out.nFeaturesIn;
      [out.dataMin, out.dataMax, out.dataRange] = [f.f64("dataMin", d), f.f64("dataMax", d), f.f64("dataRange", d)];
      [out.scale, out.min] = [f.f64("scale", d), f.f64("min", d)];
    }
    return out;
  }
}

export interface RobustScalerOptions {
  /** Subtract the median (default true). */
  withCentering?: boolean;
  /** Divide by the interquantile range (default true). */
  withScaling?: boolean;
  /** The quantiles, in percent, whose difference is the scale (default [25, 75]). */
  quantileRange?: readonly [number, number];
  /**
   * Divide the scale further by the interquantile range of the standard normal distribution,
   * so that normally distributed features get variance 1 (default false, scikit-learn's).
   */
  unitVariance?: boolean;
}

/** Scale features robustly to outliers: (x - median) / (q_hi - q_lo), per column. */
export class RobustScaler extends Scaler {
  protected readonly estimator = "RobustScaler";
  readonly withCentering: boolean;
  readonly withScaling: boolean;
  readonly quantileRange: readonly [number, number];
  readonly unitVariance: boolean;
  /** Per column, after fit: the median, and the interquantile range (1 for a constant column; over the normal's with unitVariance). */
  center: Float64Array | null = null;
  scale: Float64Array | null = null;

  constructor(options: RobustScalerOptions = {}) {
    super();
    const E = "RobustScaler";
    checkKeys(E, options, ["withCentering", "withScaling", "quantileRange", "unitVariance"]);
    this.withCentering = boolOption(E, "withCentering", options.withCentering, true);
    this.withScaling = boolOption(E, "withScaling", options.withScaling, true);
    const r = options.quantileRange ?? [25, 75];
    if (!Array.isArray(r) || r.length !== 2 || !r.every((q) => typeof q === "number" && q >= 0 && q <= 100) || !(r[0] <= r[1])) {
      throw new TesseraError(`RobustScaler: quantileRange must be [lo, hi] with 0 <= lo <= hi <= 100, got ${JSON.stringify(options.quantileRange)}`);
    }
    this.quantileRange = [r[0], r[1]];
    this.unitVariance = boolOption(E, "unitVariance", options.unitVariance, false);
    if (this.unitVariance && (r[0] === 0 || r[1] === 100 || r[0] === r[1])) {
      throw new TesseraError(`RobustScaler: unitVariance needs 0 < lo < hi < 100 in quantileRange (the normal's quantiles there are finite and distinct), got ${JSON.stringify(r)}`);
    }
  }

  /** Compute the column medians and quantiles (one pass; the sorted columns come to the client). */
  async fit(X: MatrixInput, options?: ComputeOptions): Promise<this> {
    const what = "RobustScaler.fit";
    const input = await prepInput(X, what, false);
    const p = await reducePrep<SortedPartial>(input, "ml.prep.sorted", "ml.prep.sorted.combine", { nan: "error" }, what, options);
    if (p.problem) throw new TesseraError(`${what}: ${p.problem}`);
    if (p.rows === 0) throw new TesseraError(`${what}: X has no rows`);
    const [lo, hi] = this.quantileRange;
    // scikit-learn: a zero range becomes 1 first, then everything is divided by the normal's range.
    const adjust = this.unitVariance ? normalQuantile(hi / 100) - normalQuantile(lo / 100) : 1;
    this.center = Float64Array.from(p.cols, (c) => quantile(c, 50));
    this.scale = Float64Array.from(p.cols, (c) => {
      const r = quantile(c, hi) - quantile(c, lo);
      return (r < ZERO_SCALE ? 1 : r) / adjust;
    });
    this.nFeaturesIn = input.rows.d;
    this.nSamplesSeen = p.rows;
    this.featureNames = input.columns;
    return this;
  }

  protected steps(): { forward: Step[]; inverse: Step[] } | null {
    if (!this.center || !this.scale) return null;
    const forward: Step[] = [];
    const inverse: Step[] = [];
    if (this.withCentering) forward.push(["sub", this.center]);
    if (this.withScaling) forward.push(["div", this.scale]);
    if (this.withScaling) inverse.push(["mul", this.scale]);
    if (this.withCentering) inverse.push(["add", this.center]);
    return { forward, inverse };
  }

  protected params() {
    return { withCentering: this.withCentering, withScaling: this.withScaling, quantileRange: [...this.quantileRange], unitVariance: this.unitVariance };
  }

  protected fittedArrays() {
    return this.center && this.scale ? { center: this.center, scale: this.scale } : null;
  }

  static fromJSON(json: EstimatorJSON): RobustScaler {
    const out = new RobustScaler(json.params as RobustScalerOptions);
    const f = fittedFields(json);
    if (f) {
      out.loadShared(f);
      [out.center, out.scale] = [f.f64("center", out.nFeaturesIn), f.f64("scale", out.nFeaturesIn)];
    }
    return out;
  }
}

/** numpy's default ("linear") q-th percentile of sorted values. */
export function quantile(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (q / 100) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  const t = pos - lo;
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  // numpy's _lerp: from the nearer end, so q = 100 gives the maximum exactly.
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

/**
 * The standard normal's p-quantile (scipy's norm.ppf) for 0 < p < 1: Wichura's algorithm
 * AS 241 (PPND16), accurate to about 1e-16.
 */
export function normalQuantile(p: number): number {
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (
      (q *
        (((((((2509.0809287301226727 * r + 33430.575583588128105) * r + 67265.770927008700853) * r + 45921.953931549871457) * r + 13731.693765509461125) * r + 1971.5909503065514427) * r + 133.14166789178437745) * r +
          3.387132872796366608)) /
      (((((((5226.495278852545925 * r + 28729.085735721942674) * r + 39307.89580009271061) * r + 21213.794301586595867) * r + 5394.1960214247511077) * r + 687.1870074920579083) * r + 42.313330701600911252) * r + 1)
    );
  }
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let v: number;
  if (r <= 5) {
    r -= 1.6;
    v =
      (((((((7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r + 0.24178072517745061177) * r + 1.27045825245236838258) * r + 3.64784832476320460504) * r + 5.7694972214606914055) * r + 4.6303378461565452959) * r +
        1.42343711074968357734) /
      (((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r + 0.0151986665636164571966) * r + 0.14810397642748007459) * r + 0.68976733498510000455) * r + 1.6763848301838038494) * r + 2.05319162663775882187) * r + 1);
  } else {
    r -= 5;
    v =
      (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r + 0.0012426609473880784386) * r + 0.026532189526576123093) * r + 0.29656057182850489123) * r + 1.7848265399172913358) * r + 5.4637849111641143699) * r +
        6.6579046435011037772) /
      (((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r + 1.8463183175100546818e-5) * r + 7.868691311456132591e-4) * r + 0.0148753612908506148525) * r + 0.13692988092273580531) * r + 0.59983220655588793769) * r + 1);
  }
  return q < 0 ? -v : v;
}

registerEstimator("StandardScaler", StandardScaler.fromJSON);
registerEstimator("MinMaxScaler", MinMaxScaler.fromJSON);
registerEstimator("RobustScaler", RobustScaler.fromJSON);
