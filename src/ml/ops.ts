/**
 * The worker ops of the estimators (`ml.*`). Each takes a small spec (what the client decided:
 * the current weights or centres, the block's number) and the blocks of X (f64 [rows, d]) and
 * y (f64 [rows]), and returns a partial — a few numbers and Float64Arrays that travel inline —
 * or an output block (predictions) that stays in wasm memory.
 *
 *   ml.info            rows, the first NaN/inf, classes of y, column moments    (fit's first pass)
 *   ml.frameMatrix     a dataframe partition's feature columns as an f64 block
 *   ml.frameColumn     one column as an f64 block (y)
 *   ml.encode          y's values as class indices
 *   ml.logistic        Σ logistic loss and gradient                             (one per L-BFGS evaluation)
 *                      and with `hessian` the Hessian's data term too           (one per Newton iteration)
 *   ml.gram            count, means and centred scatter of (x, y)               (normal equations)
 *   ml.kmeans          inertia, and per-centre sums and counts                  (one per Lloyd step)
 *   ml.kmeans.quads    an int16 copy of a block, four rows interleaved, that the passes below score (kept on the worker)
 *   ml.kmeans.nearest  per row: distance to the nearest k-means‖ candidate, and which (kept on the worker)
 *   ml.kmeans.cost     φ = Σ of those distances, and rows per candidate
 *   ml.kmeans.sample   rows drawn with probability l·d²/φ                       (k-means‖ rounds)
 *   ml.kmeans.step     a Lloyd step: the rows' labels (kept on the worker), the block's changes
 *                      to the sums and counts after them
 *   ml.kmeans.delta    those changes, read from a step's state                  (one per Lloyd step)
 *   ml.kmeans.inertia  Σ squared distance to the nearest centre                 (a fit's last pass)
 *   ml.rows            given rows of a block
 *   ml.predict, ml.predict.frame, ml.score                      in ops-predict.ts
 *   ml.split, ml.split.frame                                   in ops-split.ts
 *
 * Combines (`ml.sum`, `ml.concat`, `ml.info.combine`, `ml.gram.combine`) merge
 * partials in block order, so results do not depend on how the tree groups them.
 *
 * A problem in the data (NaN, a length mismatch) is reported in the partial's `problem`, not
 * thrown, so the client can say what was wrong in the estimator's words.
 */

import { TesseraError } from "../errors.js";
import { withKernels } from "../kernels/instance.js";
import type { Kernels } from "../kernels/kernels.js";
import { registerOp } from "../worker/registry.js";
import { WasmChunk } from "../array/block.js";
import { asFrame } from "../dataframe/frame.js";
import { columnValues, frameRows, fromJs, matrix, show, using, vector, type Matrix } from "./blocks.js";
import {
  blockGram,
  blockMoments,
  combineGram,
  combineMoments,
  concatPartials,
  findNonFinite,
  kmeansBlock,
  kmeansAssignBlock,
  kmeansNearestBlock,
  kmeansStateSlots,
  kmeansStepTrailer,
  quadBytes,
  quadsBlock,
  logisticBlock,
  sumPartials,
  type Gram,
  type Moments,
} from "./kernels.js";
import { uniformStream } from "./random.js";
import "./ops-predict.js";
import "./ops-split.js";
import "./ops-sgd.js";
import "./ops-prep.js";

// ---- ml.info: the first pass of a fit -----------------------------------------------------

export interface InfoSpec {
  d: number;
  /** The block's number (for messages). */
  block: number;
  /** Row number of the block's first row, when known (arrays); null for dataframe partitions. */
  offset: number | null;
  /** Feature names (dataframes), for messages. */
  columns: string[] | null;
  target: string | null;
  /** Collect y's distinct values (classifiers), at most maxClasses. */
  labels: boolean;
  maxClasses: number;
  moments: boolean;
  minmax: boolean;
}

export interface Info {
  /** Rows per block, in block order. */
  rows: number[];
  problem: string | null;
  classes: number[] | null;
  /** Rows of each class, aligned with classes. */
  classCounts: number[] | null;
  moments: Moments | null;
}

