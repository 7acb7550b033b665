/**
 * Per-worker and per-prefix scheduler state (tasks themselves live in table.ts). Plain mutable
 * records: only the scheduler changes them, and only inside a transition.
 */

import type { WorkerId } from "./events.js";
import type { TaskTable } from "./table.js";

/**
 * The tasks assigned to one worker: an array with O(1) add and remove (swap with the last;
 * each slot's position is kept in the table's procPos column), so assignment allocates
 * nothing. Roughly in assignment order: removal moves the last entry into the hole.
 */
export class SlotList {
  readonly items: number[] = [];
  constructor(private readonly table: TaskTable) {}

  get size(): number {
    return this.items.length;
  }

  add(slot: number): void {
    this.table.procPos[slot] = this.items.length;
    this.items.push(slot);
  }

  delete(slot: number): void {
    const items = this.items;
    const i = this.table.procPos[slot]!;
    if (items[i] !== slot) return;
    const last = items.pop()!;
    if (i < items.length) {
      items[i] = last;
      this.table.procPos[last] = i;
    }
  }
}

export class PrefixState {
  /** Exponential moving average of measured durations in seconds; -1 until one is seen. */
  duration = -1;
  count = 0;
  /** Tasks of this prefix not yet forgotten. */
  live = 0;
  /**
   * Progress (the dashboard's bars): tasks counted since the prefix was last idle (no live
   * task), and how many of them reached memory or erred, each task once. A task forgotten
   * before it finished (released, cancelled) leaves `total`.
   */
  total = 0;
  done = 0;
  erred = 0;
  /** How many times counting started afresh (so a reader sees a restart that ends where it began). */
  restarts = 0;
  constructor(readonly name: string) {}

  observe(seconds: number): void {
    this.count++;
    this.duration = this.duration < 0 ? seconds : 0.5 * this.duration + 0.5 * seconds;
  }

  /** A task of this prefix was created; an idle prefix starts counting afresh. */
  added(): void {
    if (this.live === 0) {
      this.total = this.done = this.erred = 0;
      this.restarts++;
    }
    this.live++;
    this.total++;
  }

  /** A task of this prefix was forgotten; `finished`: it was counted in done or erred. */
  dropped(finished: boolean): void {
    this.live--;
    if (!finished) this.total--;
  }
}

export class WorkerState {
  /** Slots assigned to this worker and not finished. */
  readonly processing: SlotList;
  /** Estimated seconds of work assigned and not finished. */
  occupancy = 0;
  /** Bytes of the keys this worker holds, as reported by it. */
  nbytes = 0;
  running = true;
  /** Over its memory pause threshold (the worker said so): assign it nothing new. */
  paused = false;
  /** Scratch used while choosing a worker: bytes of a task's inputs held here. */
  heldScratch = 0;
  constructor(
    readonly id: WorkerId,
    /** Position in the scheduler's worker list: what the task table stores. */
    readonly index: number,
    readonly nthreads: number,
    readonly memoryLimit: number,
    table: TaskTable,
  ) {
    this.processing = new SlotList(table);
  }
}
