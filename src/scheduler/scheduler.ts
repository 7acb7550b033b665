/**
 * The scheduler: a pure state machine. `handle(events, now)` applies events and returns the
 * instructions the runner must carry out; nothing here does I/O, reads a clock or sets a timer,
 * so the same code runs in a browser tab, a Node process or a scheduler server, and tests drive
 * it by feeding events and comparing instruction lists.
 *
 * Each event handler changes task states only through `apply(slot, to)`, which looks the pair
 * up in the transition table (transitions.ts) and records it for `story(key)`. Follow-up
 * transitions are queued as recommendations and drained in order. After the events of a batch,
 * root-ish tasks are handed from the ready queue to workers that have room, and idle workers
 * steal (placement.ts); paused workers get nothing new. Task state lives in a column table
 * (table.ts), keyed by slot.
 */

import { keyPrefix, type Key } from "../graph/task.js";
import { KeyIndex } from "./key-index.js";
import { Rebalancer } from "./rebalance.js";
import type { ClientId, DepLocation, Instruction, SchedulerEvent, StoryEntry, TaskStateName, WorkerId } from "./events.js";
import { Heap } from "./heap.js";
import { StoryLog } from "./story.js";
import { PrefixState, WorkerState } from "./task-state.js";
import { TRANSITIONS } from "./transitions.js";
import { dispatchEvent } from "./handlers.js";
import { decideWorker, defaultPlacement, estimate, hasCapacity, isRootish, mayTake, noWorkerNote, pickQueueWorker, planSteals, type PlacementOptions } from "./placement.js";
import {
  COUNTED,
  ERRED,
  FORGOTTEN,
  IN_QUEUE,
  MAX_SLOTS,
  MEMORY,
  PROCESSING,
  READY,
  RELEASED,
  STATE_NAMES,
  TaskTable,
  type State,
} from "./table.js";

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

const NO_DEPS: readonly DepLocation[] = Object.freeze([]);
const NO_HOLDERS: readonly WorkerId[] = Object.freeze([]);
/** How many prefixes prefixOf remembers (see recentPrefixes). */
const RECENT_PREFIXES = 4;

export class Scheduler {
  /** Task state, by slot. */
  readonly t = new TaskTable();
  /** Key -> slot of every task not forgotten. */
  readonly tasks: KeyIndex = new KeyIndex((slot) => this.t.key[slot]);
  readonly workers = new Map<WorkerId, WorkerState>();
  /** Ready tasks no running worker may take (restrictions, or no workers). */
  readonly unrunnable = new Set<number>();
  /** @internal Tasks asked back from their worker (a steal in flight), by slot: the worker that will take them. */
  readonly thieves = new Map<number, WorkerState>();
  /** Set while a stolen task is placed: where it goes if that worker still has room. */
  private stolenTo: WorkerState | undefined;
  /** Every worker ever added, by index (gone ones have `running` false); read by the metrics feed. */
  readonly byIndex: WorkerState[] = [];
  /** @internal */ readonly rebalancer: Rebalancer = new Rebalancer(this);
  /** Per key prefix: duration estimate and progress counters, by prefix id; read by the metrics feed. */
  readonly prefixes: PrefixState[] = [];
  private readonly prefixIds = new Map<string, number>();
  /**
   * The prefixes met last, newest first (a few: a tree reduction's order alternates its leaves'
   * prefix and its nodes'), tried before cutting the key and looking its prefix up in a Map.
   */
  private readonly recentPrefixes: string[] = [];
  private readonly recentPrefixIds: number[] = [];
  private readonly queue: Heap<number>;
  private readonly log: StoryLog;
  private readonly placement: PlacementOptions;
  /** @internal */ readonly allowedFailures: number;
  /** @internal */ generation = 0;
  /** @internal */ totalThreads = 0;
  private seq = 0;
  private stimulusType = "";
  private now = 0;
  private out: Instruction[] = [];
  private frees = new Map<WorkerId, Key[]>();
  private recSlot: number[] = [];
  private recFrom: number[] = [];
  private recTo: number[] = [];
  private recN = 0;

