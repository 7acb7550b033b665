/**
 * Frame: one partition of a dataframe, as the workers hold and pass it. Columns of typed arrays
 * (plain data: structured-clonable, buffers transferable, readable by wasm kernels), converted
 * to an Apache Arrow Table only at the edges (compute() on the client, toArrow, fromArrow).
 *
 *   numbers     float64 float32 int8 int16 int32 uint8 uint16 uint32 -> the matching typed array
 *   64-bit ints int64 uint64                                          -> BigInt64Array / BigUint64Array
 *   bool                                                              -> Uint8Array of 0/1
 *   string      dictionary-encoded: Int32Array codes into `dictionary` (this partition's own)
 *   timestamp   BigInt64Array counts of `unit` since the epoch, optional `tz`
 *   date32      Int32Array days since the epoch
 *   object      anything else (lists, structs, maps, decimals, binary): a JS array of values
 *
 * Nulls: `valid` is a Uint8Array of 0/1 per row, absent when the column has none (the value
 * under a null is unspecified). Dictionaries differ between partitions; operations that compare
 * strings across partitions (groupby, merge, concat) map codes through the strings.
 */

import { TesseraError } from "../errors.js";

export type NumericType = "float64" | "float32" | "int8" | "int16" | "int32" | "uint8" | "uint16" | "uint32";
export type ColumnType = NumericType | "int64" | "uint64" | "bool" | "string" | "timestamp" | "date32" | "object";
export type TimeUnit = "s" | "ms" | "us" | "ns";

export type ColumnData =
  | Float64Array
  | Float32Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | unknown[];

export interface Column {
  type: ColumnType;
  data: ColumnData;
  /** 1 = value, 0 = null; absent when there are no nulls. */
  valid?: Uint8Array;
  /** string: the values the codes index. */
  dictionary?: string[];
  /** timestamp: the unit of `data`, and a timezone if the source had one. */
  unit?: TimeUnit;
  tz?: string;
}

export interface Frame {
  length: number;
  names: string[];
  columns: Column[];
}

/** A column's type as known before any data is read (from file metadata, or derived). */
export interface ColumnMeta {
  type: ColumnType;
  unit?: TimeUnit;
  tz?: string;
}

export interface Schema {
  names: string[];
  types: ColumnMeta[];
}

export function schemaOf(f: Frame): Schema {
  return {
    names: [...f.names],
    types: f.columns.map((c) => {
      const m: ColumnMeta = { type: c.type };
      if (c.unit) m.unit = c.unit;
      if (c.tz) m.tz = c.tz;
      return m;
    }),
  };
}

const NUMERIC: Record<NumericType, new (n: number) => ColumnData> = {
  float64: Float64Array,
  float32: Float32Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
};

export function isNumeric(t: ColumnType): t is NumericType {
  return t in NUMERIC;
}

/** An empty data array of `type` with room for n rows. */
export function allocColumnData(type: ColumnType, n: number): ColumnData {
  if (isNumeric(type)) return new NUMERIC[type](n);
  switch (type) {
    case "int64":
    case "timestamp":
      return new BigInt64Array(n);
    case "uint64":
      return new BigUint64Array(n);
    case "bool":
      return new Uint8Array(n);
    case "string":
    case "date32":
      return new Int32Array(n);
    case "object":
      return new Array<unknown>(n);
  }
}

/**
 * Missing values as pandas sees them: nulls, and NaN in float columns (pandas' isna). Returns
 * 1 where row i is missing; undefined when no row is.
 */
export function missingMask(c: Column): Uint8Array | undefined {
  const n = c.data.length;
  let out: Uint8Array | undefined;
  if (c.valid) {
    out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = 1 - c.valid[i]!;
  }
  if (c.type === "float64" || c.type === "float32") {
    const d = c.data as Float64Array;
    for (let i = 0; i < n; i++) if (d[i] !== d[i]) (out ??= new Uint8Array(n))[i] = 1;
  }
  return out;
}

