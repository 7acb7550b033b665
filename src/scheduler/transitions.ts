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

import type { Scheduler } from "./scheduler.js";
import { COUNTED, ERRED, MEMORY, PROCESSING, READY, RELEASED, WAITING, STEALING, type State } from "./table.js";
import type { WorkerState } from "./task-state.js";

export type TransitionFn = (s: Scheduler, slot: number, w: WorkerState | undefined) => void;

const isActive = (state: number): boolean => state === WAITING || state === READY || state === PROCESSING;

/** Count inputs not in memory, asking released ones to be recomputed. */
function startWaiting(s: Scheduler, slot: number): void {
  const t = s.t;
  t.state[slot] = WAITING;
  let waiting = 0;
  const arena = t.depArena[slot]!;
  const end = t.depStart[slot]! + t.depCount[slot]!;
  for (let p = t.depStart[slot]!; p < end; p++) {
    const dep = arena[p]!;
    const st = t.state[dep]!;
    if (st === MEMORY) continue;
    waiting++;
    if (st === ERRED) t.exception[slot] ??= t.exception[dep];
    else if (st === RELEASED) s.recommend(dep, WAITING);
  }
  t.waitingOn[slot] = waiting;
  if (t.exception[slot]) s.recommend(slot, ERRED);
  else if (waiting === 0) s.recommend(slot, READY);
}

/** The task no longer needs its inputs (it finished, failed, or was given up). */
function leaveActive(s: Scheduler, slot: number): void {
  const t = s.t;
  const arena = t.depArena[slot]!;
  const end = t.depStart[slot]! + t.depCount[slot]!;
  for (let p = t.depStart[slot]!; p < end; p++) {
    const dep = arena[p]!;
    if (--t.waiters[dep]! === 0 && t.wants[dep] === 0 && t.state[dep] === MEMORY) s.recommend(dep, RELEASED);
  }
}

function stopProcessing(s: Scheduler, slot: number, cancel: boolean): void {
  const t = s.t;
  const wi = t.processingOn[slot]!;
  if (wi < 0) return;
  const w = s.workerAt(wi);
  t.processingOn[slot] = -1;
  if ((t.flags[slot]! & STEALING) !== 0) {
    t.flags[slot]! &= ~STEALING;
    s.thieves.delete(slot);
  }
  if (!w) return;
  w.processing.delete(slot);
  w.occupancy = w.processing.size === 0 ? 0 : w.occupancy - t.charged[slot]!;
  t.charged[slot] = 0;
  if (cancel && w.running) s.emit({ type: "cancel-task", worker: w.id, key: t.key[slot]! });
}

/** Scratch for dependents lists; transitions never nest, so one array serves all. */
const scratch: number[] = [];

function enterMemory(s: Scheduler, slot: number, w: WorkerState): void {
  const t = s.t;
  t.state[slot] = MEMORY;
  if ((t.flags[slot]! & COUNTED) === 0) {
    t.flags[slot]! |= COUNTED;
    s.prefixes[t.prefix[slot]!]!.done++;
  }
  s.addHolder(slot, w);
  const n = t.dependentsInto(slot, scratch);
  for (let i = 0; i < n; i++) {
    const d = scratch[i]!;
    if (t.state[d] === WAITING && --t.waitingOn[d]! === 0) s.recommend(d, READY);
  }
  s.reportMemory(slot);
  if (t.waiters[slot] === 0 && t.wants[slot] === 0) s.recommend(slot, RELEASED);
}

function enterErred(s: Scheduler, slot: number): void {
  const t = s.t;
  t.state[slot] = ERRED;
  if ((t.flags[slot]! & COUNTED) === 0) {
    t.flags[slot]! |= COUNTED;
    s.prefixes[t.prefix[slot]!]!.erred++;
  }
  s.reportErred(slot);
  const n = t.dependentsInto(slot, scratch);
  for (let i = 0; i < n; i++) {
    const d = scratch[i]!;
    if (!isActive(t.state[d]!)) continue;
    t.exception[d] = t.exception[slot];
    s.recommend(d, ERRED);
  }
  s.maybeForget(slot);
}

/**
 * After leaving an active state for "released": recompute if still needed, else forget. `lost`
 * says how the data went, for the error of scattered data that nothing can recompute.
 */
function afterRelease(s: Scheduler, slot: number, lost?: string): void {
  const t = s.t;
  if (t.wants[slot] === 0 && t.waiters[slot] === 0) s.maybeForget(slot);
  else if (t.run[slot] !== null) s.recommend(slot, WAITING);
  else {
    // Scattered data has no task to recompute it from.
    const key = t.key[slot]!;
    const message = `${key} was scattered, not computed, so it cannot be recomputed: ${lost ?? "no worker holds it any more"} (scatter it again)`;
    t.exception[slot] = { name: "DataLost", message, key };
    s.recommend(slot, ERRED);
  }
}

