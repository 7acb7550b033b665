/**
 * The chunk store: where a worker keeps the values of the keys it holds, with their sizes.
 * An interface so that spilling to disk (Node) or OPFS (browser) can sit behind it without the
 * runtime knowing.
 */

import type { Key } from "../graph/task.js";
import { RELEASE, RETAIN, isResource } from "./resource.js";

export interface ChunkStore {
  get(key: Key): unknown;
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
}

/**
 * Values in one Map; sizes are recomputed on delete (sizeOf is deterministic), not stored.
 * Resources (chunks in wasm memory) are retained while stored and released when deleted.
 */
export class MemoryStore implements ChunkStore {
  private readonly values = new Map<Key, unknown>();
  /** Keys per object value, for objects stored under more than one key (aliases). */
  private readonly keysPerObject = new Map<object, number>();
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
    if (value !== null && typeof value === "object") this.keysPerObject.set(value, (this.keysPerObject.get(value) ?? 0) + 1);
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
    }
    if (isResource(v)) v[RELEASE]();
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
}

/**
 * Estimated bytes of a value: exact for typed arrays and buffers, an estimate for JS objects.
 * Objects may expose `nbytes` (collections' chunks do). Walks at most a few levels and samples
 * long arrays, so it never costs more than the value is worth.
 */
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
  if (depth > 3) return 64;
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
