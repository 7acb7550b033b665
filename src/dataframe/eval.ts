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
 */

import { TesseraError } from "../errors.js";
import { allocColumnData, column as getColumn, isNumeric, missingMask, nullFreeF64, type Column, type ColumnData, type ColumnType, type Frame } from "./frame.js";
import { show, type ExprNode, type Literal } from "./expr.js";

type Value = { kind: "column"; col: Column } | { kind: "scalar"; value: Literal };

const FLOATS = new Set<ColumnType>(["float64", "float32"]);

export function evaluate(frame: Frame, e: ExprNode): Column {
  const v = evalNode(frame, e);
  return v.kind === "column" ? v.col : broadcast(v.value, frame.length);
}

/**
 * An arithmetic expression over null-free float64 columns compiled to a block evaluator:
 * `(start, n)` gives rows [start, start + n) of its value (the first n entries of a buffer the
 * evaluator reuses: valid until its next call). The same IEEE operations as `evaluate` on those
 * columns; null when the expression is anything else (other types, nulls, comparisons, casts).
 */
export function compileFloat64(frame: Frame, e: ExprNode): ((start: number, n: number) => Float64Array) | null {
  switch (e.op) {
    case "col": {
      const d = nullFreeF64(frame, e.name);
      return d ? (start, n) => d.subarray(start, start + n) : null;
    }
    case "lit": {
      if (typeof e.value !== "number") return null;
      const v = e.value;
      let buf = new Float64Array(0);
      return (_start, n) => (buf.length >= n ? buf : (buf = new Float64Array(n).fill(v)));
    }
    case "neg":
    case "abs": {
      const a = compileFloat64(frame, e.a);
      if (!a) return null;
      let out = new Float64Array(0);
      const neg = e.op === "neg";
      return (start, n) => {
        const x = a(start, n);
        if (out.length < n) out = new Float64Array(n);
        if (neg) for (let i = 0; i < n; i++) out[i] = -x[i]!;
        else for (let i = 0; i < n; i++) out[i] = x[i]! < 0 ? -x[i]! : x[i]!;
        return out;
      };
    }
    case "add":
    case "sub":
    case "mul":
    case "div":
    case "pow": {
      const a = compileFloat64(frame, e.a);
      const b = compileFloat64(frame, e.b);
      if (!a || !b || (e.a.op === "lit" && e.b.op === "lit")) return null;
      const op = e.op;
      let out = new Float64Array(0);
      return (start, n) => {
        const x = a(start, n);
        const y = b(start, n);
        if (out.length < n) out = new Float64Array(n);
        switch (op) {
          case "add":
            for (let i = 0; i < n; i++) out[i] = x[i]! + y[i]!;
            break;
          case "sub":
            for (let i = 0; i < n; i++) out[i] = x[i]! - y[i]!;
            break;
          case "mul":
            for (let i = 0; i < n; i++) out[i] = x[i]! * y[i]!;
            break;
          case "div":
            for (let i = 0; i < n; i++) out[i] = x[i]! / y[i]!;
            break;
          case "pow":
            for (let i = 0; i < n; i++) out[i] = x[i]! ** y[i]!;
            break;
        }
        return out;
      };
    }
    default:
      return null;
  }
}

/**
 * A predicate over null-free float64 columns compiled to a block evaluator of its mask (1 where
 * it holds): comparisons of compileFloat64 expressions, and `and` / `or` / `not` of those (with
 * no nulls, Kleene logic is plain logic). Null for anything else. The buffer is reused.
 */
