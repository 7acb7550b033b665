/**
 * What SGDClassifier and SGDRegressor share (see sgd.ts): options, fit (epochs until the loss or
 * the validation score stops improving), partialFit, a pass over the blocks as a chain of
 * `ml.sgd` tasks carrying the model state, adopting the state's (averaged) weights, and JSON.
 */

import type { ComputeOptions } from "../client/current.js";
import { TesseraError } from "../errors.js";
import { MaterializedLayer } from "../graph/layers.js";
import { opSpec } from "../graph/spec.js";
import { Task, TaskRef, blockKey, type GraphNode, type Key } from "../graph/task.js";
import { randomToken } from "../graph/tokenize.js";
import { ChunkedArray } from "../array/core.js";
import { DataFrame } from "../dataframe/dataframe.js";
import { toRows, type MatrixInput, type Rows, type TargetInput } from "./data.js";
import { boolOption, intOption, notFitted, numberOption } from "./estimator.js";
import { mapBlocks } from "./blockwise.js";
import { foldScale, initialState, optimalInit, rowWhere, sgdRows, startPass, validationMask, validationScore, type SgdBlockSpec, type SgdLearningRate, type SgdLoss, type SgdParams, type SgdPenalty, type SgdState, type ValidationPartial, type ValidationSpec } from "./ops-sgd.js";
import { permutation } from "./ops-postfit.js";
import { checkSeed } from "./random.js";
import { estimatorJSON, type EstimatorJSON } from "./serialize.js";
import { GraphValue, computeValue, inspect, persistRows, reduceBlocks, rowOffsets } from "./run.js";
import { plainMatrix, plainTarget, persistWeights, distinctCounts, trueWeights, finishValidation, checkSplit, type SampleWeight } from "./sgd-input.js";

export type Predicted<X> = X extends DataFrame ? DataFrame : ChunkedArray;

export interface CommonOptions {
  /** "l2" (default), "l1", "elasticnet" or null. */
  penalty?: SgdPenalty;
  /** Regularization strength; also sets the "optimal" learning rate (default 1e-4). */
  alpha?: number;
  /** Elastic-net mixing: 0 is l2, 1 is l1 (default 0.15). */
  l1Ratio?: number;
  fitIntercept?: boolean;
  /** Epochs of fit at most (default 1000). */
  maxIter?: number;
  /** Stop when an epoch's summed loss has not dropped by tol·n for nIterNoChange epochs; null: never (default 1e-3). */
  tol?: number | null;
  nIterNoChange?: number;
  /** Shuffle rows within each block every epoch (default true). */
  shuffle?: boolean;
  seed?: number;
  learningRate?: SgdLearningRate;
  eta0?: number;
  powerT?: number;
  /** Huber's threshold (default 0.1). */
  epsilon?: number;
  /** Average the iterates: true (from the first sample), an integer (from that sample on), or false (default). */
  average?: boolean | number;
  /** Stop fit on a held-out validation split's score instead of the training loss (default false). */
  earlyStopping?: boolean;
  /** The fraction held out with earlyStopping (default 0.1). */
  validationFraction?: number;
}

export interface SgdFitOptions extends ComputeOptions {
  sampleWeight?: SampleWeight;
}

export interface PartialFitOptions extends ComputeOptions {
  /** Every class y may have (a classifier's first partialFit needs them). */
  classes?: readonly number[];
  /** @internal the order of X's blocks for this pass (Incremental's shuffleBlocks). */
  blockOrder?: readonly number[];
  sampleWeight?: SampleWeight;
}

export const COMMON = ["penalty", "alpha", "l1Ratio", "fitIntercept", "maxIter", "tol", "nIterNoChange", "shuffle", "seed", "learningRate", "eta0", "powerT", "epsilon", "average", "earlyStopping", "validationFraction"] as const;
const RATES: readonly SgdLearningRate[] = ["optimal", "constant", "invscaling", "adaptive"];

