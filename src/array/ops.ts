/**
 * The array ops every worker registers (`array.*`). Each takes a small plain spec (what the
 * client decided: dtypes, shapes, the fused expression) followed by the input blocks, and runs
 * kernels on this thread's wasm memory. Results are WasmChunks (blocks stay in wasm memory) or
 * small plain values (reduction partials, 0-d results), which travel inline with reports.
 *
 * Temporary wasm allocations are freed in `finally`, so a failing kernel leaks nothing.
 */

import { TesseraError } from "../errors.js";
import { castValue, isFloat, type Dtype } from "../kernels/dtypes.js";
import type { Expr } from "../kernels/expr.js";
import { withKernels } from "../kernels/instance.js";
import type { Kernels } from "../kernels/kernels.js";
import { combine, combineAxis, finalize, finalizeAxis, offsetIndex, type AxisPartial, type Partial, type ReduceOp } from "../kernels/reduce-state.js";
import type { Program } from "../kernels/compile.js";
import { registerOp } from "../worker/registry.js";
import { asBlock, inWasm, WasmChunk, type Block, type BlockData, type InWasm } from "./block.js";
import { product, stridesOf } from "./chunks.js";
import { copyRegion } from "./layout.js";
// The other families of array ops register themselves on import.
import "./ops-linalg.js";
import "./ops-structure.js";

/** Programs compiled on this worker, by the client's key for the expression and dtypes. */
const programs = new Map<string, Program>();

function program(k: Kernels, key: string, expr: Expr, dtypes: readonly Dtype[], reduce?: ReduceOp): Program {
  const cacheKey = reduce ? `${key}/${reduce}` : key;
  let p = programs.get(cacheKey);
  if (!p) {
    p = k.compile(expr, dtypes, reduce);
    if (programs.size > 1000) programs.clear();
    programs.set(cacheKey, p);
  }
  return p;
}

