// The reference of the reference tests: numpy's rules in plain JS, for elementwise expressions
// and reductions.
//
// The reference is written from numpy's rules plus the deviations the kernel layer documents
// (src/kernels/dtypes.ts, lower.ts): no int64 (integer sums, argmin and int ** array give float64),
// narrow ints compute in int32 and wrap, float -> int casts truncate and saturate to the int32
// range (NaN -> 0) before wrapping, bool +,-,* and neg/abs of bool throw, and a weak (plain number)
// scalar that does not fit an integer array throws, except in comparisons (then float64). It does
// not call the kernels' own reference (src/kernels/reference), so the dtype rules are tested too.
//
// One expression tree (Node) drives both the chunked array (build) and the reference (evalRef).
import { array as da } from "../../dist/index.js";
import {
  hex, isFloat, prod, broadcast, type ChunkedArray, type D, type NDArray, type Ref
} from "./reference-helpers.js";


// ---- the reference semantics ------------------------------------------------------------

export class RefError extends Error {}

function promote(a: D, b: D): D {
  if (a === b) return a;
  if (a === "bool") return b;
  if (b === "bool") return a;
  if (a === "float64" || b === "float64") return "float64";
  if (a === "float32" || b === "float32") return (a === "float32" ? b : a) === "uint8" ? "float32" : "float64";
  return "int32"; // int32 with uint8
}

/** numpy 2 (NEP 50): a Python scalar takes the array's dtype if it fits; fractions make floats. */
function promoteScalar(t: D, v: number, compare: boolean): D {
  if (isFloat(t)) return t;
  if (!Number.isFinite(v) || !Number.isInteger(v)) return "float64";
  if (t === "bool") return "int32";
  const [lo, hi] = t === "int32" ? [-(2 ** 31), 2 ** 31 - 1] : [0, 255];
  if (v >= lo && v <= hi) return t;
  if (compare) return "float64";
  throw new RefError(`scalar ${v} does not fit ${t}`);
}

export function cast(v: number, from: D, to: D): number {
  if (to === "float64") return v;
  if (to === "float32") return Math.fround(v);
  if (to === "bool") return v !== 0 ? 1 : 0; // NaN is truthy, as in numpy
  let i = v;
  if (isFloat(from)) i = Number.isNaN(v) ? 0 : Math.min(Math.max(Math.trunc(v), -(2 ** 31)), 2 ** 31 - 1);
  return to === "int32" ? i | 0 : i & 0xff;
}

/** Where arithmetic happens: floats in their own type, integers and bools in int32 (wrapping). */
const arithType = (t: D): D => (isFloat(t) ? t : "int32");

const nanMax = (x: number, y: number): number => (Number.isNaN(x) || Number.isNaN(y) ? NaN : Math.max(x, y));
const nanMin = (x: number, y: number): number => (Number.isNaN(x) || Number.isNaN(y) ? NaN : Math.min(x, y));

function arith(op: string, c: D, x: number, y: number): number {
  if (c === "int32") {
    switch (op) {
      case "add": return (x + y) | 0;
      case "sub": return (x - y) | 0;
      case "mul": return Math.imul(x, y);
      case "maximum": return Math.max(x, y);
      case "minimum": return Math.min(x, y);
    }
  }
  const r = c === "float32" ? Math.fround : (v: number) => v;
  switch (op) {
    case "add": return r(x + y);
    case "sub": return r(x - y);
    case "mul": return r(x * y);
    case "div": return r(x / y);
    case "maximum": return nanMax(x, y);
    case "minimum": return nanMin(x, y);
  }
  throw new Error(`test bug: arith ${op} in ${c}`);
}

/**
 * numpy's pow is C's: 1 ** anything and anything ** 0 are 1, (-1) ** ±inf is 1, where JS's
 * Math.pow gives NaN for 1 ** NaN and (±1) ** ±inf.
 */
function cpow(x: number, y: number): number {
  if (y === 0 || x === 1) return 1;
  if (x === -1 && (y === Infinity || y === -Infinity)) return 1;
  return Math.pow(x, y);
}

