/**
 * Elementwise operations build expressions, not tasks. An operand that is itself a pending
 * expression of the same shape is inlined, so a chain of methods becomes one expression over
 * the arrays at its leaves; a block of the result is then one kernel pass over the matching
 * blocks of those arrays (materialize.ts), with no intermediate arrays.
 *
 * Operands broadcast as in numpy. Chunks are aligned first: along each output axis, arrays
 * that are not broadcast there are rechunked to the chunks of the first such array.
 * Scalars are weak (numpy 2): `x.mul(2)` keeps x's dtype.
 */

import { TesseraError } from "../errors.js";
import { HighLevelGraph } from "../graph/layers.js";
import { tokenize } from "../graph/tokenize.js";
import { checkDtype, type Dtype } from "../kernels/dtypes.js";
import { children, type BinaryOp, type Expr, type UnaryOp } from "../kernels/expr.js";
import { exprDtype } from "../kernels/lower.js";
import { sameChunks, type Chunks } from "./chunks.js";
import { ChunkedArray, type Anchor } from "./core.js";
import { assembleFrom } from "./rechunk.js";

export type Operand = ChunkedArray | number | boolean;

/** Past these sizes an operand is computed as its own array rather than inlined. */
const MAX_NODES = 48;
const MAX_INPUTS = 8;

export function broadcastShapes(shapes: readonly (readonly number[])[], what: string): number[] {
  const nd = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(nd).fill(1);
  for (const s of shapes) {
    const lead = nd - s.length;
    s.forEach((d, a) => {
      const cur = out[lead + a]!;
      if (d === cur || d === 1) return;
      if (cur === 1) out[lead + a] = d;
      else throw new TesseraError(`${what}: shapes ${shapes.map((x) => `[${x.join(", ")}]`).join(" and ")} do not broadcast (axis ${lead + a}: ${cur} vs ${d})`);
    });
  }
  return out;
}

function countNodes(e: Expr): number {
  const seen = new Set<Expr>();
  const stack = [e];
  while (stack.length > 0) {
    const x = stack.pop()!;
    if (seen.has(x)) continue;
    seen.add(x);
    stack.push(...children(x));
  }
  return seen.size;
}

/** Rename input(i) to input(map[i]) throughout an expression. */
function remap(e: Expr, map: readonly number[]): Expr {
  if (e.op === "input") return { op: "input", index: map[e.index]! };
  if (e.op === "const") return e;
  const out: Record<string, unknown> = { ...e };
  for (const k of ["a", "b", "cond", "lo", "hi"] as const) {
    const child = (e as Record<string, unknown>)[k];
    if (child !== undefined) out[k] = remap(child as Expr, map);
  }
  return out as Expr;
}

/** Align an array's chunks with the output's along the axes where it is not broadcast. */
function align(x: ChunkedArray, outChunks: Chunks): ChunkedArray {
  const lead = outChunks.length - x.ndim;
  const target = x.chunks.map((c, a) => (x.shape[a] === 1 ? c : outChunks[lead + a]!));
  return sameChunks(target, x.chunks) ? x : assembleFrom(x, target, "align");
}

/**
 * The array of `build(args)`, where args are the operands as expressions. `what` names the
 * operation in errors and keys.
 */
export function elementwise(what: string, operands: readonly Operand[], build: (args: Expr[]) => Expr): ChunkedArray {
  const arrays = operands.filter((o): o is ChunkedArray => o instanceof ChunkedArray);
  if (arrays.length === 0) throw new TesseraError(`${what}: needs at least one array operand`);
  for (const o of operands) {
    if (!(o instanceof ChunkedArray) && typeof o !== "number" && typeof o !== "boolean") {
      throw new TesseraError(`${what}: operands must be arrays or numbers, got ${o === null ? "null" : typeof o}`);
    }
  }
  const shape = broadcastShapes(
    arrays.map((x) => x.shape),
    what,
  );
  const nd = shape.length;
  // Output chunks: along each axis, from the first array that spans it (not broadcast there).
  const chunks: number[][] = shape.map((d, a) => {
    for (const x of arrays) {
      const ax = a - (nd - x.ndim);
      if (ax >= 0 && x.shape[ax] === d) return [...x.chunks[ax]!];
    }
    return [d];
  });

  const inputs: ChunkedArray[] = [];
  const inputIndex = (x: ChunkedArray): number => {
    const i = inputs.findIndex((y) => y.name === x.name);
    if (i >= 0) return i;
    inputs.push(x);
    return inputs.length - 1;
  };
  const args: Expr[] = operands.map((o) => {
    if (!(o instanceof ChunkedArray)) return { op: "const", value: typeof o === "boolean" ? Number(o) : o };
    const x = align(o, chunks);
    const inline =
      x.pending !== undefined &&
      x.shape.length === nd &&
      x.shape.every((d, a) => d === shape[a]) &&
      countNodes(x.pending.expr) < MAX_NODES &&
      inputs.length + x.pending.inputs.length <= MAX_INPUTS;
    if (inline) return remap(x.pending!.expr, x.pending!.inputs.map(inputIndex));
    return { op: "input", index: inputIndex(x) };
  });
  const expr = build(args);
  let dtype: Dtype;
  try {
    dtype = exprDtype(
      expr,
      inputs.map((x) => x.dtype),
    );
  } catch (err) {
    throw new TesseraError(`${what}: ${(err as Error).message} (dtypes: ${inputs.map((x) => x.dtype).join(", ")})`, { cause: err });
  }
  const name = `${what}-${tokenize(expr, inputs.map((x) => x.name))}`;
  const base = HighLevelGraph.merge(...inputs.map((x) => x.graph));
  const anchors: Anchor[] = [...new Set(inputs.flatMap((x) => x.anchors))];
  return new ChunkedArray(base, name, shape, chunks, dtype, { expr, inputs }, anchors);
}

export function unaryOp(op: UnaryOp, x: ChunkedArray): ChunkedArray {
  return elementwise(op, [x], ([a]) => ({ op, a: a! }));
}

export function binaryOp(op: BinaryOp, x: Operand, y: Operand): ChunkedArray {
  return elementwise(op, [x, y], ([a, b]) => ({ op, a: a!, b: b! }));
}

export function where(cond: Operand, x: Operand, y: Operand): ChunkedArray {
  return elementwise("where", [cond, x, y], ([c, a, b]) => ({ op: "where", cond: c!, a: a!, b: b! }));
}

export function clip(x: ChunkedArray, lo: Operand, hi: Operand): ChunkedArray {
  return elementwise("clip", [x, lo, hi], ([a, l, h]) => ({ op: "clip", a: a!, lo: l!, hi: h! }));
}

export function astype(x: ChunkedArray, dtype: Dtype | "bool"): ChunkedArray {
  const d = checkDtype(dtype, "astype dtype");
  if (d === x.dtype) return x;
  return elementwise("astype", [x], ([a]) => ({ op: "astype", a: a!, dtype: d }));
}
