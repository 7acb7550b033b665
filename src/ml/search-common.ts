/**
 * What the searches share: estimators as values (their options, and clones made with other
 * options), scoring a fitted estimator on a fold (its own score, or a metric of metrics.ts by
 * name), ranks, and a pool that runs at most n jobs at once.
 */

import type { ComputeOptions } from "../client/current.js";
import { TesseraError } from "../errors.js";
import { ChunkedArray } from "../array/core.js";
import type { MatrixInput, TargetInput } from "./data.js";
import { accuracyScore, meanAbsoluteError, meanSquaredError, r2Score } from "./metrics.js";

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

// ---- scoring -----------------------------------------------------------------------------

export type Scoring = "accuracy" | "r2" | "neg_mean_squared_error" | "neg_mean_absolute_error" | ((estimator: unknown, X: ChunkedArray, y: ChunkedArray) => Promise<number>);

/** A fitted estimator's score on a fold: its own score, a metric of metrics.ts by name, or the function given. */
export async function scoreWith(scoring: Scoring | null, est: SearchEstimator, X: ChunkedArray, y: ChunkedArray, what: string, options: ComputeOptions): Promise<number> {
  if (scoring === null) {
    if (typeof est.score !== "function") throw new TesseraError(`${what}: the estimator has no score method; give a scoring`);
    return est.score(X, y, options);
  }
  if (typeof scoring === "function") return scoring(est, X, y);
  if (typeof est.predict !== "function") throw new TesseraError(`${what}: scoring ${JSON.stringify(scoring)} needs the estimator's predict`);
  if (y.shape[0] === 0) throw new TesseraError(`${what}: a test fold is empty`);
  const pred = est.predict(X) as ChunkedArray;
  const o = { compute: options };
  switch (scoring) {
    case "accuracy":
      return accuracyScore(y, pred, o);
    case "r2":
      return r2Score(y, pred, o);
    case "neg_mean_squared_error":
      return -(await meanSquaredError(y, pred, o));
    case "neg_mean_absolute_error":
      return -(await meanAbsoluteError(y, pred, o));
  }
}

const SCORINGS = ["accuracy", "r2", "neg_mean_squared_error", "neg_mean_absolute_error"];

export function checkScoring(scoring: unknown, what: string): Scoring | null {
  if (scoring === undefined || scoring === null) return null;
  if (typeof scoring === "function" || SCORINGS.includes(scoring as string)) return scoring as Scoring;
  throw new TesseraError(`${what}: scoring must be one of ${SCORINGS.map((s) => JSON.stringify(s)).join(", ")} or a function (estimator, X, y) => Promise<number>; got ${JSON.stringify(scoring)}`);
}

/** Ranks, 1 for the best; ties share the lowest (scikit-learn's "min"). NaN ranks last. */
export function ranks(scores: readonly number[]): number[] {
  const key = (v: number) => (Number.isNaN(v) ? -Infinity : v);
  return scores.map((s) => 1 + scores.filter((o) => key(o) > key(s)).length);
}

/** Run `jobs` with at most `limit` at once, results in order. */
export async function pool<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
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
