/**
 * Worker ops of fitted models: predictions of a block (`ml.predict`, an output block in wasm
 * memory), of a dataframe partition (`ml.predict.frame`, a Frame of output columns), and the
 * partials of score (`ml.score`: accuracy counts, or R²'s count, mean, M² of y and squared
 * error, merged by `ml.r2.combine` with Chan's update).
 */

import { TesseraError } from "../errors.js";
import { withKernels } from "../kernels/instance.js";
import type { Kernels } from "../kernels/kernels.js";
import { registerOp } from "../worker/registry.js";
import { WasmChunk } from "../array/block.js";
import { asFrame, type Column, type Frame } from "../dataframe/frame.js";
import { frameRows, matrix, show, using, vector, type Matrix } from "./blocks.js";
import { findNonFinite, kmeansBlock, logisticLabels, logisticProba } from "./kernels.js";

// ---- predictions --------------------------------------------------------------------------

export type PredictSpec =
  | { kind: "linear"; d: number; coef: Float64Array; intercept: number }
  | { kind: "logistic-proba"; d: number; K: number; W: Float64Array; b: Float64Array }
  | { kind: "logistic-label"; d: number; K: number; W: Float64Array; b: Float64Array; classes: number[] }
  | { kind: "kmeans-label"; d: number; C: Float64Array; nc: number }
  | { kind: "kmeans-distance"; d: number; C: Float64Array; nc: number };

/** Output columns per row and dtype of a prediction. */
export function predictShape(spec: PredictSpec): { cols: number | null; dtype: "float64" | "int32" } {
  switch (spec.kind) {
    case "linear":
    case "logistic-label":
      return { cols: null, dtype: "float64" };
    case "logistic-proba":
      return { cols: Math.max(2, spec.K), dtype: "float64" };
    case "kmeans-label":
      return { cols: null, dtype: "int32" };
    case "kmeans-distance":
      return { cols: spec.nc, dtype: "float64" };
  }
}

function predictInto(k: Kernels, spec: PredictSpec, x: Matrix, out: WasmChunk): void {
  const n = x.rows;
  const d = spec.d;
  if (spec.kind === "kmeans-label") {
    kmeansBlock(k, x.ptr, n, d, spec.C, spec.nc, { labels: out.ptr });
    return;
  }
  if (spec.kind === "kmeans-distance") {
    const xv = k.view("float64", x.ptr, n * d);
    const o = out.view() as Float64Array;
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < spec.nc; c++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += (xv[i * d + j]! - spec.C[c * d + j]!) ** 2;
        o[i * spec.nc + c] = Math.sqrt(s);
      }
    }
    return;
  }
  const xv = k.view("float64", x.ptr, n * d);
  const o = out.view() as Float64Array;
  if (spec.kind === "linear") {
    for (let i = 0; i < n; i++) {
      let s = spec.intercept;
      for (let j = 0; j < d; j++) s += xv[i * d + j]! * spec.coef[j]!;
      o[i] = s;
    }
  } else if (spec.kind === "logistic-proba") logisticProba(xv, n, d, spec.W, spec.b, spec.K, o);
  else logisticLabels(xv, n, d, spec.W, spec.b, spec.K, spec.classes, o);
}

function predictBlock(k: Kernels, spec: PredictSpec, x: Matrix): WasmChunk {
  const { cols, dtype } = predictShape(spec);
  const out = WasmChunk.alloc(k, dtype, cols === null ? [x.rows] : [x.rows, cols]);
  try {
    predictInto(k, spec, x, out);
    return out;
  } catch (err) {
    k.free(out.ptr);
    throw err;
  }
}

registerOp("ml.predict", (spec: PredictSpec, x: unknown) =>
  withKernels((k) => {
    const xm = matrix(k, x, spec.d, "ml.predict X");
    return using([xm], () => predictBlock(k, spec, xm));
  }),
);

