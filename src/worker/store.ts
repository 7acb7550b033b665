/**
 * The chunk store: where a worker keeps the values of the keys it holds, with their sizes.
 * An interface so that spilling to disk (Node) or OPFS (browser) can sit behind it
 * (spill-store.ts); the runtime only pins the inputs of running tasks and respects a pause.
 */

import type { Key } from "../graph/task.js";
import { RELEASE, RETAIN, isResource } from "./resource.js";
import type { MemoryMetrics } from "./memory-types.js";
import { ownedBuffers } from "./transfer.js";

/**
 * Told when a value in a store's memory comes to own an ArrayBuffer (`held`) and when no value
 * there owns it any more (`unheld`: released, or spilled to disk): the Parquet reader reuses its
 * pooled column buffers only then (dataframe/io/parquet-pool.ts). `exposed` comes first, for
 * each buffer of a value leaving the store that was handed out by `get` (a peer's fetch, a
 * gather) and so may still be viewed outside it; a value only borrowed by tasks was not (ops
 * keep no inputs: README, "Inputs").
 */
export interface BufferWatcher {
  held(buffer: ArrayBufferLike): void;
  exposed(buffer: ArrayBufferLike): void;
  unheld(buffer: ArrayBufferLike): void;
}
export const bufferWatchers = new Set<BufferWatcher>();

export interface ChunkStore {
  get(key: Key): unknown;
  /**
   * The value for a running task, pinned (unpin when the task ends) if present. Lent for the
   * run only: the task must not keep it after, and so its memory may serve another value once
   * it is spilled (spill-recycle.ts), where a value from `get` is never reused.
   */
  borrow(key: Key): unknown;
  has(key: Key): boolean;
  /** `nbytes` is sizeOf(value), computed by the caller that already needed it. */
  put(key: Key, value: unknown, nbytes: number): void;
  delete(key: Key): boolean;
  readonly size: number;
  /** Bytes held, as measured by sizeOf when stored. */
  readonly nbytes: number;
  keys(): IterableIterator<Key>;
  /** Whether the value under `key` is also stored under another key (an alias): never move it. */
  shared(key: Key): boolean;
  /** A running task uses the value: keep it in memory until as many unpins. */
  pin(key: Key): void;
  unpin(key: Key): void;
  /** Memory is over the pause threshold: start no task, fetch no input. */
  readonly paused: boolean;
  /** Called when `paused` turns false. */
  onResume: (() => void) | undefined;
  /** Called when `paused` turns true. */
  onPause?: (() => void) | undefined;
  /** Why the worker must be replaced (memory over the terminate threshold), or undefined. */
  overTerminate?(force: boolean): string | undefined;
  /** Memory and spill figures, where the store keeps them. */
  memory?(): MemoryMetrics;
  /** The worker is closing: let go of everything (spill files included). */
  close?(): void;
}

/**
 * Values in one Map; sizes are recomputed on delete (sizeOf is deterministic), not stored.
 * Resources (chunks in wasm memory) are retained while stored and released when deleted.
 */
export class MemoryStore implements ChunkStore {
  private readonly values = new Map<Key, unknown>();
  /** Keys per object value, for objects stored under more than one key (aliases). */
  private readonly keysPerObject = new Map<object, number>();
  /** Stored values per ArrayBuffer they own, counted while someone watches (bufferWatchers). */
  private readonly valuesPerBuffer = new Map<ArrayBufferLike, number>();
  private bytes = 0;

