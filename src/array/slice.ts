/**
 * Basic slicing (numpy's x[1, 2:8:2, ::-1, :]): per axis an integer (the axis goes), a range
 * `{ start, stop, step }` with numpy's defaults, clamping and negative values, or null / ":"
 * for all of it; one "..." stands for as many ":" as needed, and missing trailing axes are ":".
 *
 * Output blocks follow the input blocks, as in dask: along each axis every input block that the
 * range touches gives one output block (its selected elements), so each output block reads
 * exactly one input block and the blocks no range touches are never computed (the client culls
 * them). A negative step walks the blocks backwards.
 *
 *   x chunks [4, 4, 2], x[1:9:3] -> positions 1, 4, 7 -> output chunks [1, 2] from blocks 0, 1
 *
 * An output block that is a whole input block (integer-indexed axes of size 1 dropped or not)
 * is a view of it (`array.reshape`: no copy); any other is an `array.slice` strided copy. (Not a
 * graph Alias: see concatenate.ts.)
 */

import { TesseraError } from "../errors.js";
import { GeneratedLayer } from "../graph/layers.js";
import { Task, TaskRef, blockKey, type GraphNode } from "../graph/task.js";
import { tokenize } from "../graph/tokenize.js";
import { boundaries } from "./chunks.js";
import { ChunkedArray } from "./core.js";
import type { SliceSpec } from "./ops-structure.js";
import { opSpec } from "../graph/spec.js";

/** A range along one axis; omitted or null parts take numpy's defaults. */
export interface Slice {
  start?: number | null;
  stop?: number | null;
  step?: number | null;
}

export type Index = number | Slice | null | ":" | "...";

/** One axis' selection in input coordinates: positions start + t*step for t < count. */
interface Range {
  start: number;
  step: number;
  count: number;
  drop: boolean;
}

/** Output block `j` along an axis reads `count` elements of input block `block` from `start`. */
interface Piece {
  block: number;
  start: number;
  count: number;
}

function rangeOf(ix: Index, n: number, axis: number): Range {
  if (typeof ix === "number") {
    const i = ix < 0 ? ix + n : ix;
    if (!Number.isInteger(ix) || i < 0 || i >= n) throw new TesseraError(`slice: index ${ix} is out of bounds for axis ${axis} with size ${n}`);
    return { start: i, step: 1, count: 1, drop: true };
  }
  if (ix === null || ix === ":") return { start: 0, step: 1, count: n, drop: false };
  if (typeof ix !== "object") throw new TesseraError(`slice: axis ${axis}: expected an integer, { start, stop, step }, null or ":", got ${JSON.stringify(ix)}`);
  const step = ix.step ?? 1;
  for (const [k, v] of [["start", ix.start], ["stop", ix.stop], ["step", step]] as const) {
    if (v !== undefined && v !== null && !Number.isInteger(v)) throw new TesseraError(`slice: axis ${axis}: ${k} must be an integer, got ${v}`);
  }
  if (step === 0) throw new TesseraError(`slice: axis ${axis}: step cannot be zero`);
  const norm = (v: number | null | undefined, dflt: number, lo: number, hi: number) => (v === undefined || v === null ? dflt : Math.min(hi, Math.max(lo, v < 0 ? v + n : v)));
  const start = step > 0 ? norm(ix.start, 0, 0, n) : norm(ix.start, n - 1, -1, n - 1);
  const stop = step > 0 ? norm(ix.stop, n, 0, n) : norm(ix.stop, -1, -1, n - 1);
  return { start, step, count: Math.max(0, Math.ceil((stop - start) / step)), drop: false };
}

/** Index expressions, one per axis ("..." and missing trailing axes expanded to ":"). */
function expand(index: readonly Index[], nd: number): Index[] {
  const ell = index.filter((i) => i === "...").length;
  if (ell > 1) throw new TesseraError(`slice: an index can only have a single "..." (got ${ell})`);
  const given = index.length - ell;
  if (given > nd) throw new TesseraError(`slice: too many indices for an array of ${nd} dimension(s): got ${given}`);
  const fill = new Array<Index>(nd - given).fill(null);
  const at = index.indexOf("...");
  return at < 0 ? [...index, ...fill] : [...index.slice(0, at), ...fill, ...index.slice(at + 1)];
}

/** The input block holding position p (binary search over block boundaries). */
function blockOf(bounds: readonly number[], p: number): number {
  let l = 0;
  let r = bounds.length - 2;
  while (l < r) {
    const m = (l + r + 1) >> 1;
    if (bounds[m]! <= p) l = m;
    else r = m - 1;
  }
  return l;
}

/** Per output block along the axis: which input block and which of its elements. */
function piecesOf(r: Range, bounds: readonly number[]): Piece[] {
  if (r.count === 0) return [{ block: -1, start: 0, count: 0 }];
  const out: Piece[] = [];
  for (let t = 0; t < r.count; ) {
    const p = r.start + t * r.step;
    const b = blockOf(bounds, p);
    const lo = bounds[b]!;
    const hi = bounds[b + 1]!;
    const end = r.step > 0 ? Math.ceil((hi - r.start) / r.step) : Math.floor((r.start - lo) / -r.step) + 1;
    const n = Math.min(r.count, end) - t;
    out.push({ block: b, start: p - lo, count: n });
    t += n;
  }
  return out;
}

export function slice(x: ChunkedArray, index: readonly Index[]): ChunkedArray {
  const ranges = expand(index, x.ndim).map((ix, a) => rangeOf(ix, x.shape[a]!, a));
  if (ranges.every((r, a) => !r.drop && r.step === 1 && r.start === 0 && r.count === x.shape[a])) return x;
  const pieces = ranges.map((r, a) => piecesOf(r, boundaries(x.chunks[a]!)));
  const kept = ranges.flatMap((r, a) => (r.drop ? [] : [a]));
  const chunks = kept.map((a) => pieces[a]!.map((p) => p.count));
  const name = `slice-${tokenize(x.name, ranges)}`;
  const src = x.graph;
  const layer = GeneratedLayer.grid(
    name,
    chunks.map((c) => c.length),
    (outIndex): GraphNode => {
      const key = blockKey(name, outIndex);
      const chosen = ranges.map((r, a) => (r.drop ? pieces[a]![0]! : pieces[a]![outIndex[kept.indexOf(a)]!]!));
      const shape = kept.map((a, i) => chunks[i]![outIndex[i]!]!);
      if (chosen.some((p) => p.block < 0)) return new Task(key, "array.slice", [opSpec<SliceSpec>({ dtype: x.dtype, shape, start: [], step: [], count: [] })]);
      const inKey = blockKey(x.name, chosen.map((p) => p.block));
      const whole = chosen.every((p, a) => p.start === 0 && p.count === x.chunks[a]![p.block] && (ranges[a]!.step === 1 || p.count === 1));
      if (whole) return new Task(key, "array.reshape", [opSpec({ shape }), new TaskRef(inKey)]);
      const spec = opSpec<SliceSpec>({
        dtype: x.dtype,
        shape,
        start: chosen.map((p) => p.start),
        step: ranges.map((r) => r.step),
        count: chosen.map((p) => p.count),
      });
      return new Task(key, "array.slice", [spec, new TaskRef(inKey)]);
    },
    [x.name],
  );
  return new ChunkedArray(src.withLayer(layer), name, chunks.map((c) => c.reduce((s, v) => s + v, 0)), chunks, x.dtype, undefined, x.anchors);
}
