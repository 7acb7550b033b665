/**
 * Where tasks run. Three decisions, all pure functions of scheduler state:
 *
 * - decideWorker: a ready task with inputs goes to the worker where it would start soonest:
 *   (bytes of its inputs the worker lacks) / bandwidth + (the worker's queued seconds) / threads.
 *   Data locality dominates for big inputs; occupancy breaks ties and spreads small ones. Moving
 *   inputs to or from a worker that holds more than its memory limit goes through its spill disk
 *   too (the receiver writes the copy, or what it pushes out; the holder reads it back to send
 *   it): those bytes are charged at spillBandwidth on each such side as well, here and when
 *   stealing.
 * - Root-ish tasks (no inputs, or only inputs that every worker will need anyway) wait in the
 *   scheduler's priority queue and are handed out as workers have room, so loading data never
 *   runs ahead of the tasks that consume it (Dask's "queuing", dask/distributed#2602). Room:
 *   fewer than ceil(nthreads * workerSaturation) tasks assigned, as in Dask; or, for tasks
 *   known to be shorter than queueSeconds in all, that much queued work (a round trip per task
 *   would cost more than the tasks, and a few milliseconds of work make little data).
 *   workerSaturation Infinity turns queuing off: root tasks are placed like any other.
 * - A paused worker (over its memory pause threshold) is given no task and steals none; the
 *   tasks it has queued may be stolen by idle workers.
 * - Work stealing: a worker with an idle thread, when nothing is queued, takes the newest
 *   not-yet-started tasks of the busiest worker, if they are long enough to be worth moving
 *   (not a lone queued task: its worker answers a steal only when the task before it is done,
 *   when it would start it anyway). The victim confirms between tasks; a task it gave
 *   up goes to the thief while the thief still has room (as Dask's move_task_confirm), not
 *   back to whoever is first in line, which at the end of a graph is often the victim.
 * - Worker restrictions (`workers`): only the named workers may take the task, in all three.
 *   Loose ones (allowOtherWorkers, LOOSE) are lifted while none of the named workers can take
 *   work (gone, never seen, or paused: as Dask's valid_workers counts only running ones); then
 *   any worker may. So a loose task whose named workers die is rescheduled anywhere, and one
 *   is stolen only by a named worker while one of them runs.
 */

import { LOOSE, STEALING, type TaskTable } from "./table.js";
import type { PrefixState, WorkerState } from "./task-state.js";

export interface PlacementOptions {
  /** Seconds of estimated work a worker thread may have queued beyond the one it runs. */
  queueSeconds: number;
  /** Cap on tasks handed to one worker thread at once. */
  maxQueued: number;
  /** Assumed duration of a task whose prefix has never finished. */
  unknownDuration: number;
  /** Bytes per second assumed for moving a task's inputs between workers. */
  bandwidth: number;
  /** Bytes per second assumed for a worker's spill disk (writing, or reading back). */
  spillBandwidth: number;
  /** Tasks shorter than this are never stolen (moving them costs more than running them). */
  minStealSeconds: number;
  /**
   * Root tasks a worker may hold per thread (Dask's distributed.scheduler.worker-saturation):
   * at most ceil(nthreads * workerSaturation) assigned at once. Infinity: no queuing.
   */
  workerSaturation: number;
}

export const defaultPlacement: PlacementOptions = {
  queueSeconds: 0.005,
  maxQueued: 512,
  unknownDuration: 0.5,
  // Conservative: a move between workers also pays serialization and a copy into wasm memory.
  bandwidth: 2.5e8,
  // Writes to the spill disk ran at 150-400 MB/s per worker on a loaded 2-core machine.
  spillBandwidth: 2.5e8,
  minStealSeconds: 0.001,
  workerSaturation: 1.1,
};

export function estimate(p: PrefixState, o: PlacementOptions): number {
  return p.duration < 0 ? o.unknownDuration : Math.max(p.duration, 1e-6);
}

/**
 * Whether a worker may take one more root task from the queue. `tail`: the queue holds no more
 * tasks than the cluster has threads; then only an idle thread takes one (bar tasks short enough
 * to queue by time). A task queued behind a running one would wait while another worker idles,
 * and a worker that runs its tasks on its only thread answers a steal only between tasks: 10
 * row groups on 2 workers split 6/4 that way.
 */
