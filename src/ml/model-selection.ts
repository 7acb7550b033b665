/**
 * Model selection (sklearn.model_selection, dask_ml.model_selection).
 *
 * The data go to the workers once: a search persists X and y (as f64 row blocks) and every
 * candidate's fit and score reads those persisted blocks through small `ml.fold` tasks that
 * run where the blocks are. Nothing of X or y is sent again per candidate, and the candidates
 * run concurrently (each a few passes of blockwise tasks), so their tasks interleave on the
 * workers.
 *
 *   KFold                 folds by row over the blocks. Without shuffle, scikit-learn's folds:
 *                         fold f tests the f-th contiguous run of rows (the first n % k
 *                         folds one row longer), cut out of whichever blocks hold it. With
 *                         shuffle, each block's rows are permuted (seeded by seed and the
 *                         block's number) and each block gives fold f its f-th share
 *                         (positions [floor(f·r/k), floor((f+1)·r/k)) of the permutation):
 *                         balanced in every block, and nothing moves between workers.
 *   GridSearchCV          every combination of paramGrid (scikit-learn's order: names sorted,
 *                         the last varying fastest) x every fold.
 *   RandomizedSearchCV    nIter draws from paramDistributions (lists: uniform choices, without
 *                         repeats when every entry is a list; distributions: uniform,
 *                         logUniform, randint, or a function of a uniform draw).
 *   IncrementalSearchCV   models trained by partialFit, one block of the training data per call,
 *                         scored on a held-out split after each call; after call t the best
 *                         max(1, floor(n0 / (1 + t)^decayRate)) models go on (dask-ml's
 *                         inverse decay), until one is left or maxIter calls.
 *   HyperbandSearchCV     Hyperband (Li et al.; dask-ml's schedule): brackets s = smax..0,
 *                         smax = floor(log_eta(maxIter)); bracket s starts
 *                         n = ceil((smax + 1) · eta^s / (s + 1)) models at r = floor(maxIter ·
 *                         eta^-s) calls and runs successive halving: step i keeps the best
 *                         floor(n · eta^-i) and trains them to round(r · eta^i) calls, until one
 *                         is left or maxIter calls. The brackets run concurrently.
 */

import { currentClient, type ComputeOptions } from "../client/current.js";
import { TesseraError } from "../errors.js";
import { HighLevelGraph, MaterializedLayer } from "../graph/layers.js";
import { opSpec } from "../graph/spec.js";
import { Task, TaskRef, blockKey } from "../graph/task.js";
import { randomToken } from "../graph/tokenize.js";
import { ChunkedArray } from "../array/core.js";
import { DataFrame } from "../dataframe/dataframe.js";
import { toRows, type MatrixInput, type Rows, type TargetInput } from "./data.js";
import { boolOption, checkKeys, intOption, numberOption } from "./estimator.js";
import type { FoldSpec } from "./ops-postfit.js";
import { checkSeed, Stream } from "./random.js";
import { inspect, persistRows, type Held } from "./run.js";

// ---- estimators as values ------------------------------------------------------------------

/** What a search needs of an estimator: fit, and score (or a scoring). */
export interface SearchEstimator {
  fit(X: MatrixInput, y: TargetInput, options?: ComputeOptions): Promise<unknown>;
  score?(X: MatrixInput, y: TargetInput, options?: ComputeOptions): Promise<number>;
  predict?(X: MatrixInput): unknown;
  partialFit?(X: MatrixInput, y: TargetInput, options?: object): Promise<unknown>;
  getParams?(): Record<string, unknown>;
}

/**
 * The options an estimator was made with: getParams() where it has one, toJSON().params, or
 * else its fields named like its constructor's options (which the constructor lists when
 * given an unknown one).
 */
export function getParams(est: object, what: string): Record<string, unknown> {
  const e = est as { getParams?: () => Record<string, unknown>; toJSON?: () => { params?: Record<string, unknown> } };
  if (typeof e.getParams === "function") return { ...e.getParams() };
  if (typeof e.toJSON === "function") {
    try {
      const p = e.toJSON().params;
      if (p && typeof p === "object") return { ...p };
    } catch {
      // not serializable unfitted: read the fields
    }
  }
  const Ctor = est.constructor as new (o: object) => object;
  try {
    new Ctor({ "\u0000": 0 });
  } catch (err) {
    const m = /options are (.*)$/.exec((err as Error).message);
    if (m) {
      const out: Record<string, unknown> = {};
      for (const k of m[1]!.split(", ")) if ((est as Record<string, unknown>)[k] !== undefined) out[k] = (est as Record<string, unknown>)[k];
      return out;
    }
  }
  throw new TesseraError(`${what}: cannot tell the options of ${Ctor.name}; give it a getParams() method`);
}

