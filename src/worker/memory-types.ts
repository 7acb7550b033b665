/**
 * A worker's memory limit, as thresholds, and the figures its store reports against them.
 *
 * Thresholds are fractions of the worker's limit, with Dask's defaults:
 *
 *   target 0.6  managed memory (the sizes of values held in memory) above it: spill the least
 *               recently used values to disk until it is below again; checked on every store.
 *   spill  0.7  the worker's measured memory (where the environment can measure it: Node),
 *               less the buffers of values the store let go of that the garbage collector has
 *               not freed yet, above it: spill until the measurement, less what was spilled,
 *               is below target.
 *   pause  0.8  managed memory above it (spilling could not keep up: the disk failed, or the
 *               values are in use): the runtime starts no task and fetches no input until it
 *               is below again.
 *   terminate 0.95  the worker's measured memory (Node) above it when a task finishes, even
 *               after spilling down to target and collecting garbage: the worker asks to be
 *               replaced (overTerminate; the runtime reports it, the cluster kills and
 *               restarts it, and the scheduler recomputes what was lost with it).
 *
 * The store that acts on them is spill-store.ts.
 */

import type { SpillDisk } from "./spill-disk.js";
import type { SpillReviver } from "./spill-format.js";

/** Fractions of the memory limit; `false` turns a threshold off. */
export interface MemoryThresholds {
  target: number | false;
  spill: number | false;
  pause: number | false;
  terminate: number | false;
}

/** The thresholds and whether spilled values are compressed (LocalCluster's `memory` option). */
export interface MemoryOptions extends MemoryThresholds {
  spillCompression?: boolean;
}

export const DEFAULT_THRESHOLDS: Readonly<MemoryThresholds> = { target: 0.6, spill: 0.7, pause: 0.8, terminate: 0.95 };

/** Memory and spill figures of one worker (bytes are sizes in memory, as sizeOf counts them). */
export interface MemoryMetrics {
  /** The worker's memory limit. */
  limit: number;
  thresholds: MemoryThresholds;
  /** Values held in memory: keys and bytes. */
  managedKeys: number;
  managed: number;
  /** The most bytes ever held in memory at once since the worker started (a high-water mark). */
  managedPeak: number;
  /** Values on disk: keys, their bytes in memory, and the bytes they take on disk. */
  spilledKeys: number;
  spilled: number;
  spilledDiskBytes: number;
  /** Since the worker started: values written to disk (a value read back keeps its file, so evicting it again writes nothing), and read back. */
  spillCount: number;
  spillBytes: number;
  /** Since the worker started: bytes written to disk for those values (compressed sizes). */
  spillDiskBytes: number;
  unspillCount: number;
  unspillBytes: number;
  /** Failed writes and reads, and the last failure's message. */
  spillErrors: number;
  lastSpillError?: string;
  /** Values in memory that the spill format cannot write (they stay in memory). */
  unspillableKeys: number;
  /** The worker's memory as measured (Node: its JS heap, its buffers and its used wasm memory); absent where not measurable. */
  measured?: number;
  /** measured - managed. */
  unmanaged?: number;
  /** Of it, buffers of values the store let go of that the garbage collector has not freed yet (not a reason to spill). */
  uncollected?: number;
  /** Above the pause threshold: starting no task and fetching no input. */
  paused: boolean;
  /** Where values are spilled; absent when there is nowhere (no disk, or not yet opened). */
  spillTo?: string;
  /** Why there is nowhere to spill, if there is not. */
  spillUnavailable?: string;
}

export interface SpillStoreOptions {
  /** Worker id, for messages. */
  worker: string;
  /** Bytes. */
  limit: number;
  thresholds?: MemoryThresholds;
  /**
   * Compress spilled buffers (byte-shuffle + LZ4, spill-codec.ts). Default false, unlike Dask's
   * "auto": the JS codec (~0.4 GB/s compressing) costs more CPU than the page-cache writes it
   * saves on the benchmark machines (bench memory groupby-4x, docs/benchmarks.md); it pays where
   * disk bandwidth is scarce.
   */
  compression?: boolean;
  /** May be given later (setDisk): a browser opens its OPFS file asynchronously. */
  disk?: SpillDisk;
  /** The worker's memory in bytes, where measurable. Called at most every MEASURE_MS (memory-meter.ts). */
  measure?: () => number;
  /**
   * Makes resources again when they are read back (array blocks into wasm memory, where the
   * kernels read them in place and whose pages are resident already); without it they come
   * back as plain data.
   */
  revive?: SpillReviver;
  /** Run the garbage collector, where possible: before acting on terminate, garbage must not count. */
  collectGarbage?: () => void;
  warn?: (message: string) => void;
  now?: () => number;
}
