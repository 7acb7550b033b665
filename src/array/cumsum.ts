/**
 * cumsum(axis): running sums along an axis, as dask's cumreduction does it. Each block is
 * summed on its own (`array.cumsum`, the kernel's per-block scan) and then shifted by a carry:
 * the totals, along the axis, of every block before it in its row of blocks.
 *
 *   blocks along the axis     b0        b1              b2
 *   carries                   -         c1 = Σb0        c2 = c1 + Σb1        (a chain, cheap)
 *   output                    cs(b0)    cs(b1) + c1     cs(b2) + c2          (in parallel)
 *
 * A carry is a float64 vector with one entry per position off the axis, computed from the input
 * block (not its scan), so the scans of all blocks run in parallel; only the carries form a
 * chain, one small task per block. Float dtypes may round differently from a single sequential
 * pass (as in dask); integer sums are exact up to 2^53.
 *
 * Dtypes follow the kernel: float32 stays float32, everything else (int, bool) is float64 (there
 * is no int64). With no axis the array is flattened first, as numpy does.
 */

import { MaterializedLayer } from "../graph/layers.js";
import { Task, TaskRef, blockKey, type GraphNode } from "../graph/task.js";
import { tokenize } from "../graph/tokenize.js";
import { cumsumDtype } from "../kernels/ops-reduce.js";
import { blockIndices, normalizeAxis } from "./chunks.js";
import { ChunkedArray } from "./core.js";
import { reshape } from "./reshape.js";
import { opSpec } from "../graph/spec.js";

export function cumsum(x: ChunkedArray, axis?: number | null): ChunkedArray {
  if (axis === undefined || axis === null) return cumsum(reshape(x, [x.size]), 0);
  const ax = normalizeAxis(axis, x.ndim, "cumsum axis");
  const token = tokenize("cumsum", x.name, ax);
  const name = `cumsum-${token}`;
  const carryName = `cumsum-carry-${token}`;
  const spec = opSpec({ axis: ax });
  const nodes: GraphNode[] = [];
  for (const index of blockIndices(x.numblocks)) {
    const j = index[ax]!;
    const carry = j > 0 ? new TaskRef(blockKey(carryName, index)) : null;
    nodes.push(new Task(blockKey(name, index), "array.cumsum", [spec, new TaskRef(blockKey(x.name, index)), carry]));
    if (j === 0) continue;
    const prev = index.map((v, a) => (a === ax ? j - 1 : v));
    const prevCarry = j > 1 ? new TaskRef(blockKey(carryName, prev)) : null;
    nodes.push(new Task(blockKey(carryName, index), "array.cumsumCarry", [spec, prevCarry, new TaskRef(blockKey(x.name, prev))]));
  }
  const base = x.graph.withLayer(new MaterializedLayer(name, nodes, [x.name]));
  return new ChunkedArray(base, name, [...x.shape], x.chunks, cumsumDtype(x.dtype), undefined, x.anchors);
}