const MATH: Record<string, (x: number) => number> = {
  sqrt: Math.sqrt,
  exp: Math.exp,
  log: Math.log,
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
};

const TRANSCENDENTAL = new Set(["exp", "log", "sin", "cos", "tanh", "sigmoid", "pow"]);

// ---- expressions: one tree drives both the chunked array and the reference ---------------

export type BinOp = "add" | "sub" | "mul" | "div" | "pow" | "maximum" | "minimum" | "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "and" | "or" | "xor";
type UnOp = "neg" | "abs" | "sqrt" | "exp" | "log" | "sin" | "cos" | "tanh" | "sigmoid" | "not";
export const BIN_OPS: readonly BinOp[] = ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge", "and", "or", "xor"];
export const UN_OPS: readonly UnOp[] = ["neg", "abs", "sqrt", "exp", "log", "sin", "cos", "tanh", "sigmoid", "not"];
const COMPARE = new Set<string>(["eq", "ne", "lt", "le", "gt", "ge"]);
const LOGICAL = new Set<string>(["and", "or", "xor"]);

export type Node =
  | { k: "in"; i: number }
  | { k: "bin"; op: BinOp; a: Arg; b: Arg }
  | { k: "un"; op: UnOp; a: Node }
  | { k: "clip"; a: Node; lo: Arg; hi: Arg }
  | { k: "where"; c: Node; a: Arg; b: Arg }
  | { k: "astype"; a: Node; d: D };
type Arg = Node | number;

const INPUT_NAMES = ["x", "y", "z", "w", "m"];

export function show(e: Arg): string {
  if (typeof e === "number") return Object.is(e, -0) ? "-0" : String(e);
  switch (e.k) {
    case "in": return INPUT_NAMES[e.i]!;
    case "bin": return `${e.op}(${show(e.a)}, ${show(e.b)})`;
    case "un": return `${e.op}(${show(e.a)})`;
    case "clip": return `clip(${show(e.a)}, ${show(e.lo)}, ${show(e.hi)})`;
    case "where": return `where(${show(e.c)}, ${show(e.a)}, ${show(e.b)})`;
    case "astype": return `astype(${show(e.a)}, ${e.d})`;
  }
}

/** Uses a transcendental (compared within MAX_ULPS, and only at the root of a tree). */
export function approx(e: Arg): boolean {
  if (typeof e === "number" || e.k === "in") return false;
  if ((e.k === "bin" || e.k === "un") && TRANSCENDENTAL.has(e.op)) return true;
  const kids = e.k === "bin" ? [e.a, e.b] : e.k === "clip" ? [e.a, e.lo, e.hi] : e.k === "where" ? [e.c, e.a, e.b] : [e.a];
  return kids.some(approx);
}

/** The numpy-style function for `scalar op array` (only some ops have one). */
export const SCALAR_FIRST: Partial<Record<BinOp, (x: number, y: ChunkedArray) => ChunkedArray>> = {
  add: da.add,
  sub: da.subtract,
  mul: da.multiply,
  div: da.divide,
  pow: da.power,
  maximum: da.maximum,
  minimum: da.minimum,
  eq: da.equal,
  lt: da.less,
  gt: da.greater,
};

export function build(e: Arg, ins: readonly ChunkedArray[]): ChunkedArray | number {
  if (typeof e === "number") return e;
  const arr = (x: Arg): ChunkedArray => build(x, ins) as ChunkedArray;
  switch (e.k) {
    case "in":
      return ins[e.i]!;
    case "bin":
      if (typeof e.a === "number") return SCALAR_FIRST[e.op]!(e.a, arr(e.b));
      return arr(e.a)[e.op](build(e.b, ins));
    case "un":
      return arr(e.a)[e.op]();
    case "clip":
      return arr(e.a).clip(build(e.lo, ins), build(e.hi, ins));
    case "where":
      return da.where(arr(e.c), build(e.a, ins), build(e.b, ins));
    case "astype":
      return arr(e.a).astype(e.d);
  }
}

type Val = Ref | { weak: number };
const isWeak = (v: Val): v is { weak: number } => "weak" in v;

