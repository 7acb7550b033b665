/**
 * Expr -> typed IR: applies the dtype rules and rewrites every op into what the interpreter
 * has, so the program emitter (compile.ts) only allocates registers.
 *
 *   - numpy promotion (dtypes.ts); JS numbers are weak scalars; constant subtrees are folded
 *   - arithmetic runs in f64, f32 or i32: narrower ints compute in i32 and are cast back, which
 *     wraps exactly like numpy's uint8/int16 overflow; uint32 arithmetic throws (needs int64)
 *   - integer true division and transcendentals compute in float64 (numpy does the same for
 *     division; for sqrt/exp/... of int8/int16 numpy would pick float16/float32)
 *   - x ** n for a constant integer n in [0, 16] (and -1, -2 for floats) becomes multiplies
 *     by square-and-multiply; other integer powers compute in float64 (numpy keeps int)
 *   - clip(x, lo, hi) is minimum(maximum(x, lo), hi); astype(bool) and logical operands are
 *     `x != 0`
 */

import { type Dtype, castValue, isFloat, promoteTypes, promoteWithScalar, itemSize, powNumpy } from "./dtypes.js";
import { type Expr, type UnaryOp, ARITH_OPS, COMPARE_OPS, LOGICAL_OPS, UNARY_OPS } from "./expr.js";
import { KernelError } from "./errors.js";

/** An interpreter-level op: what one instruction computes. */
export type IrOp = UnaryOp | "add" | "sub" | "mul" | "div" | "pow" | "maximum" | "minimum" | "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "and" | "or" | "xor" | "where";

export type Ir =
  | { k: "input"; index: number; dtype: Dtype }
  | { k: "const"; value: number; dtype: Dtype }
  | { k: "op"; op: IrOp; t: Dtype; args: Ir[]; dtype: Dtype }
  | { k: "cast"; a: Ir; dtype: Dtype };

/** A lowered value: typed IR, or a weak scalar not yet given a dtype. */
type Val = Ir | { k: "weak"; value: number };

const ARITH_T: Partial<Record<Dtype, Dtype>> = {
  float64: "float64", float32: "float32", int32: "int32",
  int16: "int32", int8: "int32", uint16: "int32", uint8: "int32", bool: "int32",
};

function arithType(t: Dtype, op: string): Dtype {
  const c = ARITH_T[t];
  if (!c) throw new KernelError(`${op} on ${t} is not supported (uint32 arithmetic needs int64); astype to int32 or float64 first`);
  return c;
}

const MAX_POW = 16;

/** Lower `expr` over inputs of the given dtypes. */
export function lower(expr: Expr, inputDtypes: readonly Dtype[]): Ir {
  const memo = new Map<Expr, Val>();
  const v = lowerVal(expr, inputDtypes, memo);
  return v.k === "weak" ? weakToIr(v.value) : v;
}

/** The dtype `expr` evaluates to. */
export function exprDtype(expr: Expr, inputDtypes: readonly Dtype[]): Dtype {
  return lower(expr, inputDtypes).dtype;
}

/** A weak scalar standing alone: int32 if integral and in range, else float64. */
function weakToIr(value: number): Ir {
  const dtype: Dtype = Number.isInteger(value) && value >= -2147483648 && value <= 2147483647 ? "int32" : "float64";
  return { k: "const", value, dtype };
}

const dtypeOfVal = (v: Val): Dtype | undefined => (v.k === "weak" ? undefined : v.dtype);

/** Give v the dtype t (casting IR, converting weak scalars). */
function as(v: Val, t: Dtype): Ir {
  if (v.k === "weak") return { k: "const", value: castValue(v.value, "float64", t), dtype: t };
  if (v.dtype === t) return v;
  if (v.k === "const") return { k: "const", value: castValue(v.value, v.dtype, t), dtype: t };
  if (t === "bool") return toBool(v);
  return { k: "cast", a: v, dtype: t };
}

function toBool(v: Val): Ir {
  if (v.k === "weak") return { k: "const", value: v.value !== 0 ? 1 : 0, dtype: "bool" };
  if (v.dtype === "bool") return v;
  if (v.k === "const") return { k: "const", value: v.value !== 0 ? 1 : 0, dtype: "bool" };
  return { k: "op", op: "ne", t: v.dtype, args: [v, { k: "const", value: 0, dtype: v.dtype }], dtype: "bool" };
}

