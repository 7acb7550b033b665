/**
 * Rechunk: the same array cut into other blocks. Each output block is assembled (one
 * `array.assemble` task) from the regions of the input blocks it overlaps; along every axis
 * the overlaps come from merging the two lists of boundaries, so the task count is the number
 * of output blocks and each reads only the inputs it needs. Slicing and concatenation use the
 * same assembly op.
 */

import { TesseraError } from "../errors.js";
import { GeneratedLayer } from "../graph/layers.js";
import { Task, TaskRef, blockKey } from "../graph/task.js";
import { tokenize } from "../graph/tokenize.js";
import { boundaries, blockShape, normalizeChunks, sameChunks, type Chunks, type ChunksSpec } from "./chunks.js";
import { ChunkedArray } from "./core.js";
import type { AssembleSpec } from "./ops.js";
import { opSpec } from "../graph/spec.js";

/** For one axis: the input blocks overlapping [lo, hi), with the overlap in input-block coordinates. */
export interface AxisPiece {
  block: number;
  start: number;
  stop: number;
  /** Where the overlap lands in the output block. */
  at: number;
}

export function overlaps(inBounds: readonly number[], lo: number, hi: number): AxisPiece[] {
  const out: AxisPiece[] = [];
  // First input block ending after lo (binary search: thousands of blocks are common).
  let l = 0;
  let r = inBounds.length - 2;
  while (l < r) {
    const m = (l + r) >> 1;
    if (inBounds[m + 1]! <= lo) l = m + 1;
    else r = m;
  }
  for (let b = l; b < inBounds.length - 1 && inBounds[b]! < hi; b++) {
    const s = Math.max(lo, inBounds[b]!);
    const e = Math.min(hi, inBounds[b + 1]!);
    if (e > s || (hi === lo && b === l)) out.push({ block: b, start: s - inBounds[b]!, stop: e - inBounds[b]!, at: s - lo });
  }
  return out;
}

/** Cartesian product of per-axis piece lists. */
export function crossPieces(perAxis: readonly AxisPiece[][]): AxisPiece[][] {
  let acc: AxisPiece[][] = [[]];
  for (const pieces of perAxis) {
    const next: AxisPiece[][] = [];
    for (const prefix of acc) for (const p of pieces) next.push([...prefix, p]);
    acc = next;
  }
  return acc;
}

export function rechunk(a: ChunkedArray, spec: ChunksSpec): ChunkedArray {
  const chunks = normalizeChunks(spec, a.shape, a.dtype);
  if (sameChunks(chunks, a.chunks)) return a;
  return assembleFrom(a, chunks, "rechunk");
}

/** An array with `chunks` whose blocks are cut from `a` (same shape). */
export function assembleFrom(a: ChunkedArray, chunks: Chunks, prefix: string): ChunkedArray {
  if (chunks.some((c, ax) => c.reduce((x, y) => x + y, 0) !== a.shape[ax])) {
    throw new TesseraError(`rechunk: chunks [${chunks.map((c) => `[${c}]`)}] do not cover shape [${a.shape}]`);
  }
  const src = a.graph;
  const name = `${prefix}-${tokenize(a.name, chunks)}`;
  const inBounds = a.chunks.map(boundaries);
  const outBounds = chunks.map(boundaries);
  const layer = GeneratedLayer.grid(
    name,
    chunks.map((c) => c.length),
    (index) => {
      const perAxis = index.map((i, ax) => overlaps(inBounds[ax]!, outBounds[ax]![i]!, outBounds[ax]![i + 1]!));
      const combos = crossPieces(perAxis);
      const spec = opSpec<AssembleSpec>({
        dtype: a.dtype,
        shape: blockShape(chunks, index),
        pieces: combos.map((c) => ({ start: c.map((p) => p.start), stop: c.map((p) => p.stop), at: c.map((p) => p.at) })),
      });
      const refs = combos.map((c) => new TaskRef(blockKey(a.name, c.map((p) => p.block))));
      return new Task(blockKey(name, index), "array.assemble", [spec, ...refs]);
    },
    [a.name],
  );
  return new ChunkedArray(src.withLayer(layer), name, a.shape, chunks, a.dtype, undefined, a.anchors);
}
