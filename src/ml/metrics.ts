/**
 * Metrics (sklearn.metrics), camelCase: accuracyScore, logLoss, r2Score, meanSquaredError,
 * meanAbsoluteError, confusionMatrix, rocAucScore. Each takes yTrue and yPred as tessera
 * arrays — then one `ml.metric` task per row block of yPred (yTrue rechunked to match) and a
 * combine tree, only the merged partial coming back — or as plain values (typed arrays,
 * number arrays, NDArrays, arrays of rows for probabilities), computed on the client by the
 * same functions. See ops-metrics.ts for the partials.
 *
 * rocAucScore is exact: the partials are the distinct (label, score) pairs with their counts
 * (per column of a multiclass probability matrix), so what reaches the client is at most one
 * entry per distinct score and label (n for continuous scores); ties are handled as
 * scikit-learn does (the trapezoid over tied thresholds). Multiclass "ovr" and "ovo" average
 * the binary AUCs over classes or over pairs of classes, as scikit-learn's roc_auc_score.
 */

import { COLLECTION } from "../client/collection.js";
import type { ComputeOptions } from "../client/current.js";
import { TesseraError } from "../errors.js";
import type { TypedArray } from "../kernels/dtypes.js";
import { ChunkedArray } from "../array/core.js";
import { fromTypedArray } from "../array/create.js";
import { NDArray } from "../array/ndarray.js";
import { UnknownChunksArray } from "../array/unknown.js";
import { HighLevelGraph } from "../graph/layers.js";
import { describeInput, toMatrix, toRows, toTarget, type MatrixInput, type TargetInput } from "./data.js";
import { metricPartial, type BlockScoreSpec, type MetricKind, type MetricPartial, type MetricSpec, type PairsPartial } from "./ops-metrics.js";
import type { MapFn } from "./ops-postfit.js";
import type { PredictSpec } from "./ops-predict.js";
import { reduceBlocks, rowOffsets } from "./run.js";

/** yTrue / yPred: a tessera array, an NDArray, a typed array, numbers, or (probabilities) rows. */
export type MetricInput = ChunkedArray | NDArray | TypedArray | readonly number[] | readonly (readonly number[])[];

const EPS = 2.220446049250313e-16;

interface Plain {
  data: Float64Array;
  cols: number;
}

function plain(x: MetricInput, name: string, what: string, matrix: boolean): Plain {
  if (x instanceof NDArray) {
    if (x.ndim === 1 || (matrix && x.ndim === 2)) return { data: Float64Array.from(x.data as ArrayLike<number>), cols: x.ndim === 2 ? x.shape[1]! : 1 };
    throw new TesseraError(`${what}: ${name} must be ${matrix ? "1-d or 2-d" : "1-d"}; got shape [${x.shape}]`);
  }
  if (ArrayBuffer.isView(x)) return { data: Float64Array.from(x as ArrayLike<number>), cols: 1 };
  if (Array.isArray(x)) {
    if (x.length > 0 && Array.isArray(x[0])) {
      if (!matrix) throw new TesseraError(`${what}: ${name} must be 1-d values, got rows`);
      const cols = (x[0] as number[]).length;
      const data = new Float64Array(x.length * cols);
      (x as number[][]).forEach((r, i) => {
        if (!Array.isArray(r) || r.length !== cols) throw new TesseraError(`${what}: every row of ${name} must have ${cols} values (row 0 does); row ${i} does not`);
        r.forEach((v, j) => (data[i * cols + j] = typeof v === "number" ? v : NaN));
      });
      return { data, cols };
    }
    if (!x.every((v) => typeof v === "number")) throw new TesseraError(`${what}: ${name} must hold numbers`);
    return { data: Float64Array.from(x as number[]), cols: 1 };
  }
  throw new TesseraError(`${what}: ${name} must be a tessera array, an NDArray, a typed array or numbers; got ${describeInput(x)}`);
}