  get(key: Key): unknown {
    return this.values.get(key);
  }
  has(key: Key): boolean {
    return this.values.has(key);
  }
  put(key: Key, value: unknown, nbytes: number): void {
    if (isResource(value)) value[RETAIN]();
    if (this.values.has(key)) this.drop(this.values.get(key));
    this.values.set(key, value);
    if (value !== null && typeof value === "object") {
      this.keysPerObject.set(value, (this.keysPerObject.get(value) ?? 0) + 1);
      if (bufferWatchers.size > 0) this.countBuffers(value, 1);
    }
    this.bytes += nbytes;
  }
  delete(key: Key): boolean {
    const v = this.values.get(key);
    if (v === undefined && !this.values.has(key)) return false;
    this.drop(v);
    return this.values.delete(key);
  }
  private drop(v: unknown): void {
    this.bytes -= sizeOf(v);
    if (v !== null && typeof v === "object") {
      const n = this.keysPerObject.get(v)!;
      if (n <= 1) this.keysPerObject.delete(v);
      else this.keysPerObject.set(v, n - 1);
      if (bufferWatchers.size > 0) this.countBuffers(v, -1);
    }
    if (isResource(v)) v[RELEASE]();
  }
  private countBuffers(v: object, delta: 1 | -1): void {
    for (const b of ownedBuffers(v)) {
      const m = (this.valuesPerBuffer.get(b) ?? 0) + delta;
      if (m > 0) this.valuesPerBuffer.set(b, m);
      else this.valuesPerBuffer.delete(b);
      if (delta > 0 && m === 1) for (const w of bufferWatchers) w.held(b);
      // This store hands its values out by reference and does not track to whom: every value
      // leaving it counts as exposed.
      if (delta < 0) for (const w of bufferWatchers) w.exposed(b);
      if (delta < 0 && m === 0) for (const w of bufferWatchers) w.unheld(b);
    }
  }
  shared(key: Key): boolean {
    const v = this.values.get(key);
    return v !== null && typeof v === "object" && (this.keysPerObject.get(v) ?? 0) > 1;
  }
  get size(): number {
    return this.values.size;
  }
  get nbytes(): number {
    return this.bytes;
  }
  keys(): IterableIterator<Key> {
    return this.values.keys();
  }
  // Without a limit nothing is spilled, so nothing needs pinning, and it never pauses.
  borrow(key: Key): unknown {
    return this.values.get(key);
  }
  pin(): void {}
  unpin(): void {}
  readonly paused = false;
  onResume: (() => void) | undefined;
}

/**
 * Bytes of a value: exact for typed arrays and buffers wherever they sit in it (array blocks,
 * the columns, validity and dictionaries of dataframe partitions), an estimate for other JS
 * objects. Objects may expose `nbytes` (blocks in wasm memory do). Walks a few levels and
 * samples long arrays (an object column, a long dictionary), so it never costs more than the
 * value is worth.
 */
/**
 * Enough for a partition (frame > columns > column > dictionary; typed arrays and strings are
 * sized at any depth); each level walks at most ~64 entries, so more depth costs 64x.
 */
const MAX_SIZE_DEPTH = 3;

export function sizeOf(v: unknown, depth = 0): number {
  switch (typeof v) {
    case "number":
    case "boolean":
    case "undefined":
      return 8;
    case "bigint":
      return 16;
    case "string":
      return 16 + v.length * 2;
    case "object":
      break;
    default:
      return 16;
  }
  if (v === null) return 8;
  if (ArrayBuffer.isView(v)) return v.byteLength;
  if (v instanceof ArrayBuffer) return v.byteLength;
  if (typeof SharedArrayBuffer !== "undefined" && v instanceof SharedArrayBuffer) return v.byteLength;
  const declared = (v as { nbytes?: unknown }).nbytes;
  if (typeof declared === "number" && declared >= 0) return declared;
  if (depth > MAX_SIZE_DEPTH) return 64;
  if (Array.isArray(v)) {
    const n = v.length;
    if (n <= 64) {
      let s = 16 + 8 * n;
      for (const x of v) s += sizeOf(x, depth + 1);
      return s;
    }
    let sample = 0;
    const step = Math.floor(n / 32);
    for (let i = 0; i < n; i += step) sample += sizeOf(v[i], depth + 1);
    return 16 + 8 * n + Math.round((sample / Math.ceil(n / step)) * n);
  }
  if (v instanceof Map) {
    let s = 64;
    let i = 0;
    for (const [k, x] of v) {
      if (i++ > 64) return Math.round((s * v.size) / 64);
      s += sizeOf(k, depth + 1) + sizeOf(x, depth + 1);
    }
    return s;
  }
  let s = 32;
  let i = 0;
  for (const k in v as Record<string, unknown>) {
    if (i++ > 64) break;
    s += 16 + k.length * 2 + sizeOf((v as Record<string, unknown>)[k], depth + 1);
  }
  return s;
}
