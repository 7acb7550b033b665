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
import { castColumn, evaluate, fillNull, predicateMask } from "./eval.js";
import { filterRows, isNumeric, makeFrame, missingMask, selectColumns, type ColumnMeta, type ColumnType, type Frame, type Schema } from "./frame.js";

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
  for (const step of steps) {
    switch (step.kind) {
      case "select":
        f = selectColumns(f, step.columns);
        break;
      case "filter":
        f = filterRows(f, predicateMask(f, step.predicate));
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
        f = filterRows(f, keep);
        break;
      }
    }
  }
  return f;
}