  constructor(options: SchedulerOptions = {}) {
    this.placement = { ...defaultPlacement, ...stripUndefined(options) };
    const sat = this.placement.workerSaturation;
    if (typeof sat !== "number" || !(sat > 0)) {
      throw new Error(`scheduler.workerSaturation must be a number above 0 (Dask's default 1.1; Infinity turns queuing off), got ${String(sat)}`);
    }
    this.log = new StoryLog(options.storyCapacity ?? 100_000);
    this.allowedFailures = options.allowedFailures ?? 3;
    const t = this.t;
    this.queue = new Heap<number>((a, b) => {
      const x = a % MAX_SLOTS;
      const y = b % MAX_SLOTS;
      const px = t.priority[x]!;
      const py = t.priority[y]!;
      return px !== py ? px > py : t.rank[x]! < t.rank[y]!;
    });
  }

  /** Apply events (in order) and return what the runner must do. `now` only stamps the story. */
  handle(events: SchedulerEvent | readonly SchedulerEvent[], now = 0): Instruction[] {
    this.now = now;
    const list = Array.isArray(events) ? (events as readonly SchedulerEvent[]) : [events as SchedulerEvent];
    for (const e of list) {
      this.stimulusType = e.type;
      this.seq++;
      dispatchEvent(this, e);
      this.drain();
    }
    this.stimulusType = "schedule";
    this.seq++;
    this.fillFromQueue();
    this.steal();
    this.t.flushFree();
    const out = this.out;
    this.out = [];
    this.frees.clear();
    return out;
  }

  story(...keys: Key[]): StoryEntry[] {
    return this.log.story(keys);
  }

  stateOf(key: Key): TaskStateName {
    const slot = this.tasks.get(key);
    return slot === undefined ? "forgotten" : STATE_NAMES[this.t.state[slot]!]!;
  }

  /** Workers holding `key` in memory. */
  whoHas(key: Key): WorkerId[] {
    const slot = this.tasks.get(key);
    return slot === undefined ? [] : this.t.holders(slot).map((i) => this.byIndex[i]!.id);
  }

  /**
   * Where the runner should fetch `key` from for a client, and whether that holder may hand
   * over its copy (the client gives the key up right after, and nothing else needs it); or
   * the value itself, when it is small.
   */
  gatherSource(key: Key, clientReleases: boolean): { worker: WorkerId; move: boolean } | { value: unknown } | string {
    const slot = this.tasks.get(key);
    if (slot === undefined) return "not known to the scheduler";
    const t = this.t;
    if (t.state[slot] !== MEMORY) return STATE_NAMES[t.state[slot]!]!;
    const small = t.small[slot];
    if (small) return small;
    const holder = t.holders(slot).map((i) => this.byIndex[i]!).find((w) => w.running);
    if (!holder) return "held by no running worker";
    const move = clientReleases && t.wants[slot] === 1 && t.waiters[slot] === 0 && t.holderCount(slot) === 1;
    return { worker: holder.id, move };
  }

  /** Number of tasks in each state (for progress and the dashboard). */
  counts(): Record<TaskStateName, number> {
    const c: Record<TaskStateName, number> = { released: 0, waiting: 0, ready: 0, processing: 0, memory: 0, erred: 0, forgotten: 0 };
    for (const slot of this.tasks.values()) c[STATE_NAMES[this.t.state[slot]!]!]++;
    return c;
  }

  workerAt(index: number): WorkerState | undefined {
    return index < 0 ? undefined : this.byIndex[index];
  }

  // ---- transitions ----------------------------------------------------------------------

  recommend(slot: number, to: State): void {
    const i = this.recN++;
    this.recSlot[i] = slot;
    this.recFrom[i] = this.t.state[slot]!;
    this.recTo[i] = to;
  }

  /** Run queued recommendations in order; the queue's arrays are reused, never shrunk. */
  /** @internal */ drain(): void {
    const state = this.t.state;
    for (let i = 0; i < this.recN; i++) {
      const slot = this.recSlot[i]!;
      const st = state[slot]!;
      // A recommendation made before the task moved on is stale.
      if (st !== this.recFrom[i] || st === this.recTo[i]) continue;
      this.apply(slot, this.recTo[i] as State, undefined);
    }
    this.recN = 0;
  }

  /** @internal */ apply(slot: number, to: State, w: WorkerState | undefined): void {
    const from = this.t.state[slot]!;
    const fn = TRANSITIONS[from]![to];
    if (!fn) {
      const key = this.t.key[slot]!;
      throw new InvalidTransition(key, STATE_NAMES[from]!, STATE_NAMES[to]!, this.story(key));
    }
    this.record(slot, from, to, w?.id);
    fn(this, slot, w);
  }