/** A new, unfitted estimator like `est` with `params` changed. */
export function cloneEstimator<E extends object>(est: E, params: Record<string, unknown>, what: string): E {
  const Ctor = est.constructor as new (o: object) => E;
  try {
    return new Ctor({ ...getParams(est, what), ...params });
  } catch (err) {
    if (err instanceof TesseraError) throw new TesseraError(`${what}: candidate ${JSON.stringify(params)}: ${err.message}`, { cause: err });
    throw err;
  }
}

// ---- persisted data and folds --------------------------------------------------------------

/** X and y persisted on the workers, with their rows per block: what every candidate reads. */
interface Persisted {
  rows: Rows & { held: Held };
  counts: number[];
  n: number;
  /** Keep-alive for arrays built on the persisted keys. */
  anchor: { keys: string[]; futures: { key: string }[] };
}

async function persistData(X: MatrixInput, y: TargetInput, what: string, options: ComputeOptions): Promise<Persisted> {
  if (y === undefined) throw new TesseraError(`${what}: y is missing`);
  const rows = await toRows(X, y, what);
  const data = await persistRows(rows, what, options);
  try {
    const info = await inspect(data, what, {}, options);
    return { rows: data, counts: info.rows, n: info.n, anchor: { keys: data.held.futures.map((f) => f.key), futures: [...data.held.futures] } };
  } catch (err) {
    data.held.release();
    throw err;
  }
}

/** Arrays whose blocks are `ml.fold` of the persisted blocks (empty pieces dropped). */
function foldArrays(p: Persisted, pieces: (FoldPiece | null)[]): { X: ChunkedArray; y: ChunkedArray } {
  const name = randomToken();
  const xName = `ml-fold-x-${name}`;
  const yName = `ml-fold-y-${name}`;
  const xs: Task[] = [];
  const ys: Task[] = [];
  const counts: number[] = [];
  pieces.forEach((piece, b) => {
    if (!piece || piece.count === 0) return;
    const i = counts.length;
    counts.push(piece.count);
    xs.push(new Task(blockKey(xName, [i, 0]), "ml.fold", [opSpec({ ...piece.spec, d: p.rows.d }), new TaskRef(p.rows.x[b]!)]));
    ys.push(new Task(blockKey(yName, [i]), "ml.fold", [opSpec({ ...piece.spec, d: null }), new TaskRef(p.rows.y![b]!)]));
  });
  const n = counts.reduce((a, b) => a + b, 0);
  const X = new ChunkedArray(new HighLevelGraph([new MaterializedLayer(xName, xs)]), xName, [n, p.rows.d], [counts, [p.rows.d]], "float64", undefined, [p.anchor]);
  const y = new ChunkedArray(new HighLevelGraph([new MaterializedLayer(yName, ys)]), yName, [n], [[...counts]], "float64", undefined, [p.anchor]);
  return { X, y };
}

interface FoldPiece {
  count: number;
  spec: Omit<FoldSpec, "d">;
}

/** All of the persisted data as arrays (an ml.fold task per block that takes every row). */
function wholeArrays(p: Persisted): { X: ChunkedArray; y: ChunkedArray } {
  return foldArrays(p, p.counts.map((c): FoldPiece => ({ count: c, spec: { rows: [{ start: 0, end: c }], shuffle: null } })));
}

export interface KFoldOptions {
  /** Folds (default 5). */
  nSplits?: number;
  /** Permute each block's rows before cutting (default false). */
  shuffle?: boolean;
  seed?: number;
}

export class KFold {
  readonly nSplits: number;
  readonly shuffle: boolean;
  readonly seed: number;

  constructor(options: KFoldOptions = {}) {
    checkKeys("KFold", options, ["nSplits", "shuffle", "seed"]);
    this.nSplits = intOption("KFold", "nSplits", options.nSplits, 5, 2);
    this.shuffle = boolOption("KFold", "shuffle", options.shuffle, false);
    this.seed = checkSeed(options.seed ?? 0, "KFold");
  }

  getNSplits(): number {
    return this.nSplits;
  }

