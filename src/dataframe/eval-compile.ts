/**
 * Block evaluators: an expression over null-free float64 columns compiled to a function of a
 * block of rows, so a filter or an assigned column is computed a block at a time into reused
 * buffers instead of allocating whole columns. The same IEEE operations as `evaluate`; anything
 * else compiles to null and takes the whole-column path.
 */

import { nullFreeF64, type Frame } from "./frame.js";
import type { ExprNode, Literal } from "./expr.js";
import { compareScalarInto, FLIP } from "./eval-compare.js";

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
