/**
 * Column memory the Parquet reader reuses, one pool per thread.
 *
 * Decoding a row group writes tens of MB of fresh typed arrays. Fresh memory costs a page fault
 * per 4 KiB (on the team's VMs ~2 µs each, serialized across threads by the kernel's lock on the
 * process's memory map) and makes V8 collect garbage, which is what kept a second worker from
 * doing a second worker's share. So the arrays of a partition's columns (POOL_MIN bytes and up)
 * come from here (on worker threads: see `pooling`), and a buffer comes back when both hold:
 *
 *   - the partition was given up by whoever made it: the store dropped it (the scheduler
 *     released it, or it went to disk), or the fused task that read it as an intermediate ended
 *     (parquet-read.ts makes the partition a resource, so both tell it: RELEASE);
 *   - no value in this thread's store owns the buffer (the stores report it: bufferWatchers in
 *     worker/store.ts): a select or rename of the partition shares its columns, and keeps them.
 *
 * A value that moved to another thread took its buffers with it (detached here): not reused.
 * A buffer that a stored value handed out by `get` owned or viewed (a peer's fetch, a gather:
 * the store tells it, `exposed`) is detached before reuse (its memory moved to a new ArrayBuffer
 * object, without a copy): a view still held out there reads as empty, never as the next
 * partition's data. Every other buffer comes back as it is: only tasks' ops saw it, and ops keep
 * no inputs (README, "Inputs"). Detaching costs: V8 counts the bytes of each new ArrayBuffer
 * object as new external memory until the old, detached one is collected, so re-wrapping every
 * partition set off scavenges and mark-compacts all through a Parquet scan (docs/benchmarks.md,
 * the Xeon runs). The pool keeps at most poolBytes(), and lets everything go after IDLE_MS
 * without a request.
 */

import { REFS, RELEASE, RETAIN } from "../../worker/resource.js";
import type { Kernels } from "../../kernels/kernels.js";
import { bufferWatchers, type BufferWatcher } from "../../worker/store.js";
import { decoderKernels } from "./parquet-snappy.js";

/** Arrays smaller than this are allocated as usual (a page fault or two is not worth a pool). */
export const POOL_MIN = 1 << 20;
/**
 * Bytes of free buffers kept for reuse: an eighth of the worker's memory limit (its kernels' wasm
 * memory limit), at most POOL_MAX, so that idle buffers never take a small worker near its
 * spill or terminate thresholds (they count as memory outside the store); POOL_DEFAULT where
 * this thread has no kernels to tell.
 */
const POOL_MAX = 512 * 1024 * 1024;
const POOL_DEFAULT = 256 * 1024 * 1024;
let poolLimit: { kernels: Kernels | null; bytes: number } | undefined;

function poolBytes(): number {
  const k = decoderKernels();
  if (poolLimit?.kernels !== k) poolLimit = { kernels: k, bytes: k ? Math.min(POOL_MAX, Math.floor(k.stats().maximum / 8)) : POOL_DEFAULT };
  return poolLimit.bytes;
}
const IDLE_MS = 5000;

/** Free buffers by byte length. */
const free = new Map<number, ArrayBuffer[]>();
let freeBytes = 0;
/** Buffers handed out, which may come back. */
const lent = new WeakSet<ArrayBuffer>();
let lastTake = 0;
let timer: ReturnType<typeof setTimeout> | undefined;
let listening = false;
const counts = { taken: 0, reused: 0, returned: 0 };

/**
 * Whether this thread pools: a worker thread (Node worker_threads, a Web Worker), whose values
 * leave it only as copies or transfers. Not the main thread, where an inline executor hands its
 * stored values to the caller by reference: a result the caller keeps would be emptied when its
 * key is released.
 */
let pooling: boolean | undefined;

function isWorkerThread(): boolean {
  const g = globalThis as {
    WorkerGlobalScope?: abstract new () => unknown;
    self?: unknown;
    process?: { getBuiltinModule?(id: string): { isMainThread?: boolean } | undefined };
  };
  if (typeof g.WorkerGlobalScope === "function" && g.self instanceof g.WorkerGlobalScope) return true;
  const threads = g.process?.getBuiltinModule?.("node:worker_threads");
  return threads?.isMainThread === false;
}

/** Turn pooling on or off for this thread (tests; undefined: decide as usual). */
export function setPooling(on: boolean | undefined): void {
  pooling = on;
}

type ArrayCtor<T> = { new (n: number): T; new (b: ArrayBuffer, offset: number, length: number): T; readonly BYTES_PER_ELEMENT: number };

/**
 * An array of n elements over a reused buffer or a new one; either way its contents are
 * undefined (old values, or not zeroed): the caller writes every element it exposes.
 */
export function takeArray<T>(ctor: ArrayCtor<T>, n: number): T {
  const bytes = n * ctor.BYTES_PER_ELEMENT;
  if (bytes < POOL_MIN || !(pooling ??= isWorkerThread())) return new ctor(n);
  // Registered on first use, not on import: the worker's store and this module import each
  // other (through the worker's op registry).
  if (!listening) {
    bufferWatchers.add(watcher);
    listening = true;
  }
  lastTake = Date.now();
  counts.taken++;
  const list = free.get(bytes);
  let buffer = list?.pop();
  if (buffer) {
    freeBytes -= bytes;
    counts.reused++;
  } else buffer = uninitialized(bytes);
  lent.add(buffer);
  return new ctor(buffer, 0, n);
}