function rowName(spec: { block: number; offset: number | null }, row: number): string {
  return spec.offset !== null ? `row ${spec.offset + row}` : `row ${row} of partition ${spec.block}`;
}

function checkMatrix(k: Kernels, m: Matrix, spec: InfoSpec, what: "X" | "y"): string | null {
  const n = m.rows * m.d;
  if (n === 0 || Number.isFinite(k.reduce("sum", { ptr: m.ptr, dtype: "float64" }, n).value)) return null;
  const bad = findNonFinite(k.view("float64", m.ptr, n), m.rows, m.d);
  if (!bad) return null; // the sum overflowed; every value is finite
  if (what === "y") return `y has ${show(bad.value)} at ${rowName(spec, bad.row)}${spec.target ? ` (column ${JSON.stringify(spec.target)})` : ""}`;
  const col = spec.columns ? `column ${JSON.stringify(spec.columns[bad.col])}` : `column ${bad.col}`;
  return `X has ${show(bad.value)} at ${rowName(spec, bad.row)}, ${col}`;
}

registerOp("ml.info", (spec: InfoSpec, x: unknown, y?: unknown) =>
  withKernels((k): Info => {
    const xm = matrix(k, x, spec.d, "ml.info X");
    const ym = y === undefined ? undefined : vector(k, y, "ml.info y");
    return using([xm, ym], () => {
      const info: Info = { rows: [xm.rows], problem: null, classes: null, classCounts: null, moments: null };
      info.problem = checkMatrix(k, xm, spec, "X");
      if (ym && !info.problem) {
        if (ym.rows !== xm.rows) info.problem = `y has ${ym.rows} values for the ${xm.rows} rows of X in block ${spec.block}`;
        else info.problem = checkMatrix(k, ym, spec, "y");
      }
      if (info.problem) return info;
      if (ym && spec.labels) {
        const seen = new Map<number, number>();
        const v = k.view("float64", ym.ptr, ym.rows);
        for (let i = 0; i < v.length && seen.size <= spec.maxClasses; i++) seen.set(v[i]!, (seen.get(v[i]!) ?? 0) + 1);
        if (seen.size > spec.maxClasses) {
          info.problem = `y has more than ${spec.maxClasses} distinct values; a classifier needs class labels (is y a continuous target?)`;
          return info;
        }
        info.classes = [...seen.keys()].sort((a, b) => a - b);
        info.classCounts = info.classes.map((c) => seen.get(c)!);
      }
      if (spec.moments || spec.minmax) info.moments = blockMoments(k, xm.ptr, xm.rows, xm.d, spec.minmax);
      return info;
    });
  }),
);

registerOp("ml.info.combine", (...parts: Info[]): Info => {
  const out: Info = { rows: [], problem: null, classes: null, classCounts: null, moments: null };
  const classes = new Map<number, number>();
  for (const p of parts) {
    out.rows.push(...p.rows);
    out.problem ??= p.problem;
    p.classes?.forEach((c, i) => classes.set(c, (classes.get(c) ?? 0) + (p.classCounts?.[i] ?? 0)));
    if (p.moments) out.moments = out.moments ? combineMoments(out.moments, p.moments) : p.moments;
  }
  if (parts.some((p) => p.classes)) {
    out.classes = [...classes.keys()].sort((a, b) => a - b);
    out.classCounts = out.classes.map((c) => classes.get(c)!);
  }
  return out;
});

registerOp("ml.frameMatrix", (spec: { columns: string[] }, part: unknown) =>
  withKernels((k) => {
    const frame = asFrame(part, "ml.frameMatrix");
    return fromJs(k, frameRows(frame, spec.columns, "ml.frameMatrix"), [frame.length, spec.columns.length]);
  }),
);

