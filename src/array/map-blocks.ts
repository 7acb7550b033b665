/**
 * mapBlocks(op, ...arrays, options): run a registered op (a user module's export, registered
 * with client.registerModule, or a built-in) on matching blocks of one or more arrays — dask's
 * map_blocks, with the function named instead of shipped.
 *
 * The op gets plain blocks `{ dtype, shape, data }` that it owns: copies (for a block in wasm
 * memory, its wire form), which it may keep, modify or return. A view into wasm memory would be
 * one copy cheaper but is detached by the next memory growth and would alias a stored block;
 * user code should not have to know either. The `args` given follow the blocks. It returns a block, a typed array, or (for one-element blocks) a number, which is
 * checked against the declared dtype and block shape and copied into wasm memory.
 *
 * Per output block that is one Fused node: `array.toPlain` for each input block, the op, then
 * `array.fromPlain`, run back to back on one worker. The plain copies live only inside that
 * task, so no other task ever sees what the op did to them, and nothing extra is stored.
 *
 * Arrays of one shape are aligned to the first's chunks; arrays of other shapes must have the
 * same number of blocks per axis (or one, which every block then gets). Output chunks default to
 * the first array's; `chunks` gives them when blocks change shape (per axis a size for every
 * block, or the sizes of each).
 */

import { TesseraError } from "../errors.js";
import { GeneratedLayer, HighLevelGraph } from "../graph/layers.js";
import { Fused, Task, TaskRef, blockKey } from "../graph/task.js";
import { tokenize } from "../graph/tokenize.js";
import { checkDtype, type Dtype } from "../kernels/dtypes.js";
import { blockShape, sameChunks } from "./chunks.js";
import { ChunkedArray, type Anchor } from "./core.js";
import type { FromPlainSpec } from "./ops-structure.js";
import { assembleFrom } from "./rechunk.js";
import { opSpec } from "../graph/spec.js";

export interface MapBlocksOptions {
  /** Dtype of the result (default: the first array's). */
  dtype?: Dtype;
  /** Output chunks, per axis: one size for every block, or each block's size. */
  chunks?: readonly (number | readonly number[])[];
  /** Plain values passed to the op after the blocks. */
  args?: readonly unknown[];
  /** Prefix of the result's keys (default: the op name). */
  name?: string;
}

export type MapBlocksArgs = ChunkedArray[] | [...ChunkedArray[], MapBlocksOptions];

function split(rest: readonly unknown[]): [ChunkedArray[], MapBlocksOptions] {
  const last = rest[rest.length - 1];
  const proto = typeof last === "object" && last !== null ? Object.getPrototypeOf(last) : undefined;
  const hasOptions = proto === Object.prototype || proto === null;
  const arrays = (hasOptions ? rest.slice(0, -1) : rest) as ChunkedArray[];
  if (arrays.length === 0) throw new TesseraError("mapBlocks: needs at least one array");
  arrays.forEach((a, i) => {
    if (!(a instanceof ChunkedArray)) throw new TesseraError(`mapBlocks: argument ${i + 1} is not a ChunkedArray (pass options last)`);
  });
  return [arrays, hasOptions ? (last as MapBlocksOptions) : {}];
}

/** The inputs aligned, and the number of blocks of the result along each axis. */
function align(arrays: ChunkedArray[]): [ChunkedArray[], number[]] {
  const first = arrays[0]!;
  if (arrays.every((a) => a.ndim === first.ndim && a.shape.every((d, ax) => d === first.shape[ax]))) {
    return [arrays.map((a) => (sameChunks(a.chunks, first.chunks) ? a : assembleFrom(a, first.chunks, "align"))), first.numblocks];
  }
  const nb = first.numblocks.map((_, ax) => Math.max(...arrays.map((a) => a.numblocks[ax] ?? 1)));
  arrays.forEach((a, i) => {
    if (a.ndim !== first.ndim || a.numblocks.some((n, ax) => n !== nb[ax] && n !== 1)) {
      throw new TesseraError(
        `mapBlocks: arrays of different shapes need the same number of blocks per axis (or 1); ` +
          `array 0 has shape [${first.shape}] in [${first.numblocks}] blocks, array ${i} has shape [${a.shape}] in [${a.numblocks}] blocks`,
      );
    }
  });
  return [arrays, nb];
}

function outChunks(spec: MapBlocksOptions["chunks"], first: ChunkedArray, nb: readonly number[]): number[][] {
  if (spec === undefined) {
    if (first.numblocks.some((n, ax) => n !== nb[ax])) throw new TesseraError("mapBlocks: the first array is broadcast over blocks; pass { chunks } for the result");
    return first.chunks.map((c) => [...c]);
  }
  if (!Array.isArray(spec) || spec.length !== nb.length) {
    throw new TesseraError(`mapBlocks: chunks must have one entry per axis (${nb.length}), got ${JSON.stringify(spec)}`);
  }
  return spec.map((c: number | readonly number[], ax: number) => {
    const sizes = typeof c === "number" ? new Array<number>(nb[ax]!).fill(c) : [...c];
    if (sizes.length !== nb[ax] || sizes.some((s) => !Number.isInteger(s) || s < 0)) {
      throw new TesseraError(`mapBlocks: chunks along axis ${ax} must be ${nb[ax]} non-negative integer block size(s), got ${JSON.stringify(c)}`);
    }
    return sizes;
  });
}

export function mapBlocks(op: string, ...rest: MapBlocksArgs): ChunkedArray {
  if (typeof op !== "string" || op === "") throw new TesseraError(`mapBlocks: op must be the name of a registered op (e.g. "mymodule.fn"), got ${typeof op}`);
  const [given, options] = split(rest);
  const [arrays, nb] = align(given);
  const first = arrays[0]!;
  const dtype = checkDtype(options.dtype ?? first.dtype, "mapBlocks dtype");
  const chunks = outChunks(options.chunks, first, nb);
  const args = options.args ?? [];
  const token = tokenize(op, arrays.map((a) => a.name), dtype, chunks, args);
  const prefix = options.name ?? op.replace(/[^\w.]/g, "_");
  const name = `${prefix}-${token}`;
  const callName = `${prefix}-call-${token}`;
  const inIndex = (a: ChunkedArray, index: readonly number[]) => index.map((v, ax) => (a.numblocks[ax] === 1 ? 0 : v));
  const layer = GeneratedLayer.grid(
    name,
    nb,
    (index) => {
      const plain = arrays.map((a, i) => new Task(blockKey(`toplain-${i}-${token}`, index), "array.toPlain", [new TaskRef(blockKey(a.name, inIndex(a, index)))]));
      const call = new Task(blockKey(callName, index), op, [...plain.map((t) => new TaskRef(t.key)), ...args]);
      const spec = opSpec<FromPlainSpec>({ dtype, shape: blockShape(chunks, index), what: `mapBlocks: op ${op} for block [${index}]` });
      return new Fused(blockKey(name, index), [...plain, call, new Task(blockKey(name, index), "array.fromPlain", [spec, new TaskRef(call.key)])]);
    },
    arrays.map((a) => a.name),
  );
  const base = HighLevelGraph.merge(...arrays.map((a) => a.graph)).withLayer(layer);
  const anchors: Anchor[] = [...new Set(arrays.flatMap((a) => a.anchors))];
  const shape = chunks.map((c) => c.reduce((s, v) => s + v, 0));
  return new ChunkedArray(base, name, shape, chunks, dtype, undefined, anchors);
}
