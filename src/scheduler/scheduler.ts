/**
 * The scheduler: a pure state machine. `handle(events, now)` applies events and returns the
 * instructions the runner must carry out; nothing here does I/O, reads a clock or sets a timer,
 * so the same code runs in a browser tab, a Node process or a scheduler server, and tests drive
 * it by feeding events and comparing instruction lists.
 *
 * Each event handler changes task states only through `apply(ts, to)`, which looks the pair up
 * in the transition table (transitions.ts) and records it for `story(key)`. Follow-up
 * transitions are queued as recommendations and drained in order. After the events of a batch,
 * root-ish tasks are handed from the ready queue to workers that have room, and idle workers
 * steal (placement.ts).
 */

import { keyPrefix, type Key } from "../graph/task.js";
import type { SerializedError } from "../errors.js";
import type { ClientId, DepLocation, Instruction, SchedulerEvent, StoryEntry, TaskSpec, TaskStateName, WorkerId } from "./events.js";
import { Heap } from "./heap.js";
import { StoryLog } from "./story.js";
import { NONE, PrefixState, TaskState, WorkerState, runsBefore } from "./task-state.js";
import { TRANSITIONS, loseData } from "./transitions.js";
import {
  decideWorker,
  defaultPlacement,
  estimate,
  isRootish,
  pickQueueWorker,
  planSteals,
  type PlacementOptions,
} from "./placement.js";

export interface SchedulerOptions extends Partial<PlacementOptions> {
  /** Transitions kept for `story()` (a ring buffer). Default 100 000. */
  storyCapacity?: number;
  /** A task whose worker died this many times errs with KilledWorker. Default 3. */
  allowedFailures?: number;
}

export class InvalidTransition extends Error {
  override name = "InvalidTransition";
  constructor(
    readonly key: Key,
    readonly from: TaskStateName,
    readonly to: TaskStateName,
    readonly story: StoryEntry[],
  ) {
    super(`invalid transition of ${key}: ${from} -> ${to}; story: ${JSON.stringify(story.slice(-10))}`);
  }
}

const RANK_GENERATION = 2 ** 32;

export class Scheduler {
  readonly tasks = new Map<Key, TaskState>();
  readonly workers = new Map<WorkerId, WorkerState>();
  readonly unrunnable = new Set<TaskState>();
  private readonly prefixes = new Map<string, PrefixState>();
  private readonly queue = new Heap<TaskState>(runsBefore);
  private readonly log: StoryLog;
  private readonly placement: PlacementOptions;
  private readonly allowedFailures: number;
  private generation = 0;
  private workerIndex = 0;
  private totalThreads = 0;
  private seq = 0;
  private stimulusType = "";
  private now = 0;
  private out: Instruction[] = [];
  private recTask: (TaskState | undefined)[] = [];
  private recFrom: TaskStateName[] = [];
  private recTo: TaskStateName[] = [];
  private recN = 0;

  constructor(options: SchedulerOptions = {}) {
    this.placement = { ...defaultPlacement, ...stripUndefined(options) };
    this.log = new StoryLog(options.storyCapacity ?? 100_000);
    this.allowedFailures = options.allowedFailures ?? 3;
  }

  /** Apply events (in order) and return what the runner must do. `now` only stamps the story. */
  handle(events: SchedulerEvent | readonly SchedulerEvent[], now = 0): Instruction[] {
    this.now = now;
    const list = Array.isArray(events) ? (events as readonly SchedulerEvent[]) : [events as SchedulerEvent];
    for (const e of list) {
      this.stimulusType = e.type;
      this.seq++;
      this.dispatchEvent(e);
      this.drain();
    }
    this.stimulusType = "schedule";
    this.seq++;
    this.fillFromQueue();
    this.steal();
    const out = this.out;
    this.out = [];
    return out;
  }

  story(...keys: Key[]): StoryEntry[] {
    return this.log.story(keys);
  }

  stateOf(key: Key): TaskStateName {
    return this.tasks.get(key)?.state ?? "forgotten";
  }

  /** Workers holding `key` in memory. */
  whoHas(key: Key): WorkerId[] {
    return (this.tasks.get(key)?.holders ?? []).map((w) => w.id);
  }