  /** Per block, what fold f's test (take) or train (!take) rows are. */
  pieces(counts: readonly number[], f: number, take: boolean): FoldPiece[] {
    const k = this.nSplits;
    if (this.shuffle) {
      return counts.map((r, b) => {
        const start = Math.floor((f * r) / k);
        const end = Math.floor(((f + 1) * r) / k);
        return { count: take ? end - start : r - (end - start), spec: { rows: null, shuffle: { seed: this.seed, stream: 5000 + b, start, end, take } } };
      });
    }
    const n = counts.reduce((a, b) => a + b, 0);
    // scikit-learn: fold sizes n // k, the first n % k one larger.
    const size = (i: number) => Math.floor(n / k) + (i < n % k ? 1 : 0);
    let s = 0;
    for (let i = 0; i < f; i++) s += size(i);
    const e = s + size(f);
    let at = 0;
    return counts.map((r) => {
      const lo = Math.max(0, s - at);
      const hi = Math.min(r, e - at);
      at += r;
      const ranges = lo < hi ? (take ? [{ start: lo, end: hi }] : [{ start: 0, end: lo }, { start: hi, end: r }]) : take ? [] : [{ start: 0, end: r }];
      const kept = ranges.filter((q) => q.end > q.start);
      return { count: kept.reduce((a, q) => a + q.end - q.start, 0), spec: { rows: kept, shuffle: null } };
    });
  }

  /**
   * The folds of (X, y): X and y are persisted once, and each fold's train and test arrays are
   * lazy `ml.fold` tasks over the persisted blocks. Call release() when done with them.
   */
  async split(X: MatrixInput, y: TargetInput, options: ComputeOptions = {}): Promise<{ folds: { trainX: ChunkedArray; trainY: ChunkedArray; testX: ChunkedArray; testY: ChunkedArray }[]; release(): void }> {
    const p = await persistData(X, y, "KFold.split", options);
    if (p.n < this.nSplits) {
      p.rows.held.release();
      throw new TesseraError(`KFold.split: nSplits = ${this.nSplits} is more than the ${p.n} rows`);
    }
    const folds = Array.from({ length: this.nSplits }, (_, f) => {
      const train = foldArrays(p, this.pieces(p.counts, f, false));
      const test = foldArrays(p, this.pieces(p.counts, f, true));
      return { trainX: train.X, trainY: train.y, testX: test.X, testY: test.y };
    });
    return { folds, release: () => p.rows.held.release() };
  }
}

// ---- scoring -----------------------------------------------------------------------------

export type Scoring = "accuracy" | "r2" | "neg_mean_squared_error" | "neg_mean_absolute_error" | ((estimator: unknown, X: ChunkedArray, y: ChunkedArray) => Promise<number>);

async function scoreWith(scoring: Scoring | null, est: SearchEstimator, X: ChunkedArray, y: ChunkedArray, what: string, options: ComputeOptions): Promise<number> {
  if (scoring === null) {
    if (typeof est.score !== "function") throw new TesseraError(`${what}: the estimator has no score method; give a scoring`);
    return est.score(X, y, options);
  }
  if (typeof scoring === "function") return scoring(est, X, y);
  if (typeof est.predict !== "function") throw new TesseraError(`${what}: scoring ${JSON.stringify(scoring)} needs the estimator's predict`);
  const pred = est.predict(X) as ChunkedArray;
  const [p, t] = (await currentClient().compute([pred, y], options)) as { data: ArrayLike<number> }[];
  const n = t!.data.length;
  if (n === 0) throw new TesseraError(`${what}: a test fold is empty`);
  let s = 0;
  if (scoring === "accuracy") {
    for (let i = 0; i < n; i++) if (p!.data[i] === t!.data[i]) s++;
    return s / n;
  }
  if (scoring === "neg_mean_squared_error" || scoring === "neg_mean_absolute_error") {
    for (let i = 0; i < n; i++) s += scoring === "neg_mean_squared_error" ? (p!.data[i]! - t!.data[i]!) ** 2 : Math.abs(p!.data[i]! - t!.data[i]!);
    return -s / n;
  }
  let mean = 0;
  for (let i = 0; i < n; i++) mean += t!.data[i]! / n;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    s += (p!.data[i]! - t!.data[i]!) ** 2;
    ss += (t!.data[i]! - mean) ** 2;
  }
  return ss === 0 ? (s === 0 ? 1 : 0) : 1 - s / ss;
}

const SCORINGS = ["accuracy", "r2", "neg_mean_squared_error", "neg_mean_absolute_error"];

function checkScoring(scoring: unknown, what: string): Scoring | null {
  if (scoring === undefined || scoring === null) return null;
  if (typeof scoring === "function" || SCORINGS.includes(scoring as string)) return scoring as Scoring;
  throw new TesseraError(`${what}: scoring must be one of ${SCORINGS.map((s) => JSON.stringify(s)).join(", ")} or a function (estimator, X, y) => Promise<number>; got ${JSON.stringify(scoring)}`);
}

