/**
 * IncrementalSearchCV and HyperbandSearchCV (dask_ml.model_selection): models trained by
 * partialFit, one block of the training rows per call, scored on a held-out tail of each block
 * after each call.
 *
 *   IncrementalSearchCV   after call t the best max(1, floor(n0 / (1 + t)^decayRate)) models go
 *                         on (dask-ml's inverse decay), until one is left or maxIter calls.
 *   HyperbandSearchCV     Hyperband (Li et al.; dask-ml's schedule): brackets s = smax..0,
 *                         smax = floor(log_eta(maxIter)); bracket s starts
 *                         n = ceil((smax + 1) · eta^s / (s + 1)) models at r = floor(maxIter ·
 *                         eta^-s) calls and runs successive halving: step i keeps the best
 *                         floor(n · eta^-i) and trains them to round(r · eta^i) calls, until one
 *                         is left or maxIter calls. The brackets run concurrently.
 */

import type { ComputeOptions } from "../client/current.js";
import { TesseraError } from "../errors.js";
import type { MatrixInput, TargetInput } from "./data.js";
import { checkKeys, intOption, numberOption } from "./estimator.js";
import { checkSeed } from "./random.js";
import { inspect } from "./run.js";
import { persistData, foldArrays, type FoldPiece } from "./kfold.js";
import { parameterSampler, type ParamDistributions } from "./param-space.js";
import { getParams, cloneEstimator, scoreWith, checkScoring, ranks, type SearchEstimator, type Scoring } from "./search-common.js";


export interface AdaptiveOptions {
  /** Fraction of the rows held out for scoring (default 0.15): the last rows of each block. */
  testSize?: number;
  scoring?: Scoring;
  seed?: number;
  /** Classes for the classifiers' first partialFit (default: those found in y). */
  classes?: readonly number[];
}

export interface IncrementalSearchOptions extends AdaptiveOptions {
  /** Models to start (default 10). */
  nInitialParameters?: number;
  /** How fast the number of models falls: floor(n0 / (1 + t)^decayRate) after call t (default 1). */
  decayRate?: number;
  /** partialFit calls per model at most (default 100). */
  maxIter?: number;
}

export interface HyperbandOptions extends AdaptiveOptions {
  /** partialFit calls of the most-trained model (default 81). */
  maxIter?: number;
  /** eta: each halving step keeps 1/eta of the models and trains them eta times longer (default 3). */
  aggressiveness?: number;
}

export interface ModelRecord {
  modelId: number;
  params: Record<string, unknown>;
  /** partialFit calls so far and the score after each. */
  calls: number;
  scores: number[];
  bracket: number | null;
}

interface Trainer {
  train(m: Model, calls: number): Promise<void>;
}

interface Model {
  rec: ModelRecord;
  est: SearchEstimator;
}

abstract class AdaptiveSearch<E extends object> {
  readonly testSize: number;
  readonly scoring: Scoring | null;
  readonly seed: number;
  readonly classes: number[] | null;
  /** Every model, its parameters, calls and scores (after fit). */
  history: ModelRecord[] = [];
  cvResults: { params: Record<string, unknown>[]; testScore: number[]; partialFitCalls: number[]; rankTestScore: number[]; modelId: number[]; bracket: (number | null)[] } | null = null;
  bestParams: Record<string, unknown> | null = null;
  bestScore = NaN;
  bestEstimator: E | null = null;
  protected abstract readonly name: string;

  constructor(
    readonly estimator: E,
    readonly parameters: ParamDistributions,
    E: string,
    options: AdaptiveOptions,
    extra: readonly string[],
  ) {
    if (estimator === null || typeof estimator !== "object" || typeof (estimator as { partialFit?: unknown }).partialFit !== "function") throw new TesseraError(`${E}: estimator must have a partialFit method`);
    checkKeys(E, options, ["testSize", "scoring", "seed", "classes", ...extra]);
    this.testSize = numberOption(E, "testSize", options.testSize, 0.15, 0, 1, { lo: true, hi: true });
    this.scoring = checkScoring(options.scoring, E);
    this.seed = checkSeed(options.seed ?? 0, E);
    this.classes = options.classes ? [...options.classes] : null;
    getParams(estimator, E);
    parameterSampler(parameters, 1, this.seed, E);
  }

  protected abstract run(make: (params: Record<string, unknown>, bracket: number | null) => Model, trainer: Trainer): Promise<Model[]>;

