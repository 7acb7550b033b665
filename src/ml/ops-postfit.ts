/**
 * Worker ops of the wrappers and model selection:
 *
 *   ml.map          a block function over an X block -> an output block ([rows] or [rows, cols])
 *   ml.map.frame    the same over a dataframe partition -> a Frame of the output columns
 *   ml.map.score    the accuracy or regression partial (ops-metrics.ts) of a block function's predictions against y
 *   ml.fold         the rows of an X (or y) block that a cross-validation fold takes
 *
 * Block functions are named: "sgd" (decision function and probabilities of the SGD models)
 * and "plain" (a plain-JS estimator shipped as source: its class — or, for an object literal,
 * its methods — compiled once per worker, its fields as data, one method called on the
 * block's rows as number[][]).
 */

import { TesseraError } from "../errors.js";
import { withKernels } from "../kernels/instance.js";
import { compileSource, registerOp } from "../worker/registry.js";
import { WasmChunk, asBlock, isBlockData } from "../array/block.js";
import { asFrame, type Column, type Frame } from "../dataframe/frame.js";
import { frameRows, fromJs, matrix, show, using, vector } from "./blocks.js";
import { findNonFinite } from "./kernels.js";
import { blockScore, type BlockScoreSpec, type MetricPartial } from "./ops-metrics.js";
import { Stream } from "./random.js";

// ---- block functions ----------------------------------------------------------------------

export interface BlockResult {
  data: Float64Array;
  /** Columns per row, or null for one value per row. */
  cols: number | null;
}

export interface SgdOutputSpec {
  kind: "decision" | "proba-log" | "proba-huber";
  d: number;
  K: number;
  W: Float64Array;
  b: Float64Array;
}

/** Decision values and probabilities of the SGD models (one-vs-rest, as scikit-learn gives them). */
export function sgdOutput(s: SgdOutputSpec, xv: Float64Array, rows: number): BlockResult {
  const { d, K } = s;
  const z = new Float64Array(rows * K);
  for (let i = 0; i < rows; i++) {
    for (let k = 0; k < K; k++) {
      let v = s.b[k]!;
      for (let j = 0, o = i * d, w = k * d; j < d; j++) v += xv[o + j]! * s.W[w + j]!;
      z[i * K + k] = v;
    }
  }
  if (s.kind === "decision") return { data: z, cols: K === 1 ? null : K };
  const prob = (v: number) => (s.kind === "proba-log" ? 1 / (1 + Math.exp(-v)) : (Math.min(1, Math.max(-1, v)) + 1) / 2);
  if (K === 1) {
    const out = new Float64Array(rows * 2);
    for (let i = 0; i < rows; i++) {
      const p = prob(z[i]!);
      out[2 * i] = 1 - p;
      out[2 * i + 1] = p;
    }
    return { data: out, cols: 2 };
  }
  for (let i = 0; i < rows; i++) {
    let sum = 0;
    for (let k = 0; k < K; k++) sum += z[i * K + k] = prob(z[i * K + k]!);
    // modified_huber can give every class 0: scikit-learn makes that uniform.
    for (let k = 0; k < K; k++) z[i * K + k] = sum > 0 ? z[i * K + k]! / sum : 1 / K;
  }
  return { data: z, cols: K };
}

export interface PlainSpec {
  /** The class's source, or null for an object literal (then `methods` has its functions' sources). */
  classSource: string | null;
  methods: Record<string, string>;
  /** The estimator's own fields. */
  state: Record<string, unknown>;
  method: string;
}

const compiled = new Map<string, unknown>();

function plainEstimator(s: PlainSpec): Record<string, unknown> {
  if (s.classSource !== null) {
    let Cls = compiled.get(s.classSource) as (new () => object) | undefined;
    if (!Cls) {
      try {
        Cls = new Function(`"use strict";\nreturn (${s.classSource});`)() as new () => object;
      } catch (err) {
        throw new TesseraError(`cannot compile the estimator's class on the worker: ${(err as Error).message}; ParallelPostFit ships a class as its source, so it must not use imports or variables from its module`, { cause: err });
      }
      compiled.set(s.classSource, Cls);
    }
    return Object.assign(Object.create(Cls.prototype) as object, s.state) as Record<string, unknown>;
  }
  const obj: Record<string, unknown> = { ...s.state };
  for (const [name, source] of Object.entries(s.methods)) {
    const key = `${name}\u0000${source}`;
    let fn = compiled.get(key);
    if (!fn) compiled.set(key, (fn = compileSource(source, name)));
    obj[name] = fn;
  }
  return obj;
}