export abstract class BaseSGD {
  readonly loss: SgdLoss;
  readonly penalty: SgdPenalty;
  readonly alpha: number;
  readonly l1Ratio: number;
  readonly fitIntercept: boolean;
  readonly maxIter: number;
  readonly tol: number | null;
  readonly nIterNoChange: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly learningRate: SgdLearningRate;
  readonly eta0: number;
  readonly powerT: number;
  readonly epsilon: number;
  /** Averaging starts at this sample (0: off; true is 1). */
  readonly average: number;
  readonly earlyStopping: boolean;
  readonly validationFraction: number;
  /** Weights, row-major [1 or nClasses, nFeaturesIn] (after fit): the averaged ones once averaging has run long enough. */
  coef: Float64Array | null = null;
  nFeaturesIn = 0;
  featureNames: string[] | null = null;
  /** Epochs of the last fit (the most any class took). */
  nIter = 0;
  /** scikit-learn's t_: 1 + the rows the updates have seen. */
  t = 1;
  /** Passes over data so far (partialFit calls and epochs): seeds each pass's shuffle. */
  protected passes = 0;
  protected state: SgdState | null = null;
  /** The intercepts that go with coef (averaged or not). */
  protected bFitted: Float64Array | null = null;
  /** Per epoch of the last fit with earlyStopping: the validation score of each model. */
  validationScores: number[][] = [];
  protected abstract readonly name: string;

  protected constructor(E: string, o: CommonOptions & { loss?: string }, losses: readonly SgdLoss[], defaults: { loss: SgdLoss; learningRate: SgdLearningRate; eta0: number; powerT: number }) {
    if (o.loss !== undefined && !losses.includes(o.loss as SgdLoss)) throw new TesseraError(`${E}: loss must be one of ${losses.map((l) => JSON.stringify(l)).join(", ")}; got ${JSON.stringify(o.loss)}`);
    this.loss = (o.loss as SgdLoss | undefined) ?? defaults.loss;
    if (o.penalty !== undefined && o.penalty !== null && !["l2", "l1", "elasticnet"].includes(o.penalty)) throw new TesseraError(`${E}: penalty must be "l2", "l1", "elasticnet" or null; got ${JSON.stringify(o.penalty)}`);
    this.penalty = o.penalty === undefined ? "l2" : o.penalty;
    this.alpha = numberOption(E, "alpha", o.alpha, 1e-4, 0, Infinity);
    this.l1Ratio = numberOption(E, "l1Ratio", o.l1Ratio, 0.15, 0, 1);
    this.fitIntercept = boolOption(E, "fitIntercept", o.fitIntercept, true);
    this.maxIter = intOption(E, "maxIter", o.maxIter, 1000, 1);
    this.tol = o.tol === null ? null : numberOption(E, "tol", o.tol, 1e-3, -Infinity, Infinity);
    this.nIterNoChange = intOption(E, "nIterNoChange", o.nIterNoChange, 5, 1);
    this.shuffle = boolOption(E, "shuffle", o.shuffle, true);
    this.seed = checkSeed(o.seed ?? 0, E);
    if (o.learningRate !== undefined && !RATES.includes(o.learningRate)) throw new TesseraError(`${E}: learningRate must be one of ${RATES.map((r) => JSON.stringify(r)).join(", ")}; got ${JSON.stringify(o.learningRate)}`);
    this.learningRate = o.learningRate ?? defaults.learningRate;
    this.eta0 = numberOption(E, "eta0", o.eta0, defaults.eta0, 0, Infinity);
    this.powerT = numberOption(E, "powerT", o.powerT, defaults.powerT, -Infinity, Infinity);
    this.epsilon = numberOption(E, "epsilon", o.epsilon, 0.1, 0, Infinity);
    if (o.average !== undefined && typeof o.average !== "boolean" && !(Number.isInteger(o.average) && o.average >= 1)) throw new TesseraError(`${E}: average must be true, false or an integer >= 1 (the sample to start averaging at); got ${JSON.stringify(o.average)}`);
    this.average = o.average === true ? 1 : o.average === false || o.average === undefined ? 0 : o.average;
    this.earlyStopping = boolOption(E, "earlyStopping", o.earlyStopping, false);
    this.validationFraction = numberOption(E, "validationFraction", o.validationFraction, 0.1, 0, 1, { lo: true, hi: true });
    if (this.learningRate === "optimal" && this.alpha === 0) throw new TesseraError(`${E}: alpha must be > 0 with learningRate "optimal" (it sets the step size)`);
    if (this.learningRate !== "optimal" && this.eta0 <= 0) throw new TesseraError(`${E}: eta0 must be > 0 with learningRate ${JSON.stringify(this.learningRate)}`);
  }

