/**
 * SGDClassifier and SGDRegressor (sklearn.linear_model), fitted by plain stochastic gradient
 * descent: the update of ops-sgd.ts, scikit-learn's, row by row.
 *
 *   plain data (rows, { data, shape })   fit and partialFit run on the client, no cluster needed
 *   a tessera array or dataframe         the blocks stream through the model: one pass is a
 *                                        chain of `ml.sgd` tasks, one per block, each run on
 *                                        the worker that holds its block, the model state
 *                                        travelling from task to task (dask-ml's Incremental);
 *                                        fit persists X and y first and runs one pass per epoch
 *
 * fit: epochs until the summed loss of an epoch has not improved by tol·n for nIterNoChange
 * epochs in a row (per class, one-vs-rest), or maxIter epochs. With earlyStopping, fit holds out
 * validationFraction of the rows (per block, stratified by class for a classifier) and stops
 * when the score on them (accuracy of each one-vs-rest model's sign, or R²) has not improved by
 * tol for nIterNoChange epochs, one more pass per epoch to score. partialFit: one pass over what
 * it is given, continuing from the current state; a classifier's first call needs `classes`;
 * it trains on every row (earlyStopping is fit's).
 *
 * average: the coefficients are the running mean of the SGD iterates from sample `average` on
 * (true: 1), kept lazily as scikit-learn does, and used once t - 1 >= average. classWeight
 * ("balanced": n / (nClasses · count), or a map label -> weight) and sampleWeight multiply each
 * row's update, as in scikit-learn; sampleWeight is a 1-d array (or plain values) beside an
 * array X.
 *
 * Differences from scikit-learn: shuffle permutes the rows within each block (seeded by seed,
 * epoch and block), not the whole data, and blocks are taken in order; with shuffle false the
 * updates are scikit-learn's exactly, whatever the blocks. The validation split is drawn per
 * block (not by numpy's generator), and is scored with the true weights (scikit-learn 1.2 scores
 * the unscaled weight array).
 */

import type { ComputeOptions } from "../client/current.js";
import { TesseraError } from "../errors.js";
import type { MatrixInput, TargetInput } from "./data.js";
import { checkKeys } from "./estimator.js";
import { mapBlocks } from "./blockwise.js";
import { estimatorScore } from "./metrics.js";
import type { PredictSpec } from "./ops-predict.js";
import type { SgdLearningRate, SgdLoss, SgdPenalty } from "./ops-sgd.js";
import { blockOutput } from "./output.js";
import { registerEstimator, type EstimatorJSON } from "./serialize.js";
import { checkClasses } from "./sgd-input.js";
import { BaseSGD, COMMON, type CommonOptions, type Predicted } from "./sgd-base.js";

export interface SGDClassifierOptions extends CommonOptions {
  /** "hinge" (default, a linear SVM), "log_loss" (logistic regression) or "modified_huber". */
  loss?: "hinge" | "log_loss" | "modified_huber";
  /** Every class partialFit will see (sorted here); fit finds them in y when not given. */
  classes?: readonly number[];
  /** "balanced" (n / (nClasses · count of the class), fit only) or { label: weight } (others 1); default none. */
  classWeight?: "balanced" | Readonly<Record<number, number>> | null;
}

export interface SGDRegressorOptions extends CommonOptions {
  /** "squared_error" (default) or "huber". */
  loss?: "squared_error" | "huber";
}

/** A linear classifier (one-vs-rest for more than two classes) fitted by SGD. */
export class SGDClassifier extends BaseSGD {
  protected readonly name = "SGDClassifier";
  /** The class labels, sorted (after fit, or from options.classes). */
  classes: Float64Array | null = null;
  /** One intercept per row of coef. */
  intercept: Float64Array | null = null;
  private readonly classesOption: number[] | null;
  readonly classWeight: "balanced" | Readonly<Record<number, number>> | null;