/** Inputs in wasm memory, each broadcast to `shape` if it is smaller (a copy, freed by `done`). */
function prepareInputs(k: Kernels, blocks: readonly unknown[], shape: readonly number[], what: string): InWasm[] {
  const out: InWasm[] = [];
  try {
    for (let i = 0; i < blocks.length; i++) {
      const w = inWasm(k, asBlock(blocks[i], `${what} input ${i}`));
      out.push(sameShape(w.shape, shape) ? w : broadcastInWasm(k, w, shape));
    }
    return out;
  } catch (err) {
    for (const w of out) w.done();
    throw err;
  }
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean => product(a) === product(b) && a.length <= b.length;

/** Copy a block into the shape it broadcasts to (numpy rules: size-1 or missing leading axes). */
function broadcastInWasm(k: Kernels, w: InWasm, shape: readonly number[]): InWasm {
  const nd = shape.length;
  const src = [...new Array<number>(nd - w.shape.length).fill(1), ...w.shape];
  src.forEach((d, a) => {
    if (d !== 1 && d !== shape[a]) throw new TesseraError(`cannot broadcast a block of shape [${w.shape}] to [${shape}]`);
  });
  const n = product(shape);
  const ptr = k.allocArray(w.dtype, Math.max(1, n));
  try {
    const from = k.view(w.dtype, w.ptr, product(w.shape));
    const to = k.view(w.dtype, ptr, n);
    const srcStrides = stridesOf(src).map((s, a) => (src[a] === 1 ? 0 : s));
    const idx = new Array<number>(nd).fill(0);
    for (let i = 0; i < n; i++) {
      let at = 0;
      for (let a = 0; a < nd; a++) at += idx[a]! * srcStrides[a]!;
      to[i] = from[at]!;
      for (let a = nd - 1; a >= 0; a--) {
        if (++idx[a]! < shape[a]!) break;
        idx[a] = 0;
      }
    }
  } catch (err) {
    k.free(ptr);
    throw err;
  } finally {
    w.done();
  }
  return { ptr, dtype: w.dtype, shape: [...shape], done: () => k.free(ptr) };
}

export interface FusedSpec {
  /** Cache key of the expression with its input dtypes (a token the client made). */
  key: string;
  expr: Expr;
  dtypes: Dtype[];
  /** The output block's shape. */
  shape: number[];
}

registerOp("array.fused", (spec: FusedSpec, ...blocks: unknown[]) =>
  withKernels((k) => {
    const p = program(k, spec.key, spec.expr, spec.dtypes);
    const n = product(spec.shape);
    const ins = prepareInputs(k, blocks, spec.shape, "array.fused");
    const out = WasmChunk.alloc(k, p.dtype, spec.shape);
    try {
      if (n > 0) k.runProgram(p, ins.map((w) => w.ptr), n, out.ptr);
      return out;
    } catch (err) {
      k.free(out.ptr);
      throw err;
    } finally {
      for (const w of ins) w.done();
    }
  }),
);

export interface ReduceSpec {
  key: string;
  expr: Expr;
  dtypes: Dtype[];
  op: ReduceOp;
  shape: number[];
  /** Reduce along this axis of the block, or all of it (null). */
  axis: number | null;
  /** For argmin/argmax: where the block sits in the whole array. */
  offset?: number[];
  global?: number[];
}

/** A block's partial reduction: over all its elements (Partial) or along one axis (AxisPartial). */
registerOp("array.reduce", (spec: ReduceSpec, ...blocks: unknown[]) =>
  withKernels((k): Partial | AxisPartial => {
    const n = product(spec.shape);
    const ins = prepareInputs(k, blocks, spec.shape, "array.reduce");
    try {
      if (spec.axis === null) {
        const p = program(k, spec.key, spec.expr, spec.dtypes, spec.op);
        const partial = k.runProgram(p, ins.map((w) => w.ptr), n)!;
        if ((spec.op === "argmin" || spec.op === "argmax") && spec.offset && spec.global) {
          partial.extra = localToGlobal(partial.extra, spec.shape, spec.offset, spec.global);
        }
        return partial;
      }
      // Along an axis: evaluate the expression into a temporary unless it is a plain input.
      const direct = spec.expr.op === "input";
      const p = direct ? undefined : program(k, spec.key, spec.expr, spec.dtypes);
      const dtype = p ? p.dtype : ins[(spec.expr as { index: number }).index]!.dtype;
      const tmp = p ? k.allocArray(dtype, Math.max(1, n)) : -1;
      try {
        if (p && n > 0) k.runProgram(p, ins.map((w) => w.ptr), n, tmp);
        const ptr = p ? tmp : ins[(spec.expr as { index: number }).index]!.ptr;
        const partial = k.reduceAxis(spec.op, { ptr, dtype }, spec.shape, spec.axis);
        return spec.offset && (spec.op === "argmin" || spec.op === "argmax") ? offsetIndex(partial, spec.offset[spec.axis]!) : partial;
      } finally {
        if (tmp >= 0) k.free(tmp);
      }
    } finally {
      for (const w of ins) w.done();
    }
  }),
);

/** Flat index within a block -> flat index within the whole array. */
function localToGlobal(local: number, shape: readonly number[], offset: readonly number[], global: readonly number[]): number {
  let rest = local;
  let at = 0;
  const gs = stridesOf(global);
  for (let a = shape.length - 1; a >= 0; a--) {
    const i = rest % shape[a]!;
    rest = Math.floor(rest / shape[a]!);
    at += (i + offset[a]!) * gs[a]!;
  }
  return at;
}

/** Combine partials in order (earlier chunks first: argmin ties go to the first). */
registerOp("array.combine", (...parts: (Partial | AxisPartial)[]) => {
  if (parts.length === 0) throw new TesseraError("array.combine: nothing to combine");
  let acc = parts[0]!;
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!;
    acc = ArrayBuffer.isView(acc.value) ? combineAxis(acc as AxisPartial, p as AxisPartial) : combine(acc as Partial, p as Partial);
  }
  return acc;
});

export interface FinalizeSpec {
  op: ReduceOp;
  ddof: number;
  dtype: Dtype;
  /** Shape of the output block (keepdims applied). */
  shape: number[];
}

/** The reduced value (0-d or keepdims block) or the block of an axis reduction. */
registerOp("array.finalize", (spec: FinalizeSpec, partial: Partial | AxisPartial) =>
  withKernels((k): Block => {
    if (!ArrayBuffer.isView(partial.value)) {
      const v = castValue(finalize(partial as Partial, { ddof: spec.ddof }), "float64", spec.dtype);
      const data = new (typedArrayOf(spec.dtype))(1);
      data[0] = v;
      return { dtype: spec.dtype, shape: spec.shape, data } satisfies BlockData;
    }
    const values = finalizeAxis(partial as AxisPartial, { ddof: spec.ddof });
    const out = WasmChunk.alloc(k, spec.dtype, spec.shape);
    const view = out.view();
    if (isFloat(spec.dtype) || spec.dtype === "bool") for (let i = 0; i < values.length; i++) view[i] = values[i]!;
    else for (let i = 0; i < values.length; i++) view[i] = castValue(values[i]!, "float64", spec.dtype);
    return out;
  }),
);

function typedArrayOf(dtype: Dtype): new (n: number) => BlockData["data"] {
  switch (dtype) {
    case "float64":
      return Float64Array;
    case "float32":
      return Float32Array;
    case "int32":
      return Int32Array;
    case "int16":
      return Int16Array;
    case "int8":
      return Int8Array;
    case "uint32":
      return Uint32Array;
    case "uint16":
      return Uint16Array;
    default:
      return Uint8Array;
  }
}