  async fit(X: MatrixInput, y: TargetInput, options: ComputeOptions = {}): Promise<this> {
    const what = `${this.name}.fit`;
    const p = await persistData(X, y, what, options);
    try {
      // Hold out the last testSize of each block's rows (no shuffle: the order within blocks is the data's).
      const testPieces = p.counts.map((r): FoldPiece => {
        const t = Math.min(r, Math.ceil(this.testSize * r));
        return { count: t, spec: { rows: [{ start: r - t, end: r }], shuffle: null } };
      });
      const trainPieces = p.counts.map((r, b): FoldPiece => ({ count: r - testPieces[b]!.count, spec: { rows: [{ start: 0, end: r - testPieces[b]!.count }], shuffle: null } }));
      const test = foldArrays(p, testPieces);
      if (test.X.shape[0] === 0) throw new TesseraError(`${what}: the held-out split is empty; raise testSize`);
      // One block per call: each training block is its own array, so a call is one block's pass.
      const blocks = trainPieces.map((piece, b) => foldArrays(p, trainPieces.map((q, c) => (c === b ? piece : null)))).filter((a) => a.X.shape[0] > 0);
      if (blocks.length === 0) throw new TesseraError(`${what}: no training rows; lower testSize`);
      let classes = this.classes;
      const needsClasses = (this.estimator as { classes?: unknown }).classes !== undefined || this.estimator.constructor.name.endsWith("Classifier");
      if (!classes && needsClasses) classes = (await inspect(p.rows, what, { labels: true }, options)).classes;
      let id = 0;
      const models: Model[] = [];
      const make = (params: Record<string, unknown>, bracket: number | null): Model => {
        const m = { rec: { modelId: id++, params, calls: 0, scores: [], bracket }, est: cloneEstimator(this.estimator, params, what) as unknown as SearchEstimator };
        models.push(m);
        return m;
      };
      const trainer: Trainer = {
        train: async (m, calls) => {
          if (m.rec.calls >= calls && m.rec.scores.length > 0) return;
          for (; m.rec.calls < calls; ) {
            const b = blocks[m.rec.calls % blocks.length]!;
            await m.est.partialFit!(b.X, b.y, { ...options, ...(classes ? { classes } : {}) });
            m.rec.calls++;
          }
          m.rec.scores.push(await scoreWith(this.scoring, m.est, test.X, test.y, what, options));
        },
      };
      const finalists = await this.run(make, trainer);
      this.history = models.map((m) => m.rec);
      const last = (m: Model) => m.rec.scores[m.rec.scores.length - 1] ?? -Infinity;
      const scores = models.map(last);
      this.cvResults = {
        params: models.map((m) => m.rec.params),
        testScore: scores,
        partialFitCalls: models.map((m) => m.rec.calls),
        rankTestScore: ranks(scores),
        modelId: models.map((m) => m.rec.modelId),
        bracket: models.map((m) => m.rec.bracket),
      };
      // The best of the models still in the race at the end (dask-ml picks among them too).
      const best = finalists.reduce((a, b) => (last(b) > last(a) ? b : a));
      this.bestParams = best.rec.params;
      this.bestScore = last(best);
      this.bestEstimator = best.est as unknown as E;
      return this;
    } finally {
      p.rows.held.release();
    }
  }

  predict(X: MatrixInput): unknown {
    if (!this.bestEstimator) throw new TesseraError(`${this.name}.predict: call fit() first`);
    return (this.bestEstimator as unknown as { predict: (X: unknown) => unknown }).predict(X);
  }

  async score(X: MatrixInput, y: TargetInput, options: ComputeOptions = {}): Promise<number> {
    if (!this.bestEstimator) throw new TesseraError(`${this.name}.score: call fit() first`);
    return (this.bestEstimator as unknown as SearchEstimator).score!(X, y, options);
  }
}

/** Keep the best `n` by their latest score (ties: the earlier model). */
function topK(models: Model[], n: number): Model[] {
  const last = (m: Model) => m.rec.scores[m.rec.scores.length - 1] ?? -Infinity;
  return [...models].sort((a, b) => last(b) - last(a) || a.rec.modelId - b.rec.modelId).slice(0, Math.max(0, n));
}

export class IncrementalSearchCV<E extends object = object> extends AdaptiveSearch<E> {
  protected readonly name = "IncrementalSearchCV";
  readonly nInitialParameters: number;
  readonly decayRate: number;
  readonly maxIter: number;

