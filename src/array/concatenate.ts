/**
 * Joining arrays: concatenate (along an existing axis) and stack (along a new one).
 *
 * Neither copies a byte of a block in wasm memory. Off the joining axis the arrays are given the
 * first one's chunks (rechunking the others where they differ), dtypes are promoted as numpy
 * does, and then every output block is a view (`array.reshape`, blockview.ts) of one input block:
 *
 *   concatenate  output block (.., j, ..) is input block (.., j - offset, ..) of the array that
 *                holds position j along the axis, under the same shape;
 *   stack        output block (.., i, ..) is block (..) of array i with a size-1 axis inserted.
 *
 * Why a view task and not a graph Alias (one stored value under two keys): a worker may move a
 * value to another thread by transferring its buffer, which detaches it under every key. That is
 * harmless for blocks in wasm memory (their wire form is a copy) but not for plain blocks, and a
 * block fetched from another worker is plain. A view task costs the same one task as an Alias.
 */

import { TesseraError } from "../errors.js";
import { GeneratedLayer, HighLevelGraph } from "../graph/layers.js";
import { Task, TaskRef, blockKey } from "../graph/task.js";
import { tokenize } from "../graph/tokenize.js";
import { promoteTypes, type Dtype } from "../kernels/dtypes.js";
import { blockShape, normalizeAxis, sameChunks } from "./chunks.js";
import { ChunkedArray, type Anchor } from "./core.js";
import { astype } from "./elementwise.js";
import { assembleFrom } from "./rechunk.js";
import { opSpec } from "../graph/spec.js";

const fmt = (s: readonly number[]) => `[${s.join(", ")}]`;

/** Check the inputs, promote dtypes, and align chunks off `axis` (null: on every axis) to the first array's. */
function prepare(what: string, arrays: readonly ChunkedArray[], axis: number | null): ChunkedArray[] {
  if (!(arrays?.length > 0)) throw new TesseraError(`${what}: needs a non-empty list of arrays`);
  arrays.forEach((a, i) => {
    if (!(a instanceof ChunkedArray)) {
      throw new TesseraError(`${what}: arrays[${i}] is not a ChunkedArray (an array of unknown chunk sizes needs await y.computeChunkSizes() first)`);
    }
  });
  const first = arrays[0]!;
  arrays.forEach((a, i) => {
    const ok = a.ndim === first.ndim && a.shape.every((d, ax) => ax === axis || d === first.shape[ax]);
    if (!ok) {
      const rule = axis === null ? "the same shape" : `the same shape except along axis ${axis}`;
      throw new TesseraError(`${what}: all arrays must have ${rule}; arrays[0] has shape ${fmt(first.shape)}, arrays[${i}] has ${fmt(a.shape)}`);
    }
  });
  let dtype: Dtype = first.dtype;
  try {
    for (const a of arrays) dtype = promoteTypes(dtype, a.dtype);
  } catch (err) {
    throw new TesseraError(`${what}: ${(err as Error).message}`, { cause: err });
  }
  return arrays.map((a) => {
    const cast = astype(a, dtype);
    const target = first.chunks.map((c, ax) => (ax === axis ? cast.chunks[ax]! : c));
    return sameChunks(target, cast.chunks) ? cast : assembleFrom(cast, target, "align");
  });
}

function joined(parts: readonly ChunkedArray[], layer: GeneratedLayer, shape: number[], chunks: number[][]): ChunkedArray {
  const base = HighLevelGraph.merge(...parts.map((p) => p.graph)).withLayer(layer);
  const anchors: Anchor[] = [...new Set(parts.flatMap((p) => p.anchors))];
  return new ChunkedArray(base, layer.name, shape, chunks, parts[0]!.dtype, undefined, anchors);
}

/** numpy.concatenate: the arrays one after another along `axis` (default 0). */
export function concatenate(arrays: readonly ChunkedArray[], axis = 0): ChunkedArray {
  const nd = arrays[0] instanceof ChunkedArray ? arrays[0].ndim : 0;
  if (nd === 0 && arrays[0] instanceof ChunkedArray) throw new TesseraError("concatenate: zero-dimensional arrays cannot be concatenated");
  const ax = normalizeAxis(axis, Math.max(nd, 1), "concatenate axis");
  let parts = prepare("concatenate", arrays, ax);
  if (parts.some((p) => p.shape[ax]! > 0)) parts = parts.filter((p) => p.shape[ax]! > 0);
  if (parts.length === 1) return parts[0]!;
  // Along the axis: output block j comes from block `local[j]` of part `owner[j]`.
  const owner: number[] = [];
  const local: number[] = [];
  parts.forEach((p, i) => p.chunks[ax]!.forEach((_, j) => (owner.push(i), local.push(j))));
  const chunks = parts[0]!.chunks.map((c, a) => (a === ax ? parts.flatMap((p) => p.chunks[ax]!) : [...c]));
  const shape = chunks.map((c) => c.reduce((s, v) => s + v, 0));
  const name = `concatenate-${tokenize(parts.map((p) => p.name), ax)}`;
  const layer = GeneratedLayer.grid(
    name,
    chunks.map((c) => c.length),
    (index) => {
      const j = index[ax]!;
      const src = blockKey(parts[owner[j]!]!.name, index.map((v, a) => (a === ax ? local[j]! : v)));
      return new Task(blockKey(name, index), "array.reshape", [opSpec({ shape: blockShape(chunks, index) }), new TaskRef(src)]);
    },
    parts.map((p) => p.name),
  );
  return joined(parts, layer, shape, chunks);
}

/** numpy.stack: the arrays (all of one shape) along a new axis `axis` (default 0). */
export function stack(arrays: readonly ChunkedArray[], axis = 0): ChunkedArray {
  const parts = prepare("stack", arrays, null);
  const first = parts[0]!;
  const ax = normalizeAxis(axis, first.ndim + 1, "stack axis");
  const chunks = [...first.chunks.map((c) => [...c])];
  chunks.splice(ax, 0, parts.map(() => 1));
  const shape = [...first.shape];
  shape.splice(ax, 0, parts.length);
  const name = `stack-${tokenize(parts.map((p) => p.name), ax)}`;
  const layer = GeneratedLayer.grid(
    name,
    chunks.map((c) => c.length),
    (index) => {
      const inIndex = index.filter((_, a) => a !== ax);
      const src = parts[index[ax]!]!;
      const spec = opSpec({ shape: blockShape(chunks, index) });
      return new Task(blockKey(name, index), "array.reshape", [spec, new TaskRef(blockKey(src.name, inIndex))]);
    },
    parts.map((p) => p.name),
  );
  return joined(parts, layer, shape, chunks);
}
