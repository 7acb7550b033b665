/**
 * Turning a pending elementwise expression into a layer: one `array.fused` task per output
 * block, reading the matching block of every input (block 0 along axes an input broadcasts
 * over). Inputs were aligned to the output's chunks when the expression was built.
 */

import { GeneratedLayer, HighLevelGraph } from "../graph/layers.js";
import { Task, TaskRef, blockKey } from "../graph/task.js";
import { tokenize } from "../graph/tokenize.js";
import { blockShape } from "./chunks.js";
import type { ChunkedArray, Pending } from "./core.js";
import type { FusedSpec } from "./ops.js";
import { opSpec } from "../graph/spec.js";

/** The index of `input`'s block that feeds output block `index` (numpy broadcasting). */
export function inputBlock(input: ChunkedArray, outNdim: number, index: readonly number[]): number[] {
  const lead = outNdim - input.ndim;
  return input.chunks.map((c, a) => (c.length === 1 ? 0 : index[lead + a]!));
}

export function materialize(a: ChunkedArray, p: Pending): HighLevelGraph {
  const dtypes = p.inputs.map((x) => x.dtype);
  const key = tokenize(p.expr, dtypes);
  const layer = GeneratedLayer.grid(
    a.name,
    a.numblocks,
    (index) => {
      const spec = opSpec<FusedSpec>({ key, expr: p.expr, dtypes, shape: blockShape(a.chunks, index) });
      const refs = p.inputs.map((x) => new TaskRef(blockKey(x.name, inputBlock(x, a.ndim, index))));
      return new Task(blockKey(a.name, index), "array.fused", [spec, ...refs]);
    },
    p.inputs.map((x) => x.name),
  );
  return a.base.withLayer(layer);
}

export { HighLevelGraph };
