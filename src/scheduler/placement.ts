/**
 * Where tasks run. Three decisions, all pure functions of scheduler state:
 *
 * - decideWorker: a ready task with inputs goes to the worker where it would start soonest:
 *   (bytes of its inputs the worker lacks) / bandwidth + (the worker's queued seconds) / threads.
 *   Data locality dominates for big inputs; occupancy breaks ties and spreads small ones.
 * - Root-ish tasks (no inputs, or only inputs that every worker will need anyway) wait in the
 *   scheduler's priority queue and are handed out as workers have room, so loading data never
 *   runs ahead of the tasks that consume it (Dask's "queuing", dask/distributed#2602).
 * - Work stealing: a worker with an idle thread, when nothing is queued, takes the newest
 *   not-yet-started tasks of the busiest worker, if they are long enough to be worth moving.
 */

import type { TaskState, WorkerState } from "./task-state.js";

export interface PlacementOptions {
  /** Seconds of estimated work a worker thread may have queued beyond the one it runs. */
  queueSeconds: number;
  /** Cap on tasks handed to one worker thread at once. */
  maxQueued: number;
  /** Assumed duration of a task whose prefix has never finished. */
  unknownDuration: number;
  /** Bytes per second assumed for moving a task's inputs between workers. */
  bandwidth: number;
  /** Tasks shorter than this are never stolen (moving them costs more than running them). */
  minStealSeconds: number;
}

export const defaultPlacement: PlacementOptions = {
  queueSeconds: 0.005,
  maxQueued: 512,
  unknownDuration: 0.5,
  bandwidth: 1e9,
  minStealSeconds: 0.001,
};

export function estimate(ts: TaskState, o: PlacementOptions): number {
  const d = ts.prefix.duration;
  return d < 0 ? o.unknownDuration : Math.max(d, 1e-6);
}

export function hasCapacity(w: WorkerState, o: PlacementOptions): boolean {
  if (!w.running) return false;
  const n = w.processing.size;
  if (n < w.nthreads) return true;
  return n < o.maxQueued * w.nthreads && w.occupancy < o.queueSeconds * w.nthreads;
}

function allowed(ts: TaskState, w: WorkerState): boolean {
  return w.running && (ts.restrictions === null || ts.restrictions.includes(w.id));
}

/** Inputs shared by many tasks carry no locality: every worker will fetch them once. */
export function isRootish(ts: TaskState, totalThreads: number): boolean {
  if (ts.restrictions !== null) return false;
  for (const dep of ts.deps) if (dep.dependents.length <= 4 * totalThreads) return false;
  return true;
}

/** The worker where `ts` would start soonest, or null when no running worker may take it. */
export function decideWorker(ts: TaskState, workers: Iterable<WorkerState>, o: PlacementOptions): WorkerState | null {
  let total = 0;
  for (const dep of ts.deps) {
    const b = dep.nbytes > 0 ? dep.nbytes : 0;
    total += b;
    for (const h of dep.holders) h.heldScratch += b;
  }
  let best: WorkerState | null = null;
  let bestCost = Infinity;
  for (const w of workers) {
    const held = w.heldScratch;
    w.heldScratch = 0;
    if (!allowed(ts, w)) continue;
    const cost = (total - held) / o.bandwidth + w.occupancy / w.nthreads;
    if (cost < bestCost || (cost === bestCost && best !== null && w.processing.size < best.processing.size)) {
      best = w;
      bestCost = cost;
    }
  }
  return best;
}

/** The least occupied worker that has room for one more queued task. */
export function pickQueueWorker(workers: Iterable<WorkerState>, o: PlacementOptions): WorkerState | null {
  let best: WorkerState | null = null;
  let bestLoad = Infinity;
  for (const w of workers) {
    if (!hasCapacity(w, o)) continue;
    const load = w.occupancy / w.nthreads + w.processing.size * 1e-9;
    if (load < bestLoad) {
      best = w;
      bestLoad = load;
    }
  }
  return best;
}

export interface Steal {
  victim: WorkerState;
  task: TaskState;
}

/**
 * For each worker with an idle thread, up to half of the busiest worker's surplus: the newest
 * queued tasks (those least likely to have started), when worth moving.
 */
export function planSteals(workers: Iterable<WorkerState>, o: PlacementOptions): Steal[] {
  const list = [...workers].filter((w) => w.running);
  const thieves = list.filter((w) => w.processing.size < w.nthreads);
  if (thieves.length === 0) return [];
  const steals: Steal[] = [];
  for (const thief of thieves) {
    let victim: WorkerState | null = null;
    for (const w of list) {
      if (w === thief || w.processing.size <= w.nthreads + 1) continue;
      if (!victim || w.occupancy / w.nthreads > victim.occupancy / victim.nthreads) victim = w;
    }
    if (!victim) break;
    const queued = [...victim.processing];
    const surplus = queued.length - victim.nthreads;
    let want = Math.max(1, Math.floor(surplus / 2));
    for (let i = queued.length - 1; i >= victim.nthreads && want > 0; i--) {
      const ts = queued[i]!;
      if (ts.stealing || !allowed(ts, thief)) continue;
      const seconds = ts.charged;
      if (seconds < o.minStealSeconds) continue;
      let missing = 0;
      for (const dep of ts.deps) if (!dep.holders.includes(thief)) missing += Math.max(dep.nbytes, 0);
      if (missing / o.bandwidth > seconds) continue;
      ts.stealing = true;
      steals.push({ victim, task: ts });
      want--;
    }
  }
  return steals;
}