export function compileMask(frame: Frame, e: ExprNode): ((start: number, n: number) => Uint8Array) | null {
  let out = new Uint8Array(0);
  const buffer = (n: number) => (out.length >= n ? out : (out = new Uint8Array(n)));
  switch (e.op) {
    case "and":
    case "or": {
      const a = compileMask(frame, e.a);
      const b = compileMask(frame, e.b);
      if (!a || !b) return null;
      const and = e.op === "and";
      return (start, n) => {
        const x = a(start, n);
        const y = b(start, n);
        const o = buffer(n);
        if (and) for (let i = 0; i < n; i++) o[i] = x[i]! & y[i]!;
        else for (let i = 0; i < n; i++) o[i] = x[i]! | y[i]!;
        return o;
      };
    }
    case "not": {
      const a = compileMask(frame, e.a);
      if (!a) return null;
      return (start, n) => {
        const x = a(start, n);
        const o = buffer(n);
        for (let i = 0; i < n; i++) o[i] = 1 - x[i]!;
        return o;
      };
    }
    case "eq":
    case "ne":
    case "lt":
    case "le":
    case "gt":
    case "ge": {
      if (e.a.op === "lit" && e.b.op === "lit") return null;
      const op = e.op;
      // A literal side stays a scalar.
      if (e.b.op === "lit" || e.a.op === "lit") {
        const lit = (e.b.op === "lit" ? e.b : e.a) as { op: "lit"; value: Literal };
        if (typeof lit.value !== "number") return null;
        const a = compileFloat64(frame, e.b.op === "lit" ? e.a : e.b);
        if (!a) return null;
        const x = lit.value;
        const flipped = e.a.op === "lit" ? FLIP[op]! : op;
        return (start, n) => {
          const v = a(start, n);
          const o = buffer(n);
          compareScalarInto(flipped, v, x, n, o);
          return o;
        };
      }
      const a = compileFloat64(frame, e.a);
      const b = compileFloat64(frame, e.b);
      if (!a || !b) return null;
      return (start, n) => {
        const x = a(start, n);
        const y = b(start, n);
        const o = buffer(n);
        switch (op) {
          case "eq":
            for (let i = 0; i < n; i++) o[i] = +(x[i]! === y[i]!);
            break;
          case "ne":
            for (let i = 0; i < n; i++) o[i] = +(x[i]! !== y[i]!);
            break;
          case "lt":
            for (let i = 0; i < n; i++) o[i] = +(x[i]! < y[i]!);
            break;
          case "le":
            for (let i = 0; i < n; i++) o[i] = +(x[i]! <= y[i]!);
            break;
          case "gt":
            for (let i = 0; i < n; i++) o[i] = +(x[i]! > y[i]!);
            break;
          case "ge":
            for (let i = 0; i < n; i++) o[i] = +(x[i]! >= y[i]!);
            break;
        }
        return o;
      };
    }
    default:
      return null;
  }
}

function compareScalarInto(op: string, a: Float64Array, x: number, n: number, out: Uint8Array): void {
  switch (op) {
    case "eq":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! === x);
      break;
    case "ne":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! !== x);
      break;
    case "lt":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! < x);
      break;
    case "le":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! <= x);
      break;
    case "gt":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! > x);
      break;
    case "ge":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! >= x);
      break;
  }
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
    case "notnull": {
      // pandas' isna: nulls, and NaN in float columns.
      const a = evalNode(frame, e.a);
      const n = frame.length;
      const out = new Uint8Array(n);
      if (a.kind === "scalar") {
        const missing = a.value === null || (typeof a.value === "number" && Number.isNaN(a.value));
        out.fill(+(missing === (e.op === "isnull")));
        return col("bool", out);
      }
      const m = missingMask(a.col);
      if (!m) out.fill(e.op === "isnull" ? 0 : 1);
      else for (let i = 0; i < n; i++) out[i] = e.op === "isnull" ? m[i]! : 1 - m[i]!;
      return col("bool", out);
    }
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

function col(type: ColumnType, data: ColumnData, valid?: Uint8Array, extra: Partial<Column> = {}): Value {
  const c: Column = { type, data, ...extra };
  if (valid) c.valid = valid;
  return { kind: "column", col: c };
}

