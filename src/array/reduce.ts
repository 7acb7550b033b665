/**
 * Reductions as tree reductions (dask's `reduction` with split_every):
 *
 *   x blocks      b0  b1  b2  b3  b4  b5  b6  b7  b8
 *   partials      p0  p1  p2  p3  p4  p5  p6  p7  p8     one kernel pass per block, fused with
 *   combine       c(p0..p3)   c(p4..p7)   c(p8)          any pending elementwise expression
 *   combine       c(..)                                   splitEvery inputs per node
 *   finalize      the value (or the output block)
 *
 * Partials are small plain objects (Kernels' Partial / AxisPartial: sum, count, mean, M2, ...),
 * so over all axes they travel inline with worker reports and the combine tasks fetch nothing.
 * Along one axis each output block is reduced over the input blocks of its row. Partials are
 * combined in block order, which keeps argmin/argmax ties on the first occurrence.
 */

import { TesseraError } from "../errors.js";
import { HighLevelGraph, MaterializedLayer } from "../graph/layers.js";
import { Task, TaskRef, blockKey, type GraphNode, type Key } from "../graph/task.js";
import { tokenize } from "../graph/tokenize.js";
import { exprDtype } from "../kernels/lower.js";
import { reduceResultDtype, type ReduceOp } from "../kernels/reduce-state.js";
import type { Expr } from "../kernels/expr.js";
import { blockIndices, blockOffset, blockShape, normalizeAxis } from "./chunks.js";
import { ChunkedArray } from "./core.js";
import { inputBlock } from "./materialize.js";
import type { FinalizeSpec, ReduceSpec } from "./ops.js";
import { opSpec } from "../graph/spec.js";
import { checkSplitEvery, combineTree } from "../graph/tree.js";

export interface ReduceOptions {
  /** An axis, several, or all (default). Negative axes count from the end. */
  axis?: number | readonly number[] | null;
  /** Keep reduced axes with size 1 (numpy's keepdims). */
  keepdims?: boolean;
  /** Inputs per node of the combine tree (default 4). */
  splitEvery?: number;
  /** Delta degrees of freedom for var/std (default 0, like numpy). */
  ddof?: number;
}

/** Ops where reducing axis by axis gives the same answer as all at once. */
const COMPOSABLE = new Set<ReduceOp>(["sum", "prod", "min", "max", "mean", "any", "all"]);

export function reduce(x: ChunkedArray, op: ReduceOp, options: ReduceOptions = {}): ChunkedArray {
  const splitEvery = checkSplitEvery(options.splitEvery ?? 4, op);
  const ddof = options.ddof ?? 0;
  const keepdims = options.keepdims ?? false;
  const nd = x.ndim;
  const axes =
    options.axis === undefined || options.axis === null
      ? [...Array(nd).keys()]
      : [...new Set((typeof options.axis === "number" ? [options.axis] : [...options.axis]).map((a) => normalizeAxis(a, nd, `${op} axis`)))];
  if (x.size === 0 && (op === "min" || op === "max" || op === "argmin" || op === "argmax")) {
    throw new TesseraError(`${op} of an empty array (shape [${x.shape.join(", ")}]) has no value`);
  }
  if (axes.length === nd || nd === 0) return reduceAll(x, op, { splitEvery, ddof, keepdims });
  if (axes.length === 1) return reduceAxis(x, op, axes[0]!, { splitEvery, ddof, keepdims });
  if (!COMPOSABLE.has(op)) {
    throw new TesseraError(`${op} over several axes (${axes.join(", ")}) is not supported; reduce over one axis or all of them`);
  }
  // Highest axis first, so the remaining axis numbers stay valid.
  let out = x;
  for (const a of [...axes].sort((p, q) => q - p)) out = reduceAxis(out, op, a, { splitEvery, ddof, keepdims });
  return out;
}

interface Source {
  expr: Expr;
  inputs: readonly ChunkedArray[];
}

function sourceOf(x: ChunkedArray): Source {
  return x.pending ?? { expr: { op: "input", index: 0 }, inputs: [x] };
}