function forget(s: Scheduler, slot: number): void {
  const t = s.t;
  const arena = t.depArena[slot]!;
  const start = t.depStart[slot]!;
  const end = start + t.depCount[slot]!;
  s.dropTask(slot);
  for (let p = start; p < end; p++) {
    const dep = arena[p]!;
    t.liveDependents[dep]!--;
    t.compactDependents(dep);
    s.maybeForget(dep);
  }
}

const row = (fns: Partial<Record<State, TransitionFn>>): (TransitionFn | undefined)[] =>
  Array.from({ length: 7 }, (_, i) => fns[i as State]);

/** TRANSITIONS[from][to]; states are the numbers in table.ts. */
export const TRANSITIONS: readonly (readonly (TransitionFn | undefined)[])[] = [
  // released
  row({
    [WAITING]: (s, slot) => {
      const t = s.t;
      const arena = t.depArena[slot]!;
      const end = t.depStart[slot]! + t.depCount[slot]!;
      for (let p = t.depStart[slot]!; p < end; p++) t.waiters[arena[p]!]!++;
      startWaiting(s, slot);
    },
    [MEMORY]: (s, slot, w) => enterMemory(s, slot, w!),
    [ERRED]: (s, slot) => enterErred(s, slot),
    6: forget,
  }),
  // waiting
  row({
    [READY]: (s, slot) => {
      if (s.t.waitingOn[slot]! > 0) return; // stale recommendation: an input was lost meanwhile
      s.t.state[slot] = READY;
      s.place(slot);
    },
    [RELEASED]: (s, slot) => {
      leaveActive(s, slot);
      s.t.state[slot] = RELEASED;
      afterRelease(s, slot);
    },
    [ERRED]: (s, slot) => {
      leaveActive(s, slot);
      enterErred(s, slot);
    },
  }),
  // ready
  row({
    [PROCESSING]: (s, slot, w) => {
      s.unrunnable.delete(slot);
      s.t.state[slot] = PROCESSING;
      s.dispatch(slot, w!);
    },
    [WAITING]: (s, slot) => {
      s.unrunnable.delete(slot);
      startWaiting(s, slot);
    },
    [RELEASED]: (s, slot) => {
      s.unrunnable.delete(slot);
      leaveActive(s, slot);
      s.t.state[slot] = RELEASED;
      afterRelease(s, slot);
    },
    [ERRED]: (s, slot) => {
      s.unrunnable.delete(slot);
      leaveActive(s, slot);
      enterErred(s, slot);
    },
  }),
  // processing
  row({
    [MEMORY]: (s, slot, w) => {
      const runner = s.workerAt(s.t.processingOn[slot]!);
      stopProcessing(s, slot, false);
      // Another worker got there first (a steal raced a finish): stop the slower copy.
      if (runner && runner !== w && runner.running) s.emit({ type: "cancel-task", worker: runner.id, key: s.t.key[slot]! });
      leaveActive(s, slot);
      enterMemory(s, slot, w!);
    },
    [RELEASED]: (s, slot) => {
      stopProcessing(s, slot, true);
      leaveActive(s, slot);
      s.t.state[slot] = RELEASED;
      afterRelease(s, slot);
    },
    [ERRED]: (s, slot) => {
      stopProcessing(s, slot, false);
      leaveActive(s, slot);
      enterErred(s, slot);
    },
    [READY]: (s, slot) => {
      stopProcessing(s, slot, false);
      s.t.state[slot] = READY;
      s.place(slot);
    },
    [WAITING]: (s, slot) => {
      stopProcessing(s, slot, true);
      startWaiting(s, slot);
    },
  }),
  // memory
  row({
    [RELEASED]: (s, slot) => {
      const t = s.t;
      if (t.wants[slot]! > 0 || t.waiters[slot]! > 0) return; // stale: needed again since recommended
      s.releaseData(slot);
      t.state[slot] = RELEASED;
      s.maybeForget(slot);
    },
  }),
  // erred
  row({ 6: forget }),
  // forgotten
  row({}),
];

/** Data lost (`why`): dependents that counted it as present must wait for it again. */
export function loseData(s: Scheduler, slot: number, why: string): void {
  const t = s.t;
  t.state[slot] = RELEASED;
  t.small[slot] = undefined;
  const n = t.dependentsInto(slot, scratch);
  for (let i = 0; i < n; i++) {
    const d = scratch[i]!;
    if (t.state[d] === WAITING) t.waitingOn[d]!++;
    else if (t.state[d] === READY) {
      t.waitingOn[d] = 1;
      s.recommend(d, WAITING);
    }
  }
  afterRelease(s, slot, why);
}