/** A value broadcast to `shape`, flat row-major. */
function expand(v: Val, shape: readonly number[]): Float64Array {
  const n = prod(shape);
  if (isWeak(v)) return new Float64Array(n).fill(v.weak);
  if (v.shape.length === shape.length && v.shape.every((d, a) => d === shape[a])) return v.data;
  const nd = shape.length;
  const src = [...new Array<number>(nd - v.shape.length).fill(1), ...v.shape];
  const strides = new Array<number>(nd);
  for (let a = nd - 1, s = 1; a >= 0; a--) {
    strides[a] = src[a] === 1 ? 0 : s;
    s *= src[a]!;
  }
  const out = new Float64Array(n);
  const idx = new Array<number>(nd).fill(0);
  for (let i = 0; i < n; i++) {
    let at = 0;
    for (let a = 0; a < nd; a++) at += idx[a]! * strides[a]!;
    out[i] = v.data[at]!;
    for (let a = nd - 1; a >= 0; a--) {
      if (++idx[a]! < shape[a]!) break;
      idx[a] = 0;
    }
  }
  return out;
}

const shapeOf = (vals: readonly Val[]): number[] =>
  vals.reduce<number[]>((s, v) => (isWeak(v) ? s : broadcast(s, v.shape)), []);

/** The common dtype of operands (typed ones promote; weak scalars then adjust it). */
function common(vals: readonly Val[], compare = false): D {
  let t: D | undefined;
  for (const v of vals) if (!isWeak(v)) t = t ? promote(t, v.dtype) : v.dtype;
  if (!t) throw new Error("test bug: only scalars");
  for (const v of vals) if (isWeak(v)) t = promoteScalar(t, v.weak, compare);
  return t;
}

/** Operand values broadcast to shape and cast to dtype t. */
function operand(v: Val, shape: readonly number[], t: D): Float64Array {
  const from: D = isWeak(v) ? "float64" : v.dtype;
  return expand(v, shape).map((x) => cast(x, from, t));
}

export function evalRef(e: Arg, ins: readonly Ref[]): Val {
  if (typeof e === "number") return { weak: e };
  switch (e.k) {
    case "in":
      return ins[e.i]!;
    case "astype": {
      const a = evalRef(e.a, ins) as Ref;
      return { dtype: e.d, shape: a.shape, data: a.data.map((x) => cast(x, a.dtype, e.d)) };
    }
    case "where": {
      const c = evalRef(e.c, ins), a = evalRef(e.a, ins), b = evalRef(e.b, ins);
      const shape = shapeOf([c, a, b]);
      const t = common([a, b]);
      const cv = operand(c, shape, "bool"), av = operand(a, shape, t), bv = operand(b, shape, t);
      return { dtype: t, shape, data: cv.map((x, i) => (x ? av[i]! : bv[i]!)) };
    }
    case "clip": {
      const a = evalRef(e.a, ins), lo = evalRef(e.lo, ins), hi = evalRef(e.hi, ins);
      const shape = shapeOf([a, lo, hi]);
      const t = common([a, lo, hi]);
      const c = arithType(t);
      const av = operand(a, shape, c), lv = operand(lo, shape, c), hv = operand(hi, shape, c);
      return { dtype: t, shape, data: av.map((x, i) => cast(nanMin(nanMax(x, lv[i]!), hv[i]!), c, t)) };
    }
    case "un": {
      const a = evalRef(e.a, ins) as Ref;
      const t = a.dtype;
      if (e.op === "not") return { dtype: "bool", shape: a.shape, data: a.data.map((x) => (x !== 0 ? 0 : 1)) };
      if (e.op === "neg" || e.op === "abs") {
        if (t === "bool") throw new RefError(`${e.op} of bool`);
        const c = arithType(t);
        const f = e.op === "neg" ? (x: number) => -x : Math.abs;
        return { dtype: t, shape: a.shape, data: a.data.map((x) => cast(c === "int32" ? f(x) | 0 : f(x), c, t)) };
      }
      const ft: D = isFloat(t) ? t : "float64";
      return { dtype: ft, shape: a.shape, data: a.data.map((x) => cast(MATH[e.op]!(x), "float64", ft)) };
    }
    case "bin":
      return evalBin(e.op, evalRef(e.a, ins), evalRef(e.b, ins));
  }
}