function broadcast(value: Literal, n: number): Column {
  if (value === null) return { type: "float64", data: new Float64Array(n), valid: new Uint8Array(n) };
  if (typeof value === "number") return { type: "float64", data: new Float64Array(n).fill(value) };
  if (typeof value === "boolean") return { type: "bool", data: new Uint8Array(n).fill(+value) };
  if (typeof value === "bigint") return { type: "int64", data: new BigInt64Array(n).fill(value) };
  return { type: "string", data: new Int32Array(n), dictionary: [value] };
}

function asColumn(v: Value, n: number): Column {
  return v.kind === "column" ? v.col : broadcast(v.value, n);
}

function andValid(a: Uint8Array | undefined, b: Uint8Array | undefined): Uint8Array | undefined {
  if (!a) return b;
  if (!b) return a;
  const out = new Uint8Array(a.length);
  for (let i = 0; i < out.length; i++) out[i] = a[i]! & b[i]!;
  return out;
}

const COMPARE = new Set(["eq", "ne", "lt", "le", "gt", "ge"]);

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
  const big = ca.type === "int64" && cb.type === "int64";
  if (big) return col("int64", bigArith(op, ca.data as BigInt64Array, cb.data as BigInt64Array, n, e), valid);
  const type = arithType(op, ca.type, cb.type);
  const out = allocColumnData(type, n) as Float64Array;
  const x = (ca.type === "int64" ? Float64Array.from(ca.data as BigInt64Array, Number) : ca.data) as Float64Array;
  const y = (cb.type === "int64" ? Float64Array.from(cb.data as BigInt64Array, Number) : cb.data) as Float64Array;
  switch (op) {
    case "add":
      for (let i = 0; i < n; i++) out[i] = x[i]! + y[i]!;
      break;
    case "sub":
      for (let i = 0; i < n; i++) out[i] = x[i]! - y[i]!;
      break;
    case "mul":
      if (type === "int32") for (let i = 0; i < n; i++) out[i] = Math.imul(x[i]!, y[i]!);
      else for (let i = 0; i < n; i++) out[i] = x[i]! * y[i]!;
      break;
    case "div":
      for (let i = 0; i < n; i++) out[i] = x[i]! / y[i]!;
      break;
    case "mod":
      // Python's modulo: the sign of the divisor.
      for (let i = 0; i < n; i++) {
        const r = x[i]! % y[i]!;
        out[i] = r !== 0 && r < 0 !== y[i]! < 0 ? r + y[i]! : r;
      }
      break;
    case "pow":
      for (let i = 0; i < n; i++) out[i] = x[i]! ** y[i]!;
      break;
    default:
      throw new TesseraError(`internal: unexpected operator ${op}`);
  }
  return col(type, out, valid);
}

function arithType(op: string, a: ColumnType, b: ColumnType): ColumnType {
  if (op === "div" || op === "pow") return "float64";
  if (a === "float32" && b === "float32") return "float32";
  if (FLOATS.has(a) || FLOATS.has(b) || a === "int64" || b === "int64") return "float64";
  if (a === "bool" && b === "bool") return "int32";
  return "int32";
}

/** A numeric column; a scalar takes its partner's type (a weak literal, as in numpy 2). */
function asNumericColumn(v: Value, n: number, partner: ColumnType | undefined, e: ExprNode): Column {
  if (v.kind === "column") {
    const t = v.col.type;
    if (t === "date32" || t === "timestamp" || isNumeric(t) || t === "int64" || t === "bool") {
      if (t === "timestamp") return { ...v.col, type: "int64" };
      if (t === "date32") return { ...v.col, type: "int32" };
      if (t === "bool") return { ...v.col, type: "uint8" };
      return v.col;
    }
    throw new TesseraError(`${show(e)}: a ${t} column cannot take part in arithmetic or ordering`);
  }
  const x = v.value;
  if (typeof x === "bigint") return partner === "int64" || partner === "timestamp" ? { type: "int64", data: new BigInt64Array(n).fill(x) } : { type: "float64", data: new Float64Array(n).fill(Number(x)) };
  if (typeof x === "boolean") return { type: "uint8", data: new Uint8Array(n).fill(+x) };
  if (typeof x !== "number") throw new TesseraError(`${show(e)}: cannot use ${JSON.stringify(x)} here`);
  if (partner === "int64" || partner === "timestamp") return Number.isInteger(x) ? { type: "int64", data: new BigInt64Array(n).fill(BigInt(x)) } : { type: "float64", data: new Float64Array(n).fill(x) };
  const t: ColumnType = partner === "float32" ? "float32" : Number.isInteger(x) && partner && partner !== "float64" ? "int32" : "float64";
  return { type: t, data: (allocColumnData(t, n) as Float64Array).fill(x) };
}

