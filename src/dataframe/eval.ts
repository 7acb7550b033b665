/**
 * Evaluating a column expression on one partition, column at a time: each operator is one tight
 * loop over typed arrays (V8 compiles these to a few instructions per element; for one or two
 * operators this beats copying into wasm and back). Literals stay scalars until an operator
 * needs them.
 *
 * Types: int32 op int32 stays int32 for + - * % (wrapping, like numpy), floats widen to float64,
 * `/` and `**` give float64; int64 (BigInt64Array) arithmetic stays int64 among int64s and goes
 * to float64 with floats. Comparisons give bool. Nulls follow SQL/Arrow: any null operand gives
 * null, except `and`/`or` (Kleene: null & false is false) and the null tests; a filter keeps
 * only rows where its predicate is true. Strings compare by value: against a literal the
 * dictionary is compared once and rows look their code up.
 *
 * This file walks the expression and dispatches; the operators live beside it: eval-compare.ts
 * (comparisons, strings, isin), eval-arith.ts, eval-nulls.ts (null tests, Kleene logic, fills),
 * eval-cast.ts, and eval-compile.ts (the block evaluators of float64 expressions and masks).
 */

import { TesseraError } from "../errors.js";
import { allocColumnData, column as getColumn, isNumeric, type Column, type Frame } from "./frame.js";
import { show, type ExprNode } from "./expr.js";
import { arithmetic, asNumericColumn } from "./eval-arith.js";
import { castColumn } from "./eval-cast.js";
import { COMPARE, FLIP, compareNumeric, compareScalar, compareStrings, isin } from "./eval-compare.js";
import { fillNull, logic, nullTest } from "./eval-nulls.js";
import { andValid, asColumn, broadcast, col, type Value } from "./eval-value.js";

export { castColumn } from "./eval-cast.js";
export { compileFloat64, compileMask } from "./eval-compile.js";
export { fillNull } from "./eval-nulls.js";

export function evaluate(frame: Frame, e: ExprNode): Column {
  const v = evalNode(frame, e);
  return v.kind === "column" ? v.col : broadcast(v.value, frame.length);
}

/** A boolean mask (1 = keep) from a predicate: null and false rows are dropped. */
export function predicateMask(frame: Frame, e: ExprNode): Uint8Array {
  const c = evaluate(frame, e);
  if (c.type !== "bool") throw new TesseraError(`filter: the predicate ${show(e)} is ${c.type}, not bool`);
  const data = c.data as Uint8Array;
  if (!c.valid) return data;
  const out = new Uint8Array(data.length);
  for (let i = 0; i < out.length; i++) out[i] = data[i]! & c.valid[i]!;
  return out;
}

function evalNode(frame: Frame, e: ExprNode): Value {
  switch (e.op) {
    case "col":
      return { kind: "column", col: getColumn(frame, e.name, "expression") };
    case "lit":
      return { kind: "scalar", value: e.value };
    case "isnull":
    case "notnull":
      return nullTest(e.op, evalNode(frame, e.a), frame.length);
    case "not": {
      const a = asColumn(evalNode(frame, e.a), frame.length);
      if (a.type !== "bool") throw new TesseraError(`${show(e)}: ~ needs a bool operand, got ${a.type}`);
      const src = a.data as Uint8Array;
      const out = new Uint8Array(src.length);
      for (let i = 0; i < out.length; i++) out[i] = 1 - src[i]!;
      return col("bool", out, a.valid);
    }
    case "neg":
    case "abs": {
      const a = asColumn(evalNode(frame, e.a), frame.length);
      if (!isNumeric(a.type) && a.type !== "int64") throw new TesseraError(`${show(e)}: needs a numeric operand, got ${a.type}`);
      const out = allocColumnData(a.type, frame.length) as Float64Array;
      const src = a.data as Float64Array;
      if (e.op === "neg") for (let i = 0; i < out.length; i++) out[i] = -src[i]!;
      else for (let i = 0; i < out.length; i++) out[i] = src[i]! < 0 ? -src[i]! : src[i]!;
      return col(a.type, out, a.valid);
    }
    case "isin":
      return isin(frame, evalNode(frame, e.a), e.values, e);
    case "cast":
      return { kind: "column", col: castColumn(asColumn(evalNode(frame, e.a), frame.length), e.type, show(e)) };
    case "fillnull": {
      const a = asColumn(evalNode(frame, e.a), frame.length);
      return { kind: "column", col: fillNull(a, e.value, show(e)) };
    }
    default:
      return binary(frame, e.op, evalNode(frame, e.a), evalNode(frame, e.b), e);
  }
}

function binary(frame: Frame, op: Exclude<ExprNode["op"], "col" | "lit">, a: Value, b: Value, e: ExprNode): Value {
  const n = frame.length;
  if (a.kind === "scalar" && b.kind === "scalar") {
    throw new TesseraError(`${show(e)}: an expression needs at least one column`);
  }
  if (op === "and" || op === "or") return logic(op, asColumn(a, n), asColumn(b, n), e);
  const ta = a.kind === "column" ? a.col.type : undefined;
  const tb = b.kind === "column" ? b.col.type : undefined;
  if (ta === "string" || tb === "string" || (a.kind === "scalar" && typeof a.value === "string") || (b.kind === "scalar" && typeof b.value === "string")) {
    if (!COMPARE.has(op)) throw new TesseraError(`${show(e)}: strings support comparisons only`);
    return compareStrings(op, a, b, n, e);
  }
  if ((a.kind === "scalar" && a.value === null) || (b.kind === "scalar" && b.value === null)) {
    // Anything compared or combined with null is null.
    return col(COMPARE.has(op) ? "bool" : "float64", COMPARE.has(op) ? new Uint8Array(n) : new Float64Array(n), new Uint8Array(n));
  }
  if (COMPARE.has(op)) {
    // A column against a number: compared to the scalar, without broadcasting it to a column.
    const scalarSide = a.kind === "scalar" ? a : b.kind === "scalar" ? b : undefined;
    const colSide = a.kind === "column" ? a : b.kind === "column" ? b : undefined;
    if (scalarSide && colSide && typeof scalarSide.value === "number") {
      const c = asNumericColumn(colSide, n, undefined, e);
      if (c.type !== "int64") {
        const x = scalarSide.value;
        const v = c.type === "float32" ? Math.fround(x) : x;
        const flipped = a.kind === "scalar" ? FLIP[op]! : op;
        return col("bool", compareScalar(flipped, c.data as Float64Array, v, n), c.valid);
      }
    }
  }
  const ca = asNumericColumn(a, n, tb, e);
  const cb = asNumericColumn(b, n, ta, e);
  const valid = andValid(ca.valid, cb.valid);
  if (COMPARE.has(op)) return col("bool", compareNumeric(op, ca.data, cb.data, n), valid);
  return arithmetic(op, ca, cb, valid, n, e);
}
