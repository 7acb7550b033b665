/**
 * Elementwise expressions: what the array layer builds from a lazy chain of array methods, and
 * what compile() turns into one fused program per chunk.
 *
 * An Expr is a tree (or DAG: a node object used twice is computed once) over the inputs of one
 * kernel call (`input(i)` is the i-th chunk) and constants. A plain number given to a builder is
 * a weak scalar (numpy 2 / NEP 50: it takes the array operand's dtype); `constant(v, dtype)`
 * makes a typed one.
 *
 *   // ((x * 2 + 1) ** 2), then .sum() as compile(e, ["float64"], { reduce: "sum" })
 *   const e = pow(add(mul(input(0), 2), 1), 2);
 */

import type { Dtype } from "./dtypes.js";

export type UnaryOp = "neg" | "abs" | "sqrt" | "exp" | "log" | "sin" | "cos" | "tanh" | "sigmoid" | "not";
export type ArithOp = "add" | "sub" | "mul" | "div" | "pow" | "maximum" | "minimum";
export type CompareOp = "eq" | "ne" | "lt" | "le" | "gt" | "ge";
export type LogicalOp = "and" | "or" | "xor";
export type BinaryOp = ArithOp | CompareOp | LogicalOp;

export type Expr =
  | { op: "input"; index: number }
  | { op: "const"; value: number; dtype?: Dtype }
  | { op: UnaryOp; a: Expr }
  | { op: BinaryOp; a: Expr; b: Expr }
  | { op: "where"; cond: Expr; a: Expr; b: Expr }
  | { op: "clip"; a: Expr; lo: Expr; hi: Expr }
  | { op: "astype"; a: Expr; dtype: Dtype };

export const UNARY_OPS: readonly UnaryOp[] = ["neg", "abs", "sqrt", "exp", "log", "sin", "cos", "tanh", "sigmoid", "not"];
export const ARITH_OPS: readonly ArithOp[] = ["add", "sub", "mul", "div", "pow", "maximum", "minimum"];
export const COMPARE_OPS: readonly CompareOp[] = ["eq", "ne", "lt", "le", "gt", "ge"];
export const LOGICAL_OPS: readonly LogicalOp[] = ["and", "or", "xor"];

export type ExprLike = Expr | number;

export const toExpr = (x: ExprLike): Expr => (typeof x === "number" ? { op: "const", value: x } : x);

export const input = (index: number): Expr => ({ op: "input", index });
export const constant = (value: number, dtype?: Dtype): Expr => (dtype ? { op: "const", value, dtype } : { op: "const", value });
export const unary = (op: UnaryOp, a: ExprLike): Expr => ({ op, a: toExpr(a) });
export const binary = (op: BinaryOp, a: ExprLike, b: ExprLike): Expr => ({ op, a: toExpr(a), b: toExpr(b) });
export const where = (cond: ExprLike, a: ExprLike, b: ExprLike): Expr => ({ op: "where", cond: toExpr(cond), a: toExpr(a), b: toExpr(b) });
export const clip = (a: ExprLike, lo: ExprLike, hi: ExprLike): Expr => ({ op: "clip", a: toExpr(a), lo: toExpr(lo), hi: toExpr(hi) });
export const astype = (a: ExprLike, dtype: Dtype): Expr => ({ op: "astype", a: toExpr(a), dtype });

export const add = (a: ExprLike, b: ExprLike) => binary("add", a, b);
export const sub = (a: ExprLike, b: ExprLike) => binary("sub", a, b);
export const mul = (a: ExprLike, b: ExprLike) => binary("mul", a, b);
export const div = (a: ExprLike, b: ExprLike) => binary("div", a, b);
export const pow = (a: ExprLike, b: ExprLike) => binary("pow", a, b);
export const maximum = (a: ExprLike, b: ExprLike) => binary("maximum", a, b);
export const minimum = (a: ExprLike, b: ExprLike) => binary("minimum", a, b);

/** The operands of a node, in evaluation order. */
export function children(e: Expr): Expr[] {
  switch (e.op) {
    case "input":
    case "const":
      return [];
    case "where":
      return [e.cond, e.a, e.b];
    case "clip":
      return [e.a, e.lo, e.hi];
    case "astype":
      return [e.a];
    default:
      return "b" in e ? [e.a, e.b] : [e.a];
  }
}
