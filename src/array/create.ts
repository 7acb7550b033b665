/**
 * Arrays made on the workers: constants, ranges, identity matrices, random numbers, and arrays
 * cut from client data. Each block is one `array.create` task that writes straight into wasm
 * memory; random blocks draw from a counter-based generator keyed by (seed, block number), so
 * a block's values never depend on which worker made it.
 */

import { TesseraError } from "../errors.js";
import { DataNode, Task, blockKey } from "../graph/task.js";
import { GeneratedLayer, HighLevelGraph } from "../graph/layers.js";
import { randomToken, tokenize } from "../graph/tokenize.js";
import { checkDtype, dtypeOf, type Dtype, type TypedArray } from "../kernels/dtypes.js";
import type { BlockData } from "./block.js";
import { blockNumber, blockOffset, blockShape, checkShape, normalizeChunks, product, type ChunksSpec } from "./chunks.js";
import { ChunkedArray } from "./core.js";
import { copyRegion } from "./layout.js";
import type { CreateSpec } from "./ops.js";
import { opSpec } from "../graph/spec.js";

export interface CreateOptions {
  chunks?: ChunksSpec;
  dtype?: Dtype;
}

/** An array whose every block is `array.create` with the spec `make(index)`. */
function generated(
  prefix: string,
  shape: number[],
  dtype: Dtype,
  chunksSpec: ChunksSpec | undefined,
  params: unknown,
  make: (index: readonly number[], spec: CreateSpec) => CreateSpec,
): ChunkedArray {
  const chunks = normalizeChunks(chunksSpec, shape, dtype);
  const name = `${prefix}-${tokenize(prefix, shape, dtype, chunks, params)}`;
  const nb = chunks.map((c) => c.length);
  const layer = GeneratedLayer.grid(name, nb, (index) => {
    const base: CreateSpec = { kind: "full", dtype, shape: blockShape(chunks, index) };
    return new Task(blockKey(name, index), "array.create", [opSpec(make(index, base))]);
  });
  return new ChunkedArray(new HighLevelGraph([layer]), name, shape, chunks, dtype);
}

export function full(shape: readonly number[], value: number, options: CreateOptions = {}): ChunkedArray {
  const s = checkShape(shape);
  if (typeof value !== "number") throw new TesseraError(`full: value must be a number, got ${typeof value}`);
  const dtype = checkDtype(options.dtype ?? "float64");
  return generated("full", s, dtype, options.chunks, value, (_, b) => ({ ...b, kind: "full", value }));
}

export const zeros = (shape: readonly number[], options: CreateOptions = {}): ChunkedArray => full(shape, 0, options);
export const ones = (shape: readonly number[], options: CreateOptions = {}): ChunkedArray => full(shape, 1, options);

/** Values start, start+step, ... below stop (numpy's arange), as a 1-d array. */
export function arange(start: number, stop?: number, step = 1, options: CreateOptions = {}): ChunkedArray {
  if (stop === undefined) {
    stop = start;
    start = 0;
  }
  if (![start, stop, step].every(Number.isFinite) || step === 0) {
    throw new TesseraError(`arange: start, stop and step must be finite numbers with step != 0, got ${start}, ${stop}, ${step}`);
  }
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const dtype = checkDtype(options.dtype ?? ([start, stop, step].every(Number.isInteger) ? "int32" : "float64"));
  const chunks = normalizeChunks(options.chunks, [n], dtype);
  return generated("arange", [n], dtype, chunks, [start, step], (index, b) => ({
    ...b,
    kind: "range",
    start,
    step,
    offset: blockOffset(chunks, index)[0]!,
  }));
}

/** `num` evenly spaced values from start to stop (inclusive unless endpoint is false). */
export function linspace(start: number, stop: number, num = 50, options: CreateOptions & { endpoint?: boolean } = {}): ChunkedArray {
  if (!Number.isInteger(num) || num < 0) throw new TesseraError(`linspace: num must be a non-negative integer, got ${num}`);
  const endpoint = options.endpoint ?? true;
  const div = endpoint ? num - 1 : num;
  const step = div > 0 ? (stop - start) / div : 0;
  const dtype = checkDtype(options.dtype ?? "float64");
  const chunks = normalizeChunks(options.chunks, [num], dtype);
  return generated("linspace", [num], dtype, chunks, [start, stop, endpoint], (index, b) => ({
    ...b,
    kind: "range",
    start,
    step,
    offset: blockOffset(chunks, index)[0]!,
    ...(endpoint ? { count: num, stop } : {}),
  }));
}