/** `lit op col` is `col FLIP[op] lit`. */
const FLIP: Record<string, string> = { eq: "eq", ne: "ne", lt: "gt", le: "ge", gt: "lt", ge: "le" };

/** col op scalar, for a column of numbers (any typed array but 64-bit integers). */
function compareScalar(op: string, a: Float64Array, x: number, n: number): Uint8Array {
  if (a instanceof Float64Array) return compareScalarF64(op, a, x, n);
  return compareScalarAny(op, a, x, n);
}

function compareScalarF64(op: string, a: Float64Array, x: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  switch (op) {
    case "eq":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! === x);
      break;
    case "ne":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! !== x);
      break;
    case "lt":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! < x);
      break;
    case "le":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! <= x);
      break;
    case "gt":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! > x);
      break;
    case "ge":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! >= x);
      break;
  }
  return out;
}

function compareScalarAny(op: string, a: Float64Array, x: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  switch (op) {
    case "eq":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! === x);
      break;
    case "ne":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! !== x);
      break;
    case "lt":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! < x);
      break;
    case "le":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! <= x);
      break;
    case "gt":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! > x);
      break;
    case "ge":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! >= x);
      break;
  }
  return out;
}

function compareNumeric(op: string, x: ColumnData, y: ColumnData, n: number): Uint8Array {
  const out = new Uint8Array(n);
  const a = x as Float64Array;
  const b = y as Float64Array;
  switch (op) {
    case "eq":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! === b[i]!);
      break;
    case "ne":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! !== b[i]!);
      break;
    case "lt":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! < b[i]!);
      break;
    case "le":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! <= b[i]!);
      break;
    case "gt":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! > b[i]!);
      break;
    case "ge":
      for (let i = 0; i < n; i++) out[i] = +(a[i]! >= b[i]!);
      break;
  }
  return out;
}

function bigArith(op: string, a: BigInt64Array, b: BigInt64Array, n: number, e: ExprNode): BigInt64Array {
  const out = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (op === "add") out[i] = x + y;
    else if (op === "sub") out[i] = x - y;
    else if (op === "mul") out[i] = x * y;
    else if (op === "mod") {
      if (y === 0n) throw new TesseraError(`${show(e)}: integer modulo by zero`);
      const r = x % y;
      out[i] = r !== 0n && r < 0n !== y < 0n ? r + y : r;
    } else throw new TesseraError(`internal: ${op} on int64`);
  }
  return out;
}

function cmp(op: string, x: string, y: string): boolean {
  switch (op) {
    case "eq":
      return x === y;
    case "ne":
      return x !== y;
    case "lt":
      return x < y;
    case "le":
      return x <= y;
    case "gt":
      return x > y;
    default:
      return x >= y;
  }
}

