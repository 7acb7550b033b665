// Property tests: chunked arrays against plain-JS references on random shapes and chunkings.
//
// Every case is drawn from one seeded generator (mulberry32): SEED below, or $TESSERA_REF_SEED to
// explore others. A case is a shape (1-d, 2-d or 3-d, with size-1 axes) and two chunkings of it
// (one block, single-element blocks, regular blocks with a ragged last one, or random cuts). Every
// failure message starts with the seed, the case number, the shape and both chunkings, so a
// failure reproduces with `TESSERA_REF_SEED=<seed> npx vitest run test/array/reference.test.ts`.
//
// What must hold (issue 3):
//   - elementwise: the same expression computed with two chunkings is bit-identical (raw bytes,
//     except that any NaN equals any NaN: see bitDiff);
//     against the reference it is exact (Object.is per element: -0 and +0 differ, any NaN equals
//     any NaN), except transcendentals (exp, log, sin, cos, tanh, sigmoid, pow), where the kernels
//     run musl's math and the reference Math.*: those agree within MAX_ULPS units in the last place;
//   - reductions (all axes, each single axis, keepdims, ddof 0/1): within a tolerance scaled to the
//     data (the tree differs between chunkings, so the rounding may too); min/max/arg*/any/all exact;
//   - rechunk: exact, whatever the source and target chunks;
//   - one pipeline on an inline, a 1-worker and a 2-worker cluster: the same bytes (NaNs aside).
//
// Known bugs found by these tests are excluded case by case, each at a comment saying KNOWN BUG.
//
// The reference is written from numpy's rules plus the deviations the kernel layer documents
// (src/kernels/dtypes.ts, lower.ts): no int64 (integer sums, argmin and int ** array give float64),
// narrow ints compute in int32 and wrap, float -> int casts truncate and saturate to the int32
// range (NaN -> 0) before wrapping, bool +,-,* and neg/abs of bool throw, and a weak (plain number)
// scalar that does not fit an integer array throws, except in comparisons (then float64). It does
// not call the kernels' own reference (src/kernels/reference), so the dtype rules are tested too.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, array as da, type Client } from "../../dist/index.js";

type ChunkedArray = da.ChunkedArray;
type NDArray = da.NDArray;

const SEED = Number(process.env.TESSERA_REF_SEED ?? 20261126);
const MAX_ULPS = 4;

let client: Client;
beforeAll(async () => {
  client = await LocalCluster.start({ workers: 2 });
});
afterAll(() => client.close());

/** Compute a list of arrays on one client, in one graph. */
const computeAll = (on: Client, arrays: readonly ChunkedArray[]): Promise<NDArray[]> => on.compute([...arrays]) as unknown as Promise<NDArray[]>;

// ---- seeded randomness ------------------------------------------------------------------

class Rng {
  constructor(private s: number) {}
  /** mulberry32: uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

// ---- shapes and chunkings -----------------------------------------------------------------

type D = "float64" | "float32" | "int32" | "uint8" | "bool";
const DTYPES: readonly D[] = ["float64", "float32", "int32", "uint8", "bool"];
const isFloat = (d: D): boolean => d === "float64" || d === "float32";

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

function randomShape(r: Rng): number[] {
  const nd = 1 + r.int(3);
  const max = nd === 1 ? 40 : nd === 2 ? 11 : 6;
  return Array.from({ length: nd }, () => (r.chance(0.2) ? 1 : 2 + r.int(max - 1)));
}

/** Chunk sizes along one axis of length d: one block, all 1, regular (ragged last), or random cuts. */
function randomAxisChunks(r: Rng, d: number): number[] {
  switch (r.int(5)) {
    case 0:
      return [d];
    case 1:
      return new Array<number>(d).fill(1);
    case 2:
    case 3: {
      const c = 1 + r.int(Math.max(1, d - 1));
      const out: number[] = [];
      for (let at = 0; at < d; at += c) out.push(Math.min(c, d - at));
      return out;
    }
    default: {
      const out: number[] = [];
      let left = d;
      while (left > 0) {
        const c = 1 + r.int(Math.min(left, 1 + Math.ceil(d / 2)));
        out.push(c);
        left -= c;
      }
      return out;
    }
  }
}

const randomChunks = (r: Rng, shape: readonly number[]): number[][] => shape.map((d) => randomAxisChunks(r, d));

/** A second chunking that differs from `a` wherever an axis can be cut differently. */
function otherChunks(r: Rng, shape: readonly number[], a: readonly number[][]): number[][] {
  for (let tries = 0; tries < 20; tries++) {
    const b = randomChunks(r, shape);
    if (JSON.stringify(b) !== JSON.stringify(a)) return b;
  }
  return shape.map((d) => new Array<number>(d).fill(1));
}

/** A shape that broadcasts against `shape`: some axes set to 1, maybe some leading axes dropped. */
function broadcastShapeOf(r: Rng, shape: readonly number[], p1: number): number[] {
  const drop = shape.length > 1 && r.chance(0.3) ? 1 + r.int(shape.length - 1) : 0;
  return shape.slice(drop).map((d) => (r.chance(p1) ? 1 : d));
}

function broadcast(a: readonly number[], b: readonly number[]): number[] {
  const nd = Math.max(a.length, b.length);
  return Array.from({ length: nd }, (_, i) => {
    const x = a[i - (nd - a.length)] ?? 1;
    const y = b[i - (nd - b.length)] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`test bug: [${a}] and [${b}] do not broadcast`);
    return x === 1 ? y : x;
  });
}

