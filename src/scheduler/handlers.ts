/**
 * One handler per scheduler event: what each event means for task and worker state. Handlers
 * change task states only through `s.apply` / `s.recommend` (the transition table); the
 * Scheduler class (scheduler.ts) runs them and owns the machinery.
 */

import type { Key } from "../graph/task.js";
import type { SerializedError } from "../errors.js";
import type { ClientId, SchedulerEvent, TaskSpec, WorkerId } from "./events.js";
import type { Scheduler } from "./scheduler.js";
import { ERRED, FORGOTTEN, LOOSE, MEMORY, PROCESSING, READY, RELEASED, STATE_NAMES, STEALING, WAITING } from "./table.js";
import { WorkerState } from "./task-state.js";
import { loseData } from "./transitions.js";

const RANK_GENERATION = 2 ** 32;
/** With more outputs than this, finding them costs about what deferring the index saves. */
const MAX_DEFERRED_WANTED = 64;

export function dispatchEvent(s: Scheduler, e: SchedulerEvent): void {
  switch (e.type) {
    case "update-graph":
      return onUpdateGraph(s, e.client, e.tasks, e.wanted, e.depStart, e.depIndex);
    case "client-release":
      return onClientRelease(s, e.client, e.keys, false, "");
    case "cancel":
      return onClientRelease(s, e.client, e.keys, true, e.reason ?? "cancelled by client");
    case "worker-added":
      return onWorkerAdded(s, e.worker, e.nthreads, e.memoryLimit);
    case "worker-removed":
      return onWorkerRemoved(s, e.worker, e.reason);
    case "worker-paused":
      return onWorkerPaused(s, e.worker, e.paused);
    case "task-finished": {
      const w = s.workers.get(e.worker);
      if (w) onTaskFinished(s, w, e.key, e.nbytes, e.duration, e.ref, e.small);
      return;
    }
    case "tasks-finished": {
      const w = s.workers.get(e.worker);
      if (!w) return;
      let si = 0;
      for (let i = 0; i < e.keys.length; i++) {
        const small = e.smallIndex[si] === i ? { value: e.smallValue[si++] } : undefined;
        onTaskFinished(s, w, e.keys[i]!, e.nbytes[i]!, (e.stop[i]! - e.start[i]!) / 1000, e.refs[i], small);
        s.drain();
      }
      return;
    }
    case "task-erred":
      return onTaskErred(s, e.worker, e.key, e.error);
    case "replica-added":
      return onReplicaAdded(s, e.worker, e.key, e.nbytes, e.movedFrom);
    case "data-added":
      return onDataAdded(s, e.client, e.worker, e.key, e.nbytes);
    case "steal-response":
      return onStealResponse(s, e.worker, e.key, e.stolen);
    case "rebalance":
      return s.rebalancer.start(e.client, e.id, e.keys);
    case "missing-data":
      return onMissingData(s, e.worker, e.key, e.dep, e.holder);
  }
}