/** Common dtype of operands, weak scalars taking the typed operands' dtype. */
function common(vals: Val[], forCompare = false): Dtype {
  let t: Dtype | undefined;
  for (const v of vals) {
    const d = dtypeOfVal(v);
    if (d) t = t ? promoteTypes(t, d) : d;
  }
  if (!t) throw new KernelError("internal: common() of weak scalars only");
  for (const v of vals) {
    if (v.k !== "weak") continue;
    try {
      t = promoteWithScalar(t, v.value);
    } catch (err) {
      // numpy 2 lets comparisons take any Python int; do them in float64.
      if (forCompare) t = "float64";
      else throw err;
    }
  }
  return t;
}

const op = (o: IrOp, t: Dtype, args: Ir[], dtype: Dtype): Ir => ({ k: "op", op: o, t, args, dtype });

function foldUnary(o: UnaryOp, x: number): number {
  switch (o) {
    case "neg": return -x;
    case "abs": return Math.abs(x);
    case "sqrt": return Math.sqrt(x);
    case "exp": return Math.exp(x);
    case "log": return Math.log(x);
    case "sin": return Math.sin(x);
    case "cos": return Math.cos(x);
    case "tanh": return Math.tanh(x);
    case "sigmoid": return 1 / (1 + Math.exp(-x));
    case "not": return x === 0 ? 1 : 0;
  }
}

function foldBinary(o: string, x: number, y: number): number {
  switch (o) {
    case "add": return x + y;
    case "sub": return x - y;
    case "mul": return x * y;
    case "div": return x / y;
    case "pow": return powNumpy(x, y);
    case "maximum": return Number.isNaN(x) || Number.isNaN(y) ? NaN : Math.max(x, y);
    case "minimum": return Number.isNaN(x) || Number.isNaN(y) ? NaN : Math.min(x, y);
    case "eq": return +(x === y);
    case "ne": return +(x !== y);
    case "lt": return +(x < y);
    case "le": return +(x <= y);
    case "gt": return +(x > y);
    case "ge": return +(x >= y);
    case "and": return +(x !== 0 && y !== 0);
    case "or": return +(x !== 0 || y !== 0);
    case "xor": return +((x !== 0) !== (y !== 0));
  }
  throw new KernelError(`internal: cannot fold ${o}`);
}

/** x ** n by square-and-multiply in dtype c (the reference evaluator mirrors this order). */
function powByMultiplies(x: Ir, n: number, c: Dtype): Ir {
  let result: Ir | undefined;
  let base = x;
  for (let m = n; m > 0; m >>= 1) {
    if (m & 1) result = result ? op("mul", c, [result, base], c) : base;
    if (m > 1) base = op("mul", c, [base, base], c);
  }
  return result!;
}

function lowerPow(a: Val, b: Val, t: Dtype): Ir {
  const n = b.k === "weak" || b.k === "const" ? b.value : undefined;
  const small = n !== undefined && Number.isInteger(n) && n <= MAX_POW && n >= (isFloat(t) ? -2 : 0);
  if (!small && n !== undefined && !isFloat(t) && Number.isInteger(n) && n < 0) {
    throw new KernelError(`integers to negative integer powers are not allowed (as in numpy); astype to float64 first`);
  }
  if (small) {
    const c = arithType(t, "pow");
    const x = as(a, c);
    const m = Math.abs(n!);
    let r = m === 0 ? ({ k: "const", value: 1, dtype: c } as Ir) : powByMultiplies(x, m, c);
    if (n! < 0) r = op("div", c, [{ k: "const", value: 1, dtype: c }, r], c);
    return as(r, t);
  }
  const f = isFloat(t) ? t : "float64";
  return op("pow", f, [as(a, f), as(b, f)], f);
}

function lowerVal(e: Expr, dtypes: readonly Dtype[], memo: Map<Expr, Val>): Val {
  const hit = memo.get(e);
  if (hit) return hit;
  const v = lowerNode(e, dtypes, memo);
  memo.set(e, v);
  return v;
}

