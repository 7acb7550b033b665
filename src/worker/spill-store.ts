/**
 * A chunk store with a memory limit (Dask's SpillBuffer with its memory manager folded in).
 *
 * Every stored value has a size (sizeOf: exact for typed arrays, array blocks and the buffers
 * of dataframe partitions) and a place in least-recently-used order: a read moves it to the end.
 * The store acts on the thresholds of memory-types.ts: it spills over target and spill, pauses
 * over pause and reports over terminate.
 *
 * A value in use by a running task is pinned and never spilled (an array block in wasm memory
 * would be freed under the task). Aliased values (alias-index.ts) are not spilled either. A
 * spilled value comes back transparently on `get` or `borrow`, from one read per buffer, after
 * room is made for it: into the buffers of the values evicted for it where nothing else can see
 * them (spill-recycle.ts); a block that was in wasm memory comes back into it where the store
 * has a reviver (workers do), else as plain data.
 * Values under NEVER_SPILL_BYTES (spill-entry.ts) are never spilled. A value the spill format
 * cannot write (a class instance) stays in memory, counted as unspillable; a disk that fails
 * leaves the value in memory, and the store waits a second before it writes again (a warning,
 * an error count and the last message in the metrics, no crash).
 */

import { TesseraError } from "../errors.js";
import type { Key } from "../graph/task.js";
import { AliasIndex } from "./alias-index.js";
import { MemoryMeter, mb, terminateReason } from "./memory-meter.js";
import { DEFAULT_THRESHOLDS, type MemoryMetrics, type MemoryThresholds, type SpillStoreOptions } from "./memory-types.js";
import { RELEASE, RETAIN, isResource } from "./resource.js";
import { SpillCorruptError } from "./spill-codec.js";
import { NEVER_SPILL_BYTES, type Entry } from "./spill-entry.js";
import { SpillFormatError, decodeSpill, encodeSpill, type SpillReviver } from "./spill-format.js";
import type { SpillDisk } from "./spill-disk.js";
import { Recycler } from "./spill-recycle.js";
import { sizeOf, type ChunkStore } from "./store.js";
import { Uncollected } from "./uncollected.js";