export interface CreateSpec {
  kind: "full" | "range" | "eye" | "uniform" | "normal" | "integers";
  dtype: Dtype;
  shape: number[];
  /** full: the value. range: start, step, offset of the block's first element, and (linspace) count + stop. */
  value?: number;
  start?: number;
  step?: number;
  offset?: number;
  count?: number;
  stop?: number;
  /** eye: the block's first row and column, and the diagonal. */
  row0?: number;
  col0?: number;
  k?: number;
  /** random: seed, stream (the block's number), and the distribution's parameters. */
  seed?: number;
  stream?: number;
  low?: number;
  high?: number;
  loc?: number;
  scale?: number;
}

registerOp("array.create", (spec: CreateSpec) =>
  withKernels((k) => {
    const out = WasmChunk.alloc(k, spec.dtype, spec.shape);
    try {
      fill(k, out, spec);
      return out;
    } catch (err) {
      k.free(out.ptr);
      throw err;
    }
  }),
);

function fill(k: Kernels, out: WasmChunk, s: CreateSpec): void {
  const n = out.size;
  if (n === 0) return;
  switch (s.kind) {
    case "full":
      out.view().fill(s.value!);
      return;
    case "range": {
      const v = out.view();
      const start = s.start!;
      const step = s.step!;
      const off = s.offset!;
      for (let i = 0; i < n; i++) v[i] = start + (off + i) * step;
      if (s.count !== undefined && s.stop !== undefined && off + n === s.count && s.count > 1) v[n - 1] = s.stop;
      return;
    }
    case "eye": {
      const v = out.view();
      v.fill(0);
      const [rows, cols] = out.shape as [number, number];
      for (let r = 0; r < rows; r++) {
        const c = s.row0! + r + s.k! - s.col0!;
        if (c >= 0 && c < cols) v[r * cols + c] = 1;
      }
      return;
    }
    case "uniform":
    case "normal": {
      if (s.dtype !== "float64" && s.dtype !== "float32") throw new TesseraError(`random.${s.kind}: dtype must be float64 or float32, got ${s.dtype}`);
      const opts = { seed: s.seed!, stream: s.stream! };
      if (s.kind === "uniform") k.random.uniform(s.dtype, out.ptr, n, opts);
      else k.random.normal(s.dtype, out.ptr, n, opts);
      const a = s.kind === "uniform" ? s.low ?? 0 : s.loc ?? 0;
      const b = s.kind === "uniform" ? (s.high ?? 1) - (s.low ?? 0) : s.scale ?? 1;
      if (a !== 0 || b !== 1) scaleShift(k, out, b, a);
      return;
    }
    case "integers": {
      if (s.dtype !== "int32" && s.dtype !== "float64") throw new TesseraError(`random.integers: dtype must be int32 or float64, got ${s.dtype}`);
      k.random.integers(s.dtype, out.ptr, n, { seed: s.seed!, stream: s.stream!, low: s.low!, high: s.high! });
      return;
    }
  }
}

/** out = out * scale + shift, in place, one pass. */
function scaleShift(k: Kernels, out: WasmChunk, scale: number, shift: number): void {
  const x = { op: "input", index: 0 } as const;
  const expr: Expr = { op: "add", a: { op: "mul", a: x, b: { op: "const", value: scale } }, b: { op: "const", value: shift } };
  const p = program(k, `affine/${out.dtype}/${scale}/${shift}`, expr, [out.dtype]);
  k.runProgram(p, [out.ptr], out.size, out.ptr);
}

export interface AssembleSpec {
  dtype: Dtype;
  /** The output block's shape. */
  shape: number[];
  /** For each input: the region [start, stop) per axis to copy, and where it lands in the output. */
  pieces: { start: number[]; stop: number[]; at: number[] }[];
}

/** Build a block from regions of other blocks (rechunk, slicing, concatenation). */
registerOp("array.assemble", (spec: AssembleSpec, ...blocks: unknown[]) =>
  withKernels((k) => {
    const out = WasmChunk.alloc(k, spec.dtype, spec.shape);
    try {
      spec.pieces.forEach((piece, i) => {
        const b = asBlock(blocks[i], `array.assemble input ${i}`);
        if (b.dtype !== spec.dtype) throw new TesseraError(`array.assemble: input ${i} is ${b.dtype}, expected ${spec.dtype}`);
        const src = b instanceof WasmChunk ? b.view() : b.data;
        copyRegion(src, b.shape, piece.start, piece.stop, out.view(), spec.shape, piece.at);
      });
      return out;
    } catch (err) {
      k.free(out.ptr);
      throw err;
    }
  }),
);
