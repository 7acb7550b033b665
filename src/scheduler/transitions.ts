/**
 * The transition table: for each (from, to) pair the scheduler allows, the function that moves
 * one task and everything it touches (workers, dependents, dependencies). A pair that is not in
 * the table is a bug, reported with the key's story (see Scheduler.apply).
 *
 *   released ──> waiting ──> ready ──> processing ──> memory ──> released ──> forgotten
 *      │            │          ▲ │        │  │  ▲                  ▲
 *      │            └──────────┼─┼────────┼──┼──┼──> erred ────────┴──────> forgotten
 *      └──> memory (scatter)   │ └> waiting (input lost)
 *                              └── processing (retry, stolen)
 *
 * Transitions never recurse into each other: follow-up work is recommended (queued) and run by
 * the scheduler's drain loop, so a chain of a million tasks cannot overflow the stack. A queued
 * recommendation may be stale by the time it runs; each function checks what it needs.
 */

import type { TaskStateName } from "./events.js";
import type { TaskState, WorkerState } from "./task-state.js";
import type { Scheduler as SchedulerCore } from "./scheduler.js";

export type TransitionFn = (s: SchedulerCore, ts: TaskState, w: WorkerState | undefined) => void;

const active = (state: TaskStateName): boolean => state === "waiting" || state === "ready" || state === "processing";

/** Count inputs not in memory, asking released ones to be recomputed. */
function startWaiting(s: SchedulerCore, ts: TaskState): void {
  ts.state = "waiting";
  ts.waitingOn = 0;
  for (const dep of ts.deps) {
    if (dep.state === "memory") continue;
    ts.waitingOn++;
    if (dep.state === "erred") ts.exception ??= dep.exception;
    else if (dep.state === "released") s.recommend(dep, "waiting");
  }
  if (ts.exception) s.recommend(ts, "erred");
  else if (ts.waitingOn === 0) s.recommend(ts, "ready");
}

/** The task no longer needs its inputs (it finished, failed, or was given up). */
function leaveActive(s: SchedulerCore, ts: TaskState): void {
  for (const dep of ts.deps) {
    dep.waiters--;
    if (dep.waiters === 0 && dep.wants === 0 && dep.state === "memory") s.recommend(dep, "released");
  }
}

function stopProcessing(s: SchedulerCore, ts: TaskState, cancel: boolean): void {
  const w = ts.processingOn;
  if (!w) return;
  w.processing.delete(ts);
  w.occupancy = w.processing.size === 0 ? 0 : w.occupancy - ts.charged;
  ts.processingOn = null;
  ts.charged = 0;
  ts.stealing = false;
  if (cancel && w.running) s.emit({ type: "cancel-task", worker: w.id, key: ts.key });
}

function enterMemory(s: SchedulerCore, ts: TaskState, w: WorkerState, nbytes: number): void {
  ts.state = "memory";
  ts.nbytes = nbytes;
  s.addHolder(ts, w);
  for (const d of ts.dependents) {
    if (d.state !== "waiting") continue;
    d.waitingOn--;
    if (d.waitingOn === 0) s.recommend(d, "ready");
  }
  s.reportMemory(ts);
  if (ts.waiters === 0 && ts.wants === 0) s.recommend(ts, "released");
}

function enterErred(s: SchedulerCore, ts: TaskState): void {
  ts.state = "erred";
  s.reportErred(ts);
  for (const d of ts.dependents) {
    if (!active(d.state)) continue;
    d.exception = ts.exception;
    s.recommend(d, "erred");
  }
  s.maybeForget(ts);
}

/** After leaving an active state for "released": recompute if still needed, else forget. */
function afterRelease(s: SchedulerCore, ts: TaskState): void {
  if (ts.wants === 0 && ts.waiters === 0) s.maybeForget(ts);
  else if (ts.run !== null) s.recommend(ts, "waiting");
  else {
    // Scattered data has no task to recompute it from.
    ts.exception = { name: "DataLost", message: `${ts.key} was scattered to workers that are gone; it cannot be recomputed`, key: ts.key };
    s.recommend(ts, "erred");
  }
}

function forget(s: SchedulerCore, ts: TaskState): void {
  ts.state = "forgotten";
  s.dropTask(ts);
  for (const dep of ts.deps) {
    dep.liveDependents--;
    s.compactDependents(dep);
    s.maybeForget(dep);
  }
}

export const TRANSITIONS: Record<TaskStateName, Partial<Record<TaskStateName, TransitionFn>>> = {
  released: {
    waiting(s, ts) {
      for (const dep of ts.deps) dep.waiters++;
      startWaiting(s, ts);
    },
    memory(s, ts, w) {
      enterMemory(s, ts, w!, ts.nbytes);
    },
    erred(s, ts) {
      enterErred(s, ts);
    },
    forgotten: forget,
  },

  waiting: {
    ready(s, ts) {
      if (ts.waitingOn > 0) {
        ts.state = "waiting"; // stale recommendation: an input was lost meanwhile
        return;
      }
      ts.state = "ready";
      s.place(ts);
    },
    released(s, ts) {
      leaveActive(s, ts);
      ts.state = "released";
      afterRelease(s, ts);
    },
    erred(s, ts) {
      leaveActive(s, ts);
      enterErred(s, ts);
    },
  },

  ready: {
    processing(s, ts, w) {
      s.unrunnable.delete(ts);
      ts.state = "processing";
      s.dispatch(ts, w!);
    },
    waiting(s, ts) {
      s.unrunnable.delete(ts);
      startWaiting(s, ts);
    },
    released(s, ts) {
      s.unrunnable.delete(ts);
      leaveActive(s, ts);
      ts.state = "released";
      afterRelease(s, ts);
    },
    erred(s, ts) {
      s.unrunnable.delete(ts);
      leaveActive(s, ts);
      enterErred(s, ts);
    },
  },

  processing: {
    memory(s, ts, w) {
      const runner = ts.processingOn;
      stopProcessing(s, ts, false);
      // Another worker got there first (a steal raced a finish): stop the slower copy.
      if (runner && runner !== w && runner.running) s.emit({ type: "cancel-task", worker: runner.id, key: ts.key });
      leaveActive(s, ts);
      enterMemory(s, ts, w!, ts.nbytes);
    },
    released(s, ts) {
      stopProcessing(s, ts, true);
      leaveActive(s, ts);
      ts.state = "released";
      afterRelease(s, ts);
    },
    erred(s, ts) {
      stopProcessing(s, ts, false);
      leaveActive(s, ts);
      enterErred(s, ts);
    },
    ready(s, ts) {
      stopProcessing(s, ts, false);
      ts.state = "ready";
      s.place(ts);
    },
    waiting(s, ts) {
      stopProcessing(s, ts, true);
      startWaiting(s, ts);
    },
  },

  memory: {
    released(s, ts) {
      if (ts.wants > 0 || ts.waiters > 0) return; // stale: needed again since recommended
      s.releaseData(ts);
      ts.state = "released";
      s.maybeForget(ts);
    },
  },

  erred: {
    forgotten: forget,
  },

  forgotten: {},
};

/** Data lost with a worker: dependents that counted it as present must wait for it again. */
export function loseData(s: SchedulerCore, ts: TaskState): void {
  ts.state = "released";
  for (const d of ts.dependents) {
    if (d.state === "waiting") d.waitingOn++;
    else if (d.state === "ready") {
      d.waitingOn = 1;
      s.recommend(d, "waiting");
    }
  }
  afterRelease(s, ts);
}
