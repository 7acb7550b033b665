/**
 * Which values in a store's memory are aliased: one object stored under two keys, or two
 * values that own the same ArrayBuffer (a frame made by select() shares its columns' buffers
 * with its source). An aliased value is neither spilled (writing out one key would free
 * nothing) nor moved (transferring the buffers would empty the other value).
 *
 * It also tells bufferWatchers (store.ts) when a buffer comes to be held by a value in memory
 * and when no value holds it any more, and knows which buffers stored values view only in part
 * (a slice of a column): such a buffer is not another value's to reuse (`viewed`).
 */

import { bufferWatchers } from "./store.js";
import { ownedBuffers } from "./transfer.js";

export class AliasIndex {
  private readonly keysPerObject = new Map<object, number>();
  /** Stored values (in memory) per ArrayBuffer they own. */
  private readonly valuesPerBuffer = new Map<ArrayBufferLike, number>();
  /** Views stored values (in memory) hold of part of an ArrayBuffer, per buffer. */
  private readonly partialViews = new Map<ArrayBufferLike, number>();

  /** `v` is now held in memory under one more key. */
  add(v: object): void {
    this.keysPerObject.set(v, (this.keysPerObject.get(v) ?? 0) + 1);
    const partial: ArrayBufferLike[] = [];
    for (const b of ownedBuffers(v, [], 0, partial)) {
      const m = this.valuesPerBuffer.get(b) ?? 0;
      if (m === 0) for (const w of bufferWatchers) w.held(b);
      this.valuesPerBuffer.set(b, m + 1);
    }
    for (const b of partial) this.partialViews.set(b, (this.partialViews.get(b) ?? 0) + 1);
  }

  /**
   * `v` is held in memory under one key fewer (deleted, or spilled); `released` is told of each
   * buffer no value in memory owns any more. `lent`: v was handed out by `get` while here, so
   * watchers are told its buffers, whole or in part, are exposed.
   */
  remove(v: object, released?: (b: ArrayBufferLike) => void, lent = false): void {
    const n = this.keysPerObject.get(v) ?? 0;
    if (n <= 1) this.keysPerObject.delete(v);
    else this.keysPerObject.set(v, n - 1);
    const partial: ArrayBufferLike[] = [];
    const owned = ownedBuffers(v, [], 0, partial);
    if (lent) for (const w of bufferWatchers) for (const b of [...owned, ...partial]) w.exposed(b);
    // Partial views first: `released` sees the index without any of v's views (AliasIndex.viewed).
    for (const b of partial) {
      const m = this.partialViews.get(b) ?? 0;
      if (m <= 1) this.partialViews.delete(b);
      else this.partialViews.set(b, m - 1);
    }
    for (const b of owned) {
      const m = this.valuesPerBuffer.get(b) ?? 0;
      if (m <= 1) {
        this.valuesPerBuffer.delete(b);
        for (const w of bufferWatchers) w.unheld(b);
        released?.(b);
      } else this.valuesPerBuffer.set(b, m - 1);
    }
  }

  /** Whether a value in memory views `b`, whole or in part. */
  viewed(b: ArrayBufferLike): boolean {
    return this.valuesPerBuffer.has(b) || this.partialViews.has(b);
  }

  isAliased(v: unknown): boolean {
    if (v === null || typeof v !== "object") return false;
    if ((this.keysPerObject.get(v) ?? 0) > 1) return true;
    for (const b of ownedBuffers(v)) if ((this.valuesPerBuffer.get(b) ?? 0) > 1) return true;
    return false;
  }
}
