/**
 * dask-ml's wrappers (dask_ml.wrappers).
 *
 *   ParallelPostFit(estimator)   predict / predictProba / transform / decisionFunction / score
 *                                of a fitted estimator, blockwise on the workers, lazily. A
 *                                tessera estimator already works that way and is called as
 *                                is; a plain-JS one (a class, or an object literal, whose
 *                                methods take number[][]) is shipped to the workers as source
 *                                with its fields as data, and called once per block.
 *   Incremental(estimator)       fit streams X's blocks through estimator.partialFit, one pass,
 *                                blocks in order or (shuffleBlocks) in a seeded random order.
 *                                SGD estimators do the pass as a chain of tasks on the
 *                                workers; a plain-JS estimator gets each block on the client.
 *
 * The wrapped estimator is fitted in place (`wrapper.estimator`).
 */

import type { ComputeOptions } from "../client/current.js";
import { TesseraError } from "../errors.js";
import type { TypedArray } from "../kernels/dtypes.js";
import type { ChunkedArray } from "../array/core.js";
import { DataFrame } from "../dataframe/dataframe.js";
import { deriveSchema } from "../dataframe/steps.js";
import { featureColumns, toMatrix, toRows, type MatrixInput, type TargetInput } from "./data.js";
import { checkKeys } from "./estimator.js";
import { mapBlocks } from "./blockwise.js";
import { estimatorScore } from "./metrics.js";
import type { PlainSpec } from "./ops-postfit.js";
import { checkSeed, Stream } from "./random.js";
import { GraphValue, computeValue } from "./run.js";
import { SGDClassifier, SGDRegressor } from "./sgd.js";
import { LogisticRegression } from "./logistic.js";
import { LinearRegression, Ridge } from "./linear.js";
import { KMeans } from "./kmeans.js";
import { MinMaxScaler, StandardScaler } from "./preprocessing.js";

/** Anything with some of fit / partialFit / predict / predictProba / transform / score. */
export type Estimator = object;

/** Blockwise outputs: an array for an array (or plain data), a dataframe for a dataframe. */
export type Predicted<X> = X extends DataFrame ? DataFrame : ChunkedArray;

type Method = "predict" | "predictProba" | "transform" | "decisionFunction";

/** A tessera estimator: its methods take collections and build lazy blockwise results. */
export function isTesseraEstimator(est: object): boolean {
  if ([LogisticRegression, LinearRegression, Ridge, KMeans, SGDClassifier, SGDRegressor, StandardScaler, MinMaxScaler].some((C) => est instanceof C)) return true;
  const toJSON = (est as { toJSON?: () => unknown }).toJSON;
  if (typeof toJSON !== "function") return false;
  try {
    return (toJSON.call(est) as { format?: unknown } | null)?.format === "tessera-ml";
  } catch {
    return false;
  }
}

function checkEstimator(est: unknown, what: string): asserts est is Record<string, unknown> {
  if (est === null || typeof est !== "object") throw new TesseraError(`${what}: estimator must be an object (an estimator), got ${est === null ? "null" : typeof est}`);
}

/** A plain-JS estimator as data the workers can rebuild it from. */
function plainSpec(est: Record<string, unknown>, method: string, what: string): PlainSpec {
  if (typeof est[method] !== "function") throw new TesseraError(`${what}: the estimator has no ${method} method`);
  const state: Record<string, unknown> = {};
  const methods: Record<string, string> = {};
  const Ctor = est.constructor as ((...a: unknown[]) => unknown) | undefined;
  const literal = !Ctor || Ctor === Object;
  for (const [k, v] of Object.entries(est)) {
    if (typeof v === "function") {
      if (literal) methods[k] = Function.prototype.toString.call(v);
      continue;
    }
    try {
      structuredClone(v);
    } catch {
      throw new TesseraError(`${what}: the estimator's field ${JSON.stringify(k)} cannot be sent to a worker (not structured-cloneable)`);
    }
    state[k] = v;
  }
  let classSource: string | null = null;
  if (!literal) {
    classSource = Function.prototype.toString.call(Ctor);
    if (!/^class\b/.test(classSource)) throw new TesseraError(`${what}: the estimator's constructor is not a class; ParallelPostFit ships a class (or an object literal's methods) as source`);
    if (/\[native code\]/.test(classSource)) throw new TesseraError(`${what}: the estimator's class is native and cannot be shipped`);
  }
  return { classSource, methods, state, method };
}