/** A value that should be a partition (a task argument), checked. */
export function asFrame(x: unknown, what: string): Frame {
  const f = x as Frame;
  if (f === null || typeof f !== "object" || !Array.isArray(f.names) || !Array.isArray(f.columns) || typeof f.length !== "number") {
    throw new TesseraError(`${what}: expected a dataframe partition, got ${x === null ? "null" : typeof x}`);
  }
  return f;
}

export function column(frame: Frame, name: string, where = "frame"): Column {
  const i = frame.names.indexOf(name);
  if (i < 0) throw new TesseraError(`${where}: no column ${JSON.stringify(name)}; columns are ${frame.names.map((n) => JSON.stringify(n)).join(", ")}`);
  return frame.columns[i]!;
}

export function makeFrame(names: string[], columns: Column[], length?: number): Frame {
  if (names.length !== columns.length) throw new TesseraError(`frame: ${names.length} names for ${columns.length} columns`);
  if (new Set(names).size !== names.length) throw new TesseraError(`frame: duplicate column names in ${JSON.stringify(names)}`);
  const n = length ?? (columns[0] ? columns[0].data.length : 0);
  columns.forEach((c, i) => {
    if (c.data.length !== n) throw new TesseraError(`frame: column ${JSON.stringify(names[i])} has ${c.data.length} rows, expected ${n}`);
    if (c.valid && c.valid.length !== n) throw new TesseraError(`frame: validity of column ${JSON.stringify(names[i])} has ${c.valid.length} rows, expected ${n}`);
  });
  return { length: n, names, columns };
}

/** Keep these columns, in this order. */
export function selectColumns(frame: Frame, names: readonly string[]): Frame {
  return { length: frame.length, names: [...names], columns: names.map((n) => column(frame, n, "select")) };
}

function sliceData(d: ColumnData, start: number, end: number): ColumnData {
  return Array.isArray(d) ? d.slice(start, end) : d.slice(start, end);
}

/** Rows [start, end): copies, so the slice owns its buffers (it may be transferred). */
export function sliceFrame(frame: Frame, start: number, end: number): Frame {
  const s = Math.max(0, Math.min(start, frame.length));
  const e = Math.max(s, Math.min(end, frame.length));
  return {
    length: e - s,
    names: [...frame.names],
    columns: frame.columns.map((c) => ({ ...c, data: sliceData(c.data, s, e), ...(c.valid ? { valid: c.valid.slice(s, e) } : {}) })),
  };
}

/** The rows at `rows` (row numbers, in order). */
export function takeRows(frame: Frame, rows: Int32Array | Uint32Array | readonly number[]): Frame {
  const n = rows.length;
  return {
    length: n,
    names: [...frame.names],
    columns: frame.columns.map((c) => {
      const data = allocColumnData(c.type, n) as { [i: number]: unknown };
      const src = c.data as { [i: number]: unknown };
      for (let i = 0; i < n; i++) data[i] = src[rows[i]!];
      const out: Column = { ...c, data: data as ColumnData };
      if (c.valid) {
        const valid = new Uint8Array(n);
        for (let i = 0; i < n; i++) valid[i] = c.valid[rows[i]!]!;
        out.valid = valid;
      } else delete out.valid;
      return out;
    }),
  };
}

/** The rows where mask is 1 (a Uint8Array of 0/1, one per row). */
export function filterRows(frame: Frame, mask: Uint8Array): Frame {
  let n = 0;
  for (let i = 0; i < mask.length; i++) n += mask[i]!;
  const rows = new Int32Array(n);
  for (let i = 0, j = 0; i < mask.length; i++) if (mask[i]) rows[j++] = i;
  return takeRows(frame, rows);
}

/** String values of a dictionary column (null for nulls). */
export function stringsOf(c: Column): (string | null)[] {
  if (c.type !== "string") throw new TesseraError(`expected a string column, got ${c.type}`);
  const codes = c.data as Int32Array;
  const dict = c.dictionary ?? [];
  return Array.from(codes, (code, i) => (c.valid && !c.valid[i] ? null : dict[code]!));
}