/** Compute the partial over all of (yTrue, yPred): tasks when either is a tessera array. */
async function partial(yTrue: MetricInput, yPred: MetricInput, kind: MetricKind, what: string, o: { matrix?: boolean; eps?: number; options?: ComputeOptions } = {}): Promise<MetricPartial> {
  if (yTrue === undefined || yPred === undefined) throw new TesseraError(`${what}: needs yTrue and yPred`);
  const eps = o.eps ?? EPS;
  if (yTrue instanceof UnknownChunksArray || yPred instanceof UnknownChunksArray) throw new TesseraError(`${what}: an input has unknown chunk sizes; call computeChunkSizes() on it first`);
  if (!(yTrue instanceof ChunkedArray) && !(yPred instanceof ChunkedArray)) {
    const t = plain(yTrue, "yTrue", what, false);
    const p = plain(yPred, "yPred", what, o.matrix ?? false);
    const n = t.data.length;
    if (p.data.length / p.cols !== n) throw new TesseraError(`${what}: yTrue has ${n} values but yPred has ${p.data.length / p.cols} rows`);
    if (n === 0) throw new TesseraError(`${what}: yTrue is empty`);
    try {
      return metricPartial({ kind, cols: p.cols, eps, offset: 0 }, t.data, p.data);
    } catch (err) {
      if (err instanceof TesseraError) throw new TesseraError(`${what}: ${err.message}`, { cause: err });
      throw err;
    }
  }
  // yPred sets the blocks; yTrue follows them.
  let P: ChunkedArray;
  if (yPred instanceof ChunkedArray) {
    if (yPred.ndim === 2 && o.matrix) P = toMatrix(yPred, what);
    else if (yPred.ndim === 1) P = yPred.dtype === "float64" ? yPred : yPred.astype("float64");
    else throw new TesseraError(`${what}: yPred must be ${o.matrix ? "1-d or 2-d" : "1-d"}; got shape [${yPred.shape}]`);
  } else {
    const p = plain(yPred, "yPred", what, o.matrix ?? false);
    const rows = p.data.length / p.cols;
    const T0 = yTrue as ChunkedArray;
    const chunks = T0.ndim === 1 && T0.shape[0] === rows ? [...T0.chunks[0]!] : [rows];
    P = fromTypedArray(p.data, p.cols === 1 ? { chunks: [chunks] } : { shape: [rows, p.cols], chunks: [chunks, [p.cols]] });
  }
  const rowChunks = P.chunks[0]!;
  const n = P.shape[0]!;
  if (n === 0) throw new TesseraError(`${what}: yPred is empty`);
  const nTrue = yTrue instanceof ChunkedArray ? yTrue.shape[0] : plain(yTrue, "yTrue", what, false).data.length;
  if (nTrue !== n) throw new TesseraError(`${what}: yTrue has ${nTrue} values but yPred has ${n} rows`);
  const T = toTarget(yTrue as never, rowChunks, what);
  const cols = P.ndim === 2 ? P.shape[1]! : 1;
  const offsets = rowOffsets(rowChunks);
  const sp = P[COLLECTION]();
  const st = T[COLLECTION]();
  const rows = {
    graph: HighLevelGraph.merge(P.graph, T.graph),
    x: [...sp.keys],
    y: [...st.keys],
    d: cols,
    rows: [...rowChunks],
    columns: null,
    target: null,
    external: [...(sp.external ?? []), ...(st.external ?? [])],
    hold: [P, T],
  };
  return reduceBlocks<MetricPartial>(rows, { name: "ml-metric", op: "ml.metric", combine: "ml.metric.combine", withY: true, spec: (block): MetricSpec => ({ kind, cols, eps, offset: offsets[block]! }) }, what, o.options);
}

export interface MetricOptions {
  /** Passed to compute (signal, ...). */
  compute?: ComputeOptions;
}

type AccuracyPartial = Extract<MetricPartial, { kind: "accuracy" }>;
type RegressionPartial = Extract<MetricPartial, { kind: "regression" }>;

/** Accuracy from its merged partial. */
const accuracyOf = (p: AccuracyPartial): number => p.correct / p.n;

/** R² from its merged partial: a constant yTrue gives 1 for a perfect fit, else 0 (scikit-learn's). */
function r2Of(p: RegressionPartial): number {
  if (p.m2 === 0) return p.sse === 0 ? 1 : 0;
  return 1 - p.sse / p.m2;
}

/** The fraction of rows with yPred equal to yTrue (or the count, with normalize false). */
export async function accuracyScore(yTrue: MetricInput, yPred: MetricInput, options: MetricOptions & { normalize?: boolean } = {}): Promise<number> {
  const p = (await partial(yTrue, yPred, "accuracy", "accuracyScore", { options: options.compute })) as AccuracyPartial;
  return options.normalize === false ? p.correct : accuracyOf(p);
}

/** How an estimator predicts a block inside its score task: `ml.score` (a PredictSpec) or `ml.map.score` (a block function). */
export type ScoringModel = { op: "ml.score"; d: number; spec: { predict: PredictSpec } } | { op: "ml.map.score"; d: number; spec: { d: number; map: MapFn } };