  /** Number of tasks in each state (for progress and the dashboard). */
  counts(): Record<TaskStateName, number> {
    const c: Record<TaskStateName, number> = { released: 0, waiting: 0, ready: 0, processing: 0, memory: 0, erred: 0, forgotten: 0 };
    for (const ts of this.tasks.values()) c[ts.state]++;
    return c;
  }

  // ---- events ---------------------------------------------------------------------------

  private dispatchEvent(e: SchedulerEvent): void {
    switch (e.type) {
      case "update-graph":
        return this.onUpdateGraph(e.client, e.tasks, e.wanted);
      case "client-release":
        return this.onClientRelease(e.client, e.keys, false, "");
      case "cancel":
        return this.onClientRelease(e.client, e.keys, true, e.reason ?? "cancelled by client");
      case "worker-added":
        return this.onWorkerAdded(e.worker, e.nthreads, e.memoryLimit);
      case "worker-removed":
        return this.onWorkerRemoved(e.worker, e.reason);
      case "task-finished":
        return this.onTaskFinished(e.worker, e.key, e.nbytes, e.duration);
      case "task-erred":
        return this.onTaskErred(e.worker, e.key, e.error);
      case "replica-added":
        return this.onReplicaAdded(e.worker, e.key, e.nbytes, e.movedFrom);
      case "data-added":
        return this.onDataAdded(e.client, e.worker, e.key, e.nbytes);
      case "steal-response":
        return this.onStealResponse(e.worker, e.key, e.stolen);
      case "missing-data":
        return this.onMissingData(e.worker, e.key, e.dep, e.holder);
    }
  }

  private onUpdateGraph(client: ClientId, specs: readonly TaskSpec[], wanted: readonly Key[]): void {
    const gen = ++this.generation;
    const fresh: TaskState[] = [];
    const freshSpecs: TaskSpec[] = [];
    for (const spec of specs) {
      if (this.tasks.has(spec.key)) continue; // already known: dedupe by key
      const ts = new TaskState(
        spec.key,
        this.prefix(spec.key),
        spec.priority ?? 0,
        gen * RANK_GENERATION + spec.order,
        spec.run,
        spec.workers && spec.workers.length > 0 ? spec.workers : null,
      );
      ts.retries = spec.retries ?? 0;
      this.tasks.set(spec.key, ts);
      fresh.push(ts);
      freshSpecs.push(spec);
    }
    for (let i = 0; i < fresh.length; i++) {
      const ts = fresh[i]!;
      for (const k of freshSpecs[i]!.deps) {
        const dep = this.tasks.get(k);
        if (!dep) {
          ts.exception ??= {
            name: "MissingDependency",
            message: `task ${ts.key} depends on ${k}, which is neither in the submitted graph nor held by the cluster`,
            key: ts.key,
          };
          continue;
        }
        if (ts.deps === NONE) ts.deps = [dep];
        else ts.deps.push(dep);
        if (dep.dependents === NONE) dep.dependents = [ts];
        else dep.dependents.push(ts);
        dep.liveDependents++;
      }
    }
    for (const ts of fresh) if (ts.exception) this.recommend(ts, "erred");
    for (const key of wanted) {
      const ts = this.tasks.get(key);
      if (!ts) {
        const error = { name: "MissingKey", message: `${key} is not in the submitted graph nor held by the cluster`, key };
        this.emit({ type: "report", client, key, state: "erred", error });
        continue;
      }
      this.addWant(ts, client);
      if (ts.state === "memory") this.emit({ type: "report", client, key, state: "memory", nbytes: ts.nbytes });
      else if (ts.state === "erred") this.emit({ type: "report", client, key, state: "erred", error: ts.exception! });
      else if (ts.state === "released") this.recommend(ts, "waiting");
    }
    this.drain();
    for (const ts of fresh) if (ts.state === "released") this.maybeForget(ts);
  }