function compareStrings(op: string, a: Value, b: Value, n: number, e: ExprNode): Value {
  const strCol = (v: Value): Column => {
    if (v.kind === "scalar") {
      if (typeof v.value !== "string") throw new TesseraError(`${show(e)}: cannot compare a string with ${JSON.stringify(v.value)}`);
      return broadcast(v.value, n);
    }
    if (v.col.type !== "string") throw new TesseraError(`${show(e)}: cannot compare a string with a ${v.col.type} column`);
    return v.col;
  };
  const ca = strCol(a);
  const cb = strCol(b);
  const out = new Uint8Array(n);
  const codesA = ca.data as Int32Array;
  const codesB = cb.data as Int32Array;
  const da = ca.dictionary ?? [];
  const db = cb.dictionary ?? [];
  if (b.kind === "scalar" || a.kind === "scalar") {
    // Compare each dictionary entry once; rows look their code up.
    const [codes, dict, other, flip] = b.kind === "scalar" ? [codesA, da, db[0]!, false] : [codesB, db, da[0]!, true];
    const table = Uint8Array.from(dict, (s) => +(flip ? cmp(op, other, s) : cmp(op, s, other)));
    for (let i = 0; i < n; i++) out[i] = table[codes[i]!]!;
  } else {
    for (let i = 0; i < n; i++) out[i] = +cmp(op, da[codesA[i]!]!, db[codesB[i]!]!);
  }
  return col("bool", out, andValid(ca.valid, cb.valid));
}

function logic(op: "and" | "or", a: Column, b: Column, e: ExprNode): Value {
  if (a.type !== "bool" || b.type !== "bool") throw new TesseraError(`${show(e)}: & and | need bool operands, got ${a.type} and ${b.type}`);
  const x = a.data as Uint8Array;
  const y = b.data as Uint8Array;
  const n = x.length;
  const out = new Uint8Array(n);
  if (!a.valid && !b.valid) {
    if (op === "and") for (let i = 0; i < n; i++) out[i] = x[i]! & y[i]!;
    else for (let i = 0; i < n; i++) out[i] = x[i]! | y[i]!;
    return col("bool", out);
  }
  // Kleene logic: a known false decides `and`, a known true decides `or`.
  const valid = new Uint8Array(n);
  const va = a.valid;
  const vb = b.valid;
  for (let i = 0; i < n; i++) {
    const ka = va ? va[i]! : 1;
    const kb = vb ? vb[i]! : 1;
    if (op === "and") {
      const f = (ka && !x[i]) || (kb && !y[i]);
      out[i] = f ? 0 : x[i]! & y[i]!;
      valid[i] = f || (ka && kb) ? 1 : 0;
    } else {
      const t = (ka && x[i]) || (kb && y[i]);
      out[i] = t ? 1 : 0;
      valid[i] = t || (ka && kb) ? 1 : 0;
    }
  }
  return col("bool", out, valid);
}

function isin(frame: Frame, a: Value, values: readonly Literal[], e: ExprNode): Value {
  const c = asColumn(a, frame.length);
  const n = frame.length;
  const out = new Uint8Array(n);
  if (c.type === "string") {
    const wanted = new Set(values.filter((v): v is string => typeof v === "string"));
    const table = Uint8Array.from(c.dictionary ?? [], (s) => +wanted.has(s));
    const codes = c.data as Int32Array;
    for (let i = 0; i < n; i++) out[i] = table[codes[i]!]!;
  } else if (c.type === "int64" || c.type === "timestamp") {
    const wanted = new Set(values.map((v) => (typeof v === "bigint" ? v : typeof v === "number" && Number.isInteger(v) ? BigInt(v) : undefined)));
    const src = c.data as BigInt64Array;
    for (let i = 0; i < n; i++) out[i] = +wanted.has(src[i]!);
  } else if (isNumeric(c.type) || c.type === "bool" || c.type === "date32") {
    const wanted = new Set(values.map((v) => (typeof v === "boolean" ? +v : v)));
    const src = c.data as Float64Array;
    for (let i = 0; i < n; i++) out[i] = +wanted.has(src[i]!);
  } else throw new TesseraError(`${show(e)}: isin is not supported on a ${c.type} column`);
  // A null is never "in" a list (pandas and Arrow agree).
  if (c.valid) for (let i = 0; i < n; i++) out[i]! &= c.valid[i]!;
  return col("bool", out);
}

