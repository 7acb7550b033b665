/**
 * Task state as a table: one slot per task, each field a column (a typed array where the field
 * is a number). A million tasks are a few dozen arrays, not a million objects: the scheduler
 * allocates almost nothing per task, so the garbage collector has nothing to copy (with one
 * object per task, copying survivors was a third of the scheduler's time).
 *
 * Slots are reused once a task is forgotten. Lists that may outlive a task (its dependencies'
 * lists of dependents, the ready queue) hold *refs*: slot + generation * 2^24, valid only while
 * the slot's generation is unchanged. Lists that cannot outlive it (a task's own dependencies)
 * hold plain slots.
 *
 * Per task, counters the transitions keep exact:
 *   waitingOn       dependencies not yet in memory          (reaches 0 -> ready)
 *   waiters         dependents in waiting/ready/processing   (reaches 0 -> data may be released)
 *   liveDependents  dependents not yet forgotten             (reaches 0 -> task may be forgotten)
 *   wants           clients holding the key (futures, persist)
 */

import type { SerializedError } from "../errors.js";
import type { Key } from "../graph/task.js";
import type { ClientId, TaskStateName, WorkerId } from "./events.js";

export const RELEASED = 0;
export const WAITING = 1;
export const READY = 2;
export const PROCESSING = 3;
export const MEMORY = 4;
export const ERRED = 5;
export const FORGOTTEN = 6;
export type State = 0 | 1 | 2 | 3 | 4 | 5 | 6;

export const STATE_NAMES: readonly TaskStateName[] = ["released", "waiting", "ready", "processing", "memory", "erred", "forgotten"];

export const STEALING = 1;
export const IN_QUEUE = 2;
/** Counted in its prefix's progress (done or erred), so a recomputed task is not counted twice. */
export const COUNTED = 4;
/** Its worker restrictions are loose (allowOtherWorkers): see placement.ts. */
export const LOOSE = 8;

export const MAX_SLOTS = 2 ** 24;
const NONE_REF = -1;
/**
 * The generation bits of a wire ref (wireRef): 7 of them over 24 bits of slot keep it under
 * 2^31, a small integer to V8 (a Smi) for as long as the scheduler lives.
 */
const WIRE_GEN_MASK = 0x7f;

/** An empty dependency list shared by every task without dependencies. */
const NO_DEPS = new Int32Array(0);

export class TaskTable {
  capacity = 0;
  /** Slots ever handed out; slots below it are live or on the free list. */
  top = 0;
  private freeSlots: number[] = [];
  private pendingFree: number[] = [];
  live = 0;

  key: (Key | undefined)[] = [];
  run: unknown[] = [];
  gen = new Uint32Array(0);
  state = new Uint8Array(0);
  flags = new Uint8Array(0);
  waitingOn = new Int32Array(0);
  waiters = new Int32Array(0);
  liveDependents = new Int32Array(0);
  wants = new Int32Array(0);
  retries = new Int32Array(0);
  suspicious = new Int32Array(0);
  prefix = new Int32Array(0);
  /** Worker index the task is assigned to, or -1. */
  processingOn = new Int32Array(0);
  /** Position in that worker's processing list (see SlotList). */
  procPos = new Int32Array(0);
  /** The occupancy charged to that worker, to subtract exactly what was added. */
  charged = new Float64Array(0);
  nbytes = new Float64Array(0);
  priority = new Float64Array(0);
  rank = new Float64Array(0);
  /** First holder's worker index (-1: none); further holders in holdersMore. */
  holder = new Int32Array(0);
  holdersMore: (number[] | undefined)[] = [];
  /** Dependencies: depArena[slot][depStart .. depStart + depCount) (arenas are shared per submission). */
  depArena: Int32Array[] = [];
  depStart = new Int32Array(0);
  depCount = new Int32Array(0);
  /** First dependent as a ref (-1: none); further ones in dependentsMore. Entries may be stale. */
  dependent1 = new Float64Array(0);
  dependentsMore: (number[] | undefined)[] = [];
  wantedBy: (ClientId[] | undefined)[] = [];
  /** The value of a small result in memory (see SMALL_VALUE_BYTES), boxed; undefined otherwise. */
  small: ({ value: unknown } | undefined)[] = [];
  exception: (SerializedError | undefined)[] = [];
  restrictions: (readonly WorkerId[] | undefined)[] = [];