export function evalBin(op: BinOp, a: Val, b: Val): Ref {
  const shape = shapeOf([a, b]);
  if (LOGICAL.has(op)) {
    const x = operand(a, shape, "bool"), y = operand(b, shape, "bool");
    const f = op === "and" ? (p: number, q: number) => p & q : op === "or" ? (p: number, q: number) => p | q : (p: number, q: number) => p ^ q;
    return { dtype: "bool", shape, data: x.map((p, i) => f(p, y[i]!)) };
  }
  if (COMPARE.has(op)) {
    const t = common([a, b], true);
    const x = operand(a, shape, t), y = operand(b, shape, t);
    const f: Record<string, (p: number, q: number) => boolean> = {
      eq: (p, q) => p === q,
      ne: (p, q) => p !== q,
      lt: (p, q) => p < q,
      le: (p, q) => p <= q,
      gt: (p, q) => p > q,
      ge: (p, q) => p >= q,
    };
    return { dtype: "bool", shape, data: x.map((p, i) => +f[op]!(p, y[i]!)) };
  }
  const t = common([a, b]);
  if (op === "div") {
    const f: D = isFloat(t) ? t : "float64";
    const x = operand(a, shape, f), y = operand(b, shape, f);
    return { dtype: f, shape, data: x.map((p, i) => arith("div", f, p, y[i]!)) };
  }
  if (op === "pow") {
    const n = isWeak(b) ? b.weak : undefined;
    const small = n !== undefined && Number.isInteger(n) && n <= 16 && n >= (isFloat(t) ? -2 : 0);
    if (n !== undefined && !small && !isFloat(t) && Number.isInteger(n) && n < 0) throw new RefError("integer to a negative power");
    if (small && !isFloat(t)) {
      // Integer powers stay integer (wrapping): x * x * ... in int32, cast back.
      const x = operand(a, shape, "int32");
      return {
        dtype: t,
        shape,
        data: x.map((p) => {
          let r = 1;
          for (let j = 0; j < n; j++) r = Math.imul(r, p);
          return cast(r, "int32", t);
        }),
      };
    }
    const f: D = isFloat(t) ? t : "float64";
    const x = operand(a, shape, f), y = operand(b, shape, f);
    return { dtype: f, shape, data: x.map((p, i) => cast(cpow(p, y[i]!), "float64", f)) };
  }
  if (t === "bool" && op !== "maximum" && op !== "minimum") throw new RefError(`${op} of bools`);
  const c = arithType(t);
  const x = operand(a, shape, c), y = operand(b, shape, c);
  return { dtype: t, shape, data: x.map((p, i) => cast(arith(op, c, p, y[i]!), c, t)) };
}


// ---- reductions -----------------------------------------------------------------------------

export type RedOp = "sum" | "prod" | "min" | "max" | "argmin" | "argmax" | "mean" | "var" | "std" | "any" | "all";
export const RED_OPS: readonly RedOp[] = ["sum", "prod", "min", "max", "argmin", "argmax", "mean", "var", "std", "any", "all"];

function reduceDtype(op: RedOp, d: D): D {
  if (op === "min" || op === "max") return d;
  if (op === "any" || op === "all") return "bool";
  if (op === "argmin" || op === "argmax") return "float64";
  return d === "float32" ? "float32" : "float64";
}