/** Feature count of X without running anything (a dataframe's schema must be known). */
function featureCount(X: MatrixInput, est: Record<string, unknown>, what: string): { d: number; columns: string[] | null } {
  if (X instanceof DataFrame) {
    const names = Array.isArray(est.featureNames) ? (est.featureNames as string[]) : null;
    if (names) return { d: names.length, columns: names };
    if (!X.input.prepared) throw new TesseraError(`${what}: the dataframe's schema is not known yet; await X.schema() first`);
    const columns = featureColumns(deriveSchema(X.input.schema(), X.steps), null, what);
    return { d: columns.length, columns: null };
  }
  return { d: toMatrix(X, what).shape[1]!, columns: null };
}

/** Output columns of a plain estimator's method: called once on the client on a row of zeros. */
function probeColumns(est: Record<string, unknown>, method: string, d: number, what: string): number | null {
  let out: unknown;
  try {
    out = (est[method] as (x: number[][]) => unknown).call(est, [new Array<number>(d).fill(0)]);
  } catch (err) {
    throw new TesseraError(`${what}: ${method} failed on a row of zeros (run on the client to learn the output's shape): ${(err as Error).message}`, { cause: err });
  }
  if (out !== null && typeof out === "object" && !Array.isArray(out) && !ArrayBuffer.isView(out)) {
    const shape = (out as { shape?: number[] }).shape;
    return shape && shape.length > 1 ? shape[1]! : null;
  }
  const first = ArrayBuffer.isView(out) ? null : (out as unknown[] | undefined)?.[0];
  return Array.isArray(first) || ArrayBuffer.isView(first) ? (first as ArrayLike<number>).length : null;
}

/** Plain rows and values of a gathered block. */
function plainRows(block: unknown): number[][] {
  const { data, shape } = block as { data: TypedArray; shape: number[] };
  const d = shape[1]!;
  return Array.from({ length: shape[0]! }, (_, i) => Array.from(data.subarray(i * d, (i + 1) * d) as ArrayLike<number>));
}

export interface ParallelPostFitOptions {
  /** How score measures a plain-JS estimator: "accuracy" (default when it has classes) or "r2". */
  scoring?: "accuracy" | "r2";
}

export class ParallelPostFit<E extends Estimator = Estimator> {
  readonly scoring: "accuracy" | "r2" | null;
  protected readonly what: string = "ParallelPostFit";

  constructor(
    readonly estimator: E,
    options: ParallelPostFitOptions = {},
  ) {
    checkEstimator(estimator, this.constructor.name);
    checkKeys(this.constructor.name, options, ["scoring", "shuffleBlocks", "randomState"]);
    if (options.scoring !== undefined && options.scoring !== "accuracy" && options.scoring !== "r2") throw new TesseraError(`${this.constructor.name}: scoring must be "accuracy" or "r2"; got ${JSON.stringify(options.scoring)}`);
    this.scoring = options.scoring ?? null;
  }

  private get est(): Record<string, unknown> {
    return this.estimator as unknown as Record<string, unknown>;
  }

  /** Fit the estimator on all of (X, y): a tessera estimator as usual; a plain-JS one on the gathered data. */
  async fit(X: MatrixInput, y?: TargetInput, options: ComputeOptions = {}): Promise<this> {
    const what = `${this.what}.fit`;
    if (typeof this.est.fit !== "function") throw new TesseraError(`${what}: the estimator has no fit method`);
    if (isTesseraEstimator(this.estimator)) {
      await (this.est.fit as (X: unknown, y: unknown, o: unknown) => Promise<unknown>).call(this.estimator, X, y, options);
      return this;
    }
    const rows = await toRows(X, y, what);
    const keys = [...rows.x, ...(rows.y ?? [])];
    const values = await computeValue(new GraphValue(rows.graph, keys, rows.external, (v) => v), what, options);
    const xs = values.slice(0, rows.x.length).flatMap((b) => plainRows(b));
    const ys = rows.y ? values.slice(rows.x.length).flatMap((b) => Array.from((b as { data: TypedArray }).data as ArrayLike<number>)) : undefined;
    await (this.est.fit as (X: unknown, y: unknown) => unknown).call(this.estimator, xs, ys);
    return this;
  }

  private blockwise(method: Method, X: MatrixInput): ChunkedArray | DataFrame {
    const what = `${this.what}.${method}`;
    if (typeof this.est[method] !== "function") throw new TesseraError(`${what}: the estimator has no ${method} method`);
    if (isTesseraEstimator(this.estimator)) return (this.est[method] as (X: unknown) => ChunkedArray | DataFrame).call(this.estimator, X);
    const { d, columns } = featureCount(X, this.est, what);
    const spec = plainSpec(this.est, method, what);
    const cols = probeColumns(this.est, method, d, what);
    const names = cols === null ? [method === "predict" ? "prediction" : method] : Array.from({ length: cols }, (_, i) => `${method}_${i}`);
    return mapBlocks(X, { map: { fn: "plain", args: spec }, d, cols, names, columns, prefix: `postfit-${method.toLowerCase()}`, what });
  }