  /** @internal */ record(slot: number, from: number, to: number, worker: WorkerId | undefined, note?: string): void {
    this.log.record(this.t.key[slot]!, STATE_NAMES[from]!, STATE_NAMES[to]!, this.stimulusType, this.seq, worker, this.now, note);
  }

  emit(i: Instruction): void {
    this.out.push(i);
  }

  /** Frees are many: one instruction per worker per handle() call, holding all its keys. */
  /** @internal */ free(worker: WorkerId, key: Key): void {
    let keys = this.frees.get(worker);
    if (!keys) {
      this.frees.set(worker, (keys = []));
      this.out.push({ type: "free", worker, keys });
    }
    keys.push(key);
  }

  /**
   * Hand a ready task to a worker now, or queue it (root-ish), or park it (no worker fits: Dask's
   * no-worker state, noted once in its story with the reason).
   */
  place(slot: number): void {
    const t = this.t;
    const thief = this.stolenTo;
    if (thief) {
      this.stolenTo = undefined;
      if (hasCapacity(thief, this.placement) && mayTake(t, slot, thief, this.byIndex)) {
        this.apply(slot, PROCESSING, thief);
        return;
      }
    }
    if (this.workers.size > 0 && this.placement.workerSaturation !== Infinity && isRootish(t, slot, this.totalThreads)) {
      if ((t.flags[slot]! & IN_QUEUE) === 0) {
        t.flags[slot]! |= IN_QUEUE;
        this.queue.push(t.ref(slot));
      }
      if (this.unrunnable.size > 0) this.unrunnable.delete(slot);
      return;
    }
    const w = decideWorker(t, slot, this.byIndex, this.placement);
    if (w) this.apply(slot, PROCESSING, w);
    else if (!this.unrunnable.has(slot)) {
      this.unrunnable.add(slot);
      this.record(slot, READY, READY, undefined, noWorkerNote(t, slot, this.byIndex));
    }
  }

  dispatch(slot: number, w: WorkerState): void {
    const t = this.t;
    const est = estimate(this.prefixes[t.prefix[slot]!]!, this.placement);
    t.processingOn[slot] = w.index;
    t.charged[slot] = est;
    w.occupancy += est;
    w.processing.add(slot);
    let deps: DepLocation[] | undefined;
    const arena = t.depArena[slot]!;
    const end = t.depStart[slot]! + t.depCount[slot]!;
    for (let p = t.depStart[slot]!; p < end; p++) {
      const dep = arena[p]!;
      // A small input travels as its value even where the worker holds it: a literal clones
      // cheaper than a reference object and the worker looks nothing up.
      const small = t.small[dep];
      if (small) {
        (deps ??= []).push({ key: t.key[dep]!, holders: NO_HOLDERS, nbytes: t.nbytes[dep]!, move: false, small });
        continue;
      }
      if (t.holds(dep, w.index)) continue;
      const holders = t.holders(dep);
      const move = t.waiters[dep] === 1 && t.wants[dep] === 0 && holders.length === 1;
      (deps ??= []).push({ key: t.key[dep]!, holders: holders.map((i) => this.byIndex[i]!.id), nbytes: t.nbytes[dep]!, move });
    }
    this.emit({
      type: "compute",
      worker: w.id,
      key: t.key[slot]!,
      ref: t.wireRef(slot),
      run: t.run[slot],
      priority: t.priority[slot]!,
      deps: deps ?? NO_DEPS,
    });
  }

  private fillFromQueue(): void {
    const t = this.t;
    while (this.queue.size > 0) {
      const ref = this.queue.peek()!;
      const slot = t.deref(ref);
      if (slot < 0 || t.state[slot] !== READY) {
        this.queue.pop();
        if (slot >= 0) t.flags[slot]! &= ~IN_QUEUE;
        continue;
      }
      const w = pickQueueWorker(this.byIndex, this.placement, this.queue.size <= this.totalThreads);
      if (!w) return;
      this.queue.pop();
      t.flags[slot]! &= ~IN_QUEUE;
      this.apply(slot, PROCESSING, w);
      this.drain();
    }
  }

  private steal(): void {
    if (this.queue.size > 0 || this.workers.size < 2) return;
    const t = this.t;
    const expected = (slot: number) => estimate(this.prefixes[t.prefix[slot]!]!, this.placement);
    for (const { victim, thief, slot } of planSteals(t, this.byIndex, this.placement, expected)) {
      this.thieves.set(slot, thief);
      this.emit({ type: "steal", worker: victim.id, key: this.t.key[slot]! });
    }
  }

