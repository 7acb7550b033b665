/**
 * The metrics' partials: what one block of (yPred, yTrue) contributes, and how two merge.
 * Pure functions over Float64Arrays, run as the `ml.metric` op on the workers for tessera
 * arrays and directly on the client for plain values; partials merge in block order.
 *
 *   accuracy     rows, rows equal
 *   regression   rows, Σ squared error, Σ absolute error, mean and M² of yTrue (Chan)
 *   logloss      per distinct label ℓ and per probability column c: Σ -log p[c] over rows
 *                labelled ℓ (p clipped and each row renormalized, as scikit-learn), so one
 *                pass serves whatever the label set turns out to be
 *   pairs        distinct (a, b) pairs and their counts: (true, predicted) for the confusion
 *                matrix, (label, score) for ROC AUC
 *   colpairs     pairs per column of a score matrix: (label, score of column c), for the
 *                multiclass ROC AUC
 */

import { TesseraError } from "../errors.js";
import { withKernels } from "../kernels/instance.js";
import { registerOp } from "../worker/registry.js";
import { asBlock, inWasm } from "../array/block.js";

export type MetricKind = "accuracy" | "regression" | "logloss" | "pairs" | "colpairs";

export type PairsPartial = { kind: "pairs"; n: number; a: Float64Array; b: Float64Array; count: Float64Array };

export type MetricPartial =
  | { kind: "accuracy"; n: number; correct: number }
  | { kind: "regression"; n: number; sse: number; sae: number; mean: number; m2: number }
  | { kind: "logloss"; n: number; K: number; labels: number[]; sums: number[][] }
  /** Sorted by (a, b), distinct. */
  | PairsPartial
  /** One pairs partial per column of yPred; the row whose sum is farthest from 1, and by how much. */
  | { kind: "colpairs"; n: number; cols: PairsPartial[]; sumDev: number; sumAt: string };

export interface MetricSpec {
  kind: MetricKind;
  /** Columns of yPred: 1 for a vector. */
  cols: number;
  eps: number;
  /** Row number of the block's first row, for messages (null: unknown, the block's number is named). */
  offset: number | null;
  block?: number;
}

/** Where row i of a block is, for messages. */
const rowOf = (spec: { offset: number | null; block?: number }, i: number) => (spec.offset !== null ? `row ${spec.offset + i}` : `row ${i} of block ${spec.block ?? 0}`);