  /** Predictions per block, lazily. */
  predict<X extends MatrixInput>(X: X): Predicted<X> {
    return this.blockwise("predict", X) as Predicted<X>;
  }

  predictProba<X extends MatrixInput>(X: X): Predicted<X> {
    return this.blockwise("predictProba", X) as Predicted<X>;
  }

  transform<X extends MatrixInput>(X: X): Predicted<X> {
    return this.blockwise("transform", X) as Predicted<X>;
  }

  decisionFunction<X extends MatrixInput>(X: X): Predicted<X> {
    return this.blockwise("decisionFunction", X) as Predicted<X>;
  }

  /** The estimator's score, or (plain-JS) accuracy / R² of its blockwise predictions. */
  async score(X: MatrixInput, y: TargetInput, options: ComputeOptions = {}): Promise<number> {
    const what = `${this.what}.score`;
    if (isTesseraEstimator(this.estimator)) {
      if (typeof this.est.score !== "function") throw new TesseraError(`${what}: the estimator has no score method`);
      return (this.est.score as (X: unknown, y: unknown, o: unknown) => Promise<number>).call(this.estimator, X, y, options);
    }
    const { d } = featureCount(X, this.est, what);
    const metric = this.scoring ?? ("classes" in this.est || "classes_" in this.est ? "accuracy" : "r2");
    return estimatorScore(X, y, { op: "ml.map.score", d, spec: { d, map: { fn: "plain", args: plainSpec(this.est, "predict", what) } } }, metric, what, options);
  }
}

export interface IncrementalOptions extends ParallelPostFitOptions {
  /** Visit the blocks in a random order each pass (default true). */
  shuffleBlocks?: boolean;
  /** Seed of that order (default 0). */
  randomState?: number;
}

export interface IncrementalFitOptions extends ComputeOptions {
  /** Every class y may have: passed to the first partialFit. */
  classes?: readonly number[];
}

export class Incremental<E extends Estimator = Estimator> extends ParallelPostFit<E> {
  readonly shuffleBlocks: boolean;
  readonly randomState: number;
  protected override readonly what: string = "Incremental";
  private passes = 0;

  constructor(estimator: E, options: IncrementalOptions = {}) {
    super(estimator, options);
    if (options.shuffleBlocks !== undefined && typeof options.shuffleBlocks !== "boolean") throw new TesseraError(`Incremental: shuffleBlocks must be true or false, got ${JSON.stringify(options.shuffleBlocks)}`);
    this.shuffleBlocks = options.shuffleBlocks ?? true;
    this.randomState = checkSeed(options.randomState ?? 0, "Incremental");
    if (typeof (estimator as { partialFit?: unknown }).partialFit !== "function") throw new TesseraError("Incremental: the estimator has no partialFit method");
  }

  /** One pass over X's blocks through partialFit (dask-ml's Incremental.fit). */
  override async fit(X: MatrixInput, y?: TargetInput, options: IncrementalFitOptions = {}): Promise<this> {
    return this.partialFit(X, y, options);
  }

  /** The block order of the next pass. */
  private order(n: number): number[] {
    const order = Array.from({ length: n }, (_, i) => i);
    if (!this.shuffleBlocks) return order;
    const rng = new Stream(this.randomState, 3000 + this.passes);
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    return order;
  }

  /** Another pass over X's blocks through partialFit. */
  async partialFit(X: MatrixInput, y?: TargetInput, options: IncrementalFitOptions = {}): Promise<this> {
    const what = "Incremental.fit";
    const est = this.estimator as unknown as { partialFit: (X: unknown, y: unknown, o?: object) => unknown };
    const { classes, ...compute } = options;
    if (this.estimator instanceof SGDClassifier || this.estimator instanceof SGDRegressor) {
      const rows = await toRows(X, y, what);
      const order = this.order(rows.x.length);
      this.passes++;
      await est.partialFit(X, y, { ...compute, ...(classes ? { classes } : {}), blockOrder: order });
      return this;
    }
    // Any other estimator: each block comes to the client, in order, as plain rows.
    const rows = await toRows(X, y, what);
    const order = this.order(rows.x.length);
    this.passes++;
    for (const b of order) {
      const keys = [rows.x[b]!, ...(rows.y ? [rows.y[b]!] : [])];
      const [xb, yb] = await computeValue(new GraphValue(rows.graph, keys, rows.external, (v) => v), what, compute);
      const ys = yb === undefined ? undefined : Array.from((yb as { data: TypedArray }).data as ArrayLike<number>);
      await est.partialFit(plainRows(xb), ys, classes ? { classes } : undefined);
    }
    return this;
  }
}