registerOp("ml.frameColumn", (spec: { column: string }, part: unknown) =>
  withKernels((k) => {
    const frame = asFrame(part, "ml.frameColumn");
    return fromJs(k, columnValues(frame, spec.column, "ml.frameColumn"), [frame.length]);
  }),
);
registerOp("ml.encode", (spec: { classes: number[] }, y: unknown) =>
  withKernels((k) => {
    const ym = vector(k, y, "ml.encode y");
    return using([ym], () => {
      const index = new Map(spec.classes.map((c, i) => [c, i]));
      const out = WasmChunk.alloc(k, "float64", [ym.rows]);
      const src = k.view("float64", ym.ptr, ym.rows);
      const dst = out.view();
      for (let i = 0; i < ym.rows; i++) {
        const c = index.get(src[i]!);
        if (c === undefined) throw new TesseraError(`ml.encode: label ${src[i]} is not among the classes [${spec.classes}]`);
        dst[i] = c;
      }
      return out;
    });
  }),
);

// ---- estimator passes ---------------------------------------------------------------------

export interface LogisticSpec {
  d: number;
  K: number;
  /** K x d */
  W: Float64Array;
  b: Float64Array;
  /** Also Σ x̃ x̃ᵀ ⊗ (diag(p) - p pᵀ) (solver "newton"). */
  hessian?: boolean;
}

registerOp("ml.logistic", (spec: LogisticSpec, x: unknown, y: unknown) =>
  withKernels((k) => {
    const xm = matrix(k, x, spec.d, "ml.logistic X");
    const ym = vector(k, y, "ml.logistic y");
    return using([xm, ym], () => logisticBlock(k, xm.ptr, ym.ptr, xm.rows, spec.d, spec.W, spec.b, spec.K, spec.hessian === true));
  }),
);

registerOp("ml.gram", (spec: { d: number; block: number; offset: number | null; columns: string[] | null }, x: unknown, y?: unknown) =>
  withKernels((k): Gram & { problem: string | null } => {
    const xm = matrix(k, x, spec.d, "ml.gram X");
    const ym = y === undefined ? undefined : vector(k, y, "ml.gram y");
    return using([xm, ym], () => {
      if (ym && ym.rows !== xm.rows) {
        return { n: 0, mean: new Float64Array(0), scatter: new Float64Array(0), problem: `y has ${ym.rows} values for the ${xm.rows} rows of X in block ${spec.block}` };
      }
      const g = blockGram(k, xm.ptr, xm.rows, spec.d, ym ? ym.ptr : null);
      // A NaN anywhere shows in the means; only then look for where it is.
      if (g.mean.every(Number.isFinite) && g.scatter.every(Number.isFinite)) return { ...g, problem: null };
      const info = { ...spec, target: null, labels: false, maxClasses: 0, moments: false, minmax: false };
      const problem = checkMatrix(k, xm, info, "X") ?? (ym ? checkMatrix(k, ym, info, "y") : null);
      return { ...g, problem: problem ?? "the data's sums overflow (values near 1e308)" };
    });
  }),
);

registerOp("ml.gram.combine", (...parts: (Gram & { problem: string | null })[]) => {
  let acc = parts[0]!;
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!;
    acc = acc.problem || p.problem ? { ...acc, problem: acc.problem ?? p.problem } : { ...combineGram(acc, p), problem: null };
  }
  return acc;
});

export interface KmeansSpec {
  d: number;
  /** nc x d centres. */
  C: Float64Array;
  nc: number;
  sums: boolean;
  counts: boolean;
}

registerOp("ml.kmeans", (spec: KmeansSpec, x: unknown) =>
  withKernels((k) => {
    const xm = matrix(k, x, spec.d, "ml.kmeans X");
    return using([xm], () => kmeansBlock(k, xm.ptr, xm.rows, spec.d, spec.C, spec.nc, { sums: spec.sums, counts: spec.counts }));
  }),
);