/** The partial of one block: t (yTrue, rows) and p (yPred, rows x cols, row-major). */
export function metricPartial(spec: MetricSpec, t: Float64Array, p: Float64Array): MetricPartial {
  const n = t.length;
  if (p.length !== n * spec.cols) throw new TesseraError(`yTrue has ${n} values but yPred has ${p.length / spec.cols} rows in the block starting at ${rowOf(spec, 0)}`);
  const bad = (v: number, i: number, which: string) => new TesseraError(`${which} has ${Number.isNaN(v) ? "NaN (or a null)" : v} at ${rowOf(spec, i)}`);
  for (let i = 0; i < n; i++) if (!Number.isFinite(t[i]!)) throw bad(t[i]!, i, "yTrue");
  for (let i = 0; i < p.length; i++) if (!Number.isFinite(p[i]!)) throw bad(p[i]!, Math.floor(i / spec.cols), "yPred");
  switch (spec.kind) {
    case "accuracy": {
      let correct = 0;
      for (let i = 0; i < n; i++) if (t[i] === p[i]) correct++;
      return { kind: "accuracy", n, correct };
    }
    case "regression": {
      let mean = 0;
      for (let i = 0; i < n; i++) mean += t[i]!;
      mean = n > 0 ? mean / n : 0;
      let m2 = 0;
      let sse = 0;
      let sae = 0;
      for (let i = 0; i < n; i++) {
        m2 += (t[i]! - mean) ** 2;
        const e = t[i]! - p[i]!;
        sse += e * e;
        sae += Math.abs(e);
      }
      return { kind: "regression", n, sse, sae, mean, m2 };
    }
    case "logloss": {
      const K = spec.cols === 1 ? 2 : spec.cols;
      const rows = new Map<number, number[]>();
      const q = new Float64Array(K);
      for (let i = 0; i < n; i++) {
        if (spec.cols === 1) {
          const v = p[i]!;
          if (v < 0 || v > 1) throw new TesseraError(`yPred has ${v} at ${rowOf(spec, i)}; probabilities lie in [0, 1]`);
          q[0] = 1 - v;
          q[1] = v;
        } else for (let c = 0; c < K; c++) q[c] = p[i * K + c]!;
        let s = 0;
        for (let c = 0; c < K; c++) s += (q[c] = Math.min(1 - spec.eps, Math.max(spec.eps, q[c]!)));
        let acc = rows.get(t[i]!);
        if (!acc) rows.set(t[i]!, (acc = new Array<number>(K).fill(0)));
        for (let c = 0; c < K; c++) acc[c]! -= Math.log(q[c]! / s);
      }
      const labels = [...rows.keys()].sort((a, b) => a - b);
      return { kind: "logloss", n, K, labels, sums: labels.map((l) => rows.get(l)!) };
    }
    case "pairs":
      return pairsOf(t, p);
    case "colpairs": {
      const cols: PairsPartial[] = [];
      const column = new Float64Array(n);
      for (let c = 0; c < spec.cols; c++) {
        for (let i = 0; i < n; i++) column[i] = p[i * spec.cols + c]!;
        cols.push(pairsOf(t, column));
      }
      let sumDev = 0;
      let sumAt = "";
      for (let i = 0; i < n; i++) {
        let sum = 0;
        for (let c = 0; c < spec.cols; c++) sum += p[i * spec.cols + c]!;
        if (Math.abs(sum - 1) > sumDev) [sumDev, sumAt] = [Math.abs(sum - 1), rowOf(spec, i)];
      }
      return { kind: "colpairs", n, cols, sumDev, sumAt };
    }
  }
}

/** What an estimator's score computes per block: scikit-learn's score, accuracy or R², without sample weights. */
export interface BlockScoreSpec {
  kind: "accuracy" | "regression";
  block: number;
  offset: number | null;
}

/**
 * The metric partial of a model's predictions p for a block of X (xv, rows x d) against y (t),
 * as the metrics compute it: X must be finite and y must have one value per row, as scikit-learn
 * checks before predicting.
 */
export function blockScore(spec: BlockScoreSpec, xv: Float64Array, d: number, t: Float64Array, predict: () => Float64Array): MetricPartial {
  const rows = xv.length / d;
  if (t.length !== rows) throw new TesseraError(`y has ${t.length} values for the ${rows} rows of X in block ${spec.block}`);
  for (let i = 0; i < xv.length; i++) {
    const v = xv[i]!;
    if (!Number.isFinite(v)) throw new TesseraError(`X has ${Number.isNaN(v) ? "NaN (or a null)" : v} at ${rowOf(spec, Math.floor(i / d))}, column ${i % d}`);
  }
  return metricPartial({ kind: spec.kind, cols: 1, eps: 0, offset: spec.offset, block: spec.block }, t, predict());
}

/** The distinct (t, p) pairs with their counts, sorted by (t, p). */
function pairsOf(t: Float64Array, p: Float64Array): PairsPartial {
  // Per value of t, its p values sorted (a native numeric sort), then run-length counted.
  const groups = new Map<number, number[]>();
  for (let i = 0; i < t.length; i++) {
    let g = groups.get(t[i]!);
    if (!g) groups.set(t[i]!, (g = []));
    g.push(p[i]!);
  }
  const a: number[] = [];
  const b: number[] = [];
  const count: number[] = [];
  for (const key of [...groups.keys()].sort((x, y) => x - y)) {
    const sorted = Float64Array.from(groups.get(key)!).sort();
    for (let i = 0; i < sorted.length; ) {
      let j = i + 1;
      while (j < sorted.length && sorted[j] === sorted[i]) j++;
      a.push(key);
      b.push(sorted[i]!);
      count.push(j - i);
      i = j;
    }
  }
  return { kind: "pairs", n: t.length, a: Float64Array.from(a), b: Float64Array.from(b), count: Float64Array.from(count) };
}