function onUpdateGraph(
s: Scheduler,
  client: ClientId,
  specs: readonly TaskSpec[],
  wanted: readonly Key[],
  depStart: Int32Array | undefined,
  depIndex: Int32Array | undefined,
): void {
  const t = s.t;
  const gen = ++s.generation;
  const fresh: number[] = [];
  const freshSpecs: number[] = [];
  /** Slot of every spec, new or already known (for depIndex). */
  const slotOf = depIndex ? new Int32Array(specs.length) : undefined;
  // Nothing live: no spec can be known already (a submission's keys are distinct), and its keys
  // are hashed only when looked up (see KeyIndex). The wanted ones are found here instead.
  const defer = depIndex !== undefined && s.tasks.size === 0 && wanted.length <= MAX_DEFERRED_WANTED;
  const wantedSet = defer ? new Set(wanted) : undefined;
  const wantedSlots = defer ? new Map<Key, number>() : undefined;
  let edges = 0;
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i]!;
    if (!defer) {
      const known = s.tasks.get(spec.key);
      if (known !== undefined) {
        if (slotOf) slotOf[i] = known;
        continue; // already known: dedupe by key
      }
    }
    const prefix = s.prefixOf(spec.key);
    s.prefixes[prefix]!.added();
    const slot = t.alloc(spec.key, spec.run, prefix, spec.priority ?? 0, gen * RANK_GENERATION + spec.order);
    if (spec.retries) t.retries[slot] = spec.retries;
    if (spec.workers && spec.workers.length > 0) {
      t.restrictions[slot] = spec.workers;
      if (spec.allowOtherWorkers) t.flags[slot]! |= LOOSE;
    }
    if (defer) {
      s.tasks.addDeferred(slot);
      if (wantedSet!.has(spec.key)) wantedSlots!.set(spec.key, slot);
    } else s.tasks.set(spec.key, slot);
    if (slotOf) slotOf[i] = slot;
    fresh.push(slot);
    freshSpecs.push(i);
    edges += spec.deps.length;
  }
  // All dependencies of this submission in one arena: no array per task.
  const arena = new Int32Array(edges);
  let e = 0;
  for (let i = 0; i < fresh.length; i++) {
    const slot = fresh[i]!;
    const start = e;
    const si = freshSpecs[i]!;
    const keys = specs[si]!.deps;
    const at = depStart ? depStart[si]! : 0;
    for (let j = 0; j < keys.length; j++) {
      const k = keys[j]!;
      const d = depIndex ? depIndex[at + j]! : -1;
      // Deferred: nothing outside the submission is live, so a key not in it is missing.
      const dep = d >= 0 ? slotOf![d]! : defer ? undefined : s.tasks.get(k);
      if (dep === undefined) {
        t.exception[slot] ??= {
          name: "MissingDependency",
          message: `task ${t.key[slot]} depends on ${k}, which is neither in the submitted graph nor held by the cluster`,
          key: t.key[slot]!,
        };
        continue;
      }
      arena[e++] = dep;
      t.addDependent(dep, slot);
    }
    t.setDeps(slot, arena, start, e - start);
  }
  for (const slot of fresh) if (t.exception[slot]) s.recommend(slot, ERRED);
  for (const key of wanted) {
    const slot = wantedSlots ? wantedSlots.get(key) : s.tasks.get(key);
    if (slot === undefined) {
      const error = { name: "MissingKey", message: `${key} is not in the submitted graph nor held by the cluster`, key };
      s.emit({ type: "report", client, key, state: "erred", error });
      continue;
    }
    s.addWant(slot, client);
    const st = t.state[slot];
    if (st === MEMORY) s.emit({ type: "report", client, key, state: "memory", nbytes: t.nbytes[slot]! });
    else if (st === ERRED) s.emit({ type: "report", client, key, state: "erred", error: t.exception[slot]! });
    else if (st === RELEASED) s.recommend(slot, WAITING);
  }
  s.drain();
  for (const slot of fresh) if (t.state[slot] === RELEASED) s.maybeForget(slot);
}

function onClientRelease(s: Scheduler, client: ClientId, keys: readonly Key[], cancel: boolean, reason: string): void {
  const t = s.t;
  for (const key of keys) {
    const slot = s.tasks.get(key);
    if (slot === undefined) continue;
    const by = t.wantedBy[slot];
    if (!by) continue;
    const before = by.length;
    let after: ClientId[];
    if (cancel) after = by.filter((c) => c !== client);
    else {
      const i = by.indexOf(client);
      if (i >= 0) by.splice(i, 1);
      after = by;
    }
    if (after.length === before) continue;
    t.wantedBy[slot] = after.length > 0 ? after : undefined;
    t.wants[slot] = after.length;
    if (cancel) s.emit({ type: "report", client, key, state: "cancelled", reason });
    if (after.length === 0 && t.state[slot] === MEMORY && t.waiters[slot] === 0) s.recommend(slot, RELEASED);
    else s.maybeForget(slot);
  }
}