// ---- data -------------------------------------------------------------------------------

const SPECIALS = [0, -0, NaN, Infinity, -Infinity, 1, -1, 0.5];

function randomValues(r: Rng, dtype: D, n: number, specials: boolean): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    switch (dtype) {
      case "float64":
      case "float32": {
        const u = r.next();
        // Quarter steps give ties (argmin, comparisons) and exact halves (casts).
        const v = specials && u < 0.06 ? r.pick(SPECIALS) : u < 0.4 ? (r.int(33) - 16) / 4 : r.next() * 8 - 4;
        out[i] = dtype === "float32" ? Math.fround(v) : v;
        break;
      }
      case "int32":
        out[i] = r.chance(0.1) ? r.int(2 ** 32) - 2 ** 31 : r.int(41) - 20;
        break;
      case "uint8":
        out[i] = r.int(256);
        break;
      case "bool":
        out[i] = r.int(2);
        break;
    }
  }
  return out;
}

type Typed = Float64Array | Float32Array | Int32Array | Uint8Array;

function typed(values: Float64Array, dtype: D): Typed {
  switch (dtype) {
    case "float64":
      return Float64Array.from(values);
    case "float32":
      return Float32Array.from(values);
    case "int32":
      return Int32Array.from(values);
    default:
      return Uint8Array.from(values);
  }
}

/** A reference array: values (already of its dtype) in a Float64Array, row-major. */
interface Ref {
  dtype: D;
  shape: number[];
  data: Float64Array;
}

/** The data as a chunked array (bool: uint8 data cast with astype, then rechunked). */
function chunked(ref: Ref, chunks: number[][], boolFrom: number[][]): ChunkedArray {
  if (ref.dtype !== "bool") return da.fromTypedArray(typed(ref.data, ref.dtype), { shape: ref.shape, chunks });
  // A pending astype with one chunking, a materialized bool array with the other: both paths.
  return da.fromTypedArray(typed(ref.data, "uint8"), { shape: ref.shape, chunks: boolFrom }).astype("bool").rechunk(chunks);
}

// ---- the reference semantics ------------------------------------------------------------

class RefError extends Error {}

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