  /** The options this estimator was made with (what a search clones it from). */
  getParams(): Record<string, unknown> {
    const p: Record<string, unknown> = { loss: this.loss };
    for (const k of COMMON) p[k] = this[k];
    p.average = this.average === 0 ? false : this.average;
    return p;
  }

  /** The classes of a classifier (null for a regressor) for a fit on y's `found` labels. */
  protected abstract fitClasses(found: number[] | null, what: string): number[] | null;

  /** Per class, its weight (classifiers; null: all 1). counts: rows per class, for "balanced". */
  protected classWeights(_classes: number[] | null, _counts: number[] | null, _what: string): number[] | null {
    return null;
  }

  protected params(d: number, classes: number[] | null, weights: number[] | null = null): SgdParams {
    const K = classes === null || classes.length === 2 ? 1 : classes.length;
    const cw = weights ?? new Array<number>(classes?.length ?? 1).fill(1);
    return {
      average: this.average,
      // Binary: +1 is classes[1], -1 classes[0]; one-vs-rest: +1 is class k, the rest weigh 1 (scikit-learn's).
      weightPos: K === 1 ? [classes ? cw[1]! : 1] : cw.slice(0, K),
      weightNeg: K === 1 ? [classes ? cw[0]! : 1] : new Array<number>(K).fill(1),
      d,
      K,
      loss: this.loss,
      penalty: this.penalty,
      alpha: this.alpha,
      l1Ratio: this.penalty === "l1" ? 1 : this.penalty === "elasticnet" ? this.l1Ratio : 0,
      epsilon: this.epsilon,
      learningRate: this.learningRate,
      eta0: this.eta0,
      powerT: this.powerT,
      optimalInit: this.learningRate === "optimal" ? optimalInit(this.loss, this.epsilon, this.alpha) : 0,
      fitIntercept: this.fitIntercept,
      classes,
    };
  }

  protected abstract get classList(): number[] | null;

  /** Fit from scratch: epochs until the loss (or the validation score) stops improving (per class) or maxIter. */
  async fit(X: MatrixInput, y: TargetInput, options: SgdFitOptions = {}): Promise<this> {
    const what = `${this.name}.fit`;
    if (y === undefined) throw new TesseraError(`${what}: y is missing`);
    const { sampleWeight, ...compute } = options;
    const validation = this.earlyStopping ? { fraction: this.validationFraction, seed: this.seed, stratify: this.isClassifier } : null;
    this.validationScores = [];
    const plain = plainMatrix(X, what);
    if (plain) {
      const yv = plainTarget(y, plain.n, what);
      const sw = sampleWeight === undefined ? null : plainTarget(sampleWeight as TargetInput, plain.n, what, "sampleWeight");
      const found = this.isClassifier ? distinctCounts(yv, what) : null;
      const classes = this.fitClasses(found ? found.classes : null, what);
      const params = this.params(plain.d, classes, this.classWeights(classes, found ? found.counts : null, what));
      const mask = validation ? validationMask(validation, yv, 0) : null;
      if (mask) checkSplit(mask, what);
      this.passes = 0;
      const score = mask ? async (s: SgdState) => finishValidation(validationScore(params, trueWeights(s, params.d), s.b, plain.data, yv, sw, mask), this.isClassifier) : null;
      await this.epochs(params, plain.n, async (s) => {
        const order = this.shuffle ? permutation(plain.n, this.seed, this.stream(0)) : null;
        sgdRows(params, s, plain.data, yv, plain.n, order, rowWhere(0, 0), sw, mask);
        return s;
      }, score, what, compute);
      this.featureNames = null;
      return this;
    }
    const rows = await toRows(X, y, what);
    const data = await persistRows(rows, what, compute);
    const weights = sampleWeight === undefined ? null : await persistWeights(sampleWeight, rows, what, compute).catch((err) => (data.held.release(), Promise.reject(err)));
    try {
      const info = await inspect(data, what, { labels: this.isClassifier }, compute);
      const classes = this.fitClasses(info.classes, what);
      const params = this.params(rows.d, classes, this.classWeights(classes, info.classCounts, what));
      const extra = weights?.keys;
      this.passes = 0;
      const score = validation
        ? async (s: SgdState) => {
            const spec = { params, W: trueWeights(s, params.d), b: s.b, validation, weighted: extra !== undefined };
            const p = await reduceBlocks<ValidationPartial>({ ...data, external: [...data.external, ...(extra ?? [])] }, { name: "ml-sgd-validate", op: "ml.sgd.validate", combine: "ml.sum", extra, spec: (block) => ({ ...spec, block }) }, what, compute);
            if (p.n === 0) throw new TesseraError(`${what}: the validation split is empty; raise validationFraction (${this.validationFraction}) or give more rows`);
            return finishValidation(p, this.isClassifier);
          }
        : null;
      await this.epochs(params, info.n, (s) => this.pass(data, params, s, null, info.offsets, what, compute, extra ?? null, validation), score, what, compute);
      this.featureNames = rows.columns;
      return this;
    } finally {
      data.held.release();
      weights?.held.release();
    }
  }

