/**
 * Which values in a store's memory are aliased: one object stored under two keys, or two
 * values that own the same ArrayBuffer (a frame made by select() shares its columns' buffers
 * with its source). An aliased value is neither spilled (writing out one key would free
 * nothing) nor moved (transferring the buffers would empty the other value).
 *
 * It also tells bufferWatchers (store.ts) when a buffer comes to be held by a value in memory
 * and when no value holds it any more.
 */

import { bufferWatchers } from "./store.js";
import { ownedBuffers } from "./transfer.js";

export class AliasIndex {
  private readonly keysPerObject = new Map<object, number>();
  /** Stored values (in memory) per ArrayBuffer they own. */
  private readonly valuesPerBuffer = new Map<ArrayBufferLike, number>();

  /** `v` is now held in memory under one more key. */
  add(v: object): void {
    this.keysPerObject.set(v, (this.keysPerObject.get(v) ?? 0) + 1);
    for (const b of ownedBuffers(v)) {
      const m = this.valuesPerBuffer.get(b) ?? 0;
      if (m === 0) for (const w of bufferWatchers) w.held(b);
      this.valuesPerBuffer.set(b, m + 1);
    }
  }

  /**
   * `v` is held in memory under one key fewer (deleted, or spilled); `released` is told of each
   * buffer no value in memory owns any more.
   */
  remove(v: object, released?: (b: ArrayBufferLike) => void): void {
    const n = this.keysPerObject.get(v) ?? 0;
    if (n <= 1) this.keysPerObject.delete(v);
    else this.keysPerObject.set(v, n - 1);
    for (const b of ownedBuffers(v)) {
      const m = this.valuesPerBuffer.get(b) ?? 0;
      if (m <= 1) {
        this.valuesPerBuffer.delete(b);
        for (const w of bufferWatchers) w.unheld(b);
        released?.(b);
      } else this.valuesPerBuffer.set(b, m - 1);
    }
  }

  isAliased(v: unknown): boolean {
    if (v === null || typeof v !== "object") return false;
    if ((this.keysPerObject.get(v) ?? 0) > 1) return true;
    for (const b of ownedBuffers(v)) if ((this.valuesPerBuffer.get(b) ?? 0) > 1) return true;
    return false;
  }
}
