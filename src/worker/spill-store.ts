/**
 * A chunk store with a memory limit (Dask's SpillBuffer with its memory manager folded in).
 *
 * Every stored value has a size (sizeOf: exact for typed arrays, array blocks and the buffers
 * of dataframe partitions) and a place in least-recently-used order: a read moves it to the end.
 * Thresholds are fractions of the worker's limit, with Dask's defaults:
 *
 *   target 0.6  managed memory (the sizes of values held in memory) above it: spill the least
 *               recently used values to disk until it is below again; checked on every store.
 *   spill  0.7  the worker's measured memory (where the environment can measure it: Node)
 *               above it: spill until the measurement, less what was spilled, is below target.
 *   pause  0.8  managed memory above it (spilling could not keep up: the disk failed, or the
 *               values are in use): the runtime starts no task and fetches no input until it
 *               is below again.
 *   terminate 0.95  the worker's measured memory (Node) above it when a task finishes, even
 *               after spilling down to target and collecting garbage: the worker asks to be
 *               replaced (overTerminate; the runtime reports it, the cluster kills and
 *               restarts it, and the scheduler recomputes what was lost with it).
 *
 * A value in use by a running task is pinned and never spilled (an array block in wasm memory
 * would be freed under the task). Aliased values (one object under two keys) are not spilled
 * either: writing out one key would free nothing. A spilled value comes back transparently on
 * `get`, from one read per buffer, after room is made for it (so its memory can be what the
 * values evicted for it freed); a block that was in wasm memory comes back into it where the
 * store has a reviver (workers do), else as plain data.
 * Values under NEVER_SPILL_BYTES are never spilled and keep no place in the LRU order: their key
 * and entry take more memory than they do, and a no-op task's result would otherwise pay two
 * LRU moves and a pin per use. A value the spill format cannot write (a class instance) stays
 * in memory, counted as unspillable; a disk that fails leaves the value in memory, and the store waits a second before
 * it writes again (a warning, an error count and the last message in the metrics, no crash).
 */

import { ownedBuffers } from "./transfer.js";
import { TesseraError } from "../errors.js";
import type { Key } from "../graph/task.js";
import { RELEASE, RETAIN, isResource } from "./resource.js";
import { SpillCorruptError } from "./spill-codec.js";
import { SpillFormatError, decodeSpill, encodeSpill, type SpillReviver } from "./spill-format.js";
import type { SpillDisk } from "./spill-disk.js";
import { bufferWatchers, sizeOf, type ChunkStore } from "./store.js";

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
  /** The worker's memory in bytes, where measurable. Called at most every MEASURE_MS. */
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

interface Entry {
  value: unknown;
  nbytes: number;
  /** Name on disk while spilled. */
  file: string | undefined;
  diskBytes: number;
  /**
   * After a read back, the file still holds the value's bytes (values are immutable once
   * stored): spilling it again only drops it from memory, without writing.
   */
  copy: string | undefined;
  /** The spill format cannot write this value: never try again. */
  unspillable: boolean;
  /** Under NEVER_SPILL_BYTES: not in the LRU order, never pinned, never spilled. */
  small: boolean;
}

/** Values smaller than this stay in memory (see the header). */
export const NEVER_SPILL_BYTES = 1024;

const MEASURE_MS = 100;
/** After a failed write, wait this long before writing again. */
const RETRY_MS = 1000;

