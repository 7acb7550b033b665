/**
 * Worker ops of the preprocessing estimators beyond the scalers, and of PCA. The fits are
 * reductions over row blocks (an array's f64 [rows, d] blocks, or a dataframe's partitions,
 * whose columns may be strings), each partial merged in block order:
 *
 *   ml.prep.sorted     per column the sorted values (RobustScaler's and the median's quantiles)
 *   ml.prep.counts     per column each distinct value and its count (categories, most frequent)
 *   ml.prep.mean       per column the count and mean of the present values (imputer's mean)
 *   ml.pca.*           PCA's passes, in ops-pca.ts
 *
 * and lazy transforms, one task per block: `ml.prep.block` (an array block to an f64 block)
 * and `ml.prep.frame` (a partition to a partition), both through `transformColumns`.
 *
 * Columns are read as Float64Array (NaN for a missing value: NaN, or an Arrow null) or, for a
 * string column, as an array of strings with null for a null. A problem in the data is
 * reported in the partial's `problem` (fits) or thrown (transforms), naming row and column.
 */

import { TesseraError } from "../errors.js";
import { withKernels } from "../kernels/instance.js";
import { registerOp } from "../worker/registry.js";
import { asFrame, type Column, type Frame } from "../dataframe/frame.js";
import { columnValues, fromJs, matrix, show, using } from "./blocks.js";
import { mergeRuns } from "./sort.js";
import "./ops-metrics.js";
import "./ops-pca.js";

// ---- reading columns ----------------------------------------------------------------------

export type Col = Float64Array | (string | null)[];
/** A category: a number (arrays, numeric columns) or a string (string columns). */
export type Category = number | string;

export interface ColsSpec {
  /** X's row blocks are an array's blocks or a dataframe's partitions. */
  source: "array" | "frame";
  d: number;
  /** The feature columns (frames: read by name; arrays: for messages). */
  columns: string[] | null;
  block: number;
  /** Row number of the block's first row (arrays), for messages. */
  offset: number | null;
}

export function where(spec: { block: number; offset: number | null; columns: string[] | null }, row: number, col: number): string {
  const r = spec.offset !== null ? `row ${spec.offset + row}` : `row ${row} of partition ${spec.block}`;
  return `${r}, ${spec.columns ? `column ${JSON.stringify(spec.columns[col])}` : `column ${col}`}`;
}

