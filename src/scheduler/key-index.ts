/**
 * The scheduler's key -> slot index, with lazy deletion. Deleting from a Map of 100k+ string
 * keys costs as much as adding (~0.3 µs: the table rehashes as it shrinks), and every task is
 * deleted once. Here a dropped key's entry stays, pointing at a slot whose key is no longer
 * it. When the last live key goes (a whole graph finished: the common case) the Map is simply
 * dropped; otherwise, once stale entries outnumber live ones eight to one, the live ones move
 * to a fresh Map (iterating a 100k-entry Map costs ~0.5 µs an entry, so compacting at every
 * halving, as this did first, cost more than the deletes it saved).
 */

import type { Key } from "../graph/task.js";

const MIN_STALE = 1024;

export class KeyIndex {
  private map = new Map<Key, number>();
  private stale = 0;
  private live = 0;

  /** `keyOf(slot)`: the key a slot has now (undefined once released). */
  constructor(private readonly keyOf: (slot: number) => Key | undefined) {}

  get size(): number {
    return this.live;
  }

  get(key: Key): number | undefined {
    const slot = this.map.get(key);
    return slot !== undefined && this.keyOf(slot) === key ? slot : undefined;
  }

  /** Index a key that has no live slot now. */
  set(key: Key, slot: number): void {
    if (this.map.has(key)) this.stale--; // a stale entry of the same key, overwritten
    this.map.set(key, slot);
    this.live++;
  }

  /** The key's slot is being released (call before its key is cleared). */
  delete(key: Key): void {
    this.live--;
    this.stale++;
    if (this.live === 0) {
      this.map = new Map();
      this.stale = 0;
    } else if (this.stale > MIN_STALE && this.stale > 8 * this.live) this.compact(key);
  }

  /** Slots of every live key. */
  *values(): IterableIterator<number> {
    for (const [key, slot] of this.map) if (this.keyOf(slot) === key) yield slot;
  }

  /** Every live key. */
  *keys(): IterableIterator<Key> {
    for (const [key, slot] of this.map) if (this.keyOf(slot) === key) yield key;
  }

  /** Keep the live entries; `dropped` still has its slot (it is being released). */
  private compact(dropped: Key): void {
    const fresh = new Map<Key, number>();
    if (this.live > 0) for (const [key, slot] of this.map) if (key !== dropped && this.keyOf(slot) === key) fresh.set(key, slot);
    this.map = fresh;
    this.stale = 0;
  }
}