/** An n x m matrix with ones on diagonal k (numpy's eye). */
export function eye(n: number, options: CreateOptions & { m?: number; k?: number } = {}): ChunkedArray {
  const m = options.m ?? n;
  const k = options.k ?? 0;
  const dtype = checkDtype(options.dtype ?? "float64");
  const chunks = normalizeChunks(options.chunks, [n, m], dtype);
  return generated("eye", checkShape([n, m]), dtype, chunks, k, (index, b) => {
    const [row0, col0] = blockOffset(chunks, index) as [number, number];
    return { ...b, kind: "eye", row0, col0, k };
  });
}

export interface RandomOptions extends CreateOptions {
  /** Same seed, same shape and chunks: same values, on any worker. Default: a fresh random seed. */
  seed?: number;
}

function seedOf(options: RandomOptions): number {
  const seed = options.seed ?? parseInt(randomToken().slice(0, 12), 16);
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 53) throw new TesseraError(`random: seed must be an integer in [0, 2^53), got ${seed}`);
  return seed;
}

function randomArray(kind: "uniform" | "normal" | "integers", shape: readonly number[], dtype: Dtype, options: RandomOptions, params: Partial<CreateSpec>): ChunkedArray {
  const s = checkShape(shape);
  const seed = seedOf(options);
  const chunks = normalizeChunks(options.chunks, s, dtype);
  const nb = chunks.map((c) => c.length);
  return generated(kind, s, dtype, chunks, [seed, params], (index, b) => ({ ...b, ...params, kind, seed, stream: blockNumber(nb, index) }));
}

export const random = {
  /** Uniform on [low, high) (default [0, 1)). */
  uniform(shape: readonly number[], options: RandomOptions & { low?: number; high?: number } = {}): ChunkedArray {
    const dtype = checkDtype(options.dtype ?? "float64");
    return randomArray("uniform", shape, dtype, options, { low: options.low ?? 0, high: options.high ?? 1 });
  },
  /** Normal with mean loc and standard deviation scale (default 0 and 1). */
  normal(shape: readonly number[], options: RandomOptions & { loc?: number; scale?: number } = {}): ChunkedArray {
    const dtype = checkDtype(options.dtype ?? "float64");
    return randomArray("normal", shape, dtype, options, { loc: options.loc ?? 0, scale: options.scale ?? 1 });
  },
  /** Integers uniform in [low, high). */
  integers(shape: readonly number[], options: RandomOptions & { low?: number; high: number }): ChunkedArray {
    const dtype = checkDtype(options.dtype ?? "int32");
    return randomArray("integers", shape, dtype, options, { low: options.low ?? 0, high: options.high });
  },
};

/** An array cut into blocks from client data (each block a copy, shipped with the graph). */
export function fromTypedArray(data: TypedArray, options: { shape?: readonly number[]; chunks?: ChunksSpec } = {}): ChunkedArray {
  if (!ArrayBuffer.isView(data) || data instanceof DataView) throw new TesseraError("fromTypedArray: expected a typed array");
  const dtype = dtypeOf(data as TypedArray);
  const shape = checkShape(options.shape ?? [data.length]);
  if (product(shape) !== data.length) {
    throw new TesseraError(`fromTypedArray: ${data.length} values cannot fill shape [${shape.join(", ")}] (${product(shape)} elements)`);
  }
  const chunks = normalizeChunks(options.chunks, shape, dtype);
  const name = `array-${tokenize(data, shape, chunks)}`;
  const nb = chunks.map((c) => c.length);
  const layer = GeneratedLayer.grid(name, nb, (index) => {
    const bshape = blockShape(chunks, index);
    const off = blockOffset(chunks, index);
    const block = new (data.constructor as new (n: number) => TypedArray)(product(bshape));
    copyRegion(data, shape, off, off.map((o, a) => o + bshape[a]!), block, bshape, bshape.map(() => 0));
    const value: BlockData = { dtype, shape: bshape, data: block };
    return new DataNode(blockKey(name, index), value);
  });
  return new ChunkedArray(new HighLevelGraph([layer]), name, shape, chunks, dtype);
}