function reduceAll(x: ChunkedArray, op: ReduceOp, o: { splitEvery: number; ddof: number; keepdims: boolean }): ChunkedArray {
  const src = sourceOf(x);
  const dtypes = src.inputs.map((i) => i.dtype);
  const dtype = reduceResultDtype(op, exprDtype(src.expr, dtypes));
  const token = tokenize(op, x.name, o.keepdims, o.ddof, o.splitEvery);
  const name = `${op}-${token}`;
  const partialName = `${op}-partial-${token}`;
  const key = tokenize(src.expr, dtypes);
  const nodes: GraphNode[] = [];
  const partials: Key[] = [];
  for (const index of blockIndices(x.numblocks)) {
    const spec = opSpec<ReduceSpec>({
      key,
      expr: src.expr,
      dtypes,
      op,
      shape: blockShape(x.chunks, index),
      axis: null,
      offset: blockOffset(x.chunks, index),
      global: [...x.shape],
    });
    const pk = blockKey(partialName, index);
    const refs = src.inputs.map((i) => new TaskRef(blockKey(i.name, inputBlock(i, x.ndim, index))));
    nodes.push(new Task(pk, "array.reduce", [spec, ...refs]));
    partials.push(pk);
  }
  const root = combineTree(partials, `${op}-combine-${token}`, "array.combine", o.splitEvery, nodes);
  const outShape = o.keepdims ? x.shape.map(() => 1) : [];
  const outIndex = outShape.map(() => 0);
  const fin = opSpec<FinalizeSpec>({ op, ddof: o.ddof, dtype, shape: outShape });
  nodes.push(new Task(blockKey(name, outIndex), "array.finalize", [fin, new TaskRef(root)]));
  const layer = new MaterializedLayer(name, nodes, src.inputs.map((i) => i.name));
  const base = HighLevelGraph.merge(...src.inputs.map((i) => i.graph)).withLayer(layer);
  return new ChunkedArray(base, name, outShape, outShape.map(() => [1]), dtype, undefined, x.anchors);
}

function reduceAxis(
  x: ChunkedArray,
  op: ReduceOp,
  axis: number,
  o: { splitEvery: number; ddof: number; keepdims: boolean },
): ChunkedArray {
  const src = sourceOf(x);
  const dtypes = src.inputs.map((i) => i.dtype);
  const dtype = reduceResultDtype(op, exprDtype(src.expr, dtypes));
  const token = tokenize(op, axis, x.name, o.keepdims, o.ddof, o.splitEvery);
  const name = `${op}-${token}`;
  const partialName = `${op}-partial-${token}`;
  const key = tokenize(src.expr, dtypes);
  const outChunks = x.chunks.map((c, a) => (a === axis ? [1] : [...c])).filter((_, a) => o.keepdims || a !== axis);
  const outShape = x.shape.map((d, a) => (a === axis ? 1 : d)).filter((_, a) => o.keepdims || a !== axis);
  const nodes: GraphNode[] = [];
  const along = x.numblocks[axis]!;
  const others = x.numblocks.map((n, a) => (a === axis ? 1 : n));
  for (const outer of blockIndices(others)) {
    const partials: Key[] = [];
    for (let j = 0; j < along; j++) {
      const index = outer.map((v, a) => (a === axis ? j : v));
      const spec = opSpec<ReduceSpec>({
        key,
        expr: src.expr,
        dtypes,
        op,
        shape: blockShape(x.chunks, index),
        axis,
        offset: blockOffset(x.chunks, index),
      });
      const pk = blockKey(partialName, index);
      const refs = src.inputs.map((i) => new TaskRef(blockKey(i.name, inputBlock(i, x.ndim, index))));
      nodes.push(new Task(pk, "array.reduce", [spec, ...refs]));
      partials.push(pk);
    }
    const root = combineTree(partials, `${op}-combine-${token}`, "array.combine", o.splitEvery, nodes, outer);
    const outIndex = outer.filter((_, a) => o.keepdims || a !== axis);
    const fin = opSpec<FinalizeSpec>({ op, ddof: o.ddof, dtype, shape: outIndex.map((i, a) => outChunks[a]![i]!) });
    nodes.push(new Task(blockKey(name, outIndex), "array.finalize", [fin, new TaskRef(root)]));
  }
  const layer = new MaterializedLayer(name, nodes, src.inputs.map((i) => i.name));
  const base = HighLevelGraph.merge(...src.inputs.map((i) => i.graph)).withLayer(layer);
  return new ChunkedArray(base, name, outShape, outChunks, dtype, undefined, x.anchors);
}