  protected abstract get isClassifier(): boolean;

  private async epochs(params: SgdParams, n: number, pass: (s: SgdState) => Promise<SgdState>, score: ((s: SgdState) => Promise<number[]>) | null, what: string, options: ComputeOptions): Promise<void> {
    const K = params.K;
    let state = initialState(params);
    // The loss must fall (best is the lowest), or the validation score rise (best is the highest).
    const best = new Float64Array(K).fill(score ? -Infinity : Infinity);
    const stale = new Int32Array(K);
    const epochsOf = new Int32Array(K).fill(this.maxIter);
    for (let epoch = 0; epoch < this.maxIter && state.active.some(Boolean); epoch++) {
      options.signal?.throwIfAborted();
      state = await pass(startPass(state));
      this.passes++;
      if (state.problem) throw new TesseraError(`${what}: ${state.problem}`);
      checkFinite(state, epoch, what);
      const scores = score ? await score(state) : null;
      if (scores) this.validationScores.push(scores);
      if (this.tol === null) continue;
      for (let k = 0; k < K; k++) {
        if (!state.active[k]) continue;
        if (scores) {
          stale[k] = scores[k]! < best[k]! + this.tol ? stale[k]! + 1 : 0;
          if (scores[k]! > best[k]!) best[k] = scores[k]!;
        } else {
          const loss = state.sumloss[k]!;
          stale[k] = loss > best[k]! - this.tol * n ? stale[k]! + 1 : 0;
          if (loss < best[k]!) best[k] = loss;
        }
        if (stale[k]! < this.nIterNoChange) continue;
        if (this.learningRate === "adaptive" && state.eta[k]! > 1e-6) {
          state.eta[k] = state.eta[k]! / 5;
          stale[k] = 0;
        } else {
          state.active[k] = false;
          epochsOf[k] = epoch + 1;
        }
      }
    }
    this.nIter = Math.max(...epochsOf);
    this.adopt(params, state);
  }

  /** Seed stream of pass p (block b adds to it). */
  protected stream(block: number): number {
    return 2 ** 40 + this.passes * 2 ** 20 + block;
  }