export function hasCapacity(w: WorkerState, o: PlacementOptions, tail = false): boolean {
  if (!w.running || w.paused) return false;
  const n = w.processing.size;
  if (n < (tail ? w.nthreads : Math.max(1, Math.ceil(w.nthreads * o.workerSaturation)))) return true;
  return n < o.maxQueued * w.nthreads && w.occupancy < o.queueSeconds * w.nthreads;
}

/** Whether `w` may take the task; `lifted`: its restriction does not hold now (see restrictionLifted). */
function allowed(t: TaskTable, slot: number, w: WorkerState, lifted: boolean): boolean {
  if (!w.running || w.paused) return false;
  const r = t.restrictions[slot];
  return r === undefined || lifted || r.includes(w.id);
}

/** Whether `w` may take the task now (running, not paused, within its restriction as it holds now). */
export function mayTake(t: TaskTable, slot: number, w: WorkerState, workers: readonly WorkerState[]): boolean {
  return allowed(t, slot, w, restrictionLifted(t, slot, workers));
}

/** A loose restriction none of whose workers can take work now: any worker may run the task. */
function restrictionLifted(t: TaskTable, slot: number, workers: readonly WorkerState[]): boolean {
  if ((t.flags[slot]! & LOOSE) === 0) return false;
  const r = t.restrictions[slot]!;
  for (const w of workers) if (w && w.running && !w.paused && r.includes(w.id)) return false;
  return true;
}

/** Named workers listed in a no-worker note; more are counted. */
const NOTED_WORKERS = 8;

/** Why no worker may take a ready task now, for its story (Dask's no-worker state). */
export function noWorkerNote(t: TaskTable, slot: number, workers: readonly WorkerState[]): string {
  const r = t.restrictions[slot];
  if (r === undefined || restrictionLifted(t, slot, workers)) return "no-worker: no running, unpaused worker; it waits for one";
  const status = (id: string): string => {
    let seen = false;
    for (const w of workers) {
      if (!w || w.id !== id) continue;
      if (w.running) return w.paused ? "paused" : "running";
      seen = true;
    }
    return seen ? "gone" : "unknown";
  };
  const named = r.slice(0, NOTED_WORKERS).map((id) => `${id} (${status(id)})`);
  if (r.length > NOTED_WORKERS) named.push(`${r.length - NOTED_WORKERS} more`);
  return `no-worker: restricted to ${named.join(", ")}; it waits for one of them (allowOtherWorkers: true lets it run elsewhere)`;
}

/** Inputs shared by many tasks carry no locality: every worker will fetch them once. */
export function isRootish(t: TaskTable, slot: number, totalThreads: number): boolean {
  if (t.restrictions[slot] !== undefined) return false;
  const arena = t.depArena[slot]!;
  const end = t.depStart[slot]! + t.depCount[slot]!;
  // Live dependents only: a persisted input collects forgotten ones from every past computation.
  for (let p = t.depStart[slot]!; p < end; p++) if (t.liveDependents[arena[p]!]! <= 4 * totalThreads) return false;
  return true;
}

/** The worker where the task would start soonest, or null when no running, unpaused worker may take it. */
export function decideWorker(t: TaskTable, slot: number, workers: readonly WorkerState[], o: PlacementOptions): WorkerState | null {
  let total = 0;
  // Bytes of inputs whose holder is over its memory limit: likely read from its disk to be sent.
  let onDisk = 0;
  const arena = t.depArena[slot]!;
  const end = t.depStart[slot]! + t.depCount[slot]!;
  for (let p = t.depStart[slot]!; p < end; p++) {
    const dep = arena[p]!;
    const b = t.nbytes[dep]! > 0 ? t.nbytes[dep]! : 0;
    total += b;
    const h = t.holder[dep]!;
    if (h >= 0) {
      workers[h]!.heldScratch += b;
      if (workers[h]!.nbytes > workers[h]!.memoryLimit) onDisk += b;
    }
    const more = t.holdersMore[dep];
    if (more) for (const m of more) workers[m]!.heldScratch += b;
  }
  const lifted = restrictionLifted(t, slot, workers);
  let best: WorkerState | null = null;
  let bestCost = Infinity;
  for (const w of workers) {
    if (!w) continue;
    const held = w.heldScratch;
    w.heldScratch = 0;
    if (!allowed(t, slot, w, lifted)) continue;
    const missing = total - held;
    let cost = missing / o.bandwidth + w.occupancy / w.nthreads;
    if (missing > 0) {
      cost += Math.min(missing, onDisk) / o.spillBandwidth;
      if (w.nbytes + missing > w.memoryLimit) cost += missing / o.spillBandwidth;
    }
    if (cost < bestCost || (cost === bestCost && best !== null && w.processing.size < best.processing.size)) {
      best = w;
      bestCost = cost;
    }
  }
  return best;
}

