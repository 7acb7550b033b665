/**
 * Boolean-mask selection: `x.mask(m)` is numpy's / dask's x[m] for a bool array m of x's shape,
 * the elements where m is true in row-major order, as a 1-d array.
 *
 * Block b of the result is `array.compress(x[b], m[b])`, so the result has one block per block
 * of x, of a length nobody knows before the mask is computed. For the blocks' selections to come
 * out in row-major order, x is first given chunks under which its blocks are consecutive runs of
 * the flattened array (whole trailing axes: reshape.ts's ravelChunks, as dask ravels first), and
 * m the same chunks. We represent that as an UnknownChunksArray (unknown.ts) rather than guessing:
 * compute() and reductions need no lengths, and `computeChunkSizes()` gets them from one count
 * task per mask block — an `array.reduce` sum fused with the mask's pending expression
 * (`x.gt(0)`), so counting reads only what the mask reads and materializes nothing.
 */

import { TesseraError } from "../errors.js";
import { GeneratedLayer, HighLevelGraph } from "../graph/layers.js";
import { Task, TaskRef, blockKey, type Key } from "../graph/task.js";
import { tokenize } from "../graph/tokenize.js";
import { finalize, type Partial } from "../kernels/reduce-state.js";
import { blockIndices, blockNumber, blockShape, sameChunks, type Chunks } from "./chunks.js";
import { ChunkedArray } from "./core.js";
import { inputBlock } from "./materialize.js";
import type { ReduceSpec } from "./ops.js";
import { assembleFrom } from "./rechunk.js";
import { ravelChunks } from "./reshape.js";
import { opSpec } from "../graph/spec.js";
import { UnknownChunksArray, type Lengths } from "./unknown.js";

export function mask(x: ChunkedArray, m: ChunkedArray): UnknownChunksArray {
  if (!(m instanceof ChunkedArray)) throw new TesseraError(`mask: the mask must be a ChunkedArray of bools, got ${m === null ? "null" : typeof m}`);
  if (m.dtype !== "bool") {
    throw new TesseraError(`mask: the mask must have dtype bool, got ${m.dtype} (make one with a comparison such as x.gt(0), or m.astype("bool"))`);
  }
  if (m.ndim !== x.ndim || m.shape.some((d, a) => d !== x.shape[a])) {
    throw new TesseraError(`mask: a boolean mask must have the array's shape; mask shape [${m.shape.join(", ")}] vs array shape [${x.shape.join(", ")}]`);
  }
  const chunks = ravelChunks(x);
  x = rechunkTo(x, chunks);
  const aligned = rechunkMask(m, chunks);
  const name = `mask-${tokenize(x.name, aligned.name)}`;
  const nb = x.numblocks;
  const layer = GeneratedLayer.grid(
    name,
    [x.keys().length],
    ([i]) => {
      const index = unravel(i!, nb);
      const refs = [new TaskRef(blockKey(x.name, index)), new TaskRef(blockKey(aligned.name, index))];
      return new Task(blockKey(name, [i!]), "array.compress", [opSpec({ dtype: x.dtype }), ...refs]);
    },
    [x.name, aligned.name],
  );
  const base = HighLevelGraph.merge(x.graph, aligned.graph).withLayer(layer);
  const anchors = [...new Set([...x.anchors, ...aligned.anchors])];
  return new UnknownChunksArray(base, name, x.keys().length, x.dtype, countLengths(aligned), anchors);
}

const rechunkTo = (a: ChunkedArray, chunks: Chunks): ChunkedArray => (sameChunks(a.chunks, chunks) ? a : assembleFrom(a, chunks, "rechunk"));

/**
 * The mask with `chunks`. A pending mask (x.gt(0)) stays pending: its inputs are rechunked
 * instead (as elementwise.ts aligns operands), so counting can still fuse with its expression.
 */
function rechunkMask(m: ChunkedArray, chunks: Chunks): ChunkedArray {
  if (sameChunks(m.chunks, chunks)) return m;
  if (!m.pending) return rechunkTo(m, chunks);
  const { expr } = m.pending;
  const inputs = m.pending.inputs.map((i) => {
    const lead = m.ndim - i.ndim;
    return rechunkTo(i, i.chunks.map((c, a) => (i.shape[a] === 1 ? c : chunks[lead + a]!)));
  });
  const name = `${m.name.slice(0, m.name.lastIndexOf("-"))}-${tokenize(expr, inputs.map((i) => i.name))}`;
  const base = HighLevelGraph.merge(...inputs.map((i) => i.graph));
  return new ChunkedArray(base, name, m.shape, chunks, m.dtype, { expr, inputs }, m.anchors);
}

/** Block number -> block index (row-major). */
function unravel(n: number, numblocks: readonly number[]): number[] {
  const out = new Array<number>(numblocks.length);
  for (let a = numblocks.length - 1; a >= 0; a--) {
    out[a] = n % numblocks[a]!;
    n = Math.floor(n / numblocks[a]!);
  }
  return out;
}

/** One fused `array.reduce` sum of the mask's expression per block: the number of trues. */
function countLengths(m: ChunkedArray): Lengths {
  const src = m.pending ?? { expr: { op: "input", index: 0 } as const, inputs: [m] };
  const dtypes = src.inputs.map((i) => i.dtype);
  const key = tokenize(src.expr, dtypes);
  const name = `count-${tokenize("count", m.name)}`;
  const keys: Key[] = [];
  for (const index of blockIndices(m.numblocks)) keys.push(blockKey(name, [blockNumber(m.numblocks, index)]));
  const layer = GeneratedLayer.grid(
    name,
    [keys.length],
    ([i]) => {
      const index = unravel(i!, m.numblocks);
      const spec = opSpec<ReduceSpec>({ key, expr: src.expr, dtypes, op: "sum", shape: blockShape(m.chunks, index), axis: null });
      const refs = src.inputs.map((inp) => new TaskRef(blockKey(inp.name, inputBlock(inp, m.ndim, index))));
      return new Task(blockKey(name, [i!]), "array.reduce", [spec, ...refs]);
    },
    src.inputs.map((i) => i.name),
  );
  const graph = HighLevelGraph.merge(...src.inputs.map((i) => i.graph)).withLayer(layer);
  return { graph, keys, read: (v) => finalize(v as Partial) };
}