/**
 * An estimator's score(X, y), scikit-learn's without sample weights: accuracy for classifiers,
 * R² for regressors, the same partials and formulas as accuracyScore and r2Score, with the
 * predictions made inside the per-block score task (one pass, nothing but the partials comes
 * back). X must be finite and y must have a value per row.
 */
export async function estimatorScore(X: MatrixInput, y: TargetInput, model: ScoringModel, metric: "accuracy" | "r2", what: string, options: ComputeOptions = {}): Promise<number> {
  if (y === undefined || y === null) throw new TesseraError(`${what}: y is missing`);
  const rows = await toRows(X, y, what);
  if (rows.d !== model.d) throw new TesseraError(`${what}: X has ${rows.d} features, but the model was fitted with ${model.d}`);
  const offsets = rows.rows ? rowOffsets(rows.rows) : null;
  const kind = metric === "accuracy" ? "accuracy" : "regression";
  const spec = (block: number): BlockScoreSpec & object => ({ ...model.spec, kind, block, offset: offsets ? offsets[block]! : null });
  const p = await reduceBlocks<MetricPartial>(rows, { name: `ml-${metric}`, op: model.op, combine: "ml.metric.combine", spec }, what, options);
  if (p.n === 0) throw new TesseraError(`${what}: X has no rows`);
  return p.kind === "accuracy" ? accuracyOf(p) : r2Of(p as RegressionPartial);
}

async function regression(yTrue: MetricInput, yPred: MetricInput, what: string, options?: ComputeOptions) {
  return (await partial(yTrue, yPred, "regression", what, { options })) as Extract<MetricPartial, { kind: "regression" }>;
}

/** R²: 1 - Σ(y - ŷ)² / Σ(y - ȳ)²; a constant yTrue gives 1 for a perfect fit, else 0 (scikit-learn's). */
export async function r2Score(yTrue: MetricInput, yPred: MetricInput, options: MetricOptions = {}): Promise<number> {
  return r2Of(await regression(yTrue, yPred, "r2Score", options.compute));
}

/** Mean squared error (its root with squared false). */
export async function meanSquaredError(yTrue: MetricInput, yPred: MetricInput, options: MetricOptions & { squared?: boolean } = {}): Promise<number> {
  const p = await regression(yTrue, yPred, "meanSquaredError", options.compute);
  const mse = p.sse / p.n;
  return options.squared === false ? Math.sqrt(mse) : mse;
}

export async function meanAbsoluteError(yTrue: MetricInput, yPred: MetricInput, options: MetricOptions = {}): Promise<number> {
  const p = await regression(yTrue, yPred, "meanAbsoluteError", options.compute);
  return p.sae / p.n;
}

/**
 * Cross-entropy of probabilities yPred — [n, nClasses] with columns in the order of the
 * sorted labels (`labels`, or those of yTrue), or for two classes the probability of the
 * larger label — clipped to [eps, 1 - eps] and each row renormalized.
 */
export async function logLoss(yTrue: MetricInput, yPred: MetricInput, options: MetricOptions & { labels?: readonly number[]; eps?: number } = {}): Promise<number> {
  const what = "logLoss";
  const eps = options.eps ?? EPS;
  if (!(typeof eps === "number" && eps > 0 && eps < 0.5)) throw new TesseraError(`${what}: eps must be in (0, 0.5), got ${JSON.stringify(options.eps)}`);
  const p = (await partial(yTrue, yPred, "logloss", what, { matrix: true, eps, options: options.compute })) as Extract<MetricPartial, { kind: "logloss" }>;
  const labels = options.labels ? [...options.labels].sort((a, b) => a - b) : p.labels;
  if (labels.length < 2) throw new TesseraError(`${what}: yTrue has one label only (${labels[0]}); give labels to say which classes yPred's columns are`);
  if (labels.length !== p.K) throw new TesseraError(`${what}: yPred has ${p.K} probability columns (one per class) but there are ${labels.length} labels [${labels}]`);
  let loss = 0;
  p.labels.forEach((l, i) => {
    const c = labels.indexOf(l);
    if (c < 0) throw new TesseraError(`${what}: yTrue has label ${l}, which is not among labels [${labels}]`);
    loss += p.sums[i]![c]!;
  });
  return loss / p.n;
}