function lowerNode(e: Expr, dtypes: readonly Dtype[], memo: Map<Expr, Val>): Val {
  const rec = (x: Expr) => lowerVal(x, dtypes, memo);
  switch (e.op) {
    case "input": {
      if (!Number.isInteger(e.index) || e.index < 0 || e.index >= dtypes.length) {
        throw new KernelError(`expression reads input ${e.index} but ${dtypes.length} input dtype(s) were given`);
      }
      return { k: "input", index: e.index, dtype: dtypes[e.index]! };
    }
    case "const":
      if (typeof e.value !== "number") throw new KernelError(`constant must be a number, got ${typeof e.value}`);
      return e.dtype ? { k: "const", value: castValue(e.value, "float64", e.dtype), dtype: e.dtype } : { k: "weak", value: e.value };
    case "astype": {
      const a = rec(e.a);
      return a.k === "weak" ? as(weakToIr(a.value), e.dtype) : as(a, e.dtype);
    }
    case "where": {
      const c = rec(e.cond), a = rec(e.a), b = rec(e.b);
      if (a.k === "weak" && b.k === "weak") {
        const t = common([weakToIr(a.value), weakToIr(b.value)]);
        return op("where", t, [toBool(c), as(a, t), as(b, t)], t);
      }
      const t = common([a, b]);
      return op("where", t, [toBool(c), as(a, t), as(b, t)], t);
    }
    case "clip": {
      const a = rec(e.a), lo = rec(e.lo), hi = rec(e.hi);
      if (a.k === "weak") throw new KernelError("clip of a scalar: pass an array expression");
      const t = common([a, lo, hi]);
      const c = arithType(t, "clip");
      const r = op("minimum", c, [op("maximum", c, [as(a, c), as(lo, c)], c), as(hi, c)], c);
      return as(r, t);
    }
  }
  if ((UNARY_OPS as readonly string[]).includes(e.op)) {
    const u = e as { op: UnaryOp; a: Expr };
    const a = rec(u.a);
    if (a.k === "weak") return { k: "weak", value: foldUnary(u.op, a.value) };
    if (u.op === "not") return op("not", "bool", [toBool(a)], "bool");
    const t = a.dtype;
    if (u.op === "neg" || u.op === "abs") {
      if (t === "bool") throw new KernelError(`${u.op} of a bool array is not supported; astype to int32 first`);
      const c = arithType(t, u.op);
      return as(op(u.op, c, [as(a, c)], c), t);
    }
    const f = isFloat(t) ? t : "float64";
    return op(u.op, f, [as(a, f)], f);
  }
  const bin = e as { op: string; a: Expr; b: Expr };
  if (!("b" in e)) throw new KernelError(`unknown expression op ${JSON.stringify(e.op)}`);
  const a = rec(bin.a), b = rec(bin.b);
  if (a.k === "weak" && b.k === "weak") return { k: "weak", value: foldBinary(bin.op, a.value, b.value) };
  if ((LOGICAL_OPS as readonly string[]).includes(bin.op)) {
    return op(bin.op as IrOp, "bool", [toBool(a), toBool(b)], "bool");
  }
  if ((COMPARE_OPS as readonly string[]).includes(bin.op)) {
    const t = common([a, b], true);
    return op(bin.op as IrOp, t, [as(a, t), as(b, t)], "bool");
  }
  if (!(ARITH_OPS as readonly string[]).includes(bin.op)) throw new KernelError(`unknown expression op ${JSON.stringify(bin.op)}`);
  const t = common([a, b]);
  if (bin.op === "div") {
    const f = isFloat(t) ? t : "float64";
    return op("div", f, [as(a, f), as(b, f)], f);
  }
  if (bin.op === "pow") return lowerPow(a, b, t);
  if (t === "bool" && bin.op !== "maximum" && bin.op !== "minimum") {
    throw new KernelError(`${bin.op} of two bool arrays is not supported; use and/or/xor, or astype to int32 first`);
  }
  const c = arithType(t, bin.op);
  return as(op(bin.op as IrOp, c, [as(a, c), as(b, c)], c), t);
}

/** Bytes per element of a node's result (for in-place register reuse). */
export const irWidth = (n: Ir): number => itemSize(n.dtype);
