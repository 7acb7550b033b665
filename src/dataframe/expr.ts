/**
 * Column expressions: `col("delay").gt(0).and(col("origin").eq("SFO"))`. An expression is a
 * small tree of plain data (it travels inside task arguments) built by the ColExpr wrapper, and
 * is evaluated on a worker against one partition (eval.ts).
 *
 *   col(name) | lit(value)                          leaves
 *   add sub mul div mod pow neg abs                 arithmetic (numbers; nulls propagate)
 *   eq ne lt le gt ge                               comparisons (numbers, strings, dates)
 *   and or not                                      logic on booleans (Kleene: null & false = false)
 *   isin(values) isNull() notNull()                 membership and null tests
 *   cast(type) fillNull(value)                      conversions
 */

import { TesseraError } from "../errors.js";
import type { ColumnType } from "./frame.js";

export type Literal = number | string | boolean | bigint | null;

export type BinaryOp = "add" | "sub" | "mul" | "div" | "mod" | "pow" | "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "and" | "or";
export type UnaryOp = "neg" | "abs" | "not" | "isnull" | "notnull";

export type ExprNode =
  | { op: "col"; name: string }
  | { op: "lit"; value: Literal }
  | { op: BinaryOp; a: ExprNode; b: ExprNode }
  | { op: UnaryOp; a: ExprNode }
  | { op: "isin"; a: ExprNode; values: Literal[] }
  | { op: "cast"; a: ExprNode; type: ColumnType }
  | { op: "fillnull"; a: ExprNode; value: Literal };

export type ExprLike = ColExpr | Literal;

function node(x: ExprLike): ExprNode {
  if (x instanceof ColExpr) return x.node;
  if (x === undefined) throw new TesseraError("expression operand is undefined");
  if (typeof x === "object" && x !== null) throw new TesseraError(`expression operand must be a column expression or a literal, got ${JSON.stringify(x)}`);
  return { op: "lit", value: x };
}

/** A column expression. Methods build new expressions; nothing is evaluated here. */
export class ColExpr {
  constructor(readonly node: ExprNode) {}

  add(y: ExprLike): ColExpr {
    return this.bin("add", y);
  }
  sub(y: ExprLike): ColExpr {
    return this.bin("sub", y);
  }
  mul(y: ExprLike): ColExpr {
    return this.bin("mul", y);
  }
  div(y: ExprLike): ColExpr {
    return this.bin("div", y);
  }
  mod(y: ExprLike): ColExpr {
    return this.bin("mod", y);
  }
  pow(y: ExprLike): ColExpr {
    return this.bin("pow", y);
  }
  eq(y: ExprLike): ColExpr {
    return this.bin("eq", y);
  }
  ne(y: ExprLike): ColExpr {
    return this.bin("ne", y);
  }
  lt(y: ExprLike): ColExpr {
    return this.bin("lt", y);
  }
  le(y: ExprLike): ColExpr {
    return this.bin("le", y);
  }
  gt(y: ExprLike): ColExpr {
    return this.bin("gt", y);
  }
  ge(y: ExprLike): ColExpr {
    return this.bin("ge", y);
  }
  and(y: ExprLike): ColExpr {
    return this.bin("and", y);
  }
  or(y: ExprLike): ColExpr {
    return this.bin("or", y);
  }
  neg(): ColExpr {
    return new ColExpr({ op: "neg", a: this.node });
  }
  abs(): ColExpr {
    return new ColExpr({ op: "abs", a: this.node });
  }
  not(): ColExpr {
    return new ColExpr({ op: "not", a: this.node });
  }
  isNull(): ColExpr {
    return new ColExpr({ op: "isnull", a: this.node });
  }
  notNull(): ColExpr {
    return new ColExpr({ op: "notnull", a: this.node });
  }
  isin(values: readonly Literal[]): ColExpr {
    if (!Array.isArray(values)) throw new TesseraError("isin: expected an array of values");
    return new ColExpr({ op: "isin", a: this.node, values: [...values] });
  }
  cast(type: ColumnType): ColExpr {
    return new ColExpr({ op: "cast", a: this.node, type });
  }
  fillNull(value: Literal): ColExpr {
    return new ColExpr({ op: "fillnull", a: this.node, value });
  }

  private bin(op: BinaryOp, y: ExprLike): ColExpr {
    return new ColExpr({ op, a: this.node, b: node(y) });
  }

  toString(): string {
    return show(this.node);
  }
}

export function col(name: string): ColExpr {
  if (typeof name !== "string" || name.length === 0) throw new TesseraError(`col(): expected a column name, got ${JSON.stringify(name)}`);
  return new ColExpr({ op: "col", name });
}

export function lit(value: Literal): ColExpr {
  return new ColExpr(node(value));
}

export function toNode(x: ExprLike): ExprNode {
  return node(x);
}

/** Column names an expression reads. */
export function columnsOf(e: ExprNode, out = new Set<string>()): Set<string> {
  switch (e.op) {
    case "col":
      out.add(e.name);
      break;
    case "lit":
      break;
    default:
      columnsOf(e.a, out);
      if ("b" in e) columnsOf(e.b, out);
  }
  return out;
}

const SYMBOL: Partial<Record<BinaryOp, string>> = { add: "+", sub: "-", mul: "*", div: "/", mod: "%", pow: "**", eq: "==", ne: "!=", lt: "<", le: "<=", gt: ">", ge: ">=", and: "&", or: "|" };

/** Readable form, for error messages and reprs: `(col("a") > 0) & col("b").isNull()`. */
export function show(e: ExprNode): string {
  switch (e.op) {
    case "col":
      return `col(${JSON.stringify(e.name)})`;
    case "lit":
      return typeof e.value === "bigint" ? `${e.value}n` : JSON.stringify(e.value);
    case "isin":
      return `${show(e.a)}.isin(${JSON.stringify(e.values.map((v) => (typeof v === "bigint" ? String(v) : v)))})`;
    case "cast":
      return `${show(e.a)}.cast(${e.type})`;
    case "fillnull":
      return `${show(e.a)}.fillNull(${JSON.stringify(e.value)})`;
    case "isnull":
      return `${show(e.a)}.isNull()`;
    case "notnull":
      return `${show(e.a)}.notNull()`;
    case "neg":
      return `-${show(e.a)}`;
    case "abs":
      return `${show(e.a)}.abs()`;
    case "not":
      return `~${show(e.a)}`;
    default:
      return `(${show(e.a)} ${SYMBOL[e.op]} ${show(e.b)})`;
  }
}
