/**
 * GridSearchCV and RandomizedSearchCV (sklearn.model_selection, dask_ml.model_selection): every
 * candidate (a grid combination, or nIter draws) x every fold, fitted and scored concurrently
 * (at most nJobs at once) on folds of X and y persisted once (kfold.ts); the best is refitted
 * on all the data.
 */

import type { ComputeOptions } from "../client/current.js";
import { TesseraError } from "../errors.js";
import { ChunkedArray } from "../array/core.js";
import { DataFrame } from "../dataframe/dataframe.js";
import type { MatrixInput, TargetInput } from "./data.js";
import { boolOption, checkKeys, intOption } from "./estimator.js";
import { checkSeed } from "./random.js";
import { KFold, persistData, foldArrays, wholeArrays } from "./kfold.js";
import { parameterGrid, parameterSampler, type ParamGrid, type ParamDistributions } from "./param-space.js";
import { getParams, cloneEstimator, scoreWith, checkScoring, ranks, pool, type SearchEstimator, type Scoring } from "./search-common.js";


export interface SearchOptions {
  /** Folds: a number (KFold without shuffle) or a KFold (default 5). */
  cv?: number | KFold;
  /** The estimator's score (default), a metric name, or a function. */
  scoring?: Scoring;
  /** Fit the best candidate on all the data afterwards (default true). */
  refit?: boolean;
  /** Candidate fits running at once (default 8). */
  nJobs?: number;
}

export interface CvResults {
  params: Record<string, unknown>[];
  /** [candidate][fold] */
  splitTestScores: number[][];
  meanTestScore: number[];
  stdTestScore: number[];
  rankTestScore: number[];
  /** Seconds, per candidate, averaged over folds. */
  meanFitTime: number[];
  meanScoreTime: number[];
}

abstract class BaseSearchCV<E extends object> {
  readonly cv: KFold;
  readonly scoring: Scoring | null;
  readonly refit: boolean;
  readonly nJobs: number;
  cvResults: CvResults | null = null;
  bestIndex = -1;
  bestParams: Record<string, unknown> | null = null;
  bestScore = NaN;
  bestEstimator: E | null = null;
  nSplits = 0;
  protected abstract readonly name: string;

  constructor(
    readonly estimator: E,
    E: string,
    options: SearchOptions & object,
    extra: readonly string[],
  ) {
    if (estimator === null || typeof estimator !== "object" || typeof (estimator as { fit?: unknown }).fit !== "function") throw new TesseraError(`${E}: estimator must be an estimator with a fit method`);
    checkKeys(E, options, ["cv", "scoring", "refit", "nJobs", ...extra]);
    const cv = options.cv ?? 5;
    if (cv instanceof KFold) this.cv = cv;
    else if (typeof cv === "number") this.cv = new KFold({ nSplits: cv });
    else throw new TesseraError(`${E}: cv must be a number of folds or a KFold; got ${JSON.stringify(cv)}`);
    this.scoring = checkScoring(options.scoring, E);
    this.refit = boolOption(E, "refit", options.refit, true);
    this.nJobs = intOption(E, "nJobs", options.nJobs, 8, 1);
    getParams(estimator, E); // fail now when its options cannot be read
  }

  protected abstract candidates(): Record<string, unknown>[];