  /** One pass over the blocks (in `order`, default 0..n-1): a chain of ml.sgd tasks. */
  protected async pass(rows: Rows, params: SgdParams, state: SgdState, order: readonly number[] | null, offsets: number[] | null, what: string, options: ComputeOptions, weights: readonly Key[] | null = null, validation: ValidationSpec | null = null): Promise<SgdState> {
    const name = `ml-sgd-${randomToken()}`;
    const nodes: GraphNode[] = [];
    const blocks = order ?? rows.x.map((_, i) => i);
    if (blocks.length === 0) throw new TesseraError(`${what}: X has no blocks`);
    let prev: Key | null = null;
    blocks.forEach((b, step) => {
      const spec: SgdBlockSpec = { params, weighted: weights !== null, validation, shuffle: this.shuffle ? { seed: this.seed, stream: this.stream(b) } : null, block: b, offset: offsets ? offsets[b]! : null };
      if (prev === null) spec.state = state;
      const key = blockKey(name, [step]);
      const w = weights ? [new TaskRef(weights[b]!)] : [];
      nodes.push(new Task(key, "ml.sgd", [opSpec(spec), new TaskRef(rows.x[b]!), new TaskRef(rows.y![b]!), ...w, ...(prev ? [new TaskRef(prev)] : [])]));
      prev = key;
    });
    const graph = rows.graph.withLayer(new MaterializedLayer(name, nodes, [...rows.graph.layers.keys()]));
    return computeValue(new GraphValue(graph, [prev!], [...rows.external, ...(weights ?? [])], (v) => v[0] as SgdState), what, options);
  }

  /** Take the state's weights as the fitted model (its scale folded in, as at the end of scikit-learn's _plain_sgd). */
  protected adopt(params: Pick<SgdParams, "d">, state: SgdState): void {
    foldScale(state, params.d);
    this.state = state;
    // scikit-learn: the averaged coefficients once averaging has seen a sample (average <= t - 1).
    const averaged = state.avg !== null && this.average > 0 && this.average <= state.t - 1;
    this.coef = Float64Array.from(averaged ? state.avg!.aw : state.W);
    this.bFitted = Float64Array.from(averaged ? state.avg!.b : state.b);
    this.nFeaturesIn = params.d;
    this.t = state.t;
    this.setIntercept(this.bFitted);
  }

  protected abstract setIntercept(b: Float64Array): void;

  /**
   * One more pass over (X, y) from the current state: plain data on the client, a collection
   * as a chain of tasks over its blocks (in order). A classifier's first call needs `classes`.
   */
  async partialFit(X: MatrixInput, y: TargetInput, options: PartialFitOptions = {}): Promise<this> {
    const what = `${this.name}.partialFit`;
    if (y === undefined) throw new TesseraError(`${what}: y is missing`);
    const { classes: given, blockOrder, sampleWeight, ...compute } = options;
    const plain = plainMatrix(X, what);
    const d = plain ? plain.d : null;
    const classes = this.partialClasses(given, what);
    const prepare = (d: number): SgdParams => {
      if (this.state && d !== this.nFeaturesIn) throw new TesseraError(`${what}: X has ${d} features, but the model was fitted with ${this.nFeaturesIn}`);
      return this.params(d, classes, this.classWeights(classes, null, what));
    };
    if (plain) {
      const params = prepare(d!);
      const yv = plainTarget(y, plain.n, what);
      const sw = sampleWeight === undefined ? null : plainTarget(sampleWeight as TargetInput, plain.n, what, "sampleWeight");
      const s = startPass(this.state ?? initialState(params));
      const order = this.shuffle ? permutation(plain.n, this.seed, this.stream(0)) : null;
      sgdRows(params, s, plain.data, yv, plain.n, order, rowWhere(0, 0), sw);
      this.passes++;
      if (s.problem) throw new TesseraError(`${what}: ${s.problem}`);
      checkFinite(s, 0, what);
      this.adopt(params, s);
      this.featureNames = null;
      return this;
    }
    const rows = await toRows(X, y, what);
    const params = prepare(rows.d);
    if (blockOrder) {
      for (const b of blockOrder) if (!Number.isInteger(b) || b < 0 || b >= rows.x.length) throw new TesseraError(`${what}: block ${b} is out of range (X has ${rows.x.length} blocks)`);
    }
    const weights = sampleWeight === undefined ? null : await persistWeights(sampleWeight, rows, what, compute);
    let s: SgdState;
    try {
      s = await this.pass(rows, params, startPass(this.state ?? initialState(params)), blockOrder ?? null, rows.rows ? rowOffsets(rows.rows) : null, what, compute, weights?.keys ?? null);
    } finally {
      weights?.held.release();
    }
    this.passes++;
    if (s.problem) throw new TesseraError(`${what}: ${s.problem}`);
    checkFinite(s, 0, what);
    this.adopt(params, s);
    this.featureNames = rows.columns;
    return this;
  }

