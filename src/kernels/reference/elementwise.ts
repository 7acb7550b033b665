/**
 * Reference evaluation of expressions: plain JS loops, one materialized array per node.
 *
 * It evaluates the same typed IR the compiler emits from (lower.ts), so the dtype rules are
 * shared and what is tested is the wasm side: the interpreter, every op loop, register
 * allocation, tiling. Arithmetic is JS double arithmetic rounded to the node's dtype (exact
 * for f32 add/sub/mul/div/sqrt, since a double holds the exact result well enough), integer ops
 * wrap like wasm's. Transcendentals use Math.*, which is not the musl code the wasm runs:
 * equal within a few ulps, not bit for bit.
 */

import { type Dtype, type TypedArray, allocTyped, castValue, powNumpy } from "../dtypes.js";
import type { Expr } from "../expr.js";
import { type Ir, lower } from "../lower.js";

export interface RefArray {
  data: TypedArray;
  dtype: Dtype;
}

/** Evaluate `expr` over n elements of the inputs. */
export function evalExpr(expr: Expr, inputs: readonly RefArray[], n: number): RefArray {
  const ir = lower(expr, inputs.map((a) => a.dtype));
  const memo = new Map<Ir, TypedArray>();
  return { data: evalIr(ir, inputs, n, memo), dtype: ir.dtype };
}

const f32 = Math.fround;

/** One scalar op at compute dtype t. */
export function scalarOp(op: string, t: Dtype, x: number, y = 0): number {
  const single = t === "float32";
  const int = !single && t !== "float64";
  const r = (v: number) => (single ? f32(v) : v);
  switch (op) {
    case "neg": return int ? -x | 0 : -x;
    case "abs": return int ? Math.abs(x) | 0 : Math.abs(x);
    case "sqrt": return r(Math.sqrt(x));
    case "exp": return r(Math.exp(x));
    case "log": return r(Math.log(x));
    case "sin": return r(Math.sin(x));
    case "cos": return r(Math.cos(x));
    case "tanh": return r(Math.tanh(x));
    case "sigmoid": return single ? f32(1 / f32(1 + f32(Math.exp(-x)))) : 1 / (1 + Math.exp(-x));
    case "add": return int ? (x + y) | 0 : r(x + y);
    case "sub": return int ? (x - y) | 0 : r(x - y);
    case "mul": return int ? Math.imul(x, y) : r(x * y);
    case "div": return r(x / y);
    case "pow": return r(powNumpy(x, y));
    case "maximum": return Number.isNaN(x) || Number.isNaN(y) ? NaN : Math.max(x, y);
    case "minimum": return Number.isNaN(x) || Number.isNaN(y) ? NaN : Math.min(x, y);
    case "eq": return +(x === y);
    case "ne": return +(x !== y);
    case "lt": return +(x < y);
    case "le": return +(x <= y);
    case "gt": return +(x > y);
    case "ge": return +(x >= y);
    case "and": return x & y;
    case "or": return x | y;
    case "xor": return x ^ y;
    case "not": return x ^ 1;
  }
  throw new Error(`reference: unknown op ${op}`);
}

function evalIr(node: Ir, inputs: readonly RefArray[], n: number, memo: Map<Ir, TypedArray>): TypedArray {
  const hit = memo.get(node);
  if (hit) return hit;
  const out = allocTyped(node.dtype, n);
  if (node.k === "input") {
    out.set(inputs[node.index]!.data.subarray(0, n));
  } else if (node.k === "const") {
    out.fill(node.value);
  } else if (node.k === "cast") {
    const a = evalIr(node.a, inputs, n, memo);
    for (let i = 0; i < n; i++) out[i] = castValue(a[i]!, node.a.dtype, node.dtype);
  } else if (node.op === "where") {
    const [c, a, b] = node.args.map((x) => evalIr(x, inputs, n, memo));
    for (let i = 0; i < n; i++) out[i] = c![i] ? a![i]! : b![i]!;
  } else {
    const [a, b] = node.args.map((x) => evalIr(x, inputs, n, memo));
    for (let i = 0; i < n; i++) out[i] = scalarOp(node.op, node.t, a![i]!, b ? b[i]! : 0);
  }
  memo.set(node, out);
  return out;
}