/** Counts [i][j] of rows with true label labels[i] predicted as labels[j] (labels: given, or the sorted union). */
export async function confusionMatrix(yTrue: MetricInput, yPred: MetricInput, options: MetricOptions & { labels?: readonly number[] } = {}): Promise<number[][]> {
  const p = (await partial(yTrue, yPred, "pairs", "confusionMatrix", { options: options.compute })) as Extract<MetricPartial, { kind: "pairs" }>;
  const labels = options.labels ? [...options.labels] : [...new Set([...p.a, ...p.b])].sort((x, y) => x - y);
  if (labels.length === 0) throw new TesseraError(`confusionMatrix: labels is empty`);
  const index = new Map(labels.map((l, i) => [l, i]));
  if (index.size !== labels.length) throw new TesseraError(`confusionMatrix: labels has a value twice: [${labels}]`);
  const m = labels.map(() => new Array<number>(labels.length).fill(0));
  p.a.forEach((a, i) => {
    const r = index.get(a);
    const c = index.get(p.b[i]!);
    if (r !== undefined && c !== undefined) m[r]![c]! += p.count[i]!;
  });
  return m;
}

export interface RocAucOptions extends MetricOptions {
  /**
   * For more than two classes (yScore a probability matrix [n, nClasses]): "ovr" (each class
   * against the rest) or "ovo" (each pair of classes); "raise" (default) refuses, as scikit-learn.
   */
  multiClass?: "raise" | "ovr" | "ovo";
  /** How the per-class (ovr) or per-pair (ovo) AUCs are averaged: "macro" (default) or "weighted" (by support, ovo by pair prevalence). */
  average?: "macro" | "weighted";
  /** Multiclass: the class of each column of yScore, sorted (default: the labels of yTrue). */
  labels?: readonly number[];
}

/**
 * Area under the ROC curve (scikit-learn's roc_auc_score). Binary: yScore holds one score per
 * row, the larger label is positive. Multiclass: yScore is a probability matrix (rows summing
 * to 1), columns in the order of the sorted labels, and multiClass says how classes are paired.
 */
export async function rocAucScore(yTrue: MetricInput, yScore: MetricInput, options: RocAucOptions = {}): Promise<number> {
  const what = "rocAucScore";
  const multiClass = options.multiClass ?? "raise";
  if (!["raise", "ovr", "ovo"].includes(multiClass)) throw new TesseraError(`${what}: multiClass must be "raise", "ovr" or "ovo"; got ${JSON.stringify(options.multiClass)}`);
  const average = options.average ?? "macro";
  if (!["macro", "weighted"].includes(average)) throw new TesseraError(`${what}: average must be "macro" or "weighted"; got ${JSON.stringify(options.average)}`);
  if (isMatrix(yScore)) return multiclassAuc(yTrue, yScore, { multiClass, average, labels: options.labels }, options.compute);
  const p = (await partial(yTrue, yScore, "pairs", what, { options: options.compute })) as PairsPartial;
  const labels = [...new Set(p.a)].sort((x, y) => x - y);
  if (labels.length !== 2) {
    const shown = `[${labels.slice(0, 10)}${labels.length > 10 ? ", ..." : ""}]`;
    if (labels.length > 2) throw new TesseraError(`${what}: yTrue has ${labels.length} classes (${shown}); multiclass AUC needs yScore as a probability matrix [n, nClasses] and multiClass "ovr" or "ovo"`);
    throw new TesseraError(`${what}: yTrue must have two classes at least; it has ${labels.length} (${shown}), and ROC AUC is not defined then`);
  }
  return areaUnder(runsOf(p, (a) => a === labels[1]), runsOf(p, (a) => a === labels[0]));
}

function isMatrix(x: MetricInput): boolean {
  if (x instanceof ChunkedArray || x instanceof NDArray) return x.ndim === 2;
  return Array.isArray(x) && x.length > 0 && Array.isArray(x[0]);
}

/** Distinct scores (ascending) and their counts. */
interface Runs {
  score: Float64Array;
  count: Float64Array;
}

/** The scores of the pairs whose label passes `keep`, merged into distinct runs. */
function runsOf(p: PairsPartial, keep: (label: number) => boolean): Runs {
  const idx: number[] = [];
  for (let i = 0; i < p.a.length; i++) if (keep(p.a[i]!)) idx.push(i);
  idx.sort((i, j) => p.b[i]! - p.b[j]!);
  const score: number[] = [];
  const count: number[] = [];
  for (const i of idx) {
    if (score.length > 0 && score[score.length - 1] === p.b[i]) count[count.length - 1]! += p.count[i]!;
    else (score.push(p.b[i]!), count.push(p.count[i]!));
  }
  return { score: Float64Array.from(score), count: Float64Array.from(count) };
}

/**
 * The area under the ROC curve of positives' and negatives' scores: walk both from the highest
 * score down, a tied group at a time (the trapezoid over tied thresholds, as scikit-learn).
 */