  constructor(options: SGDClassifierOptions = {}) {
    const E = "SGDClassifier";
    checkKeys(E, options, ["loss", "classes", "classWeight", ...COMMON]);
    super(E, options, ["hinge", "log_loss", "modified_huber"], { loss: "hinge", learningRate: "optimal", eta0: 0, powerT: 0.5 });
    this.classesOption = options.classes === undefined ? null : checkClasses(options.classes, E);
    const cw = options.classWeight ?? null;
    if (cw !== null && cw !== "balanced" && !(typeof cw === "object" && !Array.isArray(cw) && Object.entries(cw).every(([k, v]) => Number.isFinite(Number(k)) && typeof v === "number" && Number.isFinite(v) && v >= 0))) {
      throw new TesseraError(`${E}: classWeight must be "balanced", null or an object { label: weight } with finite weights >= 0; got ${JSON.stringify(cw)}`);
    }
    this.classWeight = cw;
  }

  protected override classWeights(classes: number[] | null, counts: number[] | null, what: string): number[] | null {
    const cw = this.classWeight;
    if (cw === null || classes === null) return null;
    if (cw === "balanced") {
      if (!counts) throw new TesseraError(`${what}: classWeight "balanced" needs the counts of the whole y, which partialFit does not see; give weights { label: weight } instead`);
      const n = counts.reduce((a, b) => a + b, 0);
      return classes.map((_, i) => (counts[i] ? n / (classes.length * counts[i]!) : 1));
    }
    const extra = Object.keys(cw).map(Number).filter((l) => !classes.includes(l));
    if (extra.length > 0) throw new TesseraError(`${what}: classWeight has label(s) ${extra.join(", ")}, which are not among the classes [${classes.join(", ")}]`);
    return classes.map((c) => cw[c] ?? 1);
  }

  override getParams(): Record<string, unknown> {
    return { ...super.getParams(), ...(this.classesOption ? { classes: this.classesOption } : {}), ...(this.classWeight !== null ? { classWeight: this.classWeight } : {}) };
  }

  protected get isClassifier(): boolean {
    return true;
  }

  protected get classList(): number[] | null {
    return this.classes ? [...this.classes] : null;
  }

  /** The shape of coef: [1 or nClasses, nFeaturesIn]. */
  get coefShape(): [number, number] {
    return [this.coef ? this.coef.length / Math.max(1, this.nFeaturesIn) : 0, this.nFeaturesIn];
  }

  protected fitClasses(found: number[] | null, what: string): number[] {
    const classes = this.classesOption ?? found!;
    if (this.classesOption) {
      const extra = found!.filter((c) => !this.classesOption!.includes(c));
      if (extra.length > 0) throw new TesseraError(`${what}: y has label(s) ${extra.join(", ")}, which are not among the classes [${this.classesOption.join(", ")}]`);
    }
    if (classes.length < 2) throw new TesseraError(`${what}: y has one class only (${classes[0]}); a classifier needs at least two`);
    this.classes = Float64Array.from(classes);
    return classes;
  }

  protected partialClasses(given: readonly number[] | undefined, what: string): number[] {
    const g = given === undefined ? null : checkClasses(given, what);
    if (this.classes) {
      const have = [...this.classes];
      if (g && (g.length !== have.length || g.some((c, i) => c !== have[i]))) {
        throw new TesseraError(`${what}: classes [${g.join(", ")}] differ from the classes of the earlier calls [${have.join(", ")}]`);
      }
      return have;
    }
    const classes = g ?? this.classesOption;
    if (!classes) throw new TesseraError(`${what}: the first call needs classes (every label y may have), e.g. partialFit(X, y, { classes: [0, 1] })`);
    this.classes = Float64Array.from(classes);
    return classes;
  }

  protected setIntercept(b: Float64Array): void {
    this.intercept = Float64Array.from(b);
  }

  private labelSpec(method: string): PredictSpec {
    const m = this.weights(method);
    return { kind: "logistic-label", d: m.d, K: m.K, W: m.W, b: m.b, classes: [...this.classes!] };
  }

  /** Class labels per row (lazy): the class of the largest decision value (binary: > 0). */
  predict<X extends MatrixInput>(X: X): Predicted<X> {
    return blockOutput(X, { predict: this.labelSpec("predict"), prefix: "sgd-predict", names: ["prediction"], columns: this.featureNames, what: "SGDClassifier.predict" }) as Predicted<X>;
  }

