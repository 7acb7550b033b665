/**
 * histogram and bincount (dask.array.histogram / bincount): counts per block, summed.
 *
 *   blocks      b0   b1   b2   b3   ...      `array.histogram` / `array.bincount`: a Float64Array
 *   sums        add(c0..c3)  add(...)        `array.addCounts`, a tree (splitEvery, default 4)
 *   result      one float64 block            `array.counts` (density applied here)
 *
 * Counts are float64 (numpy's int64; exact up to 2^53). histogram flattens the array; with a
 * number of bins it needs `range` (so do numpy's chunked cousins: the edges must be known
 * before any block is read), or explicit increasing `bins` edges. Values outside the edges are
 * not counted; the last bin includes its right edge.
 *
 * bincount needs a 1-d array of non-negative integers. Its length is max(x) + 1, unknown until
 * computed: without minlength the result is an UnknownChunksArray; with minlength it is a
 * ChunkedArray of exactly that length, and a value past it is an error at compute time (numpy
 * would lengthen the result; a declared shape cannot change, and dask would silently disagree
 * with its own chunks).
 */

import { TesseraError } from "../errors.js";
import { MaterializedLayer } from "../graph/layers.js";
import { Task, TaskRef, blockKey, type GraphNode } from "../graph/task.js";
import { tokenize } from "../graph/tokenize.js";
import { isFloat } from "../kernels/dtypes.js";
import { uniformEdges, type HistogramBins } from "../kernels/ops-reduce.js";
import { ChunkedArray } from "./core.js";
import type { CountsSpec } from "./ops-structure.js";
import { opSpec } from "../graph/spec.js";
import { checkSplitEvery, combineTree } from "../graph/tree.js";
import { lengthsOfBlocks, UnknownChunksArray } from "./unknown.js";

export interface HistogramOptions {
  /** Number of equal bins over `range` (default 10), or the bin edges (increasing). */
  bins?: number | ArrayLike<number>;
  /** [min, max] of the equal bins (required with a number of bins). */
  range?: readonly [number, number];
  /** Counts divided by (total count × bin width), so they integrate to 1. */
  density?: boolean;
  splitEvery?: number;
}

export interface Histogram {
  /** Float64 counts (or densities), one per bin: lazy, like everything else. */
  counts: ChunkedArray;
  edges: Float64Array;
}

/** Per-block tasks of `op`, summed by a tree, finished by `array.counts`. */
function countsLayer(x: ChunkedArray, what: string, op: string, spec: object, counts: CountsSpec, splitEvery: number): MaterializedLayer {
  const token = tokenize(what, x.name, spec, counts, splitEvery);
  const name = `${what}-${token}`;
  const nodes: GraphNode[] = x.keys().map((k, i) => new Task(blockKey(`${what}-partial-${token}`, [i]), op, [opSpec(spec), new TaskRef(k)]));
  const root = combineTree(nodes.map((n) => n.key), `${what}-sum-${token}`, "array.addCounts", splitEvery, nodes);
  nodes.push(new Task(blockKey(name, [0]), "array.counts", [opSpec(counts), new TaskRef(root)]));
  return new MaterializedLayer(name, nodes, [x.name]);
}

export function histogram(x: ChunkedArray, options: HistogramOptions = {}): Histogram {
  const bins = options.bins ?? 10;
  let spec: HistogramBins;
  let edges: Float64Array;
  if (typeof bins === "number") {
    if (!options.range) {
      throw new TesseraError(`histogram: ${bins} equal bins need a range: [min, max] (e.g. from await x.min().item() and x.max()), or pass the edges as bins`);
    }
    const range: [number, number] = [options.range[0], options.range[1]];
    edges = uniformEdges(bins, range);
    spec = { bins, range };
  } else {
    edges = Float64Array.from(bins);
    if (edges.length < 2) throw new TesseraError(`histogram: bins needs at least 2 edges, got ${edges.length}`);
    edges.forEach((e, i) => {
      if (i > 0 && !(edges[i - 1]! < e)) throw new TesseraError(`histogram: bin edges must increase; edges[${i - 1}] = ${edges[i - 1]} >= edges[${i}] = ${e}`);
    });
    spec = { edges: [...edges] };
  }
  const nbins = edges.length - 1;
  const counts: CountsSpec = { length: nbins, density: options.density ? [...edges] : null, what: "histogram" };
  const layer = countsLayer(x, "histogram", "array.histogram", { bins: spec }, counts, checkSplitEvery(options.splitEvery ?? 4, "histogram"));
  const result = new ChunkedArray(x.graph.withLayer(layer), layer.name, [nbins], [[nbins]], "float64", undefined, x.anchors);
  return { counts: result, edges };
}

export interface BincountOptions {
  /** The length of the result, known up front (numpy's least length; here also a limit). */
  minlength?: number;
  splitEvery?: number;
}

export function bincount(x: ChunkedArray, options: { minlength: number; splitEvery?: number }): ChunkedArray;
export function bincount(x: ChunkedArray, options?: { minlength?: undefined; splitEvery?: number }): UnknownChunksArray;
export function bincount(x: ChunkedArray, options?: BincountOptions): ChunkedArray | UnknownChunksArray;
export function bincount(x: ChunkedArray, options: BincountOptions = {}): ChunkedArray | UnknownChunksArray {
  if (x.ndim !== 1) throw new TesseraError(`bincount: needs a 1-d array, got shape [${x.shape.join(", ")}] (flatten it with x.reshape([-1]))`);
  if (isFloat(x.dtype)) throw new TesseraError(`bincount: needs an integer array, got ${x.dtype} (astype to int32 first)`);
  const minlength = options.minlength;
  if (minlength !== undefined && (!Number.isInteger(minlength) || minlength < 0)) {
    throw new TesseraError(`bincount: minlength must be a non-negative integer, got ${minlength}`);
  }
  const counts: CountsSpec = { length: minlength ?? null, density: null, what: "bincount" };
  const layer = countsLayer(x, "bincount", "array.bincount", { minlength: minlength ?? 0 }, counts, checkSplitEvery(options.splitEvery ?? 4, "bincount"));
  const base = x.graph.withLayer(layer);
  if (minlength !== undefined) return new ChunkedArray(base, layer.name, [minlength], [[minlength]], "float64", undefined, x.anchors);
  return new UnknownChunksArray(base, layer.name, 1, "float64", lengthsOfBlocks(layer.name, 1), x.anchors);
}