function onWorkerAdded(s: Scheduler, id: WorkerId, nthreads: number, memoryLimit: number): void {
  if (s.workers.has(id)) throw new Error(`worker ${id} was added twice`);
  const w = new WorkerState(id, s.byIndex.length, Math.max(1, nthreads), memoryLimit, s.t);
  s.byIndex.push(w);
  s.workers.set(id, w);
  s.totalThreads += w.nthreads;
  placeUnrunnable(s);
}

/**
 * A worker may take tasks now (it was added or resumed): try the tasks no worker could take.
 * They stay in the set until placed, so one that still fits nowhere is not noted again.
 */
function placeUnrunnable(s: Scheduler): void {
  for (const slot of [...s.unrunnable]) if (s.t.state[slot] === READY) s.place(slot);
}

/**
 * Paused: the worker starts nothing, so new tasks go elsewhere (or wait as unrunnable) and root
 * tasks stay queued; what it already holds stays, but idle workers may steal it. Resumed: work
 * flows to it again (the queue is refilled after every batch of events).
 */
function onWorkerPaused(s: Scheduler, id: WorkerId, paused: boolean): void {
  const w = s.workers.get(id);
  if (!w || w.paused === paused) return;
  w.paused = paused;
  if (!paused) placeUnrunnable(s);
}

function onWorkerRemoved(s: Scheduler, id: WorkerId, reason: string): void {
  const w = s.workers.get(id);
  if (!w) return;
  const t = s.t;
  w.running = false;
  s.workers.delete(id);
  s.rebalancer.workerGone(w);
  s.totalThreads -= w.nthreads;
  for (const slot of [...w.processing.items]) {
    t.suspicious[slot]!++;
    if (t.suspicious[slot]! > s.allowedFailures) {
      const key = t.key[slot]!;
      t.exception[slot] = {
        name: "KilledWorker",
        message: `task ${key} was running on ${t.suspicious[slot]} workers that died (last: ${id}, ${reason}); it may be what kills them`,
        key,
        worker: id,
      };
      s.apply(slot, ERRED, w);
    } else s.apply(slot, WAITING, w);
  }
  // A scan of all tasks: cheaper overall than a per-worker index updated on every finish.
  const held: number[] = [];
  for (const slot of s.tasks.values()) if (t.holds(slot, w.index)) held.push(slot);
  for (const slot of held) {
    t.removeHolder(slot, w.index);
    if (t.holderCount(slot) === 0 && t.state[slot] === MEMORY) {
      s.record(slot, MEMORY, RELEASED, w.id);
      loseData(s, slot, `${id}, the only worker that held it, is gone (${reason})`);
    }
  }
}

function onTaskFinished(
  s: Scheduler,
  w: WorkerState,
  key: Key,
  nbytes: number,
  duration: number,
  ref: number | undefined,
  small: { value: unknown } | undefined,
): void {
  const t = s.t;
  // The ref names the slot without hashing the key; a stale ref falls back to the key.
  let slot: number | undefined = ref === undefined ? -1 : t.derefWire(ref, key);
  if (slot < 0) slot = s.tasks.get(key);
  const st = slot === undefined ? FORGOTTEN : t.state[slot]!;
  if (st === MEMORY) {
    s.addHolder(slot!, w);
    return;
  }
  if (st !== PROCESSING) {
    s.free(w.id, key); // nobody wants it any more
    return;
  }
  s.prefixes[t.prefix[slot!]!]!.observe(duration);
  t.nbytes[slot!] = nbytes;
  if (small) t.small[slot!] = small;
  s.apply(slot!, MEMORY, w);
}