export class SpillStore implements ChunkStore {
  private readonly entries = new Map<Key, Entry>();
  /** Entries in memory that may be spilled (not small), least recently used first. */
  private readonly fast = new Map<Key, Entry>();
  /**
   * The part of `fast` read back from disk whose file is kept, in the order they came back:
   * evicting one writes nothing, so they go first. A scan over spilled partitions would
   * otherwise push out, and write, the values that never left memory, one per value read back.
   */
  private readonly clean = new Map<Key, Entry>();
  private smallKeys = 0;
  private readonly pins = new Map<Key, number>();
  private readonly keysPerObject = new Map<object, number>();
  /**
   * Stored values (in memory) per ArrayBuffer: a frame made by select() shares its columns'
   * buffers with its source, so moving it (transferring the buffers) would empty the source.
   */
  private readonly valuesPerBuffer = new Map<ArrayBufferLike, number>();
  private readonly worker: string;
  private readonly limit: number;
  private readonly thresholds: MemoryThresholds;
  private readonly compress: boolean;
  private readonly targetBytes: number;
  private readonly spillBytesAt: number;
  private readonly pauseBytes: number;
  private readonly terminateBytes: number;
  private readonly measure: (() => number) | undefined;
  private readonly collectGarbage: (() => void) | undefined;
  private readonly revive: SpillReviver | undefined;
  private readonly warn: (message: string) => void;
  private readonly now: () => number;
  private disk: SpillDisk | undefined;
  private unavailable: string | undefined;
  private managed = 0;
  private managedPeak = 0;
  private restBytes: number | undefined;
  private spilled = 0;
  private spilledDisk = 0;
  private spilledKeys = 0;
  private unspillable = 0;
  private fileSeq = 0;
  private counts = { spillCount: 0, spillBytes: 0, spillDiskBytes: 0, unspillCount: 0, unspillBytes: 0, spillErrors: 0 };
  private lastError: string | undefined;
  private warned = new Set<string>();
  private retryAt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private lastMeasure = -Infinity;
  private measured: number | undefined;
  /** The current measurement has been acted on (spill harder once per measurement). */
  private measureActedOn = true;
  private isPaused = false;
  private closed = false;
  /** Called when the store leaves the paused state (the runtime starts tasks again). */
  onResume: (() => void) | undefined;
  /** Called when the store enters the paused state (the runtime tells the scheduler). */
  onPause: (() => void) | undefined;

  constructor(opts: SpillStoreOptions) {
    this.worker = opts.worker;
    this.limit = opts.limit;
    const t = opts.thresholds ?? DEFAULT_THRESHOLDS;
    // Only the four thresholds: MemoryOptions may come in here carrying spillCompression too.
    this.thresholds = { target: t.target, spill: t.spill, pause: t.pause, terminate: t.terminate };
    this.compress = opts.compression ?? false;
    const bytes = (f: number | false) => (f === false ? Infinity : f * opts.limit);
    this.targetBytes = bytes(this.thresholds.target);
    this.spillBytesAt = bytes(this.thresholds.spill);
    this.pauseBytes = bytes(this.thresholds.pause);
    this.terminateBytes = bytes(this.thresholds.terminate);
    this.disk = opts.disk;
    this.measure = opts.measure;
    this.collectGarbage = opts.collectGarbage;
    this.revive = opts.revive;
    this.warn = opts.warn ?? ((m) => console.warn(m));
    this.now = opts.now ?? (() => performance.now());
  }

  /** Start spilling to `disk` (a browser opens its OPFS file after the worker starts). */
  setDisk(disk: SpillDisk): void {
    if (this.closed) {
      disk.close();
      return;
    }
    this.disk = disk;
    this.unavailable = undefined;
    this.relieve();
  }

  /** There will be nowhere to spill: say why in the metrics. */
  setDiskUnavailable(reason: string): void {
    this.unavailable = reason;
  }

  // ---- ChunkStore -----------------------------------------------------------------------

  get(key: Key): unknown {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (e.file === undefined) {
      if (!e.small) {
        this.fast.delete(key);
        this.fast.set(key, e);
      }
      return e.value;
    }
    return this.unspill(key, e);
  }

  has(key: Key): boolean {
    return this.entries.has(key);
  }

  put(key: Key, value: unknown, nbytes: number): void {
    if (isResource(value)) value[RETAIN]();
    if (this.entries.has(key)) this.drop(key, this.entries.get(key)!);
    const e: Entry = { value, nbytes, file: undefined, diskBytes: 0, copy: undefined, unspillable: false, small: nbytes < NEVER_SPILL_BYTES };
    this.entries.set(key, e);
    this.toMemory(key, e);
    // Not protected: it is the most recent, so it goes last, and one value bigger than target
    // alone goes straight to disk (as in Dask) rather than pausing the worker.
    this.relieve();
  }

  delete(key: Key): boolean {
    const e = this.entries.get(key);
    if (e === undefined) return false;
    this.drop(key, e);
    this.updatePaused();
    return true;
  }