  private onClientRelease(client: ClientId, keys: readonly Key[], cancel: boolean, reason: string): void {
    for (const key of keys) {
      const ts = this.tasks.get(key);
      if (!ts || !ts.wantedBy) continue;
      const before = ts.wants;
      if (cancel) ts.wantedBy = ts.wantedBy.filter((c) => c !== client);
      else {
        const i = ts.wantedBy.indexOf(client);
        if (i >= 0) ts.wantedBy.splice(i, 1);
      }
      ts.wants = ts.wantedBy.length;
      if (ts.wants === before) continue;
      if (ts.wants === 0) ts.wantedBy = null;
      if (cancel) this.emit({ type: "report", client, key, state: "cancelled", reason });
      if (ts.wants === 0 && ts.state === "memory" && ts.waiters === 0) this.recommend(ts, "released");
      else this.maybeForget(ts);
    }
  }

  private onWorkerAdded(id: WorkerId, nthreads: number, memoryLimit: number): void {
    if (this.workers.has(id)) throw new Error(`worker ${id} was added twice`);
    this.workers.set(id, new WorkerState(id, Math.max(1, nthreads), memoryLimit, this.workerIndex++));
    this.totalThreads += Math.max(1, nthreads);
    for (const ts of [...this.unrunnable]) {
      if (ts.state !== "ready") continue;
      this.unrunnable.delete(ts);
      this.place(ts);
    }
  }

  private onWorkerRemoved(id: WorkerId, reason: string): void {
    const w = this.workers.get(id);
    if (!w) return;
    w.running = false;
    this.workers.delete(id);
    this.totalThreads -= w.nthreads;
    for (const ts of [...w.processing]) {
      ts.suspicious++;
      if (ts.suspicious > this.allowedFailures) {
        ts.exception = {
          name: "KilledWorker",
          message: `task ${ts.key} was running on ${ts.suspicious} workers that died (last: ${id}, ${reason}); it may be what kills them`,
          key: ts.key,
          worker: id,
        };
        this.apply(ts, "erred", w);
      } else this.apply(ts, "waiting", w);
    }
    // A scan of all tasks: cheaper overall than a per-worker index updated on every finish.
    const held: TaskState[] = [];
    for (const ts of this.tasks.values()) if (ts.holders.includes(w)) held.push(ts);
    for (const ts of held) {
      this.removeHolder(ts, w);
      if (ts.holders.length === 0 && ts.state === "memory") {
        this.record(ts, "memory", "released", w.id);
        loseData(this, ts);
      }
    }
  }

  private onTaskFinished(id: WorkerId, key: Key, nbytes: number, duration: number): void {
    const w = this.workers.get(id);
    const ts = this.tasks.get(key);
    if (!w) return;
    if (!ts || (ts.state !== "processing" && ts.state !== "memory")) {
      this.emit({ type: "free", worker: id, key }); // nobody wants it any more
      return;
    }
    if (ts.state === "memory") {
      this.addHolder(ts, w);
      return;
    }
    ts.prefix.observe(duration);
    ts.nbytes = nbytes;
    this.apply(ts, "memory", w);
  }

  private onTaskErred(id: WorkerId, key: Key, error: SerializedError): void {
    const ts = this.tasks.get(key);
    const w = this.workers.get(id);
    if (!ts || !w || ts.state !== "processing" || ts.processingOn !== w) return;
    if (ts.retries > 0) {
      ts.retries--;
      this.apply(ts, "ready", w);
      return;
    }
    ts.exception = { ...error, key: error.key ?? key, worker: id };
    this.apply(ts, "erred", w);
  }

  private onReplicaAdded(id: WorkerId, key: Key, nbytes: number, movedFrom: WorkerId | undefined): void {
    const w = this.workers.get(id);
    const ts = this.tasks.get(key);
    if (!w) return;
    if (!ts || ts.state !== "memory") {
      this.emit({ type: "free", worker: id, key });
      return;
    }
    if (ts.nbytes < 0) ts.nbytes = nbytes;
    this.addHolder(ts, w);
    const from = movedFrom !== undefined ? this.workers.get(movedFrom) : undefined;
    if (from) this.removeHolder(ts, from);
  }

