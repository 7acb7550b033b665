/**
 * Reading a spilled value back into the memory of the values evicted to make room for it.
 *
 * A pass over spilled partitions (a groupby over a persisted dataframe bigger than memory) reads
 * each one back just as the store drops another of about the same size. Read into fresh memory,
 * every buffer costs a page fault per 4 KiB, and the dropped one is left for the collector (in
 * V8, external memory that brings collections on). So while one value is read back, the buffers
 * of the values evicted for it wait here by byte length, and the read takes those that fit.
 *
 * A buffer is taken only where nothing else can see it:
 *   - its value was not handed out unpinned while in memory (Entry.lent: a peer's fetch, a
 *     gather). A task's inputs are borrowed, pinned for the run, and an op does not keep them
 *     past its return (README, Inputs);
 *   - no other value in memory views it, whole or in part (AliasIndex.viewed);
 *   - its value is not a resource (wasm memory, the Parquet reader's pool: owners of their own).
 * It is detached from the evicted value (moved to a new ArrayBuffer object, not copied): a view
 * kept against that contract reads as empty, never as the next value's data.
 */

import type { AliasIndex } from "./alias-index.js";
import type { Uncollected } from "./uncollected.js";

/** Buffers smaller than this are not kept: a page fault or two is not worth it. */
export const RECYCLE_MIN = 1 << 20;

export class Recycler {
  private free: Map<number, ArrayBuffer[]> | undefined;

  constructor(
    private readonly aliases: AliasIndex,
    private readonly uncollected: Uncollected,
  ) {}

  /** A read back starts: values evicted from now on give their buffers to it. */
  begin(): void {
    this.free = new Map();
  }

  get active(): boolean {
    return this.free !== undefined;
  }

  /**
   * A buffer of an evicted value that no value in memory owns any more (AliasIndex.remove's
   * `released`): kept for the read, or else garbage as usual.
   */
  readonly take = (b: ArrayBufferLike): void => {
    const free = this.free;
    // A detached one was taken back already (the Parquet reader's pool watches the store too).
    if (free === undefined || !(b instanceof ArrayBuffer) || b.byteLength < RECYCLE_MIN || this.aliases.viewed(b)) {
      this.uncollected.add(b);
      return;
    }
    let moved: ArrayBuffer;
    try {
      moved = structuredClone(b, { transfer: [b] });
    } catch {
      this.uncollected.add(b); // not transferable (a wasm memory's buffer): garbage as before
      return;
    }
    const same = free.get(moved.byteLength);
    if (same) same.push(moved);
    else free.set(moved.byteLength, [moved]);
  };

  /** A kept buffer of `byteLength` bytes for the read (its contents are stale), or undefined. */
  readonly reuse = (byteLength: number): ArrayBuffer | undefined => this.free?.get(byteLength)?.pop();

  /** The read is done: what it did not take is garbage now. */
  end(): void {
    const free = this.free;
    this.free = undefined;
    if (free !== undefined) for (const list of free.values()) for (const b of list) this.uncollected.add(b);
  }
}