  /** Fit every candidate on every fold (concurrently, the data persisted once), then refit the best. */
  async fit(X: MatrixInput, y: TargetInput, options: ComputeOptions = {}): Promise<this> {
    const what = `${this.name}.fit`;
    const cands = this.candidates();
    for (const c of cands) cloneEstimator(this.estimator, c, what); // bad candidates fail before any work
    const p = await persistData(X, y, what, options);
    try {
      const k = this.cv.nSplits;
      if (p.n < k) throw new TesseraError(`${what}: cv has ${k} folds but X has only ${p.n} rows`);
      const folds = Array.from({ length: k }, (_, f) => ({ train: foldArrays(p, this.cv.pieces(p.counts, f, false)), test: foldArrays(p, this.cv.pieces(p.counts, f, true)) }));
      const jobs = cands.flatMap((params) =>
        folds.map((fold) => async () => {
          const est = cloneEstimator(this.estimator, params, what) as unknown as SearchEstimator;
          const t0 = performance.now();
          await est.fit(fold.train.X, fold.train.y, options);
          const t1 = performance.now();
          const score = await scoreWith(this.scoring, est, fold.test.X, fold.test.y, what, options);
          return { score, fit: (t1 - t0) / 1000, scoreTime: (performance.now() - t1) / 1000 };
        }),
      );
      const results = await pool(jobs, this.nJobs);
      const split = cands.map((_, c) => results.slice(c * k, (c + 1) * k));
      const mean = split.map((r) => r.reduce((s, x) => s + x.score, 0) / k);
      const std = split.map((r, c) => Math.sqrt(r.reduce((s, x) => s + (x.score - mean[c]!) ** 2, 0) / k));
      const rank = ranks(mean);
      this.cvResults = {
        params: cands,
        splitTestScores: split.map((r) => r.map((x) => x.score)),
        meanTestScore: mean,
        stdTestScore: std,
        rankTestScore: rank,
        meanFitTime: split.map((r) => r.reduce((s, x) => s + x.fit, 0) / k),
        meanScoreTime: split.map((r) => r.reduce((s, x) => s + x.scoreTime, 0) / k),
      };
      this.nSplits = k;
      this.bestIndex = rank.indexOf(1);
      this.bestParams = cands[this.bestIndex]!;
      this.bestScore = mean[this.bestIndex]!;
      if (this.refit) {
        const best = cloneEstimator(this.estimator, this.bestParams, what);
        // A dataframe's best model keeps its column names: refit on X itself (read once more).
        if (X instanceof DataFrame) await (best as unknown as SearchEstimator).fit(X, y, options);
        else {
          const all = wholeArrays(p);
          await (best as unknown as SearchEstimator).fit(all.X, all.y, options);
        }
        this.bestEstimator = best;
      }
      return this;
    } finally {
      p.rows.held.release();
    }
  }

  private best(method: string): Record<string, unknown> {
    if (!this.bestEstimator) throw new TesseraError(`${this.name}.${method}: no best estimator; call fit() first (with refit true)`);
    return this.bestEstimator as unknown as Record<string, unknown>;
  }

  predict(X: MatrixInput): unknown {
    const b = this.best("predict");
    return (b.predict as (X: unknown) => unknown).call(b, X);
  }

  predictProba(X: MatrixInput): unknown {
    const b = this.best("predictProba");
    return (b.predictProba as (X: unknown) => unknown).call(b, X);
  }

  /** The scoring (or the best estimator's score) on (X, y). */
  async score(X: MatrixInput, y: TargetInput, options: ComputeOptions = {}): Promise<number> {
    const b = this.best("score") as unknown as SearchEstimator;
    if (this.scoring === null) return b.score!(X, y, options);
    if (!(X instanceof ChunkedArray) || !(y instanceof ChunkedArray)) throw new TesseraError(`${this.name}.score: with a scoring, X and y must be tessera arrays`);
    return scoreWith(this.scoring, b, X, y, `${this.name}.score`, options);
  }
}

export class GridSearchCV<E extends object = object> extends BaseSearchCV<E> {
  protected readonly name = "GridSearchCV";
  readonly paramGrid: ParamGrid;

  constructor(estimator: E, paramGrid: ParamGrid, options: SearchOptions = {}) {
    super(estimator, "GridSearchCV", options, []);
    parameterGrid(paramGrid, "GridSearchCV");
    this.paramGrid = paramGrid;
  }

  protected candidates(): Record<string, unknown>[] {
    return parameterGrid(this.paramGrid, "GridSearchCV");
  }
}

export interface RandomizedSearchOptions extends SearchOptions {
  /** Candidates (default 10). */
  nIter?: number;
  seed?: number;
}

export class RandomizedSearchCV<E extends object = object> extends BaseSearchCV<E> {
  protected readonly name = "RandomizedSearchCV";
  readonly nIter: number;
  readonly seed: number;

  constructor(
    estimator: E,
    readonly paramDistributions: ParamDistributions,
    options: RandomizedSearchOptions = {},
  ) {
    super(estimator, "RandomizedSearchCV", options, ["nIter", "seed"]);
    this.nIter = intOption("RandomizedSearchCV", "nIter", options.nIter, 10, 1);
    this.seed = checkSeed(options.seed ?? 0, "RandomizedSearchCV");
    parameterSampler(paramDistributions, 1, this.seed, "RandomizedSearchCV");
  }

  protected candidates(): Record<string, unknown>[] {
    return parameterSampler(this.paramDistributions, this.nIter, this.seed, "RandomizedSearchCV");
  }
}