/** Convert a column's type; integer targets check that every value fits. */
export function castColumn(c: Column, to: ColumnType, where: string): Column {
  if (c.type === to) return c;
  const n = c.data.length;
  if (to === "string") {
    const strings = Array.from({ length: n }, (_, i) => (c.valid && !c.valid[i] ? null : String((c.data as unknown[])[i])));
    const dict: string[] = [];
    const index = new Map<string, number>();
    const codes = new Int32Array(n);
    strings.forEach((s, i) => {
      if (s === null) return;
      let k = index.get(s);
      if (k === undefined) index.set(s, (k = dict.push(s) - 1));
      codes[i] = k;
    });
    return c.valid ? { type: "string", data: codes, dictionary: dict, valid: c.valid } : { type: "string", data: codes, dictionary: dict };
  }
  if (c.type === "string" || c.type === "object" || to === "object" || to === "timestamp" || to === "date32") {
    throw new TesseraError(`${where}: cannot cast a ${c.type} column to ${to}`);
  }
  const out = allocColumnData(to, n);
  const src = c.data as ArrayLike<number | bigint>;
  if (to === "int64" || to === "uint64") {
    const o = out as BigInt64Array;
    for (let i = 0; i < n; i++) {
      const v = src[i]!;
      if (typeof v === "bigint") o[i] = v;
      else if (c.valid && !c.valid[i]) o[i] = 0n;
      else if (!Number.isFinite(v) || !Number.isInteger(v)) throw new TesseraError(`${where}: row ${i} holds ${v}, which is not an integer`);
      else o[i] = BigInt(v);
    }
  } else {
    const o = out as Float64Array;
    const [lo, hi] = RANGE[to] ?? [-Infinity, Infinity];
    const integer = to !== "float64" && to !== "float32";
    for (let i = 0; i < n; i++) {
      const v = Number(src[i]!);
      if (integer && !(c.valid && !c.valid[i]) && (!(v >= lo && v <= hi) || (!Number.isInteger(v) && to !== "bool"))) {
        throw new TesseraError(`${where}: row ${i} holds ${src[i]}, which does not fit ${to}${Number.isInteger(v) ? " (overflow)" : ""}`);
      }
      o[i] = to === "bool" ? +(v !== 0) : v;
    }
  }
  return c.valid ? { type: to, data: out, valid: c.valid } : { type: to, data: out };
}

const RANGE: Partial<Record<ColumnType, [number, number]>> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 2 ** 32 - 1],
  bool: [-Infinity, Infinity],
};

/** Replace missing values (nulls, and NaN in float columns: pandas' fillna) with a value. */
export function fillNull(c: Column, value: Literal, where: string): Column {
  const missing = missingMask(c);
  if (!missing || value === null) return c;
  const n = c.data.length;
  if (c.type === "string") {
    if (typeof value !== "string") throw new TesseraError(`${where}: fill a string column with a string, not ${JSON.stringify(value)}`);
    const dict = [...(c.dictionary ?? [])];
    let code = dict.indexOf(value);
    if (code < 0) code = dict.push(value) - 1;
    const codes = (c.data as Int32Array).slice();
    for (let i = 0; i < n; i++) if (missing[i]) codes[i] = code;
    return { type: "string", data: codes, dictionary: dict };
  }
  const data = (c.data as Float64Array).slice() as unknown as { [i: number]: unknown };
  const fill = c.type === "int64" || c.type === "timestamp" || c.type === "uint64" ? BigInt(value as number) : typeof value === "boolean" ? +value : value;
  if (typeof fill === "string") throw new TesseraError(`${where}: cannot fill a ${c.type} column with a string`);
  for (let i = 0; i < n; i++) if (missing[i]) data[i] = fill;
  const out: Column = { ...c, data: data as ColumnData };
  delete out.valid;
  return out;
}