/** Merge two (a, b)-sorted pair lists, adding the counts of equal pairs. */
function mergePairs(x: PairsPartial, y: PairsPartial): PairsPartial {
  const cap = x.a.length + y.a.length;
  const a = new Float64Array(cap);
  const b = new Float64Array(cap);
  const count = new Float64Array(cap);
  let i = 0;
  let j = 0;
  let o = 0;
  while (i < x.a.length || j < y.a.length) {
    const cmp = i >= x.a.length ? 1 : j >= y.a.length ? -1 : x.a[i]! - y.a[j]! || x.b[i]! - y.b[j]!;
    if (cmp <= 0) ((a[o] = x.a[i]!), (b[o] = x.b[i]!), (count[o] = x.count[i]!), i++);
    else ((a[o] = y.a[j]!), (b[o] = y.b[j]!), (count[o] = y.count[j]!), j++);
    if (cmp === 0) (count[o]! += y.count[j]!), j++;
    o++;
  }
  return { kind: "pairs", n: x.n + y.n, a: a.slice(0, o), b: b.slice(0, o), count: count.slice(0, o) };
}

export function combineMetric(x: MetricPartial, y: MetricPartial): MetricPartial {
  if (x.kind === "accuracy" && y.kind === "accuracy") return { kind: "accuracy", n: x.n + y.n, correct: x.correct + y.correct };
  if (x.kind === "regression" && y.kind === "regression") {
    const n = x.n + y.n;
    if (x.n === 0) return y;
    if (y.n === 0) return x;
    const delta = y.mean - x.mean;
    return { kind: "regression", n, sse: x.sse + y.sse, sae: x.sae + y.sae, mean: x.mean + (delta * y.n) / n, m2: x.m2 + y.m2 + (delta * delta * x.n * y.n) / n };
  }
  if (x.kind === "logloss" && y.kind === "logloss") {
    const m = new Map<number, number[]>();
    for (const part of [x, y]) part.labels.forEach((l, i) => {
      const acc = m.get(l) ?? new Array<number>(x.K).fill(0);
      part.sums[i]!.forEach((v, c) => (acc[c]! += v));
      m.set(l, acc);
    });
    const labels = [...m.keys()].sort((a, b) => a - b);
    return { kind: "logloss", n: x.n + y.n, K: x.K, labels, sums: labels.map((l) => m.get(l)!) };
  }
  if (x.kind === "pairs" && y.kind === "pairs") return mergePairs(x, y);
  if (x.kind === "colpairs" && y.kind === "colpairs") {
    const worst = y.sumDev > x.sumDev ? y : x;
    return { kind: "colpairs", n: x.n + y.n, cols: x.cols.map((c, i) => mergePairs(c, y.cols[i]!)), sumDev: worst.sumDev, sumAt: worst.sumAt };
  }
  throw new TesseraError(`internal: cannot combine metric partials ${x.kind} and ${y.kind}`);
}

/** The values of an f64 block (a copy). */
function values(x: unknown, what: string): Float64Array | Promise<Float64Array> {
  return withKernels((k) => {
    const b = asBlock(x, what);
    if (b.dtype !== "float64") throw new TesseraError(`${what}: expected a float64 block, got ${b.dtype}`);
    const w = inWasm(k, b);
    try {
      return Float64Array.from(k.view("float64", w.ptr, b.shape.reduce((a, c) => a * c, 1)));
    } finally {
      w.done();
    }
  });
}

registerOp("ml.metric", async (spec: MetricSpec, pred: unknown, truth: unknown) => metricPartial(spec, await values(truth, "ml.metric yTrue"), await values(pred, "ml.metric yPred")));
registerOp("ml.metric.combine", (...parts: MetricPartial[]) => parts.reduce(combineMetric));