/** The int16 quads of an X block (assembly/kmeans.ts), shifted by the data's mean m0 (f32 storage: only bytes). */
registerOp("ml.kmeans.quads", (spec: { d: number; m0: Float64Array }, x: unknown) =>
  withKernels((k) => {
    const xm = matrix(k, x, spec.d, "ml.kmeans.quads X");
    return using([xm], () => {
      const out = WasmChunk.alloc(k, "float32", [quadBytes(k, xm.rows, spec.d) / 4]);
      quadsBlock(k, xm.ptr, xm.rows, spec.d, spec.m0, out.ptr);
      return out;
    });
  }),
);

/** An X block and its quads, both in wasm memory, checked against each other. */
function withQuads<T>(k: Kernels, spec: { d: number }, x: unknown, quads: unknown, op: string, fn: (xm: Matrix, q: Matrix) => T): T {
  const xm = matrix(k, x, spec.d, `${op} X`);
  const qm = vector(k, quads, `${op} quads`, "float32");
  return using([xm, qm], () => {
    if (qm.rows * 4 !== quadBytes(k, xm.rows, spec.d)) throw new TesseraError(`${op}: the quads hold ${qm.rows} values, not those of ${xm.rows} rows`);
    return fn(xm, qm);
  });
}

export interface NearestSpec {
  d: number;
  /** Candidates added since the previous state (nc x d), numbered from `base`. */
  C: Float64Array;
  nc: number;
  base: number;
  /** The quads' shift (the data's mean). */
  m0: Float64Array;
}

/**
 * k-means‖ keeps, per row, the squared distance to its nearest candidate and that candidate's
 * number: a [rows, 2] f64 block on the worker. Each round only measures the new candidates
 * against it, so the init costs one distance pass over all candidates in total, not one per
 * round.
 */
registerOp("ml.kmeans.nearest", (spec: NearestSpec, x: unknown, quads: unknown, prev?: unknown) =>
  withKernels((k) =>
    withQuads(k, spec, x, quads, "ml.kmeans.nearest", (xm, qm) => {
      const pm = prev === undefined ? undefined : matrix(k, prev, 2, "ml.kmeans.nearest state");
      return using([pm], () => {
        if (pm && pm.rows !== xm.rows) throw new TesseraError(`ml.kmeans.nearest: the state has ${pm.rows} rows, X has ${xm.rows}`);
        const out = WasmChunk.alloc(k, "float64", [xm.rows, 2]);
        kmeansNearestBlock(k, qm.ptr, xm.ptr, xm.rows, spec.d, spec.C, spec.nc, spec.m0, spec.base, pm ? pm.ptr : 0, out.ptr);
        return out;
      });
    }),
  ),
);

/** Σ of each row's squared distance to its nearest centre (the inertia of a block). */
registerOp("ml.kmeans.inertia", (spec: KmeansStepSpec, x: unknown, quads: unknown) =>
  withKernels((k) => withQuads(k, spec, x, quads, "ml.kmeans.inertia", (xm, qm) => ({ n: xm.rows, inertia: kmeansNearestBlock(k, qm.ptr, xm.ptr, xm.rows, spec.d, spec.C, spec.nc, spec.m0, 0, 0, 0) }))),
);

export interface KmeansStepSpec {
  d: number;
  /** Centres of this iteration, nc x d. */
  C: Float64Array;
  nc: number;
  m0: Float64Array;
}

/**
 * A Lloyd step: each block's step reads the previous step's labels (none on the first) and
 * returns a new state, an int32 block [the rows' labels, padded to whole quads, then the f64
 * trailer of kmeansStepTrailer: the block's changes to the sums and counts]. Steps never write
 * into their input, so a state recomputed or moved to another worker is still the one its step
 * made.
 */
