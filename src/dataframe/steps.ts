/**
 * Partition-wise steps: the verbs that work on each partition alone (select, filter, assign,
 * rename, astype, fillna, dropna, map). A dataframe keeps them as a list after its input, and
 * the list runs as ONE task per partition (pipeline op), so `readParquet(...).filter(...)
 * .assign(...).select(...)` reads, filters and computes each partition in one pass, and never
 * stores the intermediate frames.
 *
 * The same list tells, before anything runs, the schema of the result (deriveSchema) and which
 * input columns are needed (neededColumns: projection pushdown into the reader).
 */

import { TesseraError } from "../errors.js";
import { columnsOf, show, type ExprNode, type Literal } from "./expr.js";
import { castColumn, compileFloat64, compileMask, evaluate, fillNull, predicateMask } from "./eval.js";
import { filterRows, isNumeric, makeFrame, missingMask, schemaOf, selectColumns, type Column, type ColumnData, type ColumnMeta, type ColumnType, type Frame, type Schema } from "./frame.js";
import type { LazyData } from "./kernels/wasm.js";
import { type BlockScope, wasmFloat64, wasmMask } from "./kernels/block-eval.js";

export type Step =
  | { kind: "select"; columns: string[] }
  | { kind: "filter"; predicate: ExprNode }
  | { kind: "assign"; columns: { name: string; expr: ExprNode }[] }
  | { kind: "rename"; mapping: Record<string, string> }
  | { kind: "astype"; types: Record<string, ColumnType> }
  | { kind: "fillna"; values: Record<string, Literal> }
  | { kind: "dropna"; subset: string[] | null; how: "any" | "all" };

function indexOf(schema: Schema, name: string, where: string): number {
  const i = schema.names.indexOf(name);
  if (i < 0) throw new TesseraError(`${where}: no column ${JSON.stringify(name)}; columns are ${schema.names.map((n) => JSON.stringify(n)).join(", ")}`);
  return i;
}

/** The type an expression gives over a schema (the same rules as eval.ts). */
export function typeOf(e: ExprNode, schema: Schema, where: string): ColumnMeta {
  switch (e.op) {
    case "col":
      return schema.types[indexOf(schema, e.name, where)]!;
    case "lit":
      return { type: typeof e.value === "string" ? "string" : typeof e.value === "boolean" ? "bool" : typeof e.value === "bigint" ? "int64" : "float64" };
    case "eq":
    case "ne":
    case "lt":
    case "le":
    case "gt":
    case "ge":
    case "and":
    case "or":
    case "not":
    case "isnull":
    case "notnull":
    case "isin":
      for (const c of columnsOf(e)) indexOf(schema, c, where);
      return { type: "bool" };
    case "cast":
      typeOf(e.a, schema, where);
      return { type: e.type };
    case "fillnull":
    case "neg":
    case "abs":
      return typeOf(e.a, schema, where);
    default: {
      const a = typeOf(e.a, schema, where).type;
      const b = typeOf(e.b, schema, where).type;
      for (const t of [a, b]) {
        if (t === "string" || t === "object") throw new TesseraError(`${where}: ${show(e)} does arithmetic on a ${t} column`);
      }
      if (e.op === "div" || e.op === "pow") return { type: "float64" };
      const lits = [e.a, e.b].filter((x) => x.op === "lit");
      if (a === "int64" && b === "int64") return { type: "int64" };
      if (lits.length === 1) {
        const other = e.a.op === "lit" ? b : a;
        const v = (lits[0] as { value: Literal }).value;
        if (other === "float32") return { type: "float32" };
        if (isNumeric(other) && other !== "float64" && typeof v === "number" && Number.isInteger(v)) return { type: "int32" };
        if (other === "int64" && typeof v === "number" && Number.isInteger(v)) return { type: "int64" };
        return { type: "float64" };
      }
      if (a === "float32" && b === "float32") return { type: "float32" };
      if (a === "float64" || b === "float64" || a === "float32" || b === "float32" || a === "int64" || b === "int64") return { type: "float64" };
      return { type: "int32" };
    }
  }
}