/** One reduction of a line of values, and the scale its rounding error is measured against. */
function reduceLine(op: RedOp, xs: readonly number[], ddof: number): { value: number; scale: number } {
  const n = xs.length;
  let s = 0, comp = 0, abs = 0;
  for (const x of xs) {
    const t = s + x;
    comp += Math.abs(s) >= Math.abs(x) ? s - t + x : x - t + s;
    s = t;
    abs += Math.abs(x);
  }
  // The compensation is inf - inf once the running sum overflows or meets an infinity.
  const sum = Number.isFinite(s) ? s + comp : s;
  switch (op) {
    case "sum":
      return { value: sum, scale: abs };
    case "mean":
      return { value: sum / n, scale: abs / n };
    case "prod": {
      const p = xs.reduce((a, b) => a * b, 1);
      return { value: p, scale: Math.abs(p) };
    }
    case "min":
    case "max":
    case "argmin":
    case "argmax": {
      const nan = xs.findIndex(Number.isNaN);
      const isMax = op === "max" || op === "argmax";
      let at = 0;
      for (let i = 1; i < n; i++) if (isMax ? xs[i]! > xs[at]! : xs[i]! < xs[at]!) at = i;
      if (nan >= 0) at = nan;
      return { value: op.startsWith("arg") ? at : xs[at]!, scale: 0 };
    }
    case "var":
    case "std": {
      const mean = sum / n;
      const m2 = xs.reduce((a, x) => a + (x - mean) ** 2, 0);
      const sq = xs.reduce((a, x) => a + x * x, 0);
      const v = n - ddof <= 0 ? NaN : m2 / (n - ddof);
      // std is checked through its square against the variance's tolerance.
      return { value: op === "std" ? Math.sqrt(v) : v, scale: n - ddof <= 0 ? 0 : sq / (n - ddof) };
    }
    case "any":
      return { value: xs.some((x) => x !== 0) ? 1 : 0, scale: 0 };
    case "all":
      return { value: xs.every((x) => x !== 0) ? 1 : 0, scale: 0 };
  }
}



export interface RefReduction extends Ref {
  scale: Float64Array;
}

export function reduceRef(op: RedOp, x: Ref, axis: number | null, keepdims: boolean, ddof: number): RefReduction {
  const dtype = reduceDtype(op, x.dtype);
  const round = (v: number) => (dtype === "float32" ? Math.fround(v) : v);
  if (axis === null) {
    const { value, scale } = reduceLine(op, [...x.data], ddof);
    return { dtype, shape: keepdims ? x.shape.map(() => 1) : [], data: Float64Array.of(round(value)), scale: Float64Array.of(scale) };
  }
  const outer = prod(x.shape.slice(0, axis)), len = x.shape[axis]!, inner = prod(x.shape.slice(axis + 1));
  const data = new Float64Array(outer * inner), scale = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const line = Array.from({ length: len }, (_, j) => x.data[(o * len + j) * inner + i]!);
      const r = reduceLine(op, line, ddof);
      data[o * inner + i] = round(r.value);
      scale[o * inner + i] = r.scale;
    }
  }
  const shape = x.shape.map((d, a) => (a === axis ? 1 : d)).filter((_, a) => keepdims || a !== axis);
  return { dtype, shape, data, scale };
}

/** Relative tolerance (to the line's scale) of inexact reductions: float64 and float32 results. */
const RTOL = { float64: 1e-12, float32: 2e-6 };

export function reductionDiff(op: RedOp, got: NDArray, want: RefReduction): string | undefined {
  if (got.dtype !== want.dtype) return `dtype ${got.dtype}, want ${want.dtype}`;
  if (JSON.stringify(got.shape) !== JSON.stringify(want.shape)) return `shape [${got.shape}], want [${want.shape}]`;
  const exact = !["sum", "prod", "mean", "var", "std"].includes(op);
  for (let i = 0; i < want.data.length; i++) {
    let g = got.data[i]!, w = want.data[i]!;
    let ok: boolean;
    if (Number.isNaN(w) || Number.isNaN(g)) ok = Number.isNaN(w) && Number.isNaN(g);
    else if (exact || !Number.isFinite(w)) ok = g === w;
    else {
      const rtol = RTOL[got.dtype === "float32" ? "float32" : "float64"];
      // Results rounded to float32 also carry half an ulp of their own.
      const own = got.dtype === "float32" ? Math.abs(w) * 2 ** -23 : 0;
      ok = op === "std" ? Math.abs(g * g - w * w) <= rtol * want.scale[i]! + 2 * own * Math.abs(w) : Math.abs(g - w) <= rtol * want.scale[i]! + own;
    }
    if (!ok) return `element ${i}: got ${hex(g, got.dtype)}, want ${hex(w, want.dtype)} (scale ${want.scale[i]})`;
  }
  return undefined;
}