registerOp("ml.kmeans.step", (spec: KmeansStepSpec, x: unknown, quads: unknown, prev?: unknown) =>
  withKernels((k) =>
    withQuads(k, spec, x, quads, "ml.kmeans.step", (xm, qm) => {
      const length = kmeansStateSlots(xm.rows, spec.nc, spec.d);
      const pm = prev === undefined ? undefined : vector(k, prev, "ml.kmeans.step state", "int32");
      return using([pm], () => {
        if (pm && pm.rows !== length) throw new TesseraError(`ml.kmeans.step: the state holds ${pm.rows} values, expected ${length} for ${xm.rows} rows`);
        const out = WasmChunk.alloc(k, "int32", [length]);
        kmeansAssignBlock(k, qm.ptr, xm.ptr, xm.rows, spec.d, spec.C, spec.nc, spec.m0, pm ? pm.ptr : 0, out.ptr);
        return out;
      });
    }),
  ),
);

/** A step's changes to the centres' sums and counts. */
registerOp("ml.kmeans.delta", (spec: { d: number; nc: number }, state: unknown) =>
  withKernels((k) => {
    const sm = vector(k, state, "ml.kmeans.delta state", "int32");
    return using([sm], () => {
      const t = kmeansStepTrailer(spec.nc, spec.d);
      const v = k.view("float64", sm.ptr + (sm.rows - 2 * t) * 4, t);
      const m = spec.nc * spec.d;
      return { sums: v.slice(0, m), counts: v.slice(m, m + spec.nc) };
    });
  }),
);

/** Σ of the squared distances in a state block (φ), and how many rows each candidate is nearest. */
registerOp("ml.kmeans.cost", (spec: { m: number; counts: boolean }, state: unknown) =>
  withKernels((k) => {
    const sm = matrix(k, state, 2, "ml.kmeans.cost state");
    return using([sm], () => {
      const v = k.view("float64", sm.ptr, sm.rows * 2);
      let phi = 0;
      const counts = spec.counts ? new Float64Array(spec.m) : null;
      for (let i = 0; i < sm.rows; i++) {
        phi += v[2 * i]!;
        if (counts) counts[v[2 * i + 1]!]++;
      }
      return counts ? { phi, counts } : { phi };
    });
  }),
);

export interface SampleSpec {
  d: number;
  /** Expected draws in all (oversampling factor x k) and the total cost φ. */
  l: number;
  phi: number;
  seed: number;
  round: number;
  /** Row number of the block's first row: draws are keyed by it, not by the block. */
  offset: number;
}

/** Rows drawn with probability l·d²/φ, d² from the state block. */
registerOp("ml.kmeans.sample", (spec: SampleSpec, x: unknown, state: unknown) =>
  withKernels((k) => {
    const xm = matrix(k, x, spec.d, "ml.kmeans.sample X");
    const sm = matrix(k, state, 2, "ml.kmeans.sample state");
    return using([xm, sm], () => {
      const sv = k.view("float64", sm.ptr, sm.rows * 2);
      const picked: number[] = [];
      const u = uniformStream(spec.seed, 1000 + spec.round);
      for (let i = 0; i < xm.rows; i++) {
        const bound = spec.l * sv[2 * i]!;
        // u·φ < bound, decided on u's high bits where they suffice (they do for most rows).
        if (u.floor(spec.offset + i) * spec.phi < bound && u.at(spec.offset + i) * spec.phi < bound) picked.push(i);
      }
      const xv = k.view("float64", xm.ptr, xm.rows * spec.d);
      const rows = new Float64Array(picked.length * spec.d);
      picked.forEach((r, j) => rows.set(xv.subarray(r * spec.d, (r + 1) * spec.d), j * spec.d));
      return { rows };
    });
  }),
);

registerOp("ml.rows", (spec: { d: number; rows: number[] }, x: unknown) =>
  withKernels((k) => {
    const xm = matrix(k, x, spec.d, "ml.rows X");
    return using([xm], () => {
      const xv = k.view("float64", xm.ptr, xm.rows * spec.d);
      const out = new Float64Array(spec.rows.length * spec.d);
      spec.rows.forEach((r, j) => out.set(xv.subarray(r * spec.d, (r + 1) * spec.d), j * spec.d));
      return { rows: out };
    });
  }),
);

registerOp("ml.sum", (...parts: object[]) => sumPartials(parts));
registerOp("ml.concat", (...parts: object[]) => concatPartials(parts));
