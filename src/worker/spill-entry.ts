/**
 * What SpillStore keeps per key. An entry is in memory (`value` set, `file` undefined) or on
 * disk (`file` set, `value` undefined); read back, it keeps its file as `copy`, so evicting it
 * again writes nothing.
 */

/**
 * Values smaller than this stay in memory and keep no place in the LRU order: their key and
 * entry take more memory than they do, and a no-op task's result would otherwise pay two LRU
 * moves and a pin per use.
 */
export const NEVER_SPILL_BYTES = 1024;

export interface Entry {
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
  /**
   * The value in memory was handed out unpinned (get: a peer's fetch, a gather) and may still
   * be held there: its buffers are never reused for another value (spill-recycle.ts), and
   * pooled ones are detached before reuse (parquet-pool.ts).
   */
  lent: boolean;
}