export { DEFAULT_THRESHOLDS, type MemoryMetrics, type MemoryOptions, type MemoryThresholds, type SpillStoreOptions } from "./memory-types.js";
export { NEVER_SPILL_BYTES } from "./spill-entry.js";

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
  private readonly aliases = new AliasIndex();
  /** Buffers let go of and not yet collected: not counted against the spill threshold. */
  private readonly uncollected = new Uncollected();
  private readonly recycler = new Recycler(this.aliases, this.uncollected);
  private readonly worker: string;
  private readonly limit: number;
  private readonly thresholds: MemoryThresholds;
  private readonly compress: boolean;
  private readonly targetBytes: number;
  private readonly spillBytesAt: number;
  private readonly pauseBytes: number;
  private readonly terminateBytes: number;
  private readonly meter: MemoryMeter | undefined;
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
    this.collectGarbage = opts.collectGarbage;
    this.revive = opts.revive;
    this.warn = opts.warn ?? ((m) => console.warn(m));
    this.now = opts.now ?? (() => performance.now());
    this.meter = opts.measure ? new MemoryMeter(opts.measure, this.now) : undefined;
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
    return e === undefined ? undefined : this.read(key, e, true);
  }

  borrow(key: Key): unknown {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    this.pin(key);
    const v = this.read(key, e, false);
    // Not read back (the key is dropped as missing): nothing to unpin later.
    if (!this.entries.has(key)) this.unpin(key);
    return v;
  }

  private read(key: Key, e: Entry, lend: boolean): unknown {
    if (e.file !== undefined) {
      // Read back (last in the LRU order already), or dropped if it could not be.
      const v = this.unspill(key, e);
      if (lend && this.entries.get(key) === e) e.lent = true;
      return v;
    }
    if (lend) e.lent = true;
    if (!e.small) {
      this.fast.delete(key);
      this.fast.set(key, e);
    }
    return e.value;
  }

  has(key: Key): boolean {
    return this.entries.has(key);
  }

  put(key: Key, value: unknown, nbytes: number): void {
    if (isResource(value)) value[RETAIN]();
    if (this.entries.has(key)) this.drop(key, this.entries.get(key)!);
    const e: Entry = { value, nbytes, file: undefined, diskBytes: 0, copy: undefined, unspillable: false, small: nbytes < NEVER_SPILL_BYTES, lent: false };
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
    return e !== undefined && e.file === undefined && this.aliases.isAliased(e.value);
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

  /** Whether the worker's measured memory is over the terminate threshold: why, or undefined (memory-meter.ts). */
  overTerminate(force: boolean): string | undefined {
    const fraction = this.thresholds.terminate;
    if (this.closed || this.meter === undefined || fraction === false) return undefined;
    const t = { worker: this.worker, limit: this.limit, fraction, bytes: this.terminateBytes, restBytes: this.restBytes };
    return terminateReason(this.meter, this.managed, force, t, this.collectGarbage, (kind, m) => this.warnOnce(kind, m));
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
    this.meter?.sample(true);
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
    const measured = this.meter?.measured;
    if (measured !== undefined) {
      m.measured = measured;
      m.unmanaged = Math.max(0, measured - this.managed);
      m.uncollected = this.uncollected.bytes;
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
    const measured = this.meter?.takeNew();
    // Values let go of a moment ago still count until the collector frees their buffers:
    // spilling more for them would empty the store, each eviction leaving more garbage behind.
    const beyond = measured === undefined ? undefined : measured - this.uncollected.bytes;
    if (beyond !== undefined && beyond > this.spillBytesAt) {
      // Count what was spilled as gone rather than measuring again (MemoryMeter.discount).
      this.meter!.discount(this.evict(beyond - Math.min(this.targetBytes, this.spillBytesAt), protect));
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
        if (key === protect || e.unspillable || this.pins.has(key) || this.aliases.isAliased(e.value)) continue;
        const r = this.spillOne(disk, key, e);
        if (r === "disk-failed") return freed;
        if (r === "spilled") freed += e.nbytes;
      }
    }
    return freed;
  }

  private spillOne(disk: SpillDisk, key: Key, e: Entry): "spilled" | "unspillable" | "disk-failed" {
    // Reading a value back: the buffers this one frees may serve it (spill-recycle.ts).
    const released = this.recycler.active && !e.lent && !isResource(e.value) ? this.recycler.take : undefined;
    if (e.copy !== undefined) {
      this.fromMemory(key, e, released);
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
    this.fromMemory(key, e, released);
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
    let value: unknown;
    try {
      // Make room first: what goes frees its memory (its buffers, a block's place in wasm memory)
      // for the value read back to take, instead of the read growing the heap and the eviction
      // coming after.
      this.recycler.begin();
      if (this.managed + e.nbytes > this.targetBytes) this.evict(this.managed + e.nbytes - this.targetBytes, key);
      if (!disk) throw new TesseraError("the spill disk is closed");
      value = disk.read(e.file!, (read) => decodeSpill(read, this.revive, this.recycler.reuse));
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
    } finally {
      this.recycler.end();
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
    if (v !== null && typeof v === "object") this.aliases.add(v);
  }

  /**
   * Take an in-memory entry out of the memory accounts, releasing what it holds; `released` gets
   * each buffer no value in memory owns any more (default: the uncollected-garbage account).
   */
  private fromMemory(key: Key, e: Entry, released: (b: ArrayBufferLike) => void = this.uncollected.add): void {
    if (e.small) this.smallKeys--;
    else {
      this.fast.delete(key);
      this.clean.delete(key);
    }
    this.managed -= e.nbytes;
    const lent = e.lent;
    e.lent = false;
    if (e.unspillable) {
      e.unspillable = false;
      this.unspillable--;
    }
    const v = e.value;
    if (v !== null && typeof v === "object") this.aliases.remove(v, e.small ? undefined : released, lent);
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

  private warnOnce(kind: string, message: string): void {
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    this.warn(message);
  }
}