  private onDataAdded(client: ClientId, id: WorkerId, key: Key, nbytes: number): void {
    const w = this.workers.get(id);
    if (!w) throw new Error(`data-added for ${key} names unknown worker ${id}`);
    let ts = this.tasks.get(key);
    if (!ts) {
      ts = new TaskState(key, this.prefix(key), 0, ++this.generation * RANK_GENERATION, null, null);
      this.tasks.set(key, ts);
    }
    this.addWant(ts, client);
    if (ts.state === "memory") {
      this.addHolder(ts, w);
      this.emit({ type: "report", client, key, state: "memory", nbytes: ts.nbytes });
    } else if (ts.state === "released") {
      ts.nbytes = nbytes;
      this.apply(ts, "memory", w);
    } else {
      const error = {
        name: "KeyInUse",
        message: `cannot scatter under ${key}: that key is ${ts.state}; scatter under a new key`,
        key,
      };
      this.emit({ type: "report", client, key, state: "erred", error });
      this.emit({ type: "free", worker: id, key });
      ts.wantedBy!.splice(ts.wantedBy!.lastIndexOf(client), 1);
      ts.wants = ts.wantedBy!.length;
    }
  }

  private onStealResponse(id: WorkerId, key: Key, stolen: boolean): void {
    const ts = this.tasks.get(key);
    const w = this.workers.get(id);
    if (!ts || !w || ts.state !== "processing" || ts.processingOn !== w) return;
    ts.stealing = false;
    if (stolen) this.apply(ts, "ready", w);
  }

  private onMissingData(id: WorkerId, key: Key, depKey: Key, holderId: WorkerId): void {
    const dep = this.tasks.get(depKey);
    const holder = this.workers.get(holderId);
    if (dep && holder && dep.holders.includes(holder)) {
      this.removeHolder(dep, holder);
      if (dep.holders.length === 0 && dep.state === "memory") {
        this.record(dep, "memory", "released", holderId);
        loseData(this, dep);
      }
    }
    const ts = this.tasks.get(key);
    const w = this.workers.get(id);
    if (ts && w && ts.state === "processing" && ts.processingOn === w) this.apply(ts, "waiting", w);
    this.drain();
  }

  // ---- transitions ----------------------------------------------------------------------

  recommend(ts: TaskState, to: TaskStateName): void {
    const i = this.recN++;
    this.recTask[i] = ts;
    this.recFrom[i] = ts.state;
    this.recTo[i] = to;
  }

  /** Run queued recommendations in order; the queue's arrays are reused, never shrunk. */
  private drain(): void {
    const tasks = this.recTask;
    const from = this.recFrom;
    const to = this.recTo;
    for (let i = 0; i < this.recN; i++) {
      const ts = tasks[i]!;
      tasks[i] = undefined;
      // A recommendation made before the task moved on is stale.
      if (ts.state !== from[i] || ts.state === to[i]) continue;
      this.apply(ts, to[i]!, undefined);
    }
    this.recN = 0;
  }

  private apply(ts: TaskState, to: TaskStateName, w: WorkerState | undefined): void {
    const from = ts.state;
    const fn = TRANSITIONS[from][to];
    if (!fn) throw new InvalidTransition(ts.key, from, to, this.story(ts.key));
    this.record(ts, from, to, w?.id);
    fn(this, ts, w);
  }

  private record(ts: TaskState, from: TaskStateName, to: TaskStateName, worker: WorkerId | undefined): void {
    this.log.record(ts.key, from, to, this.stimulusType, this.seq, worker, this.now);
  }

  emit(i: Instruction): void {
    this.out.push(i);
  }

  /** Hand a ready task to a worker now, or queue it (root-ish), or park it (no worker fits). */
  place(ts: TaskState): void {
    ts.rootish = isRootish(ts, this.totalThreads);
    if (ts.rootish && this.workers.size > 0) {
      if (!ts.inQueue) {
        ts.inQueue = true;
        this.queue.push(ts);
      }
      return;
    }
    const w = decideWorker(ts, this.workers.values(), this.placement);
    if (w) this.apply(ts, "processing", w);
    else this.unrunnable.add(ts);
  }