export function deriveSchema(schema: Schema, steps: readonly Step[]): Schema {
  let s: Schema = { names: [...schema.names], types: [...schema.types] };
  for (const step of steps) {
    switch (step.kind) {
      case "select":
        s = { names: [...step.columns], types: step.columns.map((c) => s.types[indexOf(s, c, "select")]!) };
        break;
      case "filter": {
        const t = typeOf(step.predicate, s, "filter");
        if (t.type !== "bool") throw new TesseraError(`filter: the predicate ${show(step.predicate)} is ${t.type}, not bool`);
        break;
      }
      case "assign": {
        const names = [...s.names];
        const types = [...s.types];
        for (const c of step.columns) {
          const t = typeOf(c.expr, s, `assign ${JSON.stringify(c.name)}`);
          const i = names.indexOf(c.name);
          if (i >= 0) types[i] = t;
          else {
            names.push(c.name);
            types.push(t);
          }
        }
        s = { names, types };
        break;
      }
      case "rename": {
        for (const from of Object.keys(step.mapping)) indexOf(s, from, "rename");
        const names = s.names.map((n) => step.mapping[n] ?? n);
        if (new Set(names).size !== names.length) throw new TesseraError(`rename: the result would have duplicate columns: ${JSON.stringify(names)}`);
        s = { names, types: s.types };
        break;
      }
      case "astype":
        s = {
          names: s.names,
          types: s.types.map((t, i) => {
            const to = step.types[s.names[i]!];
            return to ? { type: to } : t;
          }),
        };
        for (const c of Object.keys(step.types)) indexOf(s, c, "astype");
        break;
      case "fillna":
        for (const c of Object.keys(step.values)) indexOf(s, c, "fillna");
        break;
      case "dropna":
        for (const c of step.subset ?? []) indexOf(s, c, "dropna");
        break;
    }
  }
  return s;
}

/**
 * Input columns the steps need to produce `wanted` output columns (all outputs when null).
 * Walks the steps backwards.
 */
export function neededColumns(input: Schema, steps: readonly Step[], wanted: readonly string[] | null): string[] {
  let need = new Set(wanted ?? deriveSchema(input, steps).names);
  for (let k = steps.length - 1; k >= 0; k--) {
    const step = steps[k]!;
    switch (step.kind) {
      case "select":
        break;
      case "filter":
        for (const c of columnsOf(step.predicate)) need.add(c);
        break;
      case "assign":
        for (const c of [...step.columns].reverse()) {
          if (need.has(c.name)) need.delete(c.name);
          for (const x of columnsOf(c.expr)) need.add(x);
        }
        break;
      case "rename": {
        const back = new Map(Object.entries(step.mapping).map(([from, to]) => [to, from]));
        need = new Set([...need].map((n) => back.get(n) ?? n));
        break;
      }
      case "dropna":
        for (const c of step.subset ?? []) need.add(c);
        if (!step.subset) return [...input.names];
        break;
      default:
        break;
    }
  }
  return input.names.filter((n) => need.has(n));
}

/** Run the steps on one partition. */
export function applySteps(frame: Frame, steps: readonly Step[]): Frame {
  let f = frame;
  if (steps.some((s) => s.kind === "select")) {
    // Only the columns the steps use or pass on: a filter then copies no column that a later
    // select drops (the readers do the same when they read a file).
    const need = neededColumns(schemaOf(f), steps, null);
    if (need.length < f.names.length) f = selectColumns(f, need);
  }
  for (const step of steps) {
    switch (step.kind) {
      case "select":
        f = selectColumns(f, step.columns);
        break;
      case "filter":
        f = compactFrame(f, predicateMask(f, step.predicate));
        break;
      case "assign": {
        const names = [...f.names];
        const columns = [...f.columns];
        for (const c of step.columns) {
          const value = evaluate({ length: f.length, names, columns }, c.expr);
          const i = names.indexOf(c.name);
          if (i >= 0) columns[i] = value;
          else {
            names.push(c.name);
            columns.push(value);
          }
        }
        f = makeFrame(names, columns, f.length);
        break;
      }
      case "rename":
        f = { ...f, names: f.names.map((n) => step.mapping[n] ?? n) };
        break;
      case "astype":
        f = { ...f, columns: f.columns.map((c, i) => (step.types[f.names[i]!] ? castColumn(c, step.types[f.names[i]!]!, `astype ${JSON.stringify(f.names[i])}`) : c)) };
        break;
      case "fillna":
        f = { ...f, columns: f.columns.map((c, i) => (f.names[i]! in step.values ? fillNull(c, step.values[f.names[i]!]!, `fillna ${JSON.stringify(f.names[i])}`) : c)) };
        break;
      case "dropna": {
        // pandas' dropna: nulls, and NaN in float columns, are missing.
        const masks = (step.subset ?? f.names).map((n) => missingMask(f.columns[f.names.indexOf(n)]!));
        const keep = new Uint8Array(f.length);
        for (let i = 0; i < f.length; i++) {
          let missing = 0;
          for (const m of masks) if (m && m[i]) missing++;
          keep[i] = step.how === "any" ? +(missing === 0) : +(missing < masks.length);
        }
        f = compactFrame(f, keep);
        break;
      }
    }
  }
  return f;
}