function areaUnder(pos: Runs, neg: Runs): number {
  let pi = pos.score.length - 1;
  let ni = neg.score.length - 1;
  let tp = 0;
  let fp = 0;
  let area = 0;
  while (ni >= 0 || pi >= 0) {
    const s = Math.max(ni >= 0 ? neg.score[ni]! : -Infinity, pi >= 0 ? pos.score[pi]! : -Infinity);
    const dp = pi >= 0 && pos.score[pi] === s ? pos.count[pi--]! : 0;
    const dn = ni >= 0 && neg.score[ni] === s ? neg.count[ni--]! : 0;
    area += dn * (tp + dp / 2);
    tp += dp;
    fp += dn;
  }
  return area / (tp * fp);
}

async function multiclassAuc(yTrue: MetricInput, yScore: MetricInput, o: { multiClass: "raise" | "ovr" | "ovo"; average: "macro" | "weighted"; labels?: readonly number[] }, compute?: ComputeOptions): Promise<number> {
  const what = "rocAucScore";
  const p = (await partial(yTrue, yScore, "colpairs", what, { matrix: true, options: compute })) as Extract<MetricPartial, { kind: "colpairs" }>;
  const K = p.cols.length;
  const present = [...new Set(p.cols[0]!.a)].sort((x, y) => x - y);
  if (K <= 2) throw new TesseraError(`${what}: yScore has ${K} column(s); for two classes give a 1-d yScore (the scores of the larger label), as scikit-learn`);
  if (o.multiClass === "raise") throw new TesseraError(`${what}: yScore has ${K} columns (multiclass); say how to pair the classes with multiClass "ovr" or "ovo"`);
  let classes: number[];
  if (o.labels !== undefined) {
    classes = [...o.labels];
    if (!classes.every((c, i) => typeof c === "number" && Number.isFinite(c) && (i === 0 || c > classes[i - 1]!))) throw new TesseraError(`${what}: labels must be distinct numbers in increasing order; got ${JSON.stringify(o.labels)}`);
    if (classes.length !== K) throw new TesseraError(`${what}: labels has ${classes.length} classes but yScore has ${K} columns`);
    const extra = present.filter((c) => !classes.includes(c));
    if (extra.length > 0) throw new TesseraError(`${what}: yTrue has label(s) ${extra.slice(0, 10).join(", ")}, which are not among labels [${classes}]`);
  } else {
    classes = present;
    if (classes.length !== K) throw new TesseraError(`${what}: yTrue has ${classes.length} classes ([${classes.slice(0, 10)}]) but yScore has ${K} columns; give labels to say which class each column is`);
  }
  // numpy's allclose(1, rowSums): |sum - 1| <= 1e-8 + 1e-5.
  if (p.sumDev > 1e-8 + 1e-5) throw new TesseraError(`${what}: multiclass AUC needs probabilities, rows of yScore summing to 1; ${p.sumAt} is off by ${p.sumDev}`);
  const support = (c: number) => {
    let s = 0;
    p.cols[0]!.a.forEach((a, i) => a === c && (s += p.cols[0]!.count[i]!));
    return s;
  };
  const scores: number[] = [];
  const weights: number[] = [];
  if (o.multiClass === "ovr") {
    classes.forEach((c, k) => {
      const pos = runsOf(p.cols[k]!, (a) => a === c);
      const neg = runsOf(p.cols[k]!, (a) => a !== c);
      if (pos.score.length === 0 || neg.score.length === 0) throw new TesseraError(`${what}: class ${c} ${pos.score.length === 0 ? "has no rows in yTrue" : "is the only class in yTrue"}; its one-vs-rest AUC is not defined`);
      scores.push(areaUnder(pos, neg));
      weights.push(support(c));
    });
  } else {
    for (let i = 0; i < K; i++) {
      for (let j = i + 1; j < K; j++) {
        const [a, b] = [classes[i]!, classes[j]!];
        if (!present.includes(a) || !present.includes(b)) continue; // scikit-learn pairs the classes present in yTrue
        const ab = areaUnder(runsOf(p.cols[i]!, (l) => l === a), runsOf(p.cols[i]!, (l) => l === b));
        const ba = areaUnder(runsOf(p.cols[j]!, (l) => l === b), runsOf(p.cols[j]!, (l) => l === a));
        scores.push((ab + ba) / 2);
        weights.push(support(a) + support(b));
      }
    }
  }
  if (o.average === "macro") return scores.reduce((x, y) => x + y, 0) / scores.length;
  const total = weights.reduce((x, y) => x + y, 0);
  return scores.reduce((acc, v, i) => acc + (v * weights[i]!) / total, 0);
}
