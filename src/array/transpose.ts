/**
 * transpose(axes) / x.T: axis i of the result is axis axes[i] of x (default: reversed).
 *
 * Block (i0, i1, ...) of the result is block (i_axes^-1 ...) of x with its elements permuted:
 * chunks are permuted with the axes, so each output block reads exactly one input block, and
 * `array.transpose` is one strided gather per block (strided.ts).
 */

import { TesseraError } from "../errors.js";
import { GeneratedLayer } from "../graph/layers.js";
import { Task, TaskRef, blockKey } from "../graph/task.js";
import { tokenize } from "../graph/tokenize.js";
import { blockShape } from "./chunks.js";
import { ChunkedArray } from "./core.js";
import type { TransposeSpec } from "./ops-structure.js";
import { opSpec } from "../graph/spec.js";

function checkAxes(axes: readonly number[] | undefined, nd: number): number[] {
  if (axes === undefined) return [...Array(nd).keys()].reverse();
  const norm = [...axes].map((a) => (Number.isInteger(a) && a < 0 ? a + nd : a));
  const ok = norm.length === nd && norm.every((a) => Number.isInteger(a) && a >= 0 && a < nd) && new Set(norm).size === nd;
  if (!ok) throw new TesseraError(`transpose: axes [${axes.join(", ")}] are not a permutation of the ${nd} axes [${[...Array(nd).keys()].join(", ")}]`);
  return norm;
}

export function transpose(x: ChunkedArray, axes?: readonly number[]): ChunkedArray {
  const perm = checkAxes(axes, x.ndim);
  if (perm.every((a, i) => a === i)) return x;
  const chunks = perm.map((a) => [...x.chunks[a]!]);
  const name = `transpose-${tokenize(x.name, perm)}`;
  const layer = GeneratedLayer.grid(
    name,
    chunks.map((c) => c.length),
    (index) => {
      const inIndex = new Array<number>(perm.length);
      perm.forEach((a, i) => (inIndex[a] = index[i]!));
      const spec = opSpec<TransposeSpec>({ dtype: x.dtype, axes: perm, shape: blockShape(chunks, index) });
      return new Task(blockKey(name, index), "array.transpose", [spec, new TaskRef(blockKey(x.name, inIndex))]);
    },
    [x.name],
  );
  return new ChunkedArray(x.graph.withLayer(layer), name, perm.map((a) => x.shape[a]!), chunks, x.dtype, undefined, x.anchors);
}