  /**
   * Class probabilities (lazy), for loss "log_loss" (the sigmoid of each decision value) or
   * "modified_huber" ((clip(z, -1, 1) + 1) / 2); one-vs-rest values normalized to sum 1.
   */
  predictProba<X extends MatrixInput>(X: X): Predicted<X> {
    if (this.loss === "hinge") throw new TesseraError(`SGDClassifier.predictProba: probabilities need loss "log_loss" or "modified_huber"; this model has loss "hinge"`);
    const m = this.weights("predictProba");
    const kind = this.loss === "log_loss" ? "proba-log" : "proba-huber";
    const names = this.classList!.map((c) => `proba_${c}`);
    return mapBlocks(X, { map: { fn: "sgd", args: { kind, ...m } }, d: m.d, cols: Math.max(2, m.K), names, columns: this.featureNames, prefix: "sgd-proba", what: "SGDClassifier.predictProba" }) as Predicted<X>;
  }

  /** Mean accuracy on (X, y) (scikit-learn's score): one pass, as accuracyScore. */
  async score(X: MatrixInput, y: TargetInput, options: ComputeOptions = {}): Promise<number> {
    const predict = this.labelSpec("score");
    return estimatorScore(X, y, { op: "ml.score", d: predict.d, spec: { predict } }, "accuracy", "SGDClassifier.score", options);
  }

  static fromJSON(json: EstimatorJSON): SGDClassifier {
    const m = new SGDClassifier(json.params as SGDClassifierOptions);
    const classes = (json.fitted as { classes?: number[] } | null)?.classes;
    if (classes) m.classes = Float64Array.from(classes);
    return m.restore(json.fitted);
  }
}

/** A linear model of a real target fitted by SGD. */
export class SGDRegressor extends BaseSGD {
  protected readonly name = "SGDRegressor";
  intercept = 0;

  constructor(options: SGDRegressorOptions = {}) {
    const E = "SGDRegressor";
    checkKeys(E, options, ["loss", ...COMMON]);
    super(E, options, ["squared_error", "huber"], { loss: "squared_error", learningRate: "invscaling", eta0: 0.01, powerT: 0.25 });
  }

  protected get isClassifier(): boolean {
    return false;
  }

  protected get classList(): null {
    return null;
  }

  protected fitClasses(): null {
    return null;
  }

  protected partialClasses(given: readonly number[] | undefined, what: string): null {
    if (given !== undefined) throw new TesseraError(`${what}: classes is for classifiers; SGDRegressor takes a real target`);
    return null;
  }

  protected setIntercept(b: Float64Array): void {
    this.intercept = b[0]!;
  }

  private linearSpec(method: string): PredictSpec {
    const m = this.weights(method);
    return { kind: "linear", d: m.d, coef: m.W, intercept: m.b[0]! };
  }

  /** X·coef + intercept per row (lazy). */
  predict<X extends MatrixInput>(X: X): Predicted<X> {
    return blockOutput(X, { predict: this.linearSpec("predict"), prefix: "sgd-predict", names: ["prediction"], columns: this.featureNames, what: "SGDRegressor.predict" }) as Predicted<X>;
  }

  /** R² on (X, y) (scikit-learn's score): one pass, as r2Score. */
  async score(X: MatrixInput, y: TargetInput, options: ComputeOptions = {}): Promise<number> {
    const predict = this.linearSpec("score");
    return estimatorScore(X, y, { op: "ml.score", d: predict.d, spec: { predict } }, "r2", "SGDRegressor.score", options);
  }

  static fromJSON(json: EstimatorJSON): SGDRegressor {
    return new SGDRegressor(json.params as SGDRegressorOptions).restore(json.fitted);
  }
}

registerEstimator("SGDClassifier", (json) => SGDClassifier.fromJSON(json));
registerEstimator("SGDRegressor", (json) => SGDRegressor.fromJSON(json));

export type { SgdLoss, SgdPenalty, SgdLearningRate };
export type { Predicted, PartialFitOptions, SgdFitOptions } from "./sgd-base.js";
export type { SampleWeight } from "./sgd-input.js";
