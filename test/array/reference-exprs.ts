// Random elementwise expressions over a case's inputs, for the reference tests: scalars, inputs, exact chains.
import {
  prod, randomChunks, randomValues, broadcastShapeOf, DTYPES, type Case, type D, type Ref, type Rng
} from "./reference-helpers.js";
import { evalRef, RefError, type BinOp, type Node } from "./reference-semantics.js";

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

export const scalarFor = (r: Rng, d: D, op: string): number => r.pick(op === "pow" ? EXPONENTS[d] : SCALARS[d]);

/** The inputs of an elementwise case: x, y (x's shape), z, w (broadcasting shapes), m (a bool mask). */
export interface Inputs {
  refs: Ref[];
  /** Chunks of every input, per chunking. */
  chunks: [number[][][], number[][][]];
}

export function makeInputs(c: Case, dtypes: readonly D[]): Inputs {
  const r = c.rng;
  const shapes = [c.shape, c.shape, broadcastShapeOf(r, c.shape, 0.4), broadcastShapeOf(r, c.shape, 0.5), c.shape];
  const refs = shapes.map((shape, i) => {
    const dtype = i === 4 ? "bool" : dtypes[i]!;
    return { dtype, shape, data: randomValues(r, dtype, prod(shape), true) };
  });
  const own = (i: number, which: 0 | 1) => (i === 0 ? (which === 0 ? c.chunksA : c.chunksB) : randomChunks(r, shapes[i]!));
  return { refs, chunks: [shapes.map((_, i) => own(i, 0)), shapes.map((_, i) => own(i, 1))] };
}

export const IN = (i: number): Node => ({ k: "in", i });

/** A random chain of exact ops over the inputs (what fusion turns into one program per block). */
export function exactChain(r: Rng, refs: readonly Ref[], length: number): Node {
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