  /** A fresh slot in state released, all counters zero. */
  alloc(key: Key, run: unknown, prefix: number, priority: number, rank: number): number {
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      slot = this.top++;
      if (slot >= MAX_SLOTS) throw new Error(`the scheduler holds ${MAX_SLOTS} tasks, its limit: release results you no longer need`);
      if (slot >= this.capacity) this.grow(Math.max(1024, this.capacity * 2));
    }
    this.key[slot] = key;
    this.run[slot] = run;
    this.gen[slot]!++;
    this.state[slot] = RELEASED;
    this.flags[slot] = 0;
    this.waitingOn[slot] = 0;
    this.waiters[slot] = 0;
    this.liveDependents[slot] = 0;
    this.wants[slot] = 0;
    this.retries[slot] = 0;
    this.suspicious[slot] = 0;
    this.prefix[slot] = prefix;
    this.processingOn[slot] = -1;
    this.charged[slot] = 0;
    this.nbytes[slot] = -1;
    this.priority[slot] = priority;
    this.rank[slot] = rank;
    this.holder[slot] = -1;
    this.depArena[slot] = NO_DEPS;
    this.depStart[slot] = 0;
    this.depCount[slot] = 0;
    this.dependent1[slot] = NONE_REF;
    this.live++;
    return slot;
  }

  /** Forget a slot; it is reused only after the current batch of events (see flushFree). */
  release(slot: number): void {
    this.state[slot] = FORGOTTEN;
    this.gen[slot]!++;
    this.key[slot] = undefined;
    this.run[slot] = undefined;
    // Sparse columns: write only where set, so they stay small and never turn into dictionaries.
    if (this.holdersMore[slot] !== undefined) this.holdersMore[slot] = undefined;
    if (this.dependentsMore[slot] !== undefined) this.dependentsMore[slot] = undefined;
    if (this.wantedBy[slot] !== undefined) this.wantedBy[slot] = undefined;
    if (this.small[slot] !== undefined) this.small[slot] = undefined;
    if (this.exception[slot] !== undefined) this.exception[slot] = undefined;
    if (this.restrictions[slot] !== undefined) this.restrictions[slot] = undefined;
    this.depArena[slot] = NO_DEPS;
    this.pendingFree.push(slot);
    this.live--;
  }

  /** Make slots forgotten during this batch available again. */
  flushFree(): void {
    if (this.live === 0) {
      // Empty: start again from slot 0. Reusing the free list instead hands out slots in the order
      // the last graph forgot them, scattered over its whole span (a tree's are), and every column
      // access of the next computation misses the cache: a 10k graph after a 133k tree ran 2x slower.
      this.top = 0;
      this.freeSlots.length = 0;
    } else for (const s of this.pendingFree) this.freeSlots.push(s);
    this.pendingFree.length = 0;
  }

  ref(slot: number): number {
    return this.gen[slot]! * MAX_SLOTS + slot;
  }

  /** The slot a ref names, or -1 if that task is gone. */
  deref(ref: number): number {
    const slot = ref % MAX_SLOTS;
    return ref === this.gen[slot]! * MAX_SLOTS + slot ? slot : -1;
  }

  /**
   * The ref a worker gets with a task and echoes in its reports. A full ref passes 2^31 once
   * its slot has been reused 64 times, and from then on every worker field and array that
   * holds one turns from small integers to boxed doubles: V8 deprecates those objects' maps
   * and throws away the code built on them, on every worker at once. A wire ref keeps only
   * the low generation bits, so derefWire checks the key too.
   */
  wireRef(slot: number): number {
    return (this.gen[slot]! & WIRE_GEN_MASK) * MAX_SLOTS + slot;
  }

  /** The slot of task `key` that wire ref `ref` names, or -1 if that task is gone (or `ref` is not one). */
  derefWire(ref: number, key: Key): number {
    const slot = ref % MAX_SLOTS;
    return slot >= 0 && slot < this.top && this.key[slot] === key && (this.gen[slot]! & WIRE_GEN_MASK) * MAX_SLOTS + slot === ref ? slot : -1;
  }

  // ---- dependencies and dependents ------------------------------------------------------

  setDeps(slot: number, arena: Int32Array, start: number, count: number): void {
    this.depArena[slot] = arena;
    this.depStart[slot] = start;
    this.depCount[slot] = count;
  }

  addDependent(slot: number, dependent: number): void {
    const r = this.ref(dependent);
    if (this.dependent1[slot] === NONE_REF) this.dependent1[slot] = r;
    else (this.dependentsMore[slot] ??= []).push(r);
    this.liveDependents[slot]!++;
  }

  /**
   * Live dependents of a slot (stale entries skipped), written into `out` from index 0;
   * returns how many. Callers pass a scratch array they own, so nothing is allocated.
   */
  dependentsInto(slot: number, out: number[]): number {
    let n = 0;
    const first = this.dependent1[slot]!;
    if (first !== NONE_REF) {
      const d = this.deref(first);
      if (d >= 0) out[n++] = d;
    }
    const more = this.dependentsMore[slot];
    if (more) {
      for (let i = 0; i < more.length; i++) {
        const d = this.deref(more[i]!);
        if (d >= 0) out[n++] = d;
      }
    }
    return n;
  }


  /** Drop stale dependents once they are the majority, so long-lived keys do not leak. */
  compactDependents(slot: number): void {
    const more = this.dependentsMore[slot];
    if (!more || more.length < 32 || this.liveDependents[slot]! * 2 >= more.length) return;
    const kept = more.filter((r) => this.deref(r) >= 0);
    const first = this.dependent1[slot]!;
    if (first !== NONE_REF && this.deref(first) < 0) this.dependent1[slot] = kept.shift() ?? NONE_REF;
    this.dependentsMore[slot] = kept.length > 0 ? kept : undefined;
  }

  // ---- holders --------------------------------------------------------------------------

  holds(slot: number, worker: number): boolean {
    return this.holder[slot] === worker || (this.holdersMore[slot]?.includes(worker) ?? false);
  }

  holderCount(slot: number): number {
    return this.holder[slot] === -1 ? 0 : 1 + (this.holdersMore[slot]?.length ?? 0);
  }

  /** Holders as worker indices (allocates: for cold paths). */
  holders(slot: number): number[] {
    if (this.holder[slot] === -1) return [];
    const more = this.holdersMore[slot];
    return more ? [this.holder[slot]!, ...more] : [this.holder[slot]!];
  }

  addHolder(slot: number, worker: number): boolean {
    if (this.holder[slot] === -1) {
      this.holder[slot] = worker;
      return true;
    }
    if (this.holds(slot, worker)) return false;
    (this.holdersMore[slot] ??= []).push(worker);
    return true;
  }

  removeHolder(slot: number, worker: number): boolean {
    const more = this.holdersMore[slot];
    if (this.holder[slot] === worker) {
      this.holder[slot] = more && more.length > 0 ? more.shift()! : -1;
    } else {
      const i = more ? more.indexOf(worker) : -1;
      if (i < 0) return false;
      more!.splice(i, 1);
    }
    if (more && more.length === 0) this.holdersMore[slot] = undefined;
    return true;
  }

  clearHolders(slot: number): void {
    this.holder[slot] = -1;
    if (this.holdersMore[slot] !== undefined) this.holdersMore[slot] = undefined;
  }

  private grow(capacity: number): void {
    const f64 = (a: Float64Array) => {
      const b = new Float64Array(capacity);
      b.set(a);
      return b;
    };
    const i32 = (a: Int32Array) => {
      const b = new Int32Array(capacity);
      b.set(a);
      return b;
    };
    const u8 = (a: Uint8Array) => {
      const b = new Uint8Array(capacity);
      b.set(a);
      return b;
    };
    const g = new Uint32Array(capacity);
    g.set(this.gen);
    this.gen = g;
    this.state = u8(this.state);
    this.flags = u8(this.flags);
    this.waitingOn = i32(this.waitingOn);
    this.waiters = i32(this.waiters);
    this.liveDependents = i32(this.liveDependents);
    this.wants = i32(this.wants);
    this.retries = i32(this.retries);
    this.suspicious = i32(this.suspicious);
    this.prefix = i32(this.prefix);
    this.processingOn = i32(this.processingOn);
    this.procPos = i32(this.procPos);
    this.charged = f64(this.charged);
    this.nbytes = f64(this.nbytes);
    this.priority = f64(this.priority);
    this.rank = f64(this.rank);
    this.holder = i32(this.holder);
    this.depStart = i32(this.depStart);
    this.depCount = i32(this.depCount);
    this.dependent1 = f64(this.dependent1);
    this.capacity = capacity;
  }
}