/** What a plain estimator's method gave, as numbers per row: [rows] or [rows, cols]. */
function plainResult(out: unknown, rows: number, method: string): BlockResult {
  const fail = (why: string): never => {
    throw new TesseraError(`${method} of the estimator returned ${why}; expected ${rows} numbers or ${rows} rows of numbers`);
  };
  let v: unknown = out;
  if (v !== null && typeof v === "object" && !Array.isArray(v) && !ArrayBuffer.isView(v) && ArrayBuffer.isView((v as { data?: unknown }).data)) {
    const { data, shape } = v as { data: ArrayLike<number>; shape: number[] };
    if (shape[0] !== rows) fail(`shape [${shape}]`);
    return { data: Float64Array.from(data), cols: shape.length > 1 ? shape[1]! : null };
  }
  if (ArrayBuffer.isView(v)) v = Array.from(v as unknown as ArrayLike<number>);
  if (!Array.isArray(v)) fail(v === null ? "null" : typeof v);
  const a = v as unknown[];
  if (a.length !== rows) fail(`${a.length} values`);
  if (rows > 0 && (Array.isArray(a[0]) || ArrayBuffer.isView(a[0]))) {
    const cols = (a[0] as ArrayLike<number>).length;
    const data = new Float64Array(rows * cols);
    a.forEach((r, i) => {
      const row = r as ArrayLike<number>;
      if (row.length !== cols) fail(`rows of different lengths (${cols} and ${row.length})`);
      for (let j = 0; j < cols; j++) data[i * cols + j] = Number(row[j]);
    });
    return { data, cols };
  }
  return { data: Float64Array.from(a, (x) => Number(x)), cols: null };
}

function runPlain(s: PlainSpec, xv: Float64Array, rows: number, d: number): BlockResult {
  const est = plainEstimator(s);
  const fn = est[s.method];
  if (typeof fn !== "function") throw new TesseraError(`the estimator has no ${s.method} method on the worker`);
  const X = Array.from({ length: rows }, (_, i) => Array.from(xv.subarray(i * d, (i + 1) * d)));
  return plainResult((fn as (x: number[][]) => unknown).call(est, X), rows, s.method);
}

export type MapFn = { fn: "sgd"; args: SgdOutputSpec } | { fn: "plain"; args: PlainSpec };

export function runMap(m: MapFn, xv: Float64Array, rows: number, d: number): BlockResult {
  return m.fn === "sgd" ? sgdOutput(m.args, xv, rows) : runPlain(m.args, xv, rows, d);
}

// ---- ops ----------------------------------------------------------------------------------

registerOp("ml.map", (spec: { d: number; map: MapFn }, x: unknown) =>
  withKernels((k) => {
    const xm = matrix(k, x, spec.d, "ml.map X");
    const r = using([xm], () => runMap(spec.map, Float64Array.from(k.view("float64", xm.ptr, xm.rows * spec.d)), xm.rows, spec.d));
    return fromJs(k, r.data, r.cols === null ? [xm.rows] : [xm.rows, r.cols]);
  }),
);

registerOp("ml.map.frame", (spec: { d: number; map: MapFn; columns: string[]; names: string[] }, part: unknown): Frame => {
  const frame = asFrame(part, "ml.map.frame");
  const xv = frameRows(frame, spec.columns, "ml.map.frame");
  const bad = findNonFinite(xv, frame.length, spec.columns.length);
  if (bad) throw new TesseraError(`X has ${show(bad.value)} at row ${bad.row} of this partition, column ${JSON.stringify(spec.columns[bad.col])}`);
  const r = runMap(spec.map, xv, frame.length, spec.d);
  const cols = r.cols ?? 1;
  if (cols !== spec.names.length) throw new TesseraError(`ml.map.frame: the output has ${cols} column(s), expected ${spec.names.length}`);
  const columns: Column[] = spec.names.map((_, c) => ({ type: "float64", data: Float64Array.from({ length: frame.length }, (_, i) => r.data[i * cols + c]!) }));
  return { length: frame.length, names: [...spec.names], columns };
});

