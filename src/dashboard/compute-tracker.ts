/**
 * Progress of one compute() (its `progress` option): the keys of its graph not yet seen
 * finishing, marked from the worker reports the collector taps, and sent at each tick where
 * they progressed (collector.ts).
 */

import type { Key } from "../graph/task.js";
import type { Scheduler } from "../scheduler/scheduler.js";
import type { ComputeProgress } from "./protocol.js";
import { safely } from "./safely.js";

export class ComputeTracker {
  private readonly remaining: Set<Key>;
  readonly total: number;
  done = 0;
  erred = 0;
  private checked = false;
  private sent = -1;
  constructor(
    keys: readonly Key[],
    private readonly cb: (p: ComputeProgress) => void,
    private readonly t0: number,
  ) {
    this.remaining = new Set(keys);
    this.total = this.remaining.size;
  }

  mark(key: Key, erred: boolean): void {
    if (!this.remaining.delete(key)) return;
    if (erred) this.erred++;
    else this.done++;
  }

  tick(now: number, s: Scheduler): void {
    if (!this.checked) {
      // Keys already in memory when the graph was submitted (shared with an earlier graph)
      // finish without a report: count them once, after the scheduler has seen the graph.
      this.checked = true;
      for (const k of this.remaining) if (s.stateOf(k) === "memory") this.mark(k, false);
    }
    const state = this.done * 4_000_000 + this.erred;
    if (state === this.sent) return;
    this.sent = state;
    safely(this.cb, { total: this.total, done: this.done, erred: this.erred, elapsed: (now - this.t0) / 1000, finished: false });
  }

  finish(now: number, ok: boolean): void {
    const done = ok ? this.total - this.erred : this.done;
    safely(this.cb, { total: this.total, done, erred: this.erred, elapsed: (now - this.t0) / 1000, finished: true });
  }
}

export interface ProgressHandle {
  /** Send the last event (`ok`: the results are in) and stop tracking. */
  finish(ok: boolean): void;
}
