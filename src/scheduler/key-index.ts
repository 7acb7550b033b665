/**
 * The scheduler's key -> slot index, with lazy deletion. Deleting from a Map of 100k+ string
 * keys costs as much as adding (~0.3 µs: the table rehashes as it shrinks), and every task is
 * deleted once. Here a dropped key's entry stays, pointing at a slot whose key is no longer
 * it. When the last live key goes (a whole graph finished: the common case) the Map is simply
 * dropped; otherwise, once stale entries outnumber live ones eight to one, the live ones move
 * to a fresh Map (iterating a 100k-entry Map costs ~0.5 µs an entry, so compacting at every
 * halving, as this did first, cost more than the deletes it saved).
 *
 * A submission to an index with no live key cannot meet a key it holds, so its new tasks need
 * not be hashed to check: addDeferred only lists their slots. A lookup by key scans that list
 * from its end (a graph's outputs come last in its order, and they are what gets looked up: to
 * gather and release them); once the scans have cost twice the list, it goes into the Map.
 * Tasks that come and go within one computation are never hashed here.
 */

import type { Key } from "../graph/task.js";

const MIN_STALE = 1024;

export class KeyIndex {
  private map = new Map<Key, number>();
  /** Slots of live keys not in the map yet (see addDeferred); released ones are skipped when put in. */
  private deferred: number[] = [];
  /** Slot reads left to scans of `deferred` before it goes into the map. */
  private scanBudget = 0;
  private stale = 0;
  private live = 0;

  /** `keyOf(slot)`: the key a slot has now (undefined once released). */
  constructor(private readonly keyOf: (slot: number) => Key | undefined) {}

  get size(): number {
    return this.live;
  }

  get(key: Key): number | undefined {
    const slot = this.map.get(key);
    if (slot !== undefined && this.keyOf(slot) === key) return slot;
    return this.deferred.length > 0 ? this.findDeferred(key) : undefined;
  }

  /** Index a key that has no live slot now. */
  set(key: Key, slot: number): void {
    if (this.map.has(key)) this.stale--; // a stale entry of the same key, overwritten
    this.map.set(key, slot);
    this.live++;
  }

  /**
   * Index a new key while no other key is live (size 0 before the submission's first add), and
   * each key added once: its slot is put in the Map only when a lookup by key needs it.
   */
  addDeferred(slot: number): void {
    this.deferred.push(slot);
    this.scanBudget += 2;
    this.live++;
  }

  /** The key's slot is being released (call before its key is cleared). */
  delete(key: Key): void {
    this.live--;
    this.stale++;
    if (this.live === 0) {
      this.map = new Map();
      this.deferred = [];
      this.scanBudget = 0;
      this.stale = 0;
    } else if (this.stale > MIN_STALE && this.stale > 8 * this.live) this.compact(key);
  }

  /** Slots of every live key. */
  *values(): IterableIterator<number> {
    if (this.deferred.length > 0) this.putDeferred();
    for (const [key, slot] of this.map) if (this.keyOf(slot) === key) yield slot;
  }

  /** Every live key. */
  *keys(): IterableIterator<Key> {
    if (this.deferred.length > 0) this.putDeferred();
    for (const [key, slot] of this.map) if (this.keyOf(slot) === key) yield key;
  }

  private findDeferred(key: Key): number | undefined {
    const slots = this.deferred;
    for (let i = slots.length - 1; i >= 0; i--) {
      if (--this.scanBudget < 0) {
        this.putDeferred();
        const slot = this.map.get(key);
        return slot !== undefined && this.keyOf(slot) === key ? slot : undefined;
      }
      if (this.keyOf(slots[i]!) === key) return slots[i];
    }
    return undefined;
  }

  private putDeferred(): void {
    const slots = this.deferred;
    this.deferred = [];
    this.scanBudget = 0;
    for (const slot of slots) {
      const key = this.keyOf(slot);
      // Released since (a released key was counted stale, as if it had been in the map).
      if (key === undefined) continue;
      const prev = this.map.get(key);
      if (prev === slot) continue; // the slot was reused, and its new key set() already
      if (prev !== undefined) this.stale--; // the key's old slot: stale, overwritten
      this.map.set(key, slot);
    }
  }

  /** Keep the live entries; `dropped` still has its slot (it is being released). */
  private compact(dropped: Key): void {
    const fresh = new Map<Key, number>();
    if (this.live > 0) for (const [key, slot] of this.map) if (key !== dropped && this.keyOf(slot) === key) fresh.set(key, slot);
    this.map = fresh;
    this.stale = 0;
  }
}