const NodeBuffer = (globalThis as { Buffer?: { allocUnsafeSlow(n: number): Uint8Array } }).Buffer;

/**
 * A new buffer, not zeroed where the platform allows (Node): zeroing is a pass over memory that
 * the decoder is about to overwrite.
 */
function uninitialized(bytes: number): ArrayBuffer {
  const b = NodeBuffer?.allocUnsafeSlow(bytes);
  return b && b.byteOffset === 0 && b.buffer.byteLength === bytes && b.buffer instanceof ArrayBuffer ? b.buffer : new ArrayBuffer(bytes);
}

/** Stores (in this thread) holding a value that owns each lent buffer. */
const held = new Map<ArrayBuffer, number>();
/** Lent buffers whose partition was released by whoever made it: reusable once no store holds them. */
const released = new WeakSet<ArrayBuffer>();
/** Lent buffers a stored value handed out by `get` owned or viewed: detached when given back. */
const exposed = new WeakSet<ArrayBuffer>();

const watcher: BufferWatcher = {
  held(b: ArrayBufferLike): void {
    if (!(b instanceof ArrayBuffer) || !lent.has(b)) return;
    held.set(b, (held.get(b) ?? 0) + 1);
  },
  exposed(b: ArrayBufferLike): void {
    if (b instanceof ArrayBuffer && lent.has(b)) exposed.add(b);
  },
  unheld(b: ArrayBufferLike): void {
    if (!(b instanceof ArrayBuffer) || !lent.has(b)) return;
    const n = (held.get(b) ?? 0) - 1;
    if (n > 0) {
      held.set(b, n);
      return;
    }
    held.delete(b);
    if (released.has(b)) giveBack(b);
  },
};

/**
 * A partition's buffers, given up by whoever made it: the store when it dropped the partition,
 * or a fused task that used it as an intermediate (whose result the worker stores right after:
 * the buffers come back only if that result does not own them, checked once it is stored).
 */
export function releaseBuffers(buffers: readonly ArrayBufferLike[]): void {
  const mine = buffers.filter((b): b is ArrayBuffer => b instanceof ArrayBuffer && lent.has(b));
  if (mine.length === 0) return;
  for (const b of mine) released.add(b);
  setTimeout(() => {
    for (const b of mine) if (lent.has(b) && !held.has(b)) giveBack(b);
  }, 0);
}

/**
 * Buffers nothing can reach any more (the reader's own, dropped before anyone saw them): back
 * into the pool at once.
 */
export function discardBuffers(buffers: readonly ArrayBufferLike[]): void {
  for (const b of buffers) if (b instanceof ArrayBuffer && lent.has(b) && !held.has(b)) giveBack(b);
}

/**
 * `value` made a resource (worker/resource.ts) when `buffers` include pooled ones: the store
 * retains it while stored and releases it when dropped, and a fused task releases it when done
 * with it as an intermediate; at no reference left, releaseBuffers(buffers).
 */
export function releasable<T extends object>(value: T, buffers: readonly ArrayBufferLike[]): T {
  if (!buffers.some((b) => b instanceof ArrayBuffer && lent.has(b))) return value;
  let refs = 0;
  // Not enumerable: spreads, structured clones and the spill format do not see them.
  Object.defineProperties(value, {
    [RETAIN]: {
      value: () => {
        refs++;
      },
    },
    [RELEASE]: {
      value: () => {
        if (refs > 0) refs--;
        if (refs === 0) releaseBuffers(buffers);
      },
    },
    [REFS]: { get: () => refs },
  });
  return value;
}

/** Into the pool: detached from every view of it if it was exposed. */
function giveBack(b: ArrayBuffer): void {
  const detach = exposed.has(b);
  lent.delete(b);
  held.delete(b);
  exposed.delete(b);
  const bytes = b.byteLength;
  // Detached (moved to another thread), or more than the pool keeps: left to the collector.
  if (bytes === 0 || freeBytes + bytes > poolBytes()) return;
  const moved = detach ? structuredClone(b, { transfer: [b] }) : b;
  let list = free.get(bytes);
  if (!list) free.set(bytes, (list = []));
  list.push(moved);
  freeBytes += bytes;
  counts.returned++;
  timer ??= arm();
}

function arm(): ReturnType<typeof setTimeout> {
  const t = setTimeout(() => {
    timer = undefined;
    if (Date.now() - lastTake >= IDLE_MS) drain();
    else timer = arm();
  }, IDLE_MS);
  (t as { unref?: () => void }).unref?.();
  return t;
}

/** Let every free buffer go. */
export function drain(): void {
  free.clear();
  freeBytes = 0;
}

/** What the pool did so far and holds now (tests, benchmarks). */
export function poolStats(): { taken: number; reused: number; returned: number; freeBytes: number } {
  return { ...counts, freeBytes };
}
