/**
 * reshape(shape): the same elements in row-major order under a new shape (one -1 is inferred).
 *
 * Block-wise, as dask does it: every output block is one input block viewed with another shape
 * (`array.reshape`, no copy). That works when the chunks are compatible, decided group by group.
 * Axes of size 1 aside, the shapes split into minimal groups of axes with equal products:
 *
 *   [4, 6, 5] -> [24, 5]    groups {4, 6} -> {24} and {5} -> {5}
 *
 * Within a group a block must be one contiguous run of the group's row-major order, on both
 * sides: chunks of 1 on the leading axes, any chunks on one axis, whole trailing axes.
 *
 *   [4, 6] chunks [[2, 2], [6]]     -> [24] chunks [[12, 12]]          merge, whole rows
 *   [4, 6] chunks [[1]*4, [3, 3]]   -> [24] chunks [[3]*8]             single rows, split columns
 *   [24]   chunks [[6, 6, 6, 6]]    -> [4, 6] chunks [[1]*4, [6]]      split
 *   [24]   chunks [[3]*8]           -> [4, 6] chunks [[1]*4, [3, 3]]
 *
 * Otherwise the array is first rechunked (the leading axis of each offending group to multiples
 * of what one output row needs, its other axes whole) — dask's default; `{ rechunk: false }`
 * throws instead, naming those chunks.
 */

import { TesseraError } from "../errors.js";
import { GeneratedLayer } from "../graph/layers.js";
import { Task, TaskRef, blockKey } from "../graph/task.js";
import { tokenize } from "../graph/tokenize.js";
import { blockShape, boundaries, product, sameChunks, type Chunks } from "./chunks.js";
import { ChunkedArray } from "./core.js";
import type { SliceSpec } from "./ops-structure.js";
import { assembleFrom } from "./rechunk.js";
import { opSpec } from "../graph/spec.js";

export interface ReshapeOptions {
  /** Rechunk when the chunks do not allow a block-wise reshape (default true); false throws. */
  rechunk?: boolean;
}

const fmt = (s: readonly number[]) => `[${s.join(", ")}]`;
const fmtChunks = (c: Chunks) => `[${c.map(fmt).join(", ")}]`;

function targetShape(x: ChunkedArray, spec: readonly number[] | number): number[] {
  const shape = typeof spec === "number" ? [spec] : [...spec];
  const bad = () => new TesseraError(`reshape: cannot reshape an array of size ${x.size} (shape ${fmt(x.shape)}) into shape ${fmt(shape)}`);
  if (shape.some((d) => !Number.isInteger(d) || d < -1) || shape.filter((d) => d === -1).length > 1) {
    throw new TesseraError(`reshape: shape must hold non-negative integers and at most one -1, got ${fmt(shape)}`);
  }
  const known = product(shape.filter((d) => d !== -1));
  const free = shape.indexOf(-1);
  if (free >= 0) {
    if (known === 0 || x.size % known !== 0) throw bad();
    shape[free] = x.size / known;
  }
  if (product(shape) !== x.size) throw bad();
  return shape;
}

/** Minimal groups of (non-1) input and output axes with equal products. */
function groupsOf(inShape: readonly number[], outShape: readonly number[]): { ins: number[]; outs: number[] }[] {
  const ins = inShape.map((_, a) => a).filter((a) => inShape[a] !== 1);
  const outs = outShape.map((_, a) => a).filter((a) => outShape[a] !== 1);
  const out: { ins: number[]; outs: number[] }[] = [];
  for (let i = 0, o = 0; i < ins.length && o < outs.length; ) {
    const g = { ins: [ins[i]!], outs: [outs[o]!] };
    let pi = inShape[ins[i++]!]!;
    let po = outShape[outs[o++]!]!;
    while (pi !== po) {
      if (pi < po) {
        const a = ins[i++]!;
        g.ins.push(a);
        pi *= inShape[a]!;
      } else {
        const a = outs[o++]!;
        g.outs.push(a);
        po *= outShape[a]!;
      }
    }
    out.push(g);
  }
  return out;
}

/**
 * The output chunks of a group's axes if its input chunks allow a block-wise reshape, else
 * undefined. `seq` is the run length of each input block in the group's row-major order.
 */
function planGroup(ins: readonly number[], outs: readonly number[], inShape: readonly number[], chunks: Chunks, outShape: readonly number[]): number[][] | undefined {
  let p = ins.length - 1;
  while (p > 0 && chunks[ins[p]!]!.length === 1) p--;
  if (ins.slice(0, p).some((a) => chunks[a]!.some((c) => c !== 1))) return undefined;
  const R = product(ins.slice(p + 1).map((a) => inShape[a]!));
  const row = chunks[ins[p]!]!.map((c) => c * R);
  const seq = new Array<number[]>(product(ins.slice(0, p).map((a) => inShape[a]!))).fill(row).flat();
  for (let q = 0; q < outs.length; q++) {
    const Q = product(outs.slice(q + 1).map((a) => outShape[a]!));
    const pattern = repeatingPattern(seq, outShape[outs[q]!]! * Q);
    if (!pattern || pattern.some((l) => l % Q !== 0)) continue;
    return outs.map((a, k) => (k < q ? new Array<number>(outShape[a]!).fill(1) : k === q ? pattern.map((l) => l / Q) : [outShape[a]!]));
  }
  return undefined;
}

