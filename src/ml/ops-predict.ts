/**
 * Worker ops of fitted models: predictions of a block (`ml.predict`, an output block in wasm
 * memory), of a dataframe partition (`ml.predict.frame`, a Frame of output columns), and the
 * partials of score (`ml.score`: the accuracy or regression partial of ops-metrics.ts, merged
 * by `ml.metric.combine` and finished by metrics.ts as accuracyScore and r2Score do).
 */

import { TesseraError } from "../errors.js";
import { withKernels } from "../kernels/instance.js";
import type { Kernels } from "../kernels/kernels.js";
import { registerOp } from "../worker/registry.js";
import { WasmChunk } from "../array/block.js";
import { asFrame, type Column, type Frame } from "../dataframe/frame.js";
import { frameRows, matrix, show, using, vector, type Matrix } from "./blocks.js";
import { blockScore, type BlockScoreSpec, type MetricPartial } from "./ops-metrics.js";
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

export type ScoreSpec = BlockScoreSpec & { predict: PredictSpec };

registerOp("ml.score", (spec: ScoreSpec, x: unknown, y: unknown) =>
  withKernels((k): MetricPartial => {
    const xm = matrix(k, x, spec.predict.d, "ml.score X");
    const ym = vector(k, y, "ml.score y");
    return using([xm, ym], () =>
      blockScore(spec, Float64Array.from(k.view("float64", xm.ptr, xm.rows * spec.predict.d)), spec.predict.d, Float64Array.from(k.view("float64", ym.ptr, ym.rows)), () => {
        const out = predictBlock(k, spec.predict, xm);
        try {
          return Float64Array.from(out.view());
        } finally {
          k.free(out.ptr);
        }
      }),
    );
  }),
);
