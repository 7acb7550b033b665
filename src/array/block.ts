/**
 * Array blocks on a worker.
 *
 * A block made by a kernel lives in the worker's wasm memory as a WasmChunk: a pointer, a
 * dtype and a shape, reference counted by the chunk store (resource.ts), freed when its last
 * key goes. Kernels read it in place. It leaves wasm memory only when it crosses to another
 * thread (its wire form is a plain BlockData with a fresh copy of the bytes) — once, at the
 * boundary. A block fetched from a peer worker goes into wasm memory on arrival (adoptBlock);
 * one put by a client, or that found no room, is plain BlockData, which kernels copy in for
 * the duration of one task.
 */

import { TesseraError } from "../errors.js";
import { isDtype, itemSize, type Dtype, type TypedArray } from "../kernels/dtypes.js";
import type { Kernels } from "../kernels/kernels.js";
import { kernelsLoaded } from "../kernels/instance.js";
import type { SpillReviver } from "../worker/spill-format.js";
import { REFS, RELEASE, RETAIN, TO_WIRE, WIRE_VIEW, type Resource, type WireConvertible, type WireViewable } from "../worker/resource.js";
import { product } from "./chunks.js";

/** A block as plain data: what travels between threads and what clients send. */
export interface BlockData {
  dtype: Dtype;
  shape: number[];
  data: TypedArray;
}

export class WasmChunk implements Resource, WireConvertible, WireViewable {
  private refs = 0;
  private freed = false;
  readonly size: number;

  constructor(
    readonly k: Kernels,
    readonly ptr: number,
    readonly dtype: Dtype,
    readonly shape: number[],
  ) {
    this.size = product(shape);
  }

  /** Allocate an uninitialized block. */
  static alloc(k: Kernels, dtype: Dtype, shape: number[]): WasmChunk {
    return new WasmChunk(k, k.allocArray(dtype, Math.max(1, product(shape))), dtype, shape);
  }

  /** sizeOf() reads this: bytes held in wasm memory. */
  get nbytes(): number {
    return this.size * itemSize(this.dtype);
  }

  /** A fresh view on the data: never keep it across an allocation (memory growth detaches it). */
  view(): TypedArray {
    this.check();
    return this.k.view(this.dtype, this.ptr, this.size);
  }

  get [REFS](): number {
    return this.refs;
  }
  [RETAIN](): void {
    this.refs++;
  }
  [RELEASE](): void {
    if (this.freed) return;
    if (--this.refs <= 0) {
      this.freed = true;
      this.k.free(this.ptr);
    }
  }
  [TO_WIRE](): BlockData {
    this.check();
    return { dtype: this.dtype, shape: [...this.shape], data: this.k.copyOut(this.dtype, this.ptr, this.size) };
  }
  /** The same block, its data a view into wasm memory: for writing out at once (spill), no copy. */
  [WIRE_VIEW](): BlockData {
    return { dtype: this.dtype, shape: [...this.shape], data: this.view() };
  }

  private check(): void {
    if (this.freed) throw new TesseraError(`internal: block of shape [${this.shape}] used after its memory was freed`);
  }
}

export type Block = WasmChunk | BlockData;

export function isBlockData(x: unknown): x is BlockData {
  return x !== null && typeof x === "object" && ArrayBuffer.isView((x as BlockData).data) && Array.isArray((x as BlockData).shape);
}

export function asBlock(x: unknown, what: string): Block {
  if (x instanceof WasmChunk || isBlockData(x)) return x;
  throw new TesseraError(`${what}: expected an array block, got ${x === null ? "null" : typeof x}`);
}

/**
 * A block's data in wasm memory for one kernel call: in place for a WasmChunk, copied in for
 * plain data (`done()` frees the copy).
 */
export interface InWasm {
  ptr: number;
  dtype: Dtype;
  shape: number[];
  done(): void;
}

export function inWasm(k: Kernels, b: Block): InWasm {
  if (b instanceof WasmChunk) {
    if (b.k !== k) throw new TesseraError("internal: a block from another kernel instance");
    return { ptr: b.ptr, dtype: b.dtype, shape: b.shape, done: () => {} };
  }
  const ptr = b.data.length > 0 ? k.copyIn(b.data) : k.allocArray(b.dtype, 1);
  return { ptr, dtype: b.dtype, shape: b.shape, done: () => k.free(ptr) };
}

/**
 * A block fetched from a peer is kept in wasm memory (a WasmChunk), so the kernels of every
 * later task read it in place instead of copying it in each time (a block a worker took over,
 * by a steal or a rebalance, is read by many tasks: k-means reads each block once per
 * iteration). Copied once here, as the first task would have, into memory that task's copy
 * would have grown the heap to as well; where the heap cannot grow, it stays plain data.
 */
export function adoptBlock(value: unknown): unknown {
  const k = kernelsLoaded();
  if (k === undefined || !isBlockData(value) || !isDtype(value.dtype)) return value;
  const size = product(value.shape);
  if (size === 0 || value.data.length !== size) return value;
  let ptr: number;
  try {
    ptr = k.allocArray(value.dtype, size);
  } catch {
    return value;
  }
  k.view(value.dtype, ptr, size).set(value.data as never);
  return new WasmChunk(k, ptr, value.dtype, [...value.shape]);
}

/**
 * A spilled WasmChunk comes back into wasm memory (a SpillStore's `revive`): read straight from
 * disk into a fresh allocation, so kernels use it in place and no JS buffer is made. Only into
 * room the heap has now: growing wasm memory is for good (its pages never go back), so with no
 * free block that large it comes back as plain data, as any block from elsewhere does.
 */
export const reviveWasmChunk: SpillReviver = (wire, _type, byteLength) => {
  const k = kernelsLoaded();
  if (k === undefined || wire === null || typeof wire !== "object") return undefined;
  const { dtype, shape } = wire as Partial<BlockData>;
  if (!isDtype(dtype) || !Array.isArray(shape) || !shape.every((n) => Number.isInteger(n) && n >= 0)) return undefined;
  const size = product(shape);
  if (size === 0 || size * itemSize(dtype) !== byteLength || k.stats().largestFree < byteLength + 64) return undefined;
  let ptr: number;
  try {
    ptr = k.allocArray(dtype, size);
  } catch {
    return undefined;
  }
  return {
    into: new Uint8Array(k.memory.buffer, ptr, byteLength),
    value: new WasmChunk(k, ptr, dtype, shape),
    abort: () => k.free(ptr),
  };
};