/** The lengths within the first span of `period` if every span is cut the same way, else undefined. */
function repeatingPattern(seq: readonly number[], period: number): number[] | undefined {
  const first: number[] = [];
  let span = 0;
  let at = 0;
  let i = 0;
  for (const l of seq) {
    if (at + l > period) return undefined;
    if (span === 0) first.push(l);
    else if (first[i] !== l) return undefined;
    i++;
    at += l;
    if (at === period) {
      if (span > 0 && i !== first.length) return undefined;
      span++;
      at = 0;
      i = 0;
    }
  }
  return first;
}

/** Chunks that always allow the reshape: each group's leading axis in whole output rows, the rest whole. */
function compatibleChunks(x: ChunkedArray, outShape: readonly number[], failing: readonly { ins: number[]; outs: number[] }[]): number[][] {
  const chunks = x.chunks.map((c, a) => (x.shape[a] === 1 ? [1] : [...c]));
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  for (const g of failing) {
    const R = product(g.ins.slice(1).map((a) => x.shape[a]!));
    const Q = product(g.outs.slice(1).map((a) => outShape[a]!));
    const m = Q / gcd(Q, R);
    const lead = g.ins[0]!;
    const dim = x.shape[lead]!;
    const cuts = [...new Set(boundaries(x.chunks[lead]!).map((b) => Math.min(dim, Math.round(b / m) * m)))].sort((a, b) => a - b);
    chunks[lead] = cuts.slice(1).map((b, i) => b - cuts[i]!).filter((c) => c > 0);
    for (const a of g.ins.slice(1)) chunks[a] = [x.shape[a]!];
  }
  return chunks;
}

interface Plan {
  groups: { ins: number[]; outs: number[] }[];
  outChunks: number[][];
  failing: { ins: number[]; outs: number[] }[];
}

function plan(x: ChunkedArray, outShape: readonly number[]): Plan {
  const groups = groupsOf(x.shape, outShape);
  const outChunks = outShape.map(() => [1]);
  const failing = groups.filter((g) => {
    const got = planGroup(g.ins, g.outs, x.shape, x.chunks, outShape);
    got?.forEach((c, k) => (outChunks[g.outs[k]!] = c));
    return got === undefined;
  });
  if (x.shape.some((d, a) => d === 1 && x.chunks[a]!.length !== 1)) failing.push({ ins: [], outs: [] });
  return { groups, outChunks, failing };
}

/** Row-major position of `index` in a grid, and back. */
const ravel = (index: readonly number[], dims: readonly number[]) => index.reduce((n, v, a) => n * dims[a]! + v, 0);
function unravel(n: number, dims: readonly number[]): number[] {
  const out = new Array<number>(dims.length);
  for (let a = dims.length - 1; a >= 0; a--) {
    out[a] = n % dims[a]!;
    n = Math.floor(n / dims[a]!);
  }
  return out;
}

/**
 * Chunks of x's shape under which flattening is block-wise: its blocks, in row-major block
 * order, are consecutive runs of its elements in row-major order. x's own chunks when they are.
 */
export function ravelChunks(x: ChunkedArray): Chunks {
  if (x.ndim <= 1 || x.size === 0) return x.chunks;
  const p = plan(x, [x.size]);
  return p.failing.length === 0 ? x.chunks : compatibleChunks(x, [x.size], p.failing.filter((g) => g.ins.length > 0));
}

export function reshape(x: ChunkedArray, spec: readonly number[] | number, options: ReshapeOptions = {}): ChunkedArray {
  const shape = targetShape(x, spec);
  if (shape.length === x.ndim && shape.every((d, a) => d === x.shape[a])) return x;
  const name = `reshape-${tokenize(x.name, shape)}`;
  if (x.size === 0) {
    const chunks = shape.map((d) => [d]);
    const empty = opSpec<SliceSpec>({ dtype: x.dtype, shape, start: [], step: [], count: [] });
    const layer = GeneratedLayer.grid(name, chunks.map(() => 1), (i) => new Task(blockKey(name, i), "array.slice", [empty]));
    return new ChunkedArray(x.graph.withLayer(layer), name, shape, chunks, x.dtype, undefined, x.anchors);
  }
  let p = plan(x, shape);
  if (p.failing.length > 0) {
    const target = compatibleChunks(x, shape, p.failing.filter((g) => g.ins.length > 0));
    if (options.rechunk === false) {
      throw new TesseraError(
        `reshape: chunks ${fmtChunks(x.chunks)} do not allow reshaping ${fmt(x.shape)} into ${fmt(shape)} block by block; ` +
          `rechunk to ${fmtChunks(target)} first (x.rechunk(...)), or leave the rechunk option on`,
      );
    }
    if (!sameChunks(target, x.chunks)) x = assembleFrom(x, target, "rechunk");
    p = plan(x, shape);
    if (p.failing.length > 0) throw new TesseraError(`internal: reshape ${fmt(x.shape)} -> ${fmt(shape)} found no block-wise plan for chunks ${fmtChunks(x.chunks)}`);
  }
  const src = x;
  const { groups, outChunks } = p;
  const layer = GeneratedLayer.grid(
    name,
    outChunks.map((c) => c.length),
    (index) => {
      const inIndex = src.shape.map(() => 0);
      for (const g of groups) {
        const j = ravel(g.outs.map((a) => index[a]!), g.outs.map((a) => outChunks[a]!.length));
        unravel(j, g.ins.map((a) => src.chunks[a]!.length)).forEach((v, k) => (inIndex[g.ins[k]!] = v));
      }
      const spec = opSpec({ shape: blockShape(outChunks, index) });
      return new Task(blockKey(name, index), "array.reshape", [spec, new TaskRef(blockKey(src.name, inIndex))]);
    },
    [src.name],
  );
  return new ChunkedArray(src.graph.withLayer(layer), name, shape, outChunks, src.dtype, undefined, src.anchors);
}