  shared(key: Key): boolean {
    const e = this.entries.get(key);
    return e !== undefined && e.file === undefined && this.isAliased(e.value);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Bytes held in memory. */
  get nbytes(): number {
    return this.managed;
  }

  keys(): IterableIterator<Key> {
    return this.entries.keys();
  }

  pin(key: Key): void {
    if (this.entries.get(key)?.small === true) return; // never spilled: nothing to protect
    this.pins.set(key, (this.pins.get(key) ?? 0) + 1);
  }

  unpin(key: Key): void {
    const n = this.pins.get(key);
    if (n === undefined) return;
    if (n <= 1) this.pins.delete(key);
    else this.pins.set(key, n - 1);
    // What a finished task held may go now.
    if (this.managed > this.targetBytes) this.relieve();
  }

  get paused(): boolean {
    return this.isPaused;
  }

  /**
   * Whether the worker's measured memory is over the terminate threshold: why, or undefined.
   * Measured at most every MEASURE_MS unless `force`. Stored values (they can be spilled) and
   * garbage do not count: only memory outside the store, after a garbage collection, does.
   */
  overTerminate(force: boolean): string | undefined {
    if (this.closed || this.measure === undefined || this.terminateBytes === Infinity) return undefined;
    this.sample(force);
    if (this.measured === undefined || this.measured <= this.terminateBytes) return undefined;
    // Stored values can always go to disk (the spill threshold sends them): only the rest counts.
    if (this.measured - this.managed <= this.terminateBytes) return undefined;
    this.collectGarbage?.();
    this.sample(true);
    if (this.measured - this.managed <= this.terminateBytes) return undefined;
    // A replacement would start over the threshold too: killing it would only lose work.
    if (this.restBytes !== undefined && this.terminateBytes < 2 * this.restBytes) {
      this.warnOnce(
        "terminate-at-rest",
        `tessera: worker ${this.worker} does not act on its terminate threshold (${mb(this.terminateBytes)}, ` +
          `${this.thresholds.terminate} of memoryLimit ${mb(this.limit)}): a worker uses ${mb(this.restBytes)} at rest, ` +
          `so the limit leaves no room for work. Give workers a larger memoryLimit.`,
      );
      return undefined;
    }
    return (
      `worker ${this.worker} uses ${mb(this.measured)}, ${mb(this.measured - this.managed)} of it outside stored values, over its ` +
      `terminate threshold (${mb(this.terminateBytes)}, ${this.thresholds.terminate} of memoryLimit ${mb(this.limit)})`
    );
  }

  /**
   * The worker's measured memory at rest (code, modules and kernels loaded, no data). Terminate
   * is not acted on under twice this: a fresh worker would be killed for its own footprint.
   */
  setRestMemory(bytes: number): void {
    this.restBytes = bytes;
  }

  /** Whether `key` is on disk (tests, metrics). */
  isSpilled(key: Key): boolean {
    return this.entries.get(key)?.file !== undefined;
  }

  memory(): MemoryMetrics {
    this.sample(true);
    const m: MemoryMetrics = {
      limit: this.limit,
      thresholds: { ...this.thresholds },
      managedKeys: this.fast.size + this.smallKeys,
      managed: this.managed,
      managedPeak: this.managedPeak,
      spilledKeys: this.spilledKeys,
      spilled: this.spilled,
      spilledDiskBytes: this.spilledDisk,
      ...this.counts,
      unspillableKeys: this.unspillable,
      paused: this.isPaused,
    };
    if (this.lastError !== undefined) m.lastSpillError = this.lastError;
    if (this.measured !== undefined) {
      m.measured = this.measured;
      m.unmanaged = Math.max(0, this.measured - this.managed);
    }
    if (this.disk) m.spillTo = this.disk.where;
    else if (this.unavailable !== undefined) m.spillUnavailable = this.unavailable;
    return m;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    for (const [key, e] of this.entries) this.drop(key, e, false);
    try {
      this.disk?.close();
    } catch (err) {
      this.warn(`tessera: worker ${this.worker} could not remove its spill files in ${this.disk!.where}: ${(err as Error).message}`);
    }
    this.disk = undefined;
  }

  // ---- spilling -------------------------------------------------------------------------

  /** Spill until managed memory is below target and the measured memory below spill; then update pause. */
  private relieve(protect?: Key): void {
    if (this.closed) return;
    if (this.managed > this.targetBytes) this.evict(this.managed - this.targetBytes, protect);
    this.sample(false);
    if (!this.measureActedOn) {
      this.measureActedOn = true;
      if (this.measured! > this.spillBytesAt) {
        // Freed buffers leave the measurement only when the garbage collector runs: count what
        // was spilled as gone rather than measuring again (the next sample is MEASURE_MS away).
        const freed = this.evict(this.measured! - Math.min(this.targetBytes, this.spillBytesAt), protect);
        this.measured = Math.max(0, this.measured! - freed);
      }
    }
    this.updatePaused();
  }

  /**
   * Spill until `bytes` are freed or nothing more can go; returns bytes freed. Values that still
   * have their file go first (oldest read back first: nothing to write), then the least
   * recently used.
   */
  private evict(bytes: number, protect: Key | undefined): number {
    const disk = this.disk;
    if (disk === undefined || this.now() < this.retryAt) return 0;
    let freed = 0;
    for (const order of [this.clean, this.fast]) {
      for (const [key, e] of order) {
        if (freed >= bytes) return freed;
        if (key === protect || e.unspillable || this.pins.has(key) || this.isAliased(e.value)) continue;
        const r = this.spillOne(disk, key, e);
        if (r === "disk-failed") return freed;
        if (r === "spilled") freed += e.nbytes;
      }
    }
    return freed;
  }

  private spillOne(disk: SpillDisk, key: Key, e: Entry): "spilled" | "unspillable" | "disk-failed" {
    if (e.copy !== undefined) {
      this.fromMemory(key, e);
      e.value = undefined;
      e.file = e.copy;
      e.copy = undefined;
      this.spilled += e.nbytes;
      this.spilledDisk += e.diskBytes;
      this.spilledKeys++;
      return "spilled";
    }
    let enc;
    try {
      enc = encodeSpill(e.value, { compress: this.compress });
    } catch (err) {
      e.unspillable = true;
      this.unspillable++;
      const why = err instanceof SpillFormatError ? err.message : `spill: ${(err as Error).message}`;
      this.warnOnce(why, `tessera: worker ${this.worker} keeps ${key} in memory: ${why}`);
      return "unspillable";
    }
    const file = `${++this.fileSeq}.spill`;
    try {
      disk.write(file, enc.parts, enc.byteLength);
    } catch (err) {
      const msg = `worker ${this.worker} could not spill ${key} (${enc.byteLength} bytes) to ${disk.where}: ${(err as Error).message}; it stays in memory`;
      this.counts.spillErrors++;
      this.lastError = msg;
      this.warnOnce((err as { code?: string }).code ?? (err as Error).message, `tessera: ${msg}`);
      this.retryAt = this.now() + RETRY_MS;
      this.scheduleRetry();
      return "disk-failed";
    }
    this.fromMemory(key, e);
    e.value = undefined;
    e.file = file;
    e.diskBytes = enc.byteLength;
    this.spilled += e.nbytes;
    this.spilledDisk += e.diskBytes;
    this.spilledKeys++;
    this.counts.spillCount++;
    this.counts.spillBytes += e.nbytes;
    this.counts.spillDiskBytes += enc.byteLength;
    return "spilled";
  }

  private unspill(key: Key, e: Entry): unknown {
    const disk = this.disk;
    // Make room first: what goes frees its memory (a block's place in wasm memory) for the value
    // read back to take, instead of the read growing the heap and the eviction coming after.
    if (this.managed + e.nbytes > this.targetBytes) this.evict(this.managed + e.nbytes - this.targetBytes, key);
    let value: unknown;
    try {
      if (!disk) throw new TesseraError("the spill disk is closed");
      value = disk.read(e.file!, (read) => decodeSpill(read, this.revive));
    } catch (err) {
      // The value is lost here; as a missing key the scheduler recomputes it or reports it lost.
      // A decoding error names the byte offset; the file it is in is named here.
      const why = err instanceof SpillCorruptError ? `${e.file}: ${err.message}` : (err as Error).message;
      const msg = `worker ${this.worker} could not read spilled ${key} back from ${disk?.where ?? "disk"}: ${why}; the key is dropped`;
      this.counts.spillErrors++;
      this.lastError = msg;
      this.warn(`tessera: ${msg}`);
      this.drop(key, e);
      return undefined;
    }
    // Keep the file: if this value is evicted again, it need not be written again.
    this.spilled -= e.nbytes;
    this.spilledDisk -= e.diskBytes;
    this.spilledKeys--;
    e.copy = e.file;
    e.file = undefined;
    this.counts.unspillCount++;
    this.counts.unspillBytes += e.nbytes;
    if (isResource(value)) value[RETAIN]();
    e.value = value;
    e.nbytes = sizeOf(value);
    this.toMemory(key, e);
    this.relieve(key);
    return value;
  }

  /** Try spilling again once the disk has rested, even if nothing else happens meanwhile. */
  private scheduleRetry(): void {
    if (this.retryTimer !== undefined) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.relieve();
      if (this.isPaused) this.scheduleRetry();
    }, RETRY_MS);
    (this.retryTimer as { unref?: () => void }).unref?.();
  }

  private updatePaused(): void {
    const paused = this.managed > this.pauseBytes;
    if (paused === this.isPaused) return;
    this.isPaused = paused;
    if (paused) {
      this.warnOnce("pause", `tessera: worker ${this.worker} paused: ${mb(this.managed)} in memory is over the pause threshold (${mb(this.pauseBytes)}) and could not be spilled`);
      // Whatever kept it from spilling (a failed disk) may pass: look again later.
      this.scheduleRetry();
      this.onPause?.();
    } else this.onResume?.();
  }

  /** Take a new measurement if the last is MEASURE_MS old (or `force`). */
  private sample(force: boolean): void {
    if (!this.measure) return;
    const now = this.now();
    if (!force && now - this.lastMeasure < MEASURE_MS) return;
    this.lastMeasure = now;
    try {
      this.measured = this.measure();
      this.measureActedOn = false;
    } catch {
      // Not measurable now: act on managed memory alone.
    }
  }

  // ---- bookkeeping ----------------------------------------------------------------------

  private toMemory(key: Key, e: Entry): void {
    if (e.small) this.smallKeys++;
    else {
      this.fast.set(key, e);
      if (e.copy !== undefined) this.clean.set(key, e);
    }
    this.managed += e.nbytes;
    if (this.managed > this.managedPeak) this.managedPeak = this.managed;
    const v = e.value;
    if (v !== null && typeof v === "object") {
      this.keysPerObject.set(v, (this.keysPerObject.get(v) ?? 0) + 1);
      for (const b of ownedBuffers(v)) {
        const m = this.valuesPerBuffer.get(b) ?? 0;
        if (m === 0) for (const w of bufferWatchers) w.held(b);
        this.valuesPerBuffer.set(b, m + 1);
      }
    }
  }

  /** Take an in-memory entry out of the memory accounts, releasing what it holds. */
  private fromMemory(key: Key, e: Entry): void {
    if (e.small) this.smallKeys--;
    else {
      this.fast.delete(key);
      this.clean.delete(key);
    }
    this.managed -= e.nbytes;
    if (e.unspillable) {
      e.unspillable = false;
      this.unspillable--;
    }
    const v = e.value;
    if (v !== null && typeof v === "object") {
      const n = this.keysPerObject.get(v) ?? 0;
      if (n <= 1) this.keysPerObject.delete(v);
      else this.keysPerObject.set(v, n - 1);
      for (const b of ownedBuffers(v)) {
        const m = this.valuesPerBuffer.get(b) ?? 0;
        if (m <= 1) {
          this.valuesPerBuffer.delete(b);
          for (const w of bufferWatchers) w.unheld(b);
        } else this.valuesPerBuffer.set(b, m - 1);
      }
    }
    if (isResource(v)) v[RELEASE]();
  }

  private forgetFile(e: Entry): void {
    try {
      this.disk?.remove(e.file!);
    } catch {
      // A file that cannot be removed now goes with the directory on close.
    }
    this.spilled -= e.nbytes;
    this.spilledDisk -= e.diskBytes;
    this.spilledKeys--;
    e.file = undefined;
    e.diskBytes = 0;
  }

  private drop(key: Key, e: Entry, removeFile = true): void {
    this.entries.delete(key);
    if (e.file === undefined) this.fromMemory(key, e);
    else if (removeFile) this.forgetFile(e);
    if (e.copy !== undefined && removeFile) {
      try {
        this.disk?.remove(e.copy);
      } catch {
        // goes with the directory on close
      }
      e.copy = undefined;
    }
  }

  private isAliased(v: unknown): boolean {
    if (v === null || typeof v !== "object") return false;
    if ((this.keysPerObject.get(v) ?? 0) > 1) return true;
    for (const b of ownedBuffers(v)) if ((this.valuesPerBuffer.get(b) ?? 0) > 1) return true;
    return false;
  }

  private warnOnce(kind: string, message: string): void {
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    this.warn(message);
  }
}

function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