registerOp("ml.predict.frame", (spec: { predict: PredictSpec; columns: string[]; names: string[] }, part: unknown) =>
  withKernels((k): Frame => {
    const frame = asFrame(part, "ml.predict.frame");
    const rows = frameRows(frame, spec.columns, "ml.predict.frame");
    const bad = findNonFinite(rows, frame.length, spec.columns.length);
    if (bad) throw new TesseraError(`X has ${show(bad.value)} at row ${bad.row} of this partition, column ${JSON.stringify(spec.columns[bad.col])}`);
    const ptr = k.copyIn(rows.length > 0 ? rows : new Float64Array(1));
    const xm: Matrix = { ptr, dtype: "float64", shape: [frame.length, spec.columns.length], rows: frame.length, d: spec.columns.length, done: () => k.free(ptr) };
    return using([xm], () => {
      const out = predictBlock(k, spec.predict, xm);
      try {
        const v = out.view();
        const cols = spec.names.length;
        const columns: Column[] = spec.names.map((_, c) => {
          const data = out.dtype === "int32" ? new Int32Array(frame.length) : new Float64Array(frame.length);
          for (let i = 0; i < frame.length; i++) data[i] = v[i * cols + c]!;
          return { type: out.dtype, data };
        });
        return { length: frame.length, names: [...spec.names], columns };
      } finally {
        k.free(out.ptr);
      }
    });
  }),
);

export type ScoreSpec = { predict: PredictSpec; metric: "accuracy" | "r2"; block: number };
export interface AccuracyPartial {
  n: number;
  correct: number;
  problem: string | null;
}
export interface R2Partial {
  n: number;
  mean: number;
  m2: number;
  sse: number;
  problem: string | null;
}

registerOp("ml.score", (spec: ScoreSpec, x: unknown, y: unknown) =>
  withKernels((k): AccuracyPartial | R2Partial => {
    const xm = matrix(k, x, spec.predict.d, "ml.score X");
    const ym = vector(k, y, "ml.score y");
    return using([xm, ym], () => {
      if (ym.rows !== xm.rows) {
        const problem = `y has ${ym.rows} values for the ${xm.rows} rows of X in block ${spec.block}`;
        return spec.metric === "accuracy" ? { n: 0, correct: 0, problem } : { n: 0, mean: 0, m2: 0, sse: 0, problem };
      }
      const out = predictBlock(k, spec.predict, xm);
      try {
        return scorePartial(spec.metric, out.view(), k.view("float64", ym.ptr, ym.rows), spec.block);
      } finally {
        k.free(out.ptr);
      }
    });
  }),
);

/** Accuracy counts, or R²'s count, mean, M² of y and squared error, of predictions p against t. */
export function scorePartial(metric: "accuracy" | "r2", p: ArrayLike<number>, t: ArrayLike<number>, block: number): AccuracyPartial | R2Partial {
  if (metric === "accuracy") {
    let correct = 0;
    for (let i = 0; i < t.length; i++) if (p[i] === t[i]) correct++;
    return { n: t.length, correct, problem: null };
  }
  let mean = 0;
  for (let i = 0; i < t.length; i++) mean += t[i]!;
  mean = t.length > 0 ? mean / t.length : 0;
  let m2 = 0;
  let sse = 0;
  for (let i = 0; i < t.length; i++) {
    m2 += (t[i]! - mean) ** 2;
    sse += (t[i]! - p[i]!) ** 2;
  }
  const problem = Number.isFinite(m2) && Number.isFinite(sse) ? null : `X or y has NaN or infinite values in block ${block}`;
  return { n: t.length, mean, m2, sse, problem };
}

registerOp("ml.r2.combine", (...parts: R2Partial[]): R2Partial => {
  let acc = parts[0]!;
  for (let i = 1; i < parts.length; i++) {
    const b = parts[i]!;
    const n = acc.n + b.n;
    if (n === 0) continue;
    const delta = b.mean - acc.mean;
    acc = {
      n,
      mean: acc.mean + (delta * b.n) / n,
      m2: acc.m2 + b.m2 + (delta * delta * acc.n * b.n) / n,
      sse: acc.sse + b.sse,
      problem: acc.problem ?? b.problem,
    };
  }
  return acc;
});