function cast(v: number, from: D, to: D): number {
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

type BinOp = "add" | "sub" | "mul" | "div" | "pow" | "maximum" | "minimum" | "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "and" | "or" | "xor";
type UnOp = "neg" | "abs" | "sqrt" | "exp" | "log" | "sin" | "cos" | "tanh" | "sigmoid" | "not";
const BIN_OPS: readonly BinOp[] = ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge", "and", "or", "xor"];
const UN_OPS: readonly UnOp[] = ["neg", "abs", "sqrt", "exp", "log", "sin", "cos", "tanh", "sigmoid", "not"];
const COMPARE = new Set<string>(["eq", "ne", "lt", "le", "gt", "ge"]);
const LOGICAL = new Set<string>(["and", "or", "xor"]);

type Node =
  | { k: "in"; i: number }
  | { k: "bin"; op: BinOp; a: Arg; b: Arg }
  | { k: "un"; op: UnOp; a: Node }
  | { k: "clip"; a: Node; lo: Arg; hi: Arg }
  | { k: "where"; c: Node; a: Arg; b: Arg }
  | { k: "astype"; a: Node; d: D };
type Arg = Node | number;

const INPUT_NAMES = ["x", "y", "z", "w", "m"];

function show(e: Arg): string {
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
function approx(e: Arg): boolean {
  if (typeof e === "number" || e.k === "in") return false;
  if ((e.k === "bin" || e.k === "un") && TRANSCENDENTAL.has(e.op)) return true;
  const kids = e.k === "bin" ? [e.a, e.b] : e.k === "clip" ? [e.a, e.lo, e.hi] : e.k === "where" ? [e.c, e.a, e.b] : [e.a];
  return kids.some(approx);
}

/** The numpy-style function for `scalar op array` (only some ops have one). */
const SCALAR_FIRST: Partial<Record<BinOp, (x: number, y: ChunkedArray) => ChunkedArray>> = {
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

function build(e: Arg, ins: readonly ChunkedArray[]): ChunkedArray | number {
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

function evalRef(e: Arg, ins: readonly Ref[]): Val {
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

function evalBin(op: BinOp, a: Val, b: Val): Ref {
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

// ---- comparing ----------------------------------------------------------------------------

const dv = new DataView(new ArrayBuffer(8));

function hex(v: number, dtype: string): string {
  if (dtype === "float32") {
    dv.setFloat32(0, v);
    return `${v} (0x${dv.getUint32(0).toString(16).padStart(8, "0")})`;
  }
  if (dtype === "float64") {
    dv.setFloat64(0, v);
    return `${Object.is(v, -0) ? "-0" : v} (0x${dv.getBigUint64(0).toString(16).padStart(16, "0")})`;
  }
  return String(v);
}

/** Distance in units in the last place (0 for two NaNs, Infinity for NaN vs a number). */
function ulps(a: number, b: number, dtype: string): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
  if (a === b) return 0;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return Infinity;
  if (dtype === "float32") {
    const ord = (x: number) => {
      dv.setFloat32(0, x);
      const i = dv.getInt32(0);
      return i < 0 ? -(i & 0x7fffffff) : i;
    };
    return Math.abs(ord(a) - ord(b));
  }
  const ord = (x: number) => {
    dv.setFloat64(0, x);
    const i = dv.getBigInt64(0);
    return i < 0n ? -(i & 0x7fffffffffffffffn) : i;
  };
  const d = ord(a) - ord(b);
  return Number(d < 0n ? -d : d);
}

const bytes = (a: NDArray): Uint8Array => new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);

/**
 * Where two computed arrays differ in any bit (undefined: identical), except that any NaN equals
 * any NaN: a NaN reduction result crosses threads as a JS number, whose NaN payload V8 does
 * not keep, so its bits differ between an inline and a 2-worker cluster. (maximum/minimum used
 * to give different NaN bits in SIMD body and scalar tail; the kernels now agree.)
 */
function bitDiff(a: NDArray, b: NDArray): string | undefined {
  if (a.dtype !== b.dtype || JSON.stringify(a.shape) !== JSON.stringify(b.shape)) {
    return `${a.dtype}[${a.shape}] vs ${b.dtype}[${b.shape}]`;
  }
  const x = bytes(a), y = bytes(b);
  const size = a.data.BYTES_PER_ELEMENT;
  for (let at = x.findIndex((v, i) => v !== y[i]); at >= 0; ) {
    const i = Math.floor(at / size);
    if (!(Number.isNaN(a.data[i]!) && Number.isNaN(b.data[i]!))) {
      return `element ${i}: ${hex(a.data[i]!, a.dtype)} vs ${hex(b.data[i]!, b.dtype)}`;
    }
    const next = x.subarray((i + 1) * size).findIndex((v, j) => v !== y[(i + 1) * size + j]);
    at = next < 0 ? -1 : (i + 1) * size + next;
  }
  return undefined;
}

/** Where a computed array differs from the reference (exact, or within MAX_ULPS). */
function refDiff(got: NDArray, want: Ref, tolerant: boolean): string | undefined {
  if (got.dtype !== want.dtype) return `dtype ${got.dtype}, want ${want.dtype}`;
  if (JSON.stringify(got.shape) !== JSON.stringify(want.shape)) return `shape [${got.shape}], want [${want.shape}]`;
  for (let i = 0; i < want.data.length; i++) {
    const g = got.data[i]!, w = want.data[i]!;
    const ok = tolerant && isFloat(want.dtype) ? ulps(g, w, want.dtype) <= MAX_ULPS : Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w));
    if (!ok) {
      const u = isFloat(want.dtype) ? `, ${ulps(g, w, want.dtype)} ulps` : "";
      return `element ${i}: got ${hex(g, got.dtype)}, want ${hex(w, want.dtype)}${u}`;
    }
  }
  return undefined;
}

// ---- cases --------------------------------------------------------------------------------

interface Case {
  n: number;
  seed: number;
  shape: number[];
  chunksA: number[][];
  chunksB: number[][];
  rng: Rng;
}

function makeCase(n: number, fixed?: { shape: number[]; chunksA: number[][]; chunksB: number[][] }): Case {
  const seed = (SEED + n * 7919) >>> 0;
  const rng = new Rng(seed);
  const shape = fixed?.shape ?? randomShape(rng);
  const chunksA = fixed?.chunksA ?? randomChunks(rng, shape);
  const chunksB = fixed?.chunksB ?? otherChunks(rng, shape, chunksA);
  return { n, seed, shape, chunksA, chunksB, rng };
}

const label = (c: Case): string =>
  `case ${c.n} (seed ${SEED}): shape [${c.shape}], chunks ${JSON.stringify(c.chunksA)} | ${JSON.stringify(c.chunksB)}`;

/** Fixed corners first (a lone element, ragged last chunks, single-element chunks), then random. */
const FIXED = [
  { shape: [1], chunksA: [[1]], chunksB: [[1]] },
  { shape: [7], chunksA: [[3, 3, 1]], chunksB: [[1, 1, 1, 1, 1, 1, 1]] },
  { shape: [1, 5], chunksA: [[1], [2, 2, 1]], chunksB: [[1], [5]] },
  { shape: [4, 1, 3], chunksA: [[1, 1, 1, 1], [1], [3]], chunksB: [[3, 1], [1], [2, 1]] },
];

function cases(count: number, offset: number): Case[] {
  return [...FIXED.map((f, i) => makeCase(offset + i, f)), ...Array.from({ length: count }, (_, i) => makeCase(offset + FIXED.length + i))];
}

// ---- elementwise ----------------------------------------------------------------------------

const SCALARS: Record<D, number[]> = {
  float64: [0.5, -1.25, 3, 0, 1e-3, -2],
  float32: [0.5, -1.25, 3, 0, 0.1, -2],
  int32: [3, -2, 0, 7, 1.5, 100000],
  uint8: [3, 200, 0, 1.5, 17, 300],
  bool: [1, 0, 2, 0.5],
};
const EXPONENTS: Record<D, number[]> = {
  float64: [2, 3, 0.5, -1, 1.5, 0, -2],
  float32: [2, 3, 0.5, -1, 1.5, 0, -2],
  int32: [2, 3, 0, 1, 5, 0.5],
  uint8: [2, 3, 0, 5, 0.5],
  bool: [2, 0, 1],
};

const scalarFor = (r: Rng, d: D, op: string): number => r.pick(op === "pow" ? EXPONENTS[d] : SCALARS[d]);

/** The inputs of an elementwise case: x, y (x's shape), z, w (broadcasting shapes), m (a bool mask). */
interface Inputs {
  refs: Ref[];
  /** Chunks of every input, per chunking. */
  chunks: [number[][][], number[][][]];
}

function makeInputs(c: Case, dtypes: readonly D[]): Inputs {
  const r = c.rng;
  const shapes = [c.shape, c.shape, broadcastShapeOf(r, c.shape, 0.4), broadcastShapeOf(r, c.shape, 0.5), c.shape];
  const refs = shapes.map((shape, i) => {
    const dtype = i === 4 ? "bool" : dtypes[i]!;
    return { dtype, shape, data: randomValues(r, dtype, prod(shape), true) };
  });
  const own = (i: number, which: 0 | 1) => (i === 0 ? (which === 0 ? c.chunksA : c.chunksB) : randomChunks(r, shapes[i]!));
  return { refs, chunks: [shapes.map((_, i) => own(i, 0)), shapes.map((_, i) => own(i, 1))] };
}

const IN = (i: number): Node => ({ k: "in", i });

/** The single-op expressions of a case: every op with array, scalar and broadcast operands. */
function singleOps(r: Rng, refs: readonly Ref[]): Node[] {
  const [x, y, z, w, m] = [0, 1, 2, 3, 4].map(IN) as [Node, Node, Node, Node, Node];
  const dx = refs[0]!.dtype;
  const out: Node[] = [];
  for (const op of BIN_OPS) {
    out.push({ k: "bin", op, a: x, b: y });
    out.push({ k: "bin", op, a: x, b: scalarFor(r, dx, op) });
    if (SCALAR_FIRST[op]) out.push({ k: "bin", op, a: scalarFor(r, dx, op), b: x });
    out.push({ k: "bin", op, a: x, b: z });
    out.push({ k: "bin", op, a: z, b: x });
    out.push({ k: "bin", op, a: z, b: w });
  }
  // An exact expression of x and y: unary ops applied to it read a fused input.
  const inner: Node = { k: "bin", op: "sub", a: { k: "bin", op: "mul", a: { k: "astype", a: x, d: "float64" }, b: 0.5 }, b: { k: "astype", a: y, d: "float64" } };
  for (const op of UN_OPS) {
    out.push({ k: "un", op, a: x }, { k: "un", op, a: y }, { k: "un", op, a: z }, { k: "un", op, a: inner });
  }
  const [lo, hi] = [scalarFor(r, dx, "clip"), scalarFor(r, dx, "clip")].sort((p, q) => p - q) as [number, number];
  out.push({ k: "clip", a: x, lo, hi }, { k: "clip", a: x, lo: z, hi }, { k: "clip", a: x, lo, hi: y }, { k: "clip", a: z, lo: w, hi: y });
  out.push(
    { k: "where", c: m, a: x, b: y },
    { k: "where", c: { k: "bin", op: "gt", a: x, b: 0 }, a: x, b: scalarFor(r, dx, "where") },
    { k: "where", c: x, a: z, b: y },
    { k: "where", c: m, a: scalarFor(r, dx, "where"), b: w },
  );
  for (const d of DTYPES) out.push({ k: "astype", a: x, d }, { k: "astype", a: y, d }, { k: "astype", a: { k: "astype", a: x, d: "float32" }, d });
  return out;
}

/** A random chain of exact ops over the inputs (what fusion turns into one program per block). */
function exactChain(r: Rng, refs: readonly Ref[], length: number): Node {
  const leaves = [0, 1, 2, 3, 4].map(IN);
  let e: Node = r.pick(leaves);
  const exactBin: BinOp[] = ["add", "sub", "mul", "div", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge", "and", "or", "xor"];
  for (let step = 0, tries = 0; step < length && tries < 10 * length; tries++) {
    const d = (evalRef(e, refs) as Ref).dtype;
    let next: Node;
    switch (r.int(9)) {
      case 0:
      case 1:
      case 2:
        next = { k: "bin", op: r.pick(exactBin), a: e, b: r.chance(0.5) ? r.pick(leaves) : scalarFor(r, d, "x") };
        break;
      case 3:
        next = { k: "bin", op: r.pick(exactBin), a: r.pick(leaves), b: e };
        break;
      case 4:
        next = { k: "un", op: r.pick(["neg", "abs", "sqrt", "not"] as const), a: e };
        break;
      case 5:
        next = { k: "astype", a: e, d: r.pick(DTYPES) };
        break;
      case 6:
        next = { k: "bin", op: "pow", a: e, b: r.pick([0, 1, 2]) };
        break;
      case 7: {
        const [lo, hi] = [scalarFor(r, d, "x"), scalarFor(r, d, "x")].sort((p, q) => p - q) as [number, number];
        next = { k: "clip", a: e, lo, hi };
        break;
      }
      default:
        next = { k: "where", c: { k: "bin", op: "gt", a: e, b: 0 }, a: e, b: r.pick(leaves) };
    }
    try {
      evalRef(next, refs);
    } catch (err) {
      if (err instanceof RefError) continue;
      throw err;
    }
    e = next;
    step++;
  }
  return e;
}

interface Built {
  expr: Node;
  ref?: Ref;
  /** The reference throws: building the array must throw too. */
  refError?: string;
  arrays?: [ChunkedArray, ChunkedArray];
  buildError?: string;
}

/** Build each expression with both chunkings; compute them all; compare. Returns failure messages. */
async function checkElementwise(c: Case, inputs: Inputs, exprs: readonly Node[], on: Client): Promise<string[]> {
  const boolFrom = (i: number) => inputs.chunks[0][i]!;
  const ins = [0, 1].map((k) => inputs.refs.map((ref, i) => chunked(ref, inputs.chunks[k as 0 | 1][i]!, boolFrom(i))));
  const built: Built[] = exprs.map((expr) => {
    const b: Built = { expr };
    try {
      b.ref = evalRef(expr, inputs.refs) as Ref;
    } catch (err) {
      if (!(err instanceof RefError)) throw err;
      b.refError = err.message;
    }
    try {
      b.arrays = [build(expr, ins[0]!) as ChunkedArray, build(expr, ins[1]!) as ChunkedArray];
    } catch (err) {
      b.buildError = (err as Error).message;
    }
    return b;
  });
  const failures: string[] = [];
  const fail = (b: Built, msg: string) => failures.push(`${label(c)}: ${show(b.expr)} [${inputs.refs.map((r) => `${r.dtype}[${r.shape}]`).join(", ")}]: ${msg}`);
  for (const b of built) {
    if (b.refError && !b.buildError) fail(b, `the reference rejects it (${b.refError}) but the array API accepted it`);
    if (!b.refError && b.buildError) fail(b, `the array API threw: ${b.buildError}`);
    if (b.arrays && b.ref && (b.arrays[0].dtype !== b.ref.dtype || JSON.stringify(b.arrays[0].shape) !== JSON.stringify(b.ref.shape))) {
      fail(b, `lazy array is ${b.arrays[0].dtype}[${b.arrays[0].shape}], want ${b.ref.dtype}[${b.ref.shape}]`);
    }
  }
  const ok = built.filter((b) => b.arrays && b.ref);
  const [resA, resB] = await Promise.all([0, 1].map((k) => computeAll(on, ok.map((b) => b.arrays![k]!))));
  ok.forEach((b, i) => {
    const a = resA![i]!, bb = resB![i]!;
    const bits = bitDiff(a, bb);
    if (bits) fail(b, `chunkings differ: ${bits}`);
    const diff = refDiff(a, b.ref!, approx(b.expr));
    if (diff) fail(b, `vs reference: ${diff}`);
  });
  return failures;
}

// ---- reductions -----------------------------------------------------------------------------

type RedOp = "sum" | "prod" | "min" | "max" | "argmin" | "argmax" | "mean" | "var" | "std" | "any" | "all";
const RED_OPS: readonly RedOp[] = ["sum", "prod", "min", "max", "argmin", "argmax", "mean", "var", "std", "any", "all"];

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



interface RefReduction extends Ref {
  scale: Float64Array;
  /** Elements not compared because of a known bug (see KNOWN BUG in reduceLine). */
  skip: Uint8Array;
}

function reduceRef(op: RedOp, x: Ref, axis: number | null, keepdims: boolean, ddof: number): RefReduction {
  const dtype = reduceDtype(op, x.dtype);
  const round = (v: number) => (dtype === "float32" ? Math.fround(v) : v);
  if (axis === null) {
    const { value, scale } = reduceLine(op, [...x.data], ddof);
    const skip = Uint8Array.of(0);
    return { dtype, shape: keepdims ? x.shape.map(() => 1) : [], data: Float64Array.of(round(value)), scale: Float64Array.of(scale), skip };
  }
  const outer = prod(x.shape.slice(0, axis)), len = x.shape[axis]!, inner = prod(x.shape.slice(axis + 1));
  const data = new Float64Array(outer * inner), scale = new Float64Array(outer * inner), skip = new Uint8Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const line = Array.from({ length: len }, (_, j) => x.data[(o * len + j) * inner + i]!);
      const r = reduceLine(op, line, ddof);
      data[o * inner + i] = round(r.value);
      scale[o * inner + i] = r.scale;
    }
  }
  const shape = x.shape.map((d, a) => (a === axis ? 1 : d)).filter((_, a) => keepdims || a !== axis);
  return { dtype, shape, data, scale, skip };
}

/** Relative tolerance (to the line's scale) of inexact reductions: float64 and float32 results. */
const RTOL = { float64: 1e-12, float32: 2e-6 };

function reductionDiff(op: RedOp, got: NDArray, want: RefReduction): string | undefined {
  if (got.dtype !== want.dtype) return `dtype ${got.dtype}, want ${want.dtype}`;
  if (JSON.stringify(got.shape) !== JSON.stringify(want.shape)) return `shape [${got.shape}], want [${want.shape}]`;
  const exact = !["sum", "prod", "mean", "var", "std"].includes(op);
  for (let i = 0; i < want.data.length; i++) {
    if (want.skip[i]) continue;
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

// ---- the tests ------------------------------------------------------------------------------

const ELEMENTWISE = cases(14, 0);
const REDUCTIONS = cases(14, 100);
const RECHUNKS = cases(10, 200);

describe(`elementwise ops against the reference (seed ${SEED})`, () => {
  it.each(ELEMENTWISE.map((c, i) => [label(c), c, i] as const))("%s", async (_, c, i) => {
    const r = c.rng;
    // x cycles through the dtypes; y, z, w are random (mixed-dtype promotion).
    const dtypes = [DTYPES[i % DTYPES.length]!, r.pick(DTYPES), r.pick(DTYPES), r.pick(DTYPES)];
    const inputs = makeInputs(c, dtypes);
    const exprs = singleOps(r, inputs.refs);
    for (let j = 0; j < 4; j++) exprs.push(exactChain(r, inputs.refs, 3 + r.int(6)));
    // One long chain: past the inlining limit the expression is cut into several fused arrays.
    if (i % 4 === 0) exprs.push(exactChain(r, inputs.refs, 60));
    const failures = await checkElementwise(c, inputs, exprs, client);
    expect(failures.slice(0, 20), `${failures.length} failure(s)`).toEqual([]);
  });
});

describe(`reductions against the reference (seed ${SEED})`, () => {
  it.each(REDUCTIONS.map((c, i) => [label(c), c, i] as const))("%s", async (_, c, i) => {
    const r = c.rng;
    const dtype = DTYPES[i % DTYPES.length]!;
    const n = prod(c.shape);
    const values = randomValues(r, dtype, n, false);
    // Some cases hold a NaN (it wins min/max/arg*, poisons sums, is truthy) or an infinity.
    if (isFloat(dtype) && r.chance(0.5)) values[r.int(n)] = r.pick([Infinity, -Infinity]);
    if (isFloat(dtype) && r.chance(0.3)) values[r.int(n)] = NaN;
    const x: Ref = { dtype, shape: c.shape, data: values };
    // prod over gentle values (magnitudes near 1, or small integers), so it neither overflows nor underflows.
    const gentle = (): number => {
      if (isFloat(dtype)) return cast((r.chance(0.5) ? -1 : 1) * (0.8 + 0.45 * r.next()), "float64", dtype);
      if (dtype === "bool") return r.chance(0.05) ? 0 : 1;
      return dtype === "uint8" ? 1 + r.int(2) : r.pick([-2, -1, 1, 2]);
    };
    const pv = Float64Array.from({ length: n }, gentle);
    const p: Ref = { dtype, shape: c.shape, data: pv };
    const splitEvery = r.pick([2, 3, 4, 8]);
    const specs: { axis: number | null; keepdims: boolean; arg: number | null }[] = [{ axis: null, keepdims: r.chance(0.3), arg: null }];
    c.shape.forEach((_, a) => {
      const keepdims = r.chance(0.5);
      specs.push({ axis: a, keepdims, arg: r.chance(0.3) ? a - c.shape.length : a });
    });

    const failures: string[] = [];
    const jobs: { what: string; op: RedOp; src: Ref; all: boolean; want: RefReduction; make: (x: ChunkedArray, p: ChunkedArray) => ChunkedArray }[] = [];
    for (const s of specs) {
      for (const op of RED_OPS) {
        for (const ddof of op === "var" || op === "std" ? [0, 1] : [0]) {
          const src = op === "prod" ? p : x;
          const opts = { axis: s.arg, keepdims: s.keepdims, ddof, splitEvery };
          jobs.push({
            what: `${op}(${JSON.stringify(opts)})`,
            op,
            src,
            all: s.axis === null,
            want: reduceRef(op, src, s.axis, s.keepdims, ddof),
            make: (xa, pa) => (op === "prod" ? pa : xa)[op](opts),
          });
        }
      }
      // Fused: an elementwise expression reduced in the same pass (float64 data only: exact).
      if (dtype === "float64") {
        const fx: Ref = { dtype, shape: c.shape, data: values.map((v) => v * 0.5 + 1) };
        for (const op of ["sum", "max", "argmin", "var", "any", "mean"] as const) {
          const opts = { axis: s.arg, keepdims: s.keepdims, splitEvery };
          jobs.push({ what: `${op}(x*0.5+1, ${JSON.stringify(opts)})`, op, src: fx, all: s.axis === null, want: reduceRef(op, fx, s.axis, s.keepdims, 0), make: (xa) => xa.mul(0.5).add(1)[op](opts) });
        }
      }
    }
    const results: NDArray[][] = [];
    for (const chunks of [c.chunksA, c.chunksB]) {
      const xa = chunked(x, chunks, c.chunksA), pa = chunked(p, chunks, c.chunksA);
      results.push(await computeAll(client, jobs.map((j) => j.make(xa, pa))));
    }
    jobs.forEach((j, k) => {
      results.forEach((res, which) => {
        const diff = reductionDiff(j.op, res[k]!, j.want);
        if (diff) failures.push(`${label(c)}: ${dtype} ${j.what}, chunking ${"AB"[which]}: ${diff}`);
      });
    });
    expect(failures.slice(0, 20), `${failures.length} failure(s)`).toEqual([]);
  });
});

describe(`rechunk (seed ${SEED})`, () => {
  it.each(RECHUNKS.map((c, i) => [label(c), c, i] as const))("%s", async (_, c, i) => {
    const r = c.rng;
    const dtype = DTYPES[i % DTYPES.length]!;
    const x: Ref = { dtype, shape: c.shape, data: randomValues(r, dtype, prod(c.shape), true) };
    const xa = chunked(x, c.chunksA, c.chunksA);
    const third = randomChunks(r, c.shape);
    // Chunk specs as users write them: explicit sizes, one size for every axis, a size per axis, "auto".
    const specs: (number | number[][] | (number | "auto")[])[] = [c.chunksB, third, 1 + r.int(4), c.shape.map((d) => (r.chance(0.3) ? "auto" : 1 + r.int(d)))];
    const failures: string[] = [];
    const outs: { what: string; arr: ChunkedArray; want: Ref; chunks?: unknown }[] = [];
    for (const spec of specs) {
      const y = xa.rechunk(spec);
      outs.push({ what: `rechunk(${JSON.stringify(spec)})`, arr: y, want: x });
      outs.push({ what: `rechunk(${JSON.stringify(spec)}).rechunk(A)`, arr: y.rechunk(c.chunksA), want: x, chunks: c.chunksA });
    }
    outs[0]!.chunks = c.chunksB;
    outs[2]!.chunks = third;
    // A pending expression rechunked, and two arrays of different chunks combined (aligned).
    const expr: Node = { k: "bin", op: "maximum", a: IN(0), b: { k: "astype", a: { k: "bin", op: "gt", a: IN(0), b: 0 }, d: dtype } };
    const eref = evalRef(expr, [x]) as Ref;
    outs.push({ what: "maximum(x, x > 0).rechunk(B)", arr: (build(expr, [xa]) as ChunkedArray).rechunk(c.chunksB), want: eref });
    const sum = evalBin(dtype === "bool" ? "or" : "maximum", x, x);
    outs.push({ what: "x(A) op x(B)", arr: dtype === "bool" ? xa.or(chunked(x, c.chunksB, c.chunksA)) : xa.maximum(chunked(x, third, c.chunksA)), want: sum });
    const got = await computeAll(client, outs.map((o) => o.arr));
    outs.forEach((o, k) => {
      const diff = refDiff(got[k]!, o.want, false);
      if (diff) failures.push(`${label(c)}: ${dtype} ${o.what}: ${diff}`);
      if (o.chunks && JSON.stringify(o.arr.chunks) !== JSON.stringify(o.chunks)) {
        failures.push(`${label(c)}: ${o.what}: chunks ${JSON.stringify(o.arr.chunks)}, want ${JSON.stringify(o.chunks)}`);
      }
    });
    // A rechunked array reduces like the original (same value within tolerance).
    const [s1, s2] = await computeAll(client, [xa.rechunk(c.chunksB).sum(), xa.rechunk(third).astype("float64").mean({ axis: 0 })]);
    const d1 = reductionDiff("sum", s1!, reduceRef("sum", x, null, false, 0));
    const d2 = reductionDiff("mean", s2!, reduceRef("mean", { ...x, dtype: "float64" }, 0, false, 0));
    for (const d of [d1, d2]) if (d) failures.push(`${label(c)}: rechunk then reduce: ${d}`);
    expect(failures, `${failures.length} failure(s)`).toEqual([]);
  });
});

describe("worker count", () => {
  it("gives the same bytes (any NaN equal to any NaN) on an inline, a 1-worker and a 2-worker cluster", async () => {
    const inline = await LocalCluster.start({ inline: true });
    const one = await LocalCluster.start({ workers: 1 });
    try {
      for (const c of cases(3, 300).slice(FIXED.length - 1)) {
        const r = c.rng;
        const inputs = makeInputs(c, ["float64", r.pick(DTYPES), "float32", r.pick(DTYPES)]);
        const ins = inputs.refs.map((ref, i) => chunked(ref, inputs.chunks[0][i]!, inputs.chunks[0][i]!));
        const exprs: Node[] = [
          ...UN_OPS.map((op): Node => ({ k: "un", op, a: IN(0) })),
          { k: "bin", op: "pow", a: IN(0), b: IN(2) },
          exactChain(r, inputs.refs, 8),
          exactChain(r, inputs.refs, 8),
        ];
        const x = ins[0]!;
        const arrays: ChunkedArray[] = [
          ...exprs.map((e) => build(e, ins) as ChunkedArray),
          da.random.normal(c.shape, { chunks: c.chunksA, seed: c.seed }).mul(3).exp().sum({ axis: 0, splitEvery: 2 }),
          da.random.uniform(c.shape, { chunks: c.chunksB, seed: c.seed, dtype: "float32" }).sigmoid(),
          da.random.integers(c.shape, { low: -5, high: 9, chunks: c.chunksB, seed: c.seed }),
          x.rechunk(c.chunksB).sin().sum(),
          x.tanh().var({ ddof: 1, splitEvery: 3 }),
          ...c.shape.map((_, a) => x.cos().mean({ axis: a, keepdims: true })),
          ...c.shape.map((_, a) => x.argmax({ axis: a })),
          x.prod(),
          ins[2]!.std({ axis: -1 }),
        ];
        const [a, b, d] = await Promise.all([inline, one, client].map((cl) => computeAll(cl, arrays)));
        arrays.forEach((arr, k) => {
          expect(bitDiff(a![k]!, b![k]!), `${label(c)}: output ${k} (${arr.name}) inline vs 1 worker`).toBeUndefined();
          expect(bitDiff(a![k]!, d![k]!), `${label(c)}: output ${k} (${arr.name}) inline vs 2 workers`).toBeUndefined();
        });
      }
    } finally {
      await Promise.all([inline.close(), one.close()]);
    }
  });
});