/** A string column from values (null for nulls): codes in first-seen order of each value. */
export function stringColumn(values: readonly (string | null | undefined)[]): Column {
  const codes = new Int32Array(values.length);
  const dict: string[] = [];
  const index = new Map<string, number>();
  let valid: Uint8Array | undefined;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      (valid ??= new Uint8Array(values.length).fill(1))[i] = 0;
      continue;
    }
    let code = index.get(v);
    if (code === undefined) {
      code = dict.length;
      dict.push(v);
      index.set(v, code);
    }
    codes[i] = code;
  }
  return valid ? { type: "string", data: codes, dictionary: dict, valid } : { type: "string", data: codes, dictionary: dict };
}

/**
 * Partitions in order, as one frame: column types must agree (numeric types are not promoted
 * here; callers cast first). String dictionaries are merged.
 */
export function concatFrames(frames: readonly Frame[]): Frame {
  if (frames.length === 0) throw new TesseraError("concat: no frames");
  const first = frames[0]!;
  for (const f of frames) {
    if (f.names.length !== first.names.length || f.names.some((n, i) => n !== first.names[i])) {
      throw new TesseraError(`concat: columns differ: ${JSON.stringify(first.names)} vs ${JSON.stringify(f.names)}`);
    }
  }
  const n = frames.reduce((s, f) => s + f.length, 0);
  const columns = first.names.map((name, ci) => {
    const parts = frames.map((f) => f.columns[ci]!);
    const type = parts[0]!.type;
    for (const p of parts) {
      if (p.type !== type) throw new TesseraError(`concat: column ${JSON.stringify(name)} is ${type} in one partition and ${p.type} in another`);
    }
    const anyNulls = parts.some((p) => p.valid);
    const valid = anyNulls ? new Uint8Array(n) : undefined;
    if (type === "string") {
      const dict: string[] = [];
      const index = new Map<string, number>();
      const codes = new Int32Array(n);
      let at = 0;
      for (const p of parts) {
        const pd = p.dictionary ?? [];
        const map = pd.map((s) => {
          let c = index.get(s);
          if (c === undefined) {
            c = dict.length;
            dict.push(s);
            index.set(s, c);
          }
          return c;
        });
        const src = p.data as Int32Array;
        for (let i = 0; i < src.length; i++) codes[at + i] = map[src[i]!] ?? 0;
        if (valid) valid.set(p.valid ?? new Uint8Array(src.length).fill(1), at);
        at += src.length;
      }
      const c: Column = { type, data: codes, dictionary: dict };
      if (valid) c.valid = valid;
      return c;
    }
    const data = allocColumnData(type, n);
    let at = 0;
    for (const p of parts) {
      if (Array.isArray(data)) for (let i = 0; i < p.data.length; i++) data[at + i] = (p.data as unknown[])[i];
      else (data as { set(a: ArrayLike<number | bigint>, o: number): void }).set(p.data as ArrayLike<number | bigint>, at);
      if (valid) valid.set(p.valid ?? new Uint8Array(p.data.length).fill(1), at);
      at += p.data.length;
    }
    const c: Column = { ...parts[0]!, data };
    if (valid) c.valid = valid;
    else delete c.valid;
    return c;
  });
  return { length: n, names: [...first.names], columns };
}

/** Bytes held by a frame's buffers (an estimate for object columns). */
export function frameBytes(f: Frame): number {
  let b = 0;
  for (const c of f.columns) {
    b += Array.isArray(c.data) ? c.data.length * 16 : (c.data as ArrayBufferView).byteLength;
    if (c.valid) b += c.valid.byteLength;
    if (c.dictionary) for (const s of c.dictionary) b += 16 + 2 * s.length;
  }
  return b;
}

/** A float64 column's data when it has no nulls (the block evaluators' inputs), else null. */
export function nullFreeF64(frame: Frame, name: string): Float64Array | null {
  const i = frame.names.indexOf(name);
  const c = i >= 0 ? frame.columns[i]! : undefined;
  return c && c.type === "float64" && !c.valid && c.data instanceof Float64Array ? c.data : null;
}
