/**
 * What the scheduler knows about one task, one worker, one task prefix. Plain mutable records:
 * only scheduler.ts changes them, and only inside a transition.
 *
 * Counters kept per task (each updated by the transitions that change what it counts):
 *   waitingOn       dependencies not yet in memory          (reaches 0 -> ready)
 *   waiters         dependents in waiting/ready/processing   (reaches 0 -> data may be released)
 *   liveDependents  dependents not yet forgotten             (reaches 0 -> task may be forgotten)
 *   wants           clients holding the key (futures, persist)
 */

import type { Key } from "../graph/task.js";
import type { SerializedError } from "../errors.js";
import type { TaskStateName, WorkerId, ClientId } from "./events.js";

export class PrefixState {
  /** Exponential moving average of measured durations in seconds; -1 until one is seen. */
  duration = -1;
  count = 0;
  constructor(readonly name: string) {}

  observe(seconds: number): void {
    this.count++;
    this.duration = this.duration < 0 ? seconds : 0.5 * this.duration + 0.5 * seconds;
  }
}

/** Shared by every task with no entries yet: most tasks have few deps, dependents and holders. */
export const NONE: TaskState[] & WorkerState[] = [];

export class TaskState {
  state: TaskStateName = "released";
  deps: TaskState[] = NONE;
  /** May hold forgotten entries; liveDependents counts the others (compacted now and then). */
  dependents: TaskState[] = NONE;
  waitingOn = 0;
  waiters = 0;
  liveDependents = 0;
  wants = 0;
  wantedBy: ClientId[] | null = null;
  holders: WorkerState[] = NONE;
  processingOn: WorkerState | null = null;
  /** The occupancy charged to processingOn, to subtract exactly what was added. */
  charged = 0;
  nbytes = -1;
  retries = 0;
  /** Times the worker running it died; past a limit the task errs (it may be what kills them). */
  suspicious = 0;
  exception: SerializedError | null = null;
  stealing = false;
  inQueue = false;
  rootish = false;
  constructor(
    readonly key: Key,
    readonly prefix: PrefixState,
    /** Higher runs first. */
    readonly priority: number,
    /** Submission generation and graph order folded into one number: lower runs first. */
    readonly rank: number,
    public run: unknown,
    readonly restrictions: readonly WorkerId[] | null,
  ) {}
}

export class WorkerState {
  processing = new Set<TaskState>();
  /** Estimated seconds of work assigned and not finished. */
  occupancy = 0;
  /** Bytes of the keys this worker holds, as reported by it. */
  nbytes = 0;
  running = true;
  /** Scratch used while choosing a worker: bytes of a task's inputs held here. */
  heldScratch = 0;
  constructor(
    readonly id: WorkerId,
    readonly nthreads: number,
    readonly memoryLimit: number,
    readonly index: number,
  ) {}
}

/** Ready-queue order: user priority first, then submission order, then graph order. */
export function runsBefore(a: TaskState, b: TaskState): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  return a.rank < b.rank;
}