function stringColumn(c: Column): (string | null)[] {
  const codes = c.data as Int32Array;
  const dict = c.dictionary ?? [];
  const out = new Array<string | null>(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = c.valid && !c.valid[i] ? null : dict[codes[i]!]!;
  return out;
}

/** The feature columns of a partition. */
export function frameColumns(frame: Frame, names: readonly string[], what: string): Col[] {
  return names.map((name) => {
    const i = frame.names.indexOf(name);
    if (i < 0) throw new TesseraError(`${what}: the partition has no column ${JSON.stringify(name)}`);
    const c = frame.columns[i]!;
    return c.type === "string" ? stringColumn(c) : columnValues(frame, name, what);
  });
}

/** Columns of a row-major f64 [rows, d] block. */
function splitRows(v: Float64Array, rows: number, d: number): Float64Array[] {
  const cols = Array.from({ length: d }, () => new Float64Array(rows));
  for (let i = 0; i < rows; i++) for (let j = 0; j < d; j++) cols[j]![i] = v[i * d + j]!;
  return cols;
}

function withColumns<T>(spec: ColsSpec, x: unknown, what: string, fn: (cols: Col[], rows: number) => T): T | Promise<T> {
  if (spec.source === "frame") {
    const frame = asFrame(x, what);
    return fn(frameColumns(frame, spec.columns!, what), frame.length);
  }
  return withKernels((k) => {
    const m = matrix(k, x, spec.d, what);
    return using([m], () => fn(splitRows(k.view("float64", m.ptr, m.rows * m.d), m.rows, m.d), m.rows));
  });
}

const isMissing = (v: number | string | null): boolean => v === null || (typeof v === "number" && Number.isNaN(v));

// ---- ml.prep.sorted -----------------------------------------------------------------------

export interface SortedPartial {
  rows: number;
  cols: Float64Array[];
  problem: string | null;
}

/** `nan`: "error" makes any NaN or infinity a problem; "skip" leaves NaN (and nulls) out. */
registerOp("ml.prep.sorted", (spec: ColsSpec & { nan: "error" | "skip" }, x: unknown) =>
  withColumns(spec, x, "ml.prep.sorted", (cols, rows): SortedPartial => {
    const out: Float64Array[] = [];
    for (let j = 0; j < cols.length; j++) {
      const c = cols[j]!;
      if (!(c instanceof Float64Array)) return { rows, cols: [], problem: `column ${JSON.stringify(spec.columns?.[j] ?? j)} holds strings, not numbers` };
      let kept = c;
      if (spec.nan === "error") {
        for (let i = 0; i < rows; i++) if (!Number.isFinite(c[i]!)) return { rows, cols: [], problem: `X has ${show(c[i]!)} at ${where(spec, i, j)}` };
      } else kept = c.filter((v) => !Number.isNaN(v));
      out.push(kept.sort()); // kept is this op's own copy

    }
    return { rows, cols: out, problem: null };
  }),
);

registerOp("ml.prep.sorted.combine", (...parts: SortedPartial[]): SortedPartial => {
  const rows = parts.reduce((s, p) => s + p.rows, 0);
  const problem = parts.find((p) => p.problem)?.problem ?? null;
  if (problem) return { rows, cols: [], problem };
  return { rows, cols: parts[0]!.cols.map((_, j) => mergeRuns(parts.map((p) => p.cols[j]!))), problem: null };
});

// ---- ml.prep.counts -----------------------------------------------------------------------

export interface CountsPartial {
  rows: number;
  /** Per column: distinct present values and their counts. */
  values: Category[][];
  counts: number[][];
  /** Per column: missing values (NaN, nulls). */
  missing: number[];
  problem: string | null;
}

/** `missing`: "error" makes a missing value a problem; "count" counts it. */
registerOp("ml.prep.counts", (spec: ColsSpec & { missing: "error" | "count"; maxValues: number }, x: unknown) =>
  withColumns(spec, x, "ml.prep.counts", (cols, rows): CountsPartial => {
    const out: CountsPartial = { rows, values: [], counts: [], missing: [], problem: null };
    for (let j = 0; j < cols.length; j++) {
      const c = cols[j]!;
      const seen = new Map<Category, number>();
      let missing = 0;
      for (let i = 0; i < rows; i++) {
        const v = c[i]!;
        if (isMissing(v)) {
          if (spec.missing === "error") return { ...out, problem: `X has ${v === null ? "a null" : "NaN (or a null)"} at ${where(spec, i, j)}; fill it first (SimpleImputer)` };
          missing++;
          continue;
        }
        seen.set(v as Category, (seen.get(v as Category) ?? 0) + 1);
      }
      if (seen.size > spec.maxValues) return { ...out, problem: `column ${JSON.stringify(spec.columns?.[j] ?? j)} has more than ${spec.maxValues} distinct values; is it a continuous feature rather than categories?` };
      out.values.push([...seen.keys()]);
      out.counts.push([...seen.values()]);
      out.missing.push(missing);
    }
    return out;
  }),
);

registerOp("ml.prep.counts.combine", (...parts: CountsPartial[]): CountsPartial => {
  const first = parts[0]!;
  const out: CountsPartial = { rows: 0, values: [], counts: [], missing: [], problem: null };
  for (const p of parts) {
    out.rows += p.rows;
    out.problem ??= p.problem;
  }
  if (out.problem) return out;
  for (let j = 0; j < first.values.length; j++) {
    const m = new Map<Category, number>();
    let missing = 0;
    for (const p of parts) {
      p.values[j]!.forEach((v, t) => m.set(v, (m.get(v) ?? 0) + p.counts[j]![t]!));
      missing += p.missing[j]!;
    }
    out.values.push([...m.keys()]);
    out.counts.push([...m.values()]);
    out.missing.push(missing);
  }
  return out;
});

// ---- ml.prep.mean -------------------------------------------------------------------------

export interface MeanPartial {
  rows: number;
  /** Per column: present values and their mean. */
  n: number[];
  mean: number[];
  problem: string | null;
}

registerOp("ml.prep.mean", (spec: ColsSpec, x: unknown) =>
  withColumns(spec, x, "ml.prep.mean", (cols, rows): MeanPartial => {
    const out: MeanPartial = { rows, n: [], mean: [], problem: null };
    for (let j = 0; j < cols.length; j++) {
      const c = cols[j]!;
      if (!(c instanceof Float64Array)) return { ...out, problem: `column ${JSON.stringify(spec.columns?.[j] ?? j)} holds strings; strategy "mean" needs numbers` };
      let n = 0;
      let s = 0;
      for (let i = 0; i < rows; i++) if (!Number.isNaN(c[i]!)) (n++, (s += c[i]!));
      out.n.push(n);
      out.mean.push(n > 0 ? s / n : 0);
    }
    return out;
  }),
);

registerOp("ml.prep.mean.combine", (...parts: MeanPartial[]): MeanPartial => {
  let acc = parts[0]!;
  for (const p of parts.slice(1)) {
    if (acc.problem || p.problem) {
      acc = { ...acc, rows: acc.rows + p.rows, problem: acc.problem ?? p.problem };
      continue;
    }
    const n = acc.n.map((a, j) => a + p.n[j]!);
    const mean = acc.mean.map((a, j) => (n[j]! === 0 ? 0 : a + ((p.mean[j]! - a) * p.n[j]!) / n[j]!));
    acc = { rows: acc.rows + p.rows, n, mean, problem: null };
  }
  return acc;
});

// ---- transforms ---------------------------------------------------------------------------

/** A lazy transform: its kind and what fit learnt (per feature: categories, dropped index -1 for none, fill values). */
export type TransformSpec =
  | { kind: "onehot"; categories: Category[][]; drop: number[]; ignoreUnknown: boolean; columns: string[] | null }
  | { kind: "onehot-inverse"; categories: Category[][]; drop: number[]; columns: string[] | null }
  | { kind: "ordinal"; categories: Category[][]; unknownValue: number | null; columns: string[] | null }
  | { kind: "ordinal-inverse"; categories: Category[][]; columns: string[] | null }
  | { kind: "impute"; fill: Category[]; columns: string[] | null }
  /** Output column c is Π_j x_j ^ powers[c·d + j]. */
  | { kind: "poly"; d: number; powers: number[]; columns: string[] | null }
  /** out = (x - mean) · W + offset, W: [d, k] row-major. */
  | { kind: "project"; d: number; k: number; mean: Float64Array; W: Float64Array; offset: Float64Array };

function indexOf(categories: readonly Category[]): Map<Category, number> {
  return new Map(categories.map((c, i) => [c, i]));
}

const showValue = (v: Category | null): string => (v === null ? "null" : typeof v === "string" ? JSON.stringify(v) : show(v));

/** The transform of a block given as columns; `at` names a row for errors. */
export function transformColumns(t: TransformSpec, cols: Col[], rows: number, at: (row: number, col: number) => string): Col[] {
  const num = (j: number): Float64Array => {
    const c = cols[j]!;
    if (!(c instanceof Float64Array)) throw new TesseraError(`column ${JSON.stringify(t.kind !== "project" && t.columns ? t.columns[j] : j)} holds strings, not numbers`);
    return c;
  };
  // Products and projections would spread a NaN silently: say where it is (impute first).
  const finite = (j: number): Float64Array => {
    const c = num(j);
    for (let i = 0; i < rows; i++) if (!Number.isFinite(c[i]!)) throw new TesseraError(`X has ${show(c[i]!)} at ${at(i, j)}`);
    return c;
  };
  switch (t.kind) {
    case "onehot": {
      const out: Float64Array[] = [];
      t.categories.forEach((cats, j) => {
        const index = indexOf(cats);
        const block = cats.map(() => new Float64Array(rows));
        const c = cols[j]!;
        for (let i = 0; i < rows; i++) {
          const v = c[i]!;
          const at_ = isMissing(v) ? undefined : index.get(v);
          if (at_ === undefined) {
            if (t.ignoreUnknown) continue; // all zeros, as scikit-learn's handle_unknown="ignore"
            throw new TesseraError(`X has ${isMissing(v) ? "a missing value" : `the unknown category ${showValue(v)}`} at ${at(i, j)}; known categories are [${cats.map(showValue).join(", ")}] (handleUnknown: "ignore" encodes it as all zeros)`);
          }
          block[at_]![i] = 1;
        }
        block.forEach((b, c_) => c_ !== t.drop[j] && out.push(b));
      });
      return out;
    }
    case "onehot-inverse": {
      let at_ = 0;
      return t.categories.map((cats, j) => {
        const kept = cats.map((_, c) => c).filter((c) => c !== t.drop[j]);
        const inputs = kept.map((_, q) => num(at_ + q));
        const first = at_;
        at_ += kept.length;
        const values = new Array<Category | null>(rows);
        for (let i = 0; i < rows; i++) {
          let hit = -1;
          for (let q = 0; q < kept.length; q++) {
            const v = inputs[q]![i]!;
            if (v !== 0 && v !== 1) throw new TesseraError(`the one-hot input has ${show(v)} at ${at(i, first + q)}; expected 0 or 1`);
            if (v === 1) {
              if (hit >= 0) throw new TesseraError(`the one-hot input has two 1s for feature ${j} at ${at(i, first + q)}`);
              hit = kept[q]!;
            }
          }
          // All zeros: the dropped category, or (without one) an unknown one, which scikit-learn returns as None.
          values[i] = hit >= 0 ? cats[hit]! : t.drop[j]! >= 0 ? cats[t.drop[j]!]! : null;
        }
        return asCol(values, typeof cats[0] === "string");
      });
    }
    case "ordinal":
      return t.categories.map((cats, j) => {
        const index = indexOf(cats);
        const c = cols[j]!;
        const out = new Float64Array(rows);
        for (let i = 0; i < rows; i++) {
          const v = c[i]!;
          const code = isMissing(v) ? undefined : index.get(v);
          if (code !== undefined) out[i] = code;
          else if (t.unknownValue !== null) out[i] = t.unknownValue;
          else throw new TesseraError(`X has ${isMissing(v) ? "a missing value" : `the unknown category ${showValue(v)}`} at ${at(i, j)}; known categories are [${cats.map(showValue).join(", ")}] (handleUnknown: "useEncodedValue" maps it to unknownValue)`);
        }
        return out;
      });
    case "ordinal-inverse":
      return t.categories.map((cats, j) => {
        const c = num(j);
        const values = new Array<Category | null>(rows);
        for (let i = 0; i < rows; i++) {
          const v = c[i]!;
          values[i] = Number.isInteger(v) && v >= 0 && v < cats.length ? cats[v]! : null;
        }
        return asCol(values, typeof cats[0] === "string");
      });
    case "impute":
      return t.fill.map((fill, j) => {
        const c = cols[j]!;
        if (c instanceof Float64Array) {
          if (typeof fill !== "number") throw new TesseraError(`column ${JSON.stringify(t.columns?.[j] ?? j)} is numeric but its fill value is the string ${JSON.stringify(fill)}`);
          return c.map((v) => (Number.isNaN(v) ? fill : v));
        }
        return c.map((v) => (v === null ? String(fill) : v));
      });
    case "poly": {
      const x = Array.from({ length: t.d }, (_, j) => finite(j));
      const nout = t.powers.length / t.d;
      const out: Float64Array[] = [];
      for (let c = 0; c < nout; c++) {
        const o = new Float64Array(rows).fill(1);
        for (let j = 0; j < t.d; j++) {
          const p = t.powers[c * t.d + j]!;
          const xj = x[j]!;
          for (let e = 0; e < p; e++) for (let i = 0; i < rows; i++) o[i] *= xj[i]!;
        }
        out.push(o);
      }
      return out;
    }
    case "project": {
      const x = Array.from({ length: t.d }, (_, j) => finite(j));
      const out: Float64Array[] = [];
      for (let c = 0; c < t.k; c++) {
        const o = new Float64Array(rows).fill(t.offset[c]!);
        for (let j = 0; j < t.d; j++) {
          const w = t.W[j * t.k + c]!;
          const m = t.mean[j]!;
          const xj = x[j]!;
          if (w !== 0) for (let i = 0; i < rows; i++) o[i] += (xj[i]! - m) * w;
        }
        out.push(o);
      }
      return out;
    }
  }
}

/** Strings (a feature of string categories), or numbers with null as NaN. */
function asCol(values: (Category | null)[], strings: boolean): Col {
  if (strings) return values.map((v) => (v === null ? null : String(v)));
  return Float64Array.from(values, (v) => (v === null ? NaN : (v as number)));
}

registerOp("ml.prep.block", (spec: { t: TransformSpec; d: number; offset: number }, x: unknown) =>
  withKernels((k) => {
    const m = matrix(k, x, spec.d, "ml.prep.block X");
    return using([m], () => {
      const cols = splitRows(k.view("float64", m.ptr, m.rows * m.d), m.rows, m.d);
      // An array's columns are numbered, whatever names the estimator was fitted with.
      const out = transformColumns(spec.t, cols, m.rows, (row, col) => where({ block: 0, offset: spec.offset, columns: null }, row, col));
      const w = out.length;
      const data = new Float64Array(m.rows * w);
      out.forEach((c, j) => {
        if (!(c instanceof Float64Array)) throw new TesseraError(`a transform of an array gave strings; fit it on an array`);
        for (let i = 0; i < m.rows; i++) data[i * w + j] = c[i]!;
      });
      return fromJs(k, data, [m.rows, w]);
    });
  }),
);

export interface FrameTransformSpec {
  t: TransformSpec;
  /** Columns read, in order. */
  inputs: string[];
  /** Names of the output columns. */
  outputs: string[];
  /** Output columns replace the inputs where they stand (same names); else: others, then outputs. */
  inPlace: boolean;
  block: number;
}

function toColumn(c: Col): Column {
  if (c instanceof Float64Array) return { type: "float64", data: c };
  const dictionary = [...new Set(c.filter((v): v is string => v !== null))].sort();
  const index = new Map(dictionary.map((s, i) => [s, i]));
  const data = new Int32Array(c.length);
  let valid: Uint8Array | undefined;
  c.forEach((v, i) => {
    if (v === null) (valid ??= new Uint8Array(c.length).fill(1))[i] = 0;
    else data[i] = index.get(v)!;
  });
  return valid ? { type: "string", data, dictionary, valid } : { type: "string", data, dictionary };
}

registerOp("ml.prep.frame", (spec: FrameTransformSpec, part: unknown): Frame => {
  const frame = asFrame(part, "ml.prep.frame");
  const cols = frameColumns(frame, spec.inputs, "ml.prep.frame");
  const out = transformColumns(spec.t, cols, frame.length, (row, col) => where({ block: spec.block, offset: null, columns: spec.inputs }, row, col)).map(toColumn);
  if (spec.inPlace) {
    const columns = frame.columns.map((c, i) => {
      const at = spec.inputs.indexOf(frame.names[i]!);
      return at >= 0 ? out[at]! : c;
    });
    return { length: frame.length, names: [...frame.names], columns };
  }
  const names: string[] = [];
  const columns: Column[] = [];
  frame.names.forEach((n, i) => {
    if (!spec.inputs.includes(n) && !spec.outputs.includes(n)) (names.push(n), columns.push(frame.columns[i]!));
  });
  return { length: frame.length, names: [...names, ...spec.outputs], columns: [...columns, ...out] };
});