/** Ranks, 1 for the best; ties share the lowest (scikit-learn's "min"). NaN ranks last. */
function ranks(scores: readonly number[]): number[] {
  const key = (v: number) => (Number.isNaN(v) ? -Infinity : v);
  return scores.map((s) => 1 + scores.filter((o) => key(o) > key(s)).length);
}

/** Run `jobs` with at most `limit` at once, results in order. */
async function pool<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const out = new Array<T>(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return out;
}

// ---- parameter spaces ----------------------------------------------------------------------

export type ParamGrid = Record<string, readonly unknown[]> | readonly Record<string, readonly unknown[]>[];

/** Every combination, in scikit-learn's ParameterGrid order. */
export function parameterGrid(grid: ParamGrid, what = "parameterGrid"): Record<string, unknown>[] {
  const grids = Array.isArray(grid) ? grid : [grid];
  const out: Record<string, unknown>[] = [];
  for (const g of grids as Record<string, readonly unknown[]>[]) {
    if (g === null || typeof g !== "object") throw new TesseraError(`${what}: a parameter grid must be an object of name -> list of values`);
    const keys = Object.keys(g).sort();
    for (const k of keys) {
      if (!Array.isArray(g[k]) || g[k]!.length === 0) throw new TesseraError(`${what}: parameter ${JSON.stringify(k)} must have a non-empty list of values; got ${JSON.stringify(g[k])}`);
    }
    const rec = (i: number, acc: Record<string, unknown>) => {
      if (i === keys.length) return void out.push({ ...acc });
      for (const v of g[keys[i]!]!) rec(i + 1, { ...acc, [keys[i]!]: v });
    };
    rec(0, {});
  }
  return out;
}

/** A distribution to draw a parameter from: draw(u) maps uniform draws in [0, 1) to a value. */
export interface Distribution {
  draw(next: () => number): unknown;
}

export const uniform = (lo: number, hi: number): Distribution => ({ draw: (next) => lo + (hi - lo) * next() });
export const logUniform = (lo: number, hi: number): Distribution => {
  if (!(lo > 0 && hi > lo)) throw new TesseraError(`logUniform: need 0 < lo < hi, got ${lo}, ${hi}`);
  return { draw: (next) => Math.exp(Math.log(lo) + (Math.log(hi) - Math.log(lo)) * next()) };
};
/** An integer in [lo, hi). */
export const randint = (lo: number, hi: number): Distribution => ({ draw: (next) => lo + Math.floor((hi - lo) * next()) });

export type ParamDistributions = Record<string, readonly unknown[] | Distribution | ((next: () => number) => unknown)>;

/** nIter draws (scikit-learn's ParameterSampler: without repeats when every entry is a list). */
export function parameterSampler(space: ParamDistributions, nIter: number, seed: number, what = "parameterSampler"): Record<string, unknown>[] {
  if (space === null || typeof space !== "object" || Array.isArray(space)) throw new TesseraError(`${what}: parameter distributions must be an object of name -> list, distribution or function`);
  const keys = Object.keys(space).sort();
  const rng = new Stream(seed, 4000);
  const next = () => rng.next();
  if (keys.every((k) => Array.isArray(space[k]))) {
    const grid = parameterGrid(space as Record<string, readonly unknown[]>, what);
    const order = grid.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    return order.slice(0, Math.min(nIter, grid.length)).map((i) => grid[i]!);
  }
  return Array.from({ length: nIter }, () => {
    const p: Record<string, unknown> = {};
    for (const k of keys) {
      const d = space[k]!;
      if (Array.isArray(d)) {
        if (d.length === 0) throw new TesseraError(`${what}: parameter ${JSON.stringify(k)} has an empty list`);
        p[k] = d[rng.int(d.length)];
      } else if (typeof d === "function") p[k] = d(next);
      else if (d && typeof (d as Distribution).draw === "function") p[k] = (d as Distribution).draw(next);
      else throw new TesseraError(`${what}: parameter ${JSON.stringify(k)} must be a list, a distribution (uniform, logUniform, randint) or a function; got ${JSON.stringify(d)}`);
    }
    return p;
  });
}

// ---- GridSearchCV / RandomizedSearchCV ----------------------------------------------------

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

// ---- IncrementalSearchCV / HyperbandSearchCV ----------------------------------------------

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