  protected abstract partialClasses(given: readonly number[] | undefined, what: string): number[] | null;

  protected weights(method: string): { d: number; K: number; W: Float64Array; b: Float64Array } {
    if (!this.coef || !this.state || !this.bFitted) throw notFitted(this.name, method);
    return { d: this.nFeaturesIn, K: this.bFitted.length, W: this.coef, b: this.bFitted };
  }

  /** w·x + b per row (per class for more than two classes), lazily. */
  decisionFunction<X extends MatrixInput>(X: X): Predicted<X> {
    const m = this.weights("decisionFunction");
    const names = m.K === 1 ? ["decision"] : this.classList!.map((c) => `decision_${c}`);
    return mapBlocks(X, { map: { fn: "sgd", args: { kind: "decision", ...m } }, d: m.d, cols: m.K === 1 ? null : m.K, names, columns: this.featureNames, prefix: "sgd-decision", what: `${this.name}.decisionFunction` }) as Predicted<X>;
  }

  /** The model as JSON (ml.fromJSON makes it again). */
  toJSON(): EstimatorJSON {
    const params = this.getParams();
    if (!this.state || !this.coef) return estimatorJSON(this.name, params, null);
    const s = this.state;
    // Weights are finite (a fit that overflows throws), so plain numbers do.
    return estimatorJSON(this.name, params, {
        nFeaturesIn: this.nFeaturesIn,
        featureNames: this.featureNames,
        classes: this.classList,
        nIter: this.nIter,
        passes: this.passes,
        state: { W: [...s.W], b: [...s.b], t: s.t, active: s.active, eta: [...s.eta], u: [...s.u], q: s.q ? [...s.q] : null, avg: s.avg ? { aw: [...s.avg.aw], b: [...s.avg.b] } : null },
    });
  }

  /** Restore what toJSON saved (for fromJSON). */
  protected restore(fitted: Record<string, unknown> | null): this {
    if (!fitted) return this;
    const f = fitted as { nFeaturesIn: number; featureNames: string[] | null; nIter: number; passes: number; state: { W: number[]; b: number[]; t: number; active: boolean[]; eta: number[]; u: number[]; q: number[] | null; avg?: { aw: number[]; b: number[] } | null } };
    const st = f.state;
    const K = st.b.length;
    // The average is saved made explicit (a = 0, div = 1: foldScale ran at the end of the fit).
    const avg = st.avg ? { aw: Float64Array.from(st.avg.aw), b: Float64Array.from(st.avg.b), a: new Float64Array(K), div: new Float64Array(K).fill(1) } : this.average > 0 ? { aw: Float64Array.from(st.W), b: Float64Array.from(st.b), a: new Float64Array(K), div: new Float64Array(K).fill(1) } : null;
    const s: SgdState = { W: Float64Array.from(st.W), b: Float64Array.from(st.b), t: st.t, active: [...st.active], wscale: new Float64Array(K).fill(1), eta: Float64Array.from(st.eta), u: Float64Array.from(st.u), q: st.q ? Float64Array.from(st.q) : null, sumloss: new Float64Array(K), n: 0, problem: null, avg };
    this.adopt({ d: f.nFeaturesIn } as SgdParams, s);
    this.featureNames = f.featureNames;
    this.nIter = f.nIter;
    this.passes = f.passes;
    return this;
  }
}

function checkFinite(s: SgdState, epoch: number, what: string): void {
  if (s.W.every(Number.isFinite) && s.b.every(Number.isFinite)) return;
  throw new TesseraError(`${what}: the weights overflowed at epoch ${epoch + 1}; scale the data (StandardScaler, MinMaxScaler) or lower eta0 / alpha`);
}
