/**
 * The transition log behind `story(key)`: a ring buffer of the most recent transitions, kept in
 * columns so that recording one costs a few array stores and no allocation.
 */

import type { Key } from "../graph/task.js";
import type { StoryEntry, TaskStateName, WorkerId } from "./events.js";

export class StoryLog {
  private readonly keys: (Key | undefined)[];
  private readonly from: TaskStateName[];
  private readonly to: TaskStateName[];
  private readonly stimulus: string[];
  private readonly seq: Float64Array;
  private readonly worker: (WorkerId | undefined)[];
  private readonly time: Float64Array;
  private readonly note: (string | undefined)[];
  private next = 0;
  private filled = false;

  constructor(readonly capacity: number) {
    this.keys = new Array(capacity);
    this.from = new Array(capacity);
    this.to = new Array(capacity);
    this.stimulus = new Array(capacity);
    this.seq = new Float64Array(capacity);
    this.worker = new Array(capacity);
    this.time = new Float64Array(capacity);
    this.note = new Array(capacity);
  }

  record(
    key: Key,
    from: TaskStateName,
    to: TaskStateName,
    stimulus: string,
    seq: number,
    worker: WorkerId | undefined,
    time: number,
    note?: string,
  ): void {
    if (this.capacity === 0) return;
    const i = this.next;
    this.keys[i] = key;
    this.from[i] = from;
    this.to[i] = to;
    this.stimulus[i] = stimulus;
    this.seq[i] = seq;
    this.worker[i] = worker;
    this.time[i] = time;
    this.note[i] = note;
    this.next = i + 1 === this.capacity ? 0 : i + 1;
    if (this.next === 0) this.filled = true;
  }

  /** Entries for any of `keys`, oldest first. */
  story(keys: Iterable<Key>): StoryEntry[] {
    const want = new Set(keys);
    const out: StoryEntry[] = [];
    const n = this.filled ? this.capacity : this.next;
    const start = this.filled ? this.next : 0;
    for (let j = 0; j < n; j++) {
      const i = (start + j) % this.capacity;
      const key = this.keys[i]!;
      if (!want.has(key)) continue;
      const e: StoryEntry = { key, from: this.from[i]!, to: this.to[i]!, stimulus: `${this.stimulus[i]}-${this.seq[i]}`, time: this.time[i]! };
      const w = this.worker[i];
      if (w !== undefined) e.worker = w;
      const note = this.note[i];
      if (note !== undefined) e.note = note;
      out.push(e);
    }
    return out;
  }
}