function onTaskErred(s: Scheduler, id: WorkerId, key: Key, error: SerializedError): void {
  const slot = s.tasks.get(key);
  const w = s.workers.get(id);
  const t = s.t;
  if (slot === undefined || !w || t.state[slot] !== PROCESSING || t.processingOn[slot] !== w.index) return;
  if (t.retries[slot]! > 0) {
    t.retries[slot]!--;
    s.apply(slot, READY, w);
    return;
  }
  t.exception[slot] = { ...error, key: error.key ?? key, worker: id };
  s.apply(slot, ERRED, w);
}

function onReplicaAdded(s: Scheduler, id: WorkerId, key: Key, nbytes: number, movedFrom: WorkerId | undefined): void {
  const w = s.workers.get(id);
  const slot = s.tasks.get(key);
  if (!w) return;
  const t = s.t;
  if (slot === undefined || t.state[slot] !== MEMORY) {
    s.free(id, key);
    s.rebalancer.arrived(key, w);
    return;
  }
  if (t.nbytes[slot]! < 0) t.nbytes[slot] = nbytes;
  s.addHolder(slot, w);
  const from = movedFrom !== undefined ? s.workers.get(movedFrom) : undefined;
  if (from) s.removeHolder(slot, from);
  s.rebalancer.arrived(key, w);
}

function onDataAdded(s: Scheduler, client: ClientId, id: WorkerId, key: Key, nbytes: number): void {
  const w = s.workers.get(id);
  if (!w) throw new Error(`data-added for ${key} names unknown worker ${id}`);
  const t = s.t;
  let slot = s.tasks.get(key);
  if (slot === undefined) {
    const prefix = s.prefixOf(key);
    s.prefixes[prefix]!.added();
    slot = t.alloc(key, null, prefix, 0, ++s.generation * RANK_GENERATION);
    s.tasks.set(key, slot);
  }
  s.addWant(slot, client);
  const st = t.state[slot];
  if (st === MEMORY) {
    s.addHolder(slot, w);
    s.emit({ type: "report", client, key, state: "memory", nbytes: t.nbytes[slot]! });
  } else if (st === RELEASED) {
    t.nbytes[slot] = nbytes;
    s.apply(slot, MEMORY, w);
  } else {
    const error = { name: "KeyInUse", message: `cannot scatter under ${key}: that key is ${STATE_NAMES[st!]}; scatter under a new key`, key };
    s.emit({ type: "report", client, key, state: "erred", error });
    s.free(id, key);
    const by = t.wantedBy[slot]!;
    by.splice(by.lastIndexOf(client), 1);
    t.wants[slot] = by.length;
  }
}

function onStealResponse(s: Scheduler, id: WorkerId, key: Key, stolen: boolean): void {
  const slot = s.tasks.get(key);
  const w = s.workers.get(id);
  const t = s.t;
  if (slot === undefined || !w || t.state[slot] !== PROCESSING || t.processingOn[slot] !== w.index) return;
  t.flags[slot]! &= ~STEALING;
  if (stolen) s.moveStolen(slot, w);
  s.thieves.delete(slot);
}

function onMissingData(s: Scheduler, id: WorkerId, key: Key, depKey: Key, holderId: WorkerId): void {
  const t = s.t;
  // A rebalance's fetch (no task behind it) reports the key as its own dependent.
  if (key === depKey) s.rebalancer.failed(depKey);
  const dep = s.tasks.get(depKey);
  const holder = s.workers.get(holderId);
  if (dep !== undefined && holder && t.holds(dep, holder.index)) {
    s.removeHolder(dep, holder);
    if (t.holderCount(dep) === 0 && t.state[dep] === MEMORY) {
      s.record(dep, MEMORY, RELEASED, holderId);
      loseData(s, dep, `${id} asked ${holderId} for it, and ${holderId}, the only worker known to hold it, did not have it`);
    }
  }
  const slot = s.tasks.get(key);
  const w = s.workers.get(id);
  if (slot !== undefined && w && t.state[slot] === PROCESSING && t.processingOn[slot] === w.index) s.apply(slot, WAITING, w);
}

