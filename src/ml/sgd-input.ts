/**
 * What SGD's fit and partialFit take, made ready: plain X and y (and sample weights) as
 * Float64Arrays for the client-side path, a collection's sample weights persisted beside its
 * row blocks, class labels and their counts; and the early-stopping split's checks and scores.
 */

import type { ComputeOptions } from "../client/current.js";
import { TesseraError } from "../errors.js";
import type { Key } from "../graph/task.js";
import type { TypedArray } from "../kernels/dtypes.js";
import { ChunkedArray } from "../array/core.js";
import { NDArray } from "../array/ndarray.js";
import { DataFrame } from "../dataframe/dataframe.js";
import { COLLECTION } from "../client/collection.js";
import { describeInput, rowsData, toTarget, type MatrixInput, type Rows, type TargetInput } from "./data.js";
import type { SgdState, ValidationPartial } from "./ops-sgd.js";
import { MAX_CLASSES, persistRows, type Held } from "./run.js";

/** Sample weights: a 1-d tessera array (with an array X) or plain values, one per row of X. */
export type SampleWeight = ChunkedArray | NDArray | TypedArray | readonly number[];

/** Plain X (rows, NDArray, { data, shape }) as row-major f64; null for a collection. */
export function plainMatrix(X: MatrixInput, what: string): { data: Float64Array; n: number; d: number } | null {
  if (X instanceof ChunkedArray || X instanceof DataFrame) return null;
  if (Array.isArray(X)) {
    const { data, d } = rowsData(X as readonly (readonly number[])[], what);
    return { data, n: X.length, d };
  }
  const shaped = X as { data?: unknown; shape?: unknown };
  if (X instanceof NDArray || (X !== null && typeof X === "object" && ArrayBuffer.isView(shaped.data) && Array.isArray(shaped.shape))) {
    const { data, shape } = X as { data: TypedArray; shape: readonly number[] };
    if (shape.length !== 2) throw new TesseraError(`${what}: X must be 2-d (samples x features); got shape [${shape}]`);
    return { data: Float64Array.from(data as ArrayLike<number>), n: shape[0]!, d: shape[1]! };
  }
  return null; // toRows says what is wrong with it
}

export function plainTarget(y: TargetInput, n: number, what: string, name = "y"): Float64Array {
  if (y === undefined || y === null) throw new TesseraError(`${what}: ${name} is missing`);
  if (typeof y === "string" || y instanceof DataFrame) throw new TesseraError(`${what}: ${name} can name a column only when X is a dataframe; X is plain data here`);
  if (y instanceof ChunkedArray) throw new TesseraError(`${what}: X is plain data but ${name} is a tessera array; give both as plain data or both as collections`);
  const values = y instanceof NDArray ? y.data : y;
  if (!ArrayBuffer.isView(values) && !Array.isArray(values)) throw new TesseraError(`${what}: ${name} must be a 1-d array or plain values; got ${describeInput(y)}`);
  const out = Float64Array.from(values as ArrayLike<number>);
  if (out.length !== n) throw new TesseraError(`${what}: X has ${n} rows but ${name} has ${out.length} values`);
  return out;
}

/** Sample weights of a collection X as blocks persisted beside X's (arrays only). */
export async function persistWeights(sw: SampleWeight, rows: Rows, what: string, options: ComputeOptions): Promise<{ keys: Key[]; held: Held }> {
  if (rows.rows === null) throw new TesseraError(`${what}: sampleWeight is offered with an array X (or plain data); X is a dataframe here`);
  const W = toTarget(sw as TargetInput, rows.rows, `${what} (sampleWeight)`);
  const spec = W[COLLECTION]();
  const data = await persistRows({ graph: W.graph, x: [...spec.keys], y: null, d: 1, rows: rows.rows, columns: null, target: null, external: [...(spec.external ?? [])], hold: [W] }, what, options);
  return { keys: data.x, held: data.held };
}

export function distinctCounts(y: Float64Array, what: string): { classes: number[]; counts: number[] } {
  const seen = new Map<number, number>();
  for (const v of y) {
    if (Number.isNaN(v)) throw new TesseraError(`${what}: y has NaN (or a null)`);
    seen.set(v, (seen.get(v) ?? 0) + 1);
    if (seen.size > MAX_CLASSES) throw new TesseraError(`${what}: y has more than ${MAX_CLASSES} distinct values; a classifier needs class labels (is y a continuous target?)`);
  }
  const classes = [...seen.keys()].sort((a, b) => a - b);
  return { classes, counts: classes.map((c) => seen.get(c)!) };
}

/** The weights as they are (W times its scale), K x d. */
export function trueWeights(s: SgdState, d: number): Float64Array {
  return s.W.map((w, i) => w * s.wscale[Math.floor(i / d)]!);
}

/** Per model: accuracy of its sign on the validation rows, or R² (scikit-learn's score on them). */
export function finishValidation(p: ValidationPartial, classifier: boolean): number[] {
  if (classifier) return Array.from(p.correct, (c) => c / p.n);
  const ss = p.syy - (p.sy * p.sy) / p.n;
  return [ss > 0 ? 1 - p.sse / ss : p.sse === 0 ? 1 : 0];
}

export function checkSplit(mask: Uint8Array, what: string): void {
  const held = mask.reduce((a, b) => a + b, 0);
  if (held === 0 || held === mask.length) throw new TesseraError(`${what}: the validation split holds ${held} of ${mask.length} rows; earlyStopping needs some rows on each side (validationFraction)`);
}

export function checkClasses(classes: readonly number[], what: string): number[] {
  if (!Array.isArray(classes) || classes.length < 2 || !classes.every((c) => typeof c === "number" && Number.isFinite(c))) {
    throw new TesseraError(`${what}: classes must be an array of at least two finite numbers; got ${JSON.stringify(classes)}`);
  }
  const sorted = [...new Set(classes)].sort((a, b) => a - b);
  if (sorted.length !== classes.length) throw new TesseraError(`${what}: classes has repeated values: ${JSON.stringify(classes)}`);
  return sorted;
}