  constructor(estimator: E, parameters: ParamDistributions, options: IncrementalSearchOptions = {}) {
    super(estimator, parameters, "IncrementalSearchCV", options, ["nInitialParameters", "decayRate", "maxIter"]);
    this.nInitialParameters = intOption("IncrementalSearchCV", "nInitialParameters", options.nInitialParameters, 10, 1);
    this.decayRate = numberOption("IncrementalSearchCV", "decayRate", options.decayRate, 1, 0, Infinity);
    this.maxIter = intOption("IncrementalSearchCV", "maxIter", options.maxIter, 100, 1);
  }

  protected async run(make: (p: Record<string, unknown>, b: number | null) => Model, trainer: Trainer): Promise<Model[]> {
    const n0 = this.nInitialParameters;
    let alive = parameterSampler(this.parameters, n0, this.seed, this.name).map((p) => make(p, null));
    for (let t = 1; t <= this.maxIter; t++) {
      await Promise.all(alive.map((m) => trainer.train(m, t)));
      const target = Math.max(1, Math.floor(n0 / Math.pow(1 + t, this.decayRate)));
      alive = topK(alive, target);
      if (alive.length === 1 && this.decayRate > 0) break;
    }
    return alive;
  }
}

/** Hyperband's brackets for maxIter R and aggressiveness eta: models and first calls per bracket. */
export function hyperbandBrackets(R: number, eta: number): { bracket: number; nModels: number; initialCalls: number; steps: { models: number; calls: number }[] }[] {
  const sMax = Math.floor(Math.log(R) / Math.log(eta) + 1e-9);
  const out = [];
  for (let s = sMax; s >= 0; s--) {
    const n = Math.ceil(((sMax + 1) * Math.pow(eta, s)) / (s + 1));
    const r = Math.floor(R * Math.pow(eta, -s) + 1e-9);
    const steps: { models: number; calls: number }[] = [];
    for (let i = 0; ; i++) {
      const ni = Math.floor(n * Math.pow(eta, -i) + 1e-9);
      const ri = Math.min(R, Math.round(r * Math.pow(eta, i)));
      steps.push({ models: Math.max(1, ni), calls: ri });
      if (ni <= 1 || ri >= R) break;
    }
    out.push({ bracket: s, nModels: n, initialCalls: r, steps });
  }
  return out;
}

export class HyperbandSearchCV<E extends object = object> extends AdaptiveSearch<E> {
  protected readonly name = "HyperbandSearchCV";
  readonly maxIter: number;
  readonly aggressiveness: number;
  /** The schedule: per bracket, models and calls of each successive-halving step. */
  readonly metadata: { nModels: number; partialFitCalls: number; brackets: ReturnType<typeof hyperbandBrackets> };

  constructor(estimator: E, parameters: ParamDistributions, options: HyperbandOptions = {}) {
    super(estimator, parameters, "HyperbandSearchCV", options, ["maxIter", "aggressiveness"]);
    this.maxIter = intOption("HyperbandSearchCV", "maxIter", options.maxIter, 81, 1);
    this.aggressiveness = intOption("HyperbandSearchCV", "aggressiveness", options.aggressiveness, 3, 2);
    const brackets = hyperbandBrackets(this.maxIter, this.aggressiveness);
    // Calls: each step trains its models from the previous step's calls to its own.
    const calls = brackets.reduce((s, b) => s + b.steps.reduce((t, st, i) => t + st.models * (st.calls - (i > 0 ? b.steps[i - 1]!.calls : 0)), 0), 0);
    this.metadata = { nModels: brackets.reduce((s, b) => s + b.nModels, 0), partialFitCalls: calls, brackets };
  }

  protected async run(make: (p: Record<string, unknown>, b: number | null) => Model, trainer: Trainer): Promise<Model[]> {
    const brackets = this.metadata.brackets;
    const all = parameterSampler(this.parameters, this.metadata.nModels, this.seed, this.name);
    let at = 0;
    const plans = brackets.map((b) => {
      const models = Array.from({ length: b.nModels }, (_, i) => make(all[(at + i) % all.length]!, b.bracket));
      at += b.nModels;
      return { b, models };
    });
    const winners = await Promise.all(
      plans.map(async ({ b, models }) => {
        let alive = models;
        for (let i = 0; i < b.steps.length; i++) {
          const step = b.steps[i]!;
          if (i > 0) alive = topK(alive, step.models);
          await Promise.all(alive.map((m) => trainer.train(m, step.calls)));
        }
        return topK(alive, 1)[0]!;
      }),
    );
    return winners;
  }
}