registerOp("ml.map.score", (spec: BlockScoreSpec & { d: number; map: MapFn }, x: unknown, y: unknown) =>
  withKernels((k): MetricPartial => {
    const xm = matrix(k, x, spec.d, "ml.map.score X");
    const ym = vector(k, y, "ml.map.score y");
    return using([xm, ym], () => {
      const xv = Float64Array.from(k.view("float64", xm.ptr, xm.rows * spec.d));
      return blockScore(spec, xv, spec.d, Float64Array.from(k.view("float64", ym.ptr, ym.rows)), () => {
        const p = runMap(spec.map, xv, xm.rows, spec.d);
        if (p.cols !== null) throw new TesseraError(`the estimator's predict gave ${p.cols} columns per row; score needs one value per row`);
        return p.data;
      });
    });
  }),
);

// ---- cross-validation folds ---------------------------------------------------------------

export interface FoldSpec {
  /** Columns per row (X), or null for a 1-d block (y). */
  d: number | null;
  /** Rows of the block that the fold takes, in order. */
  rows: { start: number; end: number }[] | null;
  /** Or: the block's rows permuted (seeded), and positions [start, end) of the permutation taken or left out. */
  shuffle: { seed: number; stream: number; start: number; end: number; take: boolean } | null;
}

registerOp("ml.fold", (spec: FoldSpec, x: unknown) =>
  withKernels((k) => {
    const m = spec.d === null ? vector(k, x, "ml.fold y") : matrix(k, x, spec.d, "ml.fold X");
    const d = spec.d ?? 1;
    return using([m], () => {
      const picked: number[] = [];
      if (spec.rows) for (const r of spec.rows) for (let i = r.start; i < r.end; i++) picked.push(i);
      else if (spec.shuffle) {
        const s = spec.shuffle;
        const order = permutation(m.rows, s.seed, s.stream);
        const inside: number[] = [];
        for (let p = 0; p < m.rows; p++) if ((p >= s.start && p < s.end) === s.take) inside.push(order[p]!);
        // Taken rows keep the block's order, so train and test read the block front to back.
        picked.push(...inside.sort((a, b) => a - b));
      }
      const v = k.view("float64", m.ptr, m.rows * d);
      const out = new Float64Array(picked.length * d);
      picked.forEach((r, j) => out.set(v.subarray(r * d, (r + 1) * d), j * d));
      return fromJs(k, out, spec.d === null ? [picked.length] : [picked.length, d]);
    });
  }),
);

/** A Fisher-Yates permutation of 0..rows-1 from (seed, stream). */
export function permutation(rows: number, seed: number, stream: number): Int32Array {
  const order = new Int32Array(rows);
  for (let i = 0; i < rows; i++) order[i] = i;
  const rng = new Stream(seed, stream);
  for (let i = rows - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = order[i]!;
    order[i] = order[j]!;
    order[j] = tmp;
  }
  return order;
}

// ---- blocks kept in wasm memory -------------------------------------------------------------

/**
 * The block as a WasmChunk: itself when it is one (the store counts the extra reference), a
 * copy in wasm memory when it is plain data (a block scattered from the client or fetched from
 * another worker). Iterative fits persist this once, so each pass reads the block in place
 * instead of copying it into wasm memory every time.
 */
registerOp("ml.wasm", (_spec: object, x: unknown) =>
  withKernels((k) => {
    if (x instanceof WasmChunk) return x;
    const b = asBlock(x, "ml.wasm");
    if (!isBlockData(b)) throw new TesseraError("internal: ml.wasm got a block of another kernel instance");
    const out = WasmChunk.alloc(k, b.dtype, [...b.shape]);
    if (b.data.length > 0) out.view().set(b.data as never);
    return out;
  }),
);
