/**
 * Arithmetic on numeric columns, one loop per operator. int32 op int32 stays int32 for + - * %
 * (wrapping, like numpy), floats widen to float64, `/` and `**` give float64; int64 stays int64
 * among int64s and goes to float64 with floats. Dates, timestamps and bools take part as the
 * integers they hold.
 */

import { TesseraError } from "../errors.js";
import { allocColumnData, isNumeric, type Column, type ColumnType } from "./frame.js";
import { show, type ExprNode } from "./expr.js";
import { col, type Value } from "./eval-value.js";

const FLOATS = new Set<ColumnType>(["float64", "float32"]);

/** `a op b` for numeric columns of the same length (nulls in `valid`, already combined). */
export function arithmetic(op: string, ca: Column, cb: Column, valid: Uint8Array | undefined, n: number, e: ExprNode): Value {
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
export function asNumericColumn(v: Value, n: number, partner: ColumnType | undefined, e: ExprNode): Column {
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
