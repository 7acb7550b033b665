// Shared by the ML tests: the datasets in ../shared/datasets, scikit-learn's results on them
// (references.json, made by make-references.py), and plain-JS references on whole arrays.
import { existsSync, readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { array as da } from "../../dist/index.js";

export const DATASETS = new URL("../../../shared/datasets/", import.meta.url);
export const HAVE_DATASETS = existsSync(new URL("iris.csv", DATASETS));

export interface Dataset {
  X: Float64Array;
  y: Float64Array;
  n: number;
  d: number;
}

/** The scikit-learn CSVs: a "n,d,names..." line, then rows of d features and the target. */
export function loadCsv(name: string): Dataset {
  const lines = readFileSync(new URL(name, DATASETS), "utf8").trim().split("\n");
  const [n, d] = lines[0]!.split(",").map(Number) as [number, number];
  const X = new Float64Array(n * d);
  const y = new Float64Array(n);
  lines.slice(1).forEach((line, i) => {
    const v = line.split(",").map(Number);
    for (let j = 0; j < d; j++) X[i * d + j] = v[j]!;
    y[i] = v[d]!;
  });
  return { X, y, n, d };
}

export function loadDiabetes(): Dataset {
  const rows = gunzipSync(readFileSync(new URL("diabetes_data_raw.csv.gz", DATASETS))).toString("utf8").trim().split("\n");
  const target = gunzipSync(readFileSync(new URL("diabetes_target.csv.gz", DATASETS))).toString("utf8").trim().split("\n");
  const d = rows[0]!.trim().split(/\s+/).length;
  const X = new Float64Array(rows.length * d);
  rows.forEach((r, i) => r.trim().split(/\s+/).forEach((v, j) => (X[i * d + j] = Number(v))));
  return { X, y: Float64Array.from(target, Number), n: rows.length, d };
}

interface Reference {
  coef: number[];
  intercept: number[] | number;
  accuracy?: number;
  defaultAccuracy?: number;
  r2?: number;
}
export const REF = JSON.parse(readFileSync(new URL("./references.json", import.meta.url), "utf8")) as {
  breast_cancer: { scaler: { mean: number[]; scale: number[]; var: number[] }; minmax: { scale: number[]; min: number[] }; logistic: Reference };
  iris: { logistic: Reference; kmeans3: { inertia: number } };
  wine: { logistic: Reference; kmeans3: { inertia: number } };
  diabetes: { linear: Reference; ridge: Reference };
};

/** Rows per block for about `blocks` blocks of n rows. */
export const rowsPerBlock = (n: number, blocks: number): number => Math.ceil(n / blocks);

/** A dataset as tessera arrays of about `blocks` row blocks: X (n × d) and y. */
export const blockArrays = (ds: Dataset, blocks: number) => ({
  X: da.fromTypedArray(ds.X, { shape: [ds.n, ds.d], chunks: [rowsPerBlock(ds.n, blocks), ds.d] }),
  y: da.fromTypedArray(ds.y, { chunks: [rowsPerBlock(ds.n, blocks)] }),
});

export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return m;
}

/** Column means and population standard deviations, two-pass. */
export function standardize(X: Float64Array, n: number, d: number): { mean: Float64Array; std: Float64Array; Z: Float64Array } {
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += X[i * d + j]! / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) std[j] += (X[i * d + j]! - mean[j]!) ** 2 / n;
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j]!) || 1;
  const Z = X.map((v, i) => (v - mean[i % d]!) / std[i % d]!);
  return { mean, std, Z };
}

/** Ridge by a direct solve on the whole data: centred normal equations, Gaussian elimination with partial pivoting. */
export function ridgeDirect(X: Float64Array, y: Float64Array, n: number, d: number, alpha: number, intercept = true): { coef: Float64Array; intercept: number } {
  const mx = new Float64Array(d);
  let my = 0;
  if (intercept) {
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mx[j] += X[i * d + j]! / n;
    for (let i = 0; i < n; i++) my += y[i]! / n;
  }
  const A = Array.from({ length: d }, () => new Float64Array(d + 1));
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) {
      const xa = X[i * d + a]! - mx[a]!;
      for (let b = 0; b < d; b++) A[a]![b] += xa * (X[i * d + b]! - mx[b]!);
      A[a]![d] += xa * (y[i]! - my);
    }
  }
  for (let a = 0; a < d; a++) A[a]![a] += alpha;
  for (let c = 0; c < d; c++) {
    let p = c;
    for (let r = c + 1; r < d; r++) if (Math.abs(A[r]![c]!) > Math.abs(A[p]![c]!)) p = r;
    [A[c], A[p]] = [A[p]!, A[c]!];
    for (let r = c + 1; r < d; r++) {
      const f = A[r]![c]! / A[c]![c]!;
      for (let k = c; k <= d; k++) A[r]![k] -= f * A[c]![k]!;
    }
  }
  const coef = new Float64Array(d);
  for (let r = d - 1; r >= 0; r--) {
    let s = A[r]![d]!;
    for (let k = r + 1; k < d; k++) s -= A[r]![k]! * coef[k]!;
    coef[r] = s / A[r]![r]!;
  }
  return { coef, intercept: intercept ? my - coef.reduce((s, w, j) => s + w * mx[j]!, 0) : 0 };
}

/** Plain Lloyd iterations from `init` with KMeans' stopping rule; returns centres, inertia, iterations. */
export function plainLloyd(X: Float64Array, n: number, d: number, init: Float64Array, tolAbs: number, maxIter = 300): { centres: Float64Array; inertia: number; nIter: number } {
  const k = init.length / d;
  let C = Float64Array.from(init);
  const nearest = (C: Float64Array, i: number): [number, number] => {
    let best = 0;
    let bd = Infinity;
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (X[i * d + j]! - C[c * d + j]!) ** 2;
      if (s < bd) [bd, best] = [s, c];
    }
    return [best, bd];
  };
  let it = 0;
  while (it < maxIter) {
    const sums = new Float64Array(k * d);
    const counts = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      const [c] = nearest(C, i);
      counts[c]++;
      for (let j = 0; j < d; j++) sums[c * d + j] += X[i * d + j]!;
    }
    it++;
    const next = C.map((v, t) => (counts[Math.floor(t / d)]! > 0 ? sums[t]! / counts[Math.floor(t / d)]! : v));
    const shift = next.reduce((s, v, t) => s + (v - C[t]!) ** 2, 0);
    C = next;
    if (shift <= tolAbs) break;
  }
  let inertia = 0;
  for (let i = 0; i < n; i++) inertia += nearest(C, i)[1];
  return { centres: C, inertia, nIter: it };
}

/** The mean column variance of X (KMeans' tol is relative to it). */
export function meanVariance(X: Float64Array, n: number, d: number): number {
  const { std } = standardize(X, n, d);
  return std.reduce((s, v) => s + v * v, 0) / d;
}