  dispatch(ts: TaskState, w: WorkerState): void {
    const est = estimate(ts, this.placement);
    ts.processingOn = w;
    ts.charged = est;
    w.occupancy += est;
    w.processing.add(ts);
    let deps: DepLocation[] | undefined;
    for (const dep of ts.deps) {
      if (dep.holders.includes(w)) continue;
      const move = dep.waiters === 1 && dep.wants === 0 && dep.holders.length === 1;
      (deps ??= []).push({ key: dep.key, holders: dep.holders.map((h) => h.id), nbytes: dep.nbytes, move });
    }
    this.emit({ type: "compute", worker: w.id, key: ts.key, run: ts.run, priority: ts.priority, deps: deps ?? NO_DEPS });
  }

  private fillFromQueue(): void {
    while (this.queue.size > 0) {
      const top = this.queue.peek()!;
      if (top.state !== "ready") {
        this.queue.pop();
        top.inQueue = false;
        continue;
      }
      const w = pickQueueWorker(this.workers.values(), this.placement);
      if (!w) return;
      this.queue.pop();
      top.inQueue = false;
      this.apply(top, "processing", w);
      this.drain();
    }
  }

  private steal(): void {
    if (this.queue.size > 0 || this.workers.size < 2) return;
    for (const { victim, task } of planSteals(this.workers.values(), this.placement)) {
      this.emit({ type: "steal", worker: victim.id, key: task.key });
    }
  }

  addHolder(ts: TaskState, w: WorkerState): void {
    if (ts.holders === NONE) ts.holders = [w];
    else if (ts.holders.includes(w)) return;
    else ts.holders.push(w);
    w.nbytes += Math.max(ts.nbytes, 0);
  }

  private removeHolder(ts: TaskState, w: WorkerState): void {
    const i = ts.holders.indexOf(w);
    if (i < 0) return;
    if (ts.holders.length === 1) ts.holders = NONE;
    else ts.holders.splice(i, 1);
    w.nbytes -= Math.max(ts.nbytes, 0);
  }

  /** Free the data on every holder. */
  releaseData(ts: TaskState): void {
    for (const w of ts.holders) {
      w.nbytes -= Math.max(ts.nbytes, 0);
      if (w.running) this.emit({ type: "free", worker: w.id, key: ts.key });
    }
    ts.holders = NONE;
  }

  reportMemory(ts: TaskState): void {
    if (!ts.wantedBy) return;
    for (const client of new Set(ts.wantedBy)) this.emit({ type: "report", client, key: ts.key, state: "memory", nbytes: ts.nbytes });
  }

  reportErred(ts: TaskState): void {
    if (!ts.wantedBy) return;
    const error = ts.exception!;
    for (const client of new Set(ts.wantedBy)) this.emit({ type: "report", client, key: ts.key, state: "erred", error });
  }

  /** Nobody wants it and nothing depends on it: move it towards forgotten. */
  maybeForget(ts: TaskState): void {
    if (ts.wants > 0 || ts.liveDependents > 0) return;
    switch (ts.state) {
      case "released":
      case "erred":
        this.recommend(ts, "forgotten");
        return;
      case "memory":
      case "waiting":
      case "ready":
      case "processing":
        this.recommend(ts, "released");
        return;
      case "forgotten":
        return;
    }
  }

  dropTask(ts: TaskState): void {
    if (this.tasks.get(ts.key) === ts) this.tasks.delete(ts.key);
    this.unrunnable.delete(ts);
  }

  /** Drop forgotten entries once they are the majority, so long-lived keys do not leak. */
  compactDependents(ts: TaskState): void {
    if (ts.dependents.length > 32 && ts.liveDependents * 2 < ts.dependents.length) {
      ts.dependents = ts.dependents.filter((d) => d.state !== "forgotten");
    }
  }

  private addWant(ts: TaskState, client: ClientId): void {
    (ts.wantedBy ??= []).push(client);
    ts.wants = ts.wantedBy.length;
  }

  private prefix(key: Key): PrefixState {
    const name = keyPrefix(key);
    let p = this.prefixes.get(name);
    if (!p) this.prefixes.set(name, (p = new PrefixState(name)));
    return p;
  }
}

const NO_DEPS: readonly DepLocation[] = Object.freeze([]);

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
