/**
 * Blocks under another shape, and blocks handed to user code.
 *
 * reshapeBlock: reshape, stack, concatenate and slicing often want a block's bytes unchanged
 * under a new shape (or the same one, under a new key): [n] -> [1, n], [4, 6] -> [24]. A
 * ChunkView is a WasmChunk at the same pointer with its own shape that holds a reference on the
 * chunk it views, so no byte is copied and the memory lives while either is stored. (The store
 * counts the view's bytes too: memory held is over-counted, never under-counted.) Its wire form
 * is a fresh copy, like any WasmChunk's, so moving it to another thread detaches nothing.
 * Plain BlockData (a block fetched from another worker) is copied into wasm memory instead.
 *
 * plainBlock / storeBlock: user ops (mapBlocks) get a BlockData that they own (a copy: for a
 * block in wasm memory its wire form) and return a BlockData or a typed array, which is copied
 * into wasm memory so that later kernels read it in place.
 */

import { TesseraError } from "../errors.js";
import { dtypeOf, type Dtype, type TypedArray } from "../kernels/dtypes.js";
import type { Kernels } from "../kernels/kernels.js";
import { REFS, RELEASE, RETAIN, TO_WIRE } from "../worker/resource.js";
import { isBlockData, WasmChunk, type Block, type BlockData } from "./block.js";
import { product } from "./chunks.js";

export class ChunkView extends WasmChunk {
  private viewRefs = 0;
  private released = false;

  constructor(
    readonly parent: WasmChunk,
    shape: number[],
  ) {
    super(parent.k, parent.ptr, parent.dtype, shape);
    parent[RETAIN]();
  }

  override get [REFS](): number {
    return this.viewRefs;
  }
  override [RETAIN](): void {
    this.viewRefs++;
  }
  override [RELEASE](): void {
    if (this.released || --this.viewRefs > 0) return;
    this.released = true;
    this.parent[RELEASE]();
  }
}

/**
 * The block under another shape of the same size: a view for a block in wasm memory, a copy
 * into wasm memory for plain data. Plain data is never shared between two stored values: the
 * runtime may transfer (detach) a value's buffer when it moves that value to another thread.
 */
export function reshapeBlock(k: Kernels, b: Block, shape: number[], what: string): WasmChunk {
  if (product(shape) !== product(b.shape)) {
    throw new TesseraError(`${what}: cannot view a block of shape [${b.shape}] as [${shape}] (sizes differ)`);
  }
  if (b instanceof WasmChunk) return new ChunkView(b, shape);
  return storeBlock(k, b, b.dtype, shape, what);
}

/** A copy of a block as plain data, owned by the caller. */
export function plainBlock(b: Block): BlockData {
  return b instanceof WasmChunk ? b[TO_WIRE]() : { dtype: b.dtype, shape: [...b.shape], data: b.data.slice() };
}

/** Storage class of a dtype: bool is stored as uint8. */
const storage = (d: Dtype): Dtype => (d === "bool" ? "uint8" : d);

/**
 * What a user op returned, checked against the block it should be and copied into wasm memory.
 * Accepts a BlockData, a typed array, or a number for a one-element block.
 */
export function storeBlock(k: Kernels, value: unknown, dtype: Dtype, shape: number[], what: string): WasmChunk {
  let data: TypedArray;
  if (isBlockData(value)) {
    if (value.dtype !== dtype) throw new TesseraError(`${what}: returned a ${value.dtype} block; the declared dtype is ${dtype} (pass { dtype })`);
    data = value.data;
  } else if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    data = value as TypedArray;
    const got = dtypeOf(data);
    if (got !== storage(dtype)) throw new TesseraError(`${what}: returned a ${got} typed array; the declared dtype is ${dtype} (pass { dtype })`);
  } else if (typeof value === "number" && product(shape) === 1) {
    const out = WasmChunk.alloc(k, dtype, shape);
    out.view()[0] = value;
    return out;
  } else {
    const got = value === null ? "null" : Array.isArray(value) ? "a plain array" : typeof value;
    throw new TesseraError(`${what}: expected a block ({ dtype, shape, data }) or a typed array, got ${got}`);
  }
  if (data.length !== product(shape)) {
    const s = isBlockData(value) ? `shape [${value.shape}]` : `${data.length} values`;
    throw new TesseraError(`${what}: returned ${s} for a block of shape [${shape}] (pass { chunks } when blocks change shape)`);
  }
  const out = WasmChunk.alloc(k, dtype, shape);
  if (data.length > 0) out.view().set(data);
  return out;
}