/** The least occupied worker that has room for one more queued task. */
export function pickQueueWorker(workers: readonly WorkerState[], o: PlacementOptions, tail = false): WorkerState | null {
  let best: WorkerState | null = null;
  let bestLoad = Infinity;
  for (const w of workers) {
    if (!w || !hasCapacity(w, o, tail)) continue;
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
  thief: WorkerState;
  slot: number;
}

/**
 * For each worker with an idle thread, up to half of the busiest worker's surplus: the newest
 * queued tasks (those least likely to have started), when worth moving: their expected
 * duration (`expected`, what their prefix takes now — the charge made when a task was
 * assigned may date from before any task of its prefix had finished) exceeds the time to move
 * the inputs the thief lacks. A paused worker runs
 * nothing: all it holds is surplus, and it is the first victim.
 */
export function planSteals(t: TaskTable, workers: readonly WorkerState[], o: PlacementOptions, expected: (slot: number) => number = (slot) => t.charged[slot]!): Steal[] {
  const list = workers.filter((w) => w && w.running);
  const thieves = list.filter((w) => !w.paused && w.processing.size < w.nthreads);
  if (thieves.length === 0) return [];
  const steals: Steal[] = [];
  const busy = (w: WorkerState) => (w.paused ? Infinity : w.occupancy / w.nthreads);
  for (const thief of thieves) {
    let victim: WorkerState | null = null;
    for (const w of list) {
      if (w === thief || w.processing.size <= (w.paused ? 0 : w.nthreads + 1)) continue;
      if (!victim || busy(w) > busy(victim)) victim = w;
    }
    if (!victim) break;
    const queued = victim.processing.items;
    const running = victim.paused ? 0 : victim.nthreads;
    const surplus = queued.length - running;
    let want = Math.max(1, Math.floor(surplus / 2));
    for (let i = queued.length - 1; i >= running && want > 0; i--) {
      const slot = queued[i]!;
      if ((t.flags[slot]! & STEALING) !== 0 || !allowed(t, slot, thief, restrictionLifted(t, slot, workers))) continue;
      const seconds = expected(slot);
      if (seconds < o.minStealSeconds) continue;
      let missing = 0;
      const arena = t.depArena[slot]!;
      const end = t.depStart[slot]! + t.depCount[slot]!;
      for (let p = t.depStart[slot]!; p < end; p++) {
        const dep = arena[p]!;
        if (!t.holds(dep, thief.index)) missing += Math.max(t.nbytes[dep]!, 0);
      }
      if (moveSeconds(missing, victim, thief, o) > seconds) continue;
      t.flags[slot]! |= STEALING;
      steals.push({ victim, thief, slot });
      want--;
    }
  }
  return steals;
}

/**
 * Seconds to move `bytes` of inputs from `victim` to `thief`: the transfer, plus a pass through
 * the spill disk on each side that holds more than its memory limit (the bytes, or what they
 * displace, are on disk there or go there).
 */
function moveSeconds(bytes: number, victim: WorkerState, thief: WorkerState, o: PlacementOptions): number {
  if (bytes === 0) return 0;
  let s = bytes / o.bandwidth;
  if (victim.nbytes > victim.memoryLimit) s += bytes / o.spillBandwidth;
  if (thief.nbytes + bytes > thief.memoryLimit) s += bytes / o.spillBandwidth;
  return s;
}