  /** The victim gave up a task it was asked for: to the thief if it has room, else placed anew. */
  /** @internal */ moveStolen(slot: number, victim: WorkerState): void {
    this.stolenTo = this.thieves.get(slot);
    try {
      this.apply(slot, READY, victim);
    } finally {
      this.stolenTo = undefined;
    }
  }

  addHolder(slot: number, w: WorkerState): void {
    if (this.t.addHolder(slot, w.index)) w.nbytes += Math.max(this.t.nbytes[slot]!, 0);
  }

  /** @internal */ removeHolder(slot: number, w: WorkerState): void {
    if (this.t.removeHolder(slot, w.index)) w.nbytes -= Math.max(this.t.nbytes[slot]!, 0);
  }

  /** Free the data on every holder. */
  releaseData(slot: number): void {
    const t = this.t;
    const key = t.key[slot]!;
    const bytes = Math.max(t.nbytes[slot]!, 0);
    // Every task's data comes here once: the holders are read in place, not copied out.
    const first = t.holder[slot]!;
    if (first !== -1) this.freeOn(this.byIndex[first]!, key, bytes);
    const more = t.holdersMore[slot];
    if (more) for (let i = 0; i < more.length; i++) this.freeOn(this.byIndex[more[i]!]!, key, bytes);
    t.clearHolders(slot);
    t.small[slot] = undefined;
  }

  private freeOn(w: WorkerState, key: Key, bytes: number): void {
    w.nbytes -= bytes;
    if (w.running) this.free(w.id, key);
  }

  reportMemory(slot: number): void {
    const by = this.t.wantedBy[slot];
    if (!by) return;
    const key = this.t.key[slot]!;
    const nbytes = this.t.nbytes[slot]!;
    for (const client of new Set(by)) this.emit({ type: "report", client, key, state: "memory", nbytes });
  }

  reportErred(slot: number): void {
    const by = this.t.wantedBy[slot];
    if (!by) return;
    const key = this.t.key[slot]!;
    const error = this.t.exception[slot]!;
    for (const client of new Set(by)) this.emit({ type: "report", client, key, state: "erred", error });
  }

  /** Nobody wants it and nothing depends on it: move it towards forgotten. */
  maybeForget(slot: number): void {
    const t = this.t;
    if (t.wants[slot]! > 0 || t.liveDependents[slot]! > 0) return;
    const st = t.state[slot]!;
    if (st === RELEASED || st === ERRED) this.recommend(slot, FORGOTTEN);
    else if (st !== FORGOTTEN) this.recommend(slot, RELEASED);
  }

  dropTask(slot: number): void {
    // Keys are unique among live slots (submissions dedupe by key): no need to check first.
    const t = this.t;
    this.tasks.delete(t.key[slot]!);
    this.unrunnable.delete(slot);
    this.prefixes[t.prefix[slot]!]!.dropped((t.flags[slot]! & COUNTED) !== 0);
    t.release(slot);
  }

  /** @internal */ addWant(slot: number, client: ClientId): void {
    const by = (this.t.wantedBy[slot] ??= []);
    by.push(client);
    this.t.wants[slot] = by.length;
  }

  /** Prefix id of a key; keys close in a graph's order share a few, so the last few are remembered. */
  /** @internal */ prefixOf(key: Key): number {
    const recent = this.recentPrefixes;
    for (let i = 0; i < recent.length; i++) if (hasPrefix(key, recent[i]!)) return this.recentPrefixIds[i]!;
    const name = keyPrefix(key);
    let id = this.prefixIds.get(name);
    if (id === undefined) {
      id = this.prefixes.length;
      this.prefixes.push(new PrefixState(name));
      this.prefixIds.set(name, id);
    }
    if (recent.length === RECENT_PREFIXES) {
      recent.pop();
      this.recentPrefixIds.pop();
    }
    recent.unshift(name);
    this.recentPrefixIds.unshift(id);
    return id;
  }
}

/** Whether keyPrefix(key) === prefix, without building the substring: `<prefix>-<hex>[...]`. */
function hasPrefix(key: Key, prefix: string): boolean {
  const n = prefix.length;
  if (key.length <= n + 1 || key.charCodeAt(n) !== 45 /* - */ || !key.startsWith(prefix)) return false;
  for (let i = n + 1; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c === 91 /* [ */) return i > n + 1;
    const hex = (c >= 48 && c <= 57) || (c >= 97 && c <= 102);
    if (!hex) return false;
  }
  return true;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