/** Whether an expression can fail on some row's value (int64 modulo by zero, a cast that overflows). */
function canFailOnData(e: ExprNode): boolean {
  if (e.op === "cast" || e.op === "mod") return true;
  if ("b" in e && canFailOnData(e.b)) return true;
  return "a" in e ? canFailOnData(e.a) : false;
}

/**
 * Whether the steps can run over a whole partition with their filters kept as a row mask
 * (applyStepsMasked): only select, rename, filter and assign, and no expression that can fail
 * on a value (a row a filter drops must not raise an error).
 */
export function maskable(steps: readonly Step[]): boolean {
  return steps.every((s) => {
    switch (s.kind) {
      case "select":
      case "rename":
        return true;
      case "filter":
        return !canFailOnData(s.predicate);
      case "assign":
        return s.columns.every((c) => !canFailOnData(c.expr));
      default:
        return false;
    }
  });
}

/**
 * The steps over a whole partition, filters kept as a mask (1 = the row passes every filter;
 * null when there is no filter) instead of copying the rows that pass: for a consumer that can
 * skip rows itself (a groupby partial drops them like null keys). Steps must be `maskable`.
 */
export function applyStepsMasked(
  frame: Frame,
  steps: readonly Step[],
  lazy: ReadonlySet<string> = new Set(),
  blockwiseMask = false,
  scope?: BlockScope,
): { frame: Frame; mask: Uint8Array | LazyData | null } {
  let f = frame;
  let mask: Uint8Array | null = null;
  /** Filters compiled to block evaluators (eval.ts's compileMask), when blockwiseMask. */
  const blockMasks: ((start: number, n: number) => Uint8Array)[] = [];
  /** The filters' predicates with the frame each one sees (for block-eval.ts's wasm mask). */
  const filters: { frame: Frame; predicate: ExprNode }[] = [];
  if (steps.some((s) => s.kind === "select")) {
    const need = neededColumns(schemaOf(f), steps, null);
    if (need.length < f.names.length) f = selectColumns(f, need);
  }
  for (let j = 0; j < steps.length; j++) {
    const step = steps[j]!;
    if (step.kind === "assign" && lazy.size > 0) {
      f = assignLazily(f, step.columns, steps.slice(j + 1), lazy, scope);
      continue;
    }
    switch (step.kind) {
      case "filter": {
        const compiled = blockwiseMask ? compileMask(f, step.predicate) : null;
        if (compiled) {
          blockMasks.push(compiled);
          filters.push({ frame: f, predicate: step.predicate });
          break;
        }
        const m = predicateMask(f, step.predicate);
        if (!mask) mask = m;
        else {
          const both = new Uint8Array(m.length);
          for (let i = 0; i < both.length; i++) both[i] = mask[i]! & m[i]!;
          mask = both;
        }
        break;
      }
      case "select":
      case "rename":
      case "assign":
        f = applySteps(f, [step]);
        break;
      default:
        throw new TesseraError(`internal: a ${step.kind} step cannot run with a row mask`);
    }
  }
  if (blockMasks.length === 0) return { frame: f, mask };
  // No filter evaluated whole, and every one compiles to wasm: the mask in wasm (block-eval.ts).
  const inWasm = mask ? null : wasmMask(scope, f.length, filters);
  if (inWasm) return { frame: f, mask: inWasm };
  // The mask a block at a time: every compiled filter, and the ones evaluated whole.
  const whole = mask;
  let buf = new Uint8Array(0);
  const block = (start: number, n: number): Uint8Array => {
    const first = blockMasks[0]!(start, n);
    if (blockMasks.length === 1 && !whole) return first;
    if (buf.length < n) buf = new Uint8Array(n);
    buf.set(first.subarray(0, n));
    for (let j = 1; j < blockMasks.length; j++) {
      const m = blockMasks[j]!(start, n);
      for (let i = 0; i < n; i++) buf[i] = buf[i]! & m[i]!;
    }
    if (whole) for (let i = 0; i < n; i++) buf[i] = buf[i]! & whole[start + i]!;
    return buf;
  };
  return { frame: f, mask: { lazy: true, length: f.length, BYTES_PER_ELEMENT: 1, block: block as LazyData["block"] } };
}

/**
 * An assign step where each column in `lazy` that only later selects pass on (no later step
 * reads, renames or replaces it) and whose expression is plain arithmetic over null-free
 * float64 columns (eval.ts's compileFloat64) becomes LazyData: evaluated a block of rows at a time when a kernel reads it
 * (kernels/wasm.ts), so the whole column is never allocated. Other columns are evaluated now.
 */
function assignLazily(f: Frame, columns: readonly { name: string; expr: ExprNode }[], after: readonly Step[], lazy: ReadonlySet<string>, scope?: BlockScope): Frame {
  const names = [...f.names];
  const cols = [...f.columns];
  const laterUse = (name: string, ci: number) =>
    columns.slice(ci + 1).some((c) => c.name === name || columnsOf(c.expr).has(name)) ||
    after.some((s) => s.kind === "rename" || (s.kind === "filter" && columnsOf(s.predicate).has(name)) || (s.kind === "assign" && s.columns.some((c) => c.name === name || columnsOf(c.expr).has(name))));
  for (let ci = 0; ci < columns.length; ci++) {
    const c = columns[ci]!;
    const cur: Frame = { length: f.length, names, columns: cols };
    const blockwise = lazy.has(c.name) && !laterUse(c.name, ci);
    const inWasm = blockwise ? wasmFloat64(scope, cur, c.expr) : null;
    const program = blockwise && !inWasm ? compileFloat64(cur, c.expr) : null;
    let value: Column;
    if (inWasm) value = { type: "float64", data: inWasm as unknown as ColumnData };
    else if (program) {
      const data: LazyData = { lazy: true, length: f.length, BYTES_PER_ELEMENT: 8, block: program };
      value = { type: "float64", data: data as unknown as ColumnData };
    } else value = evaluate(cur, c.expr);
    const i = names.indexOf(c.name);
    if (i >= 0) cols[i] = value;
    else {
      names.push(c.name);
      cols.push(value);
    }
  }
  return { length: f.length, names, columns: cols };
}

/**
 * The rows where mask is 1 (frame.ts's filterRows, with one tight loop per typed array type:
 * a generic loop over a partition's mixed column types runs several times slower).
 */
export function compactFrame(frame: Frame, mask: Uint8Array): Frame {
  const n = frame.length;
  let kept = 0;
  for (let i = 0; i < n; i++) kept += mask[i]!;
  if (kept === n) return frame;
  if (frame.columns.some((c) => Array.isArray(c.data))) return filterRows(frame, mask);
  return {
    length: kept,
    names: [...frame.names],
    columns: frame.columns.map((c) => {
      const out: Column = { ...c, data: compactData(c.data as Typed, mask, kept) };
      if (c.valid) out.valid = compactU8(c.valid, mask, new Uint8Array(kept));
      return out;
    }),
  };
}

type Typed = Exclude<ColumnData, unknown[]>;

function compactData(src: Typed, mask: Uint8Array, kept: number): Typed {
  if (src instanceof Float64Array) return compactF64(src, mask, new Float64Array(kept));
  if (src instanceof Int32Array) return compactI32(src, mask, new Int32Array(kept));
  if (src instanceof Uint8Array) return compactU8(src, mask, new Uint8Array(kept));
  const out = new (src.constructor as new (n: number) => Typed)(kept) as Float64Array;
  const from = src as unknown as Float64Array;
  for (let i = 0, j = 0; j < kept; i++) if (mask[i]) out[j++] = from[i]!;
  return out as unknown as Typed;
}

/*
 * Branch-free compaction: every row is written at the next free place, which advances only past
 * kept rows (a branch on a random mask mispredicts half the time). Up to the last kept row the
 * place is always inside `out`; rows after it are not visited.
 */

function lastKept(mask: Uint8Array): number {
  let i = mask.length - 1;
  while (i >= 0 && !mask[i]) i--;
  return i;
}

function compactF64(src: Float64Array, mask: Uint8Array, out: Float64Array): Float64Array {
  const last = lastKept(mask);
  for (let i = 0, j = 0; i <= last; i++) {
    out[j] = src[i]!;
    j += mask[i]!;
  }
  return out;
}

function compactI32(src: Int32Array, mask: Uint8Array, out: Int32Array): Int32Array {
  const last = lastKept(mask);
  for (let i = 0, j = 0; i <= last; i++) {
    out[j] = src[i]!;
    j += mask[i]!;
  }
  return out;
}

function compactU8(src: Uint8Array, mask: Uint8Array, out: Uint8Array): Uint8Array {
  const last = lastKept(mask);
  for (let i = 0, j = 0; i <= last; i++) {
    out[j] = src[i]!;
    j += mask[i]!;
  }
  return out;
}
