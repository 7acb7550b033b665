/**
 * The metrics collector: turns what the runner already sees into the dashboard feed
 * (protocol.ts) and into progress events, without slowing the computation it watches.
 *
 *   worker reports ──tap──> TaskBuffer (columns; sampled when busy)  ─┐
 *   scheduler.prefixes (counters the transitions keep) ───────────────┼─ tick, every ~200 ms ──> subscribers
 *   scheduler.byIndex + workers' metrics (polled ~2/s) ───────────────┘
 *
 * (prefix-progress.ts reads the counters, worker-polls.ts polls the workers, and
 * compute-tracker.ts follows one compute() for its progress callback.)
 *
 * Besides tasks, the feed shows workers' other activity: inputs fetched from peers (each
 * report lists them with their times) and spills (the difference in a worker's spill counters
 * between two metrics polls), and each worker's CPU: its event loop's utilization between two
 * polls where the worker measures it (Node), else the time its tasks took (browsers).
 *
 * Nothing happens per task unless someone listens: the report tap is installed only while a
 * feed subscriber or a compute() progress tracker exists, and the timer runs only while anyone
 * listens. Per task the tap costs a few array stores (prefix and op come from the scheduler's
 * table by the task's ref); everything else is per tick and proportional to the number of
 * prefixes, workers and tasks on workers, not to the tasks run. One collector serves a runner
 * (`metricsOf(runner)`); environment-free: it runs in a browser tab as in Node.
 */

import { Alias, DataNode, Fused, Task, type Key } from "../graph/task.js";
import { FORGOTTEN, STATE_NAMES } from "../scheduler/table.js";
import type { Runner } from "../cluster/runner.js";
import type { Scheduler } from "../scheduler/scheduler.js";
import type { Report } from "../worker/protocol.js";
import {
  TRANSFER,
  type ComputeProgress,
  type FeedActivity,
  type FeedError,
  type FeedGraph,
  type FeedMessage,
  type FeedPrefix,
  type FeedSeries,
  type FeedTasks,
  type ProgressEvent,
} from "./protocol.js";
import { ComputeTracker, type ProgressHandle } from "./compute-tracker.js";
import { PrefixProgress } from "./prefix-progress.js";
import { safely } from "./safely.js";
import { ActivityBuffer, TaskBuffer, concatActivity, concatTasks } from "./task-buffer.js";
import { WorkerPolls } from "./worker-polls.js";

export type { ProgressHandle } from "./compute-tracker.js";

export interface CollectorOptions {
  /** Milliseconds between messages (default 200). */
  interval?: number;
  /** Finished tasks one message carries before it samples them (default 5000). */
  maxTasksPerUpdate?: number;
  /** Recent tasks kept for a new subscriber's snapshot: at most this many (default 20 000)... */
  historyTasks?: number;
  /** ...and none older than this many milliseconds (default 60 000). */
  historyMs?: number;
  /** Errors kept for snapshots (default 200). */
  errorsKept?: number;
  /** Milliseconds between polls of the workers' metrics (memory figures; default 500). */
  metricsInterval?: number;
  /** With nothing new, a message is still sent this often (milliseconds; default 1000). */
  heartbeat?: number;
}

const DEFAULTS: Required<CollectorOptions> = {
  interval: 200,
  maxTasksPerUpdate: 5000,
  historyTasks: 20_000,
  historyMs: 60_000,
  errorsKept: 200,
  metricsInterval: 500,
  heartbeat: 1000,
};

/** Default most tasks the graph page is sent (above it: only the count). */
export const GRAPH_LIMIT = 5000;

interface Subscriber {
  cb: (m: FeedMessage) => void;
  fresh: boolean;
}

export class MetricsCollector {
  private readonly o: Required<CollectorOptions>;
  private readonly subscribers = new Set<Subscriber>();
  private readonly progressListeners = new Set<(p: ProgressEvent) => void>();
  private readonly trackers = new Set<ComputeTracker>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private untap: (() => void) | undefined;
  private buffer: TaskBuffer;
  private activity: ActivityBuffer;
  private pendingErrors: FeedError[] = [];
  private keptErrors: FeedError[] = [];
  private pendingSeries = new Map<string, FeedSeries>();
  private readonly keptSeries = new Map<string, FeedSeries>();
  private history: { base: number; time: number; tasks: FeedTasks; activity: FeedActivity }[] = [];
  private historyCount = 0;
  private readonly opIds = new Map<string, number>();
  private readonly opNames: string[] = [];
  private opsSent = 0;
  private lastOp = "";
  private lastOpId = -1;
  private readonly prefixes = new PrefixProgress();
  private readonly workers: WorkerPolls;
  private lastSent = 0;
  private lastWorkers = "";
  private seq = 0;
  private closed = false;

  constructor(
    private readonly runner: Runner,
    options: CollectorOptions = {},
  ) {
    this.o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
    this.buffer = new TaskBuffer(this.o.maxTasksPerUpdate);
    this.activity = new ActivityBuffer(this.o.maxTasksPerUpdate);
    this.workers = new WorkerPolls(runner, this.o.metricsInterval, () => (this.subscribers.size > 0 ? this.activity : undefined));
  }

  /**
   * Receive the feed: a snapshot at the next tick, then an update every tick while anything
   * changes (`snapshot: false`: updates only, for a caller that takes snapshots itself).
   * Returns a function that unsubscribes.
   */
  subscribe(cb: (m: FeedMessage) => void, options: { snapshot?: boolean } = {}): () => void {
    const sub: Subscriber = { cb, fresh: options.snapshot !== false };
    this.subscribers.add(sub);
    this.update();
    return () => {
      this.subscribers.delete(sub);
      this.update();
    };
  }

  /** Overall progress, at each tick where it changed. Returns a function that unsubscribes. */
  onProgress(cb: (p: ProgressEvent) => void): () => void {
    this.progressListeners.add(cb);
    this.update();
    return () => {
      this.progressListeners.delete(cb);
      this.update();
    };
  }

  /** Follow the tasks `keys` (one graph) until `finish`; `cb` gets an event at each tick where they progressed. */
  track(keys: readonly Key[], cb: (p: ComputeProgress) => void): ProgressHandle {
    const tracker = new ComputeTracker(keys, cb, Date.now());
    this.trackers.add(tracker);
    this.update();
    return {
      finish: (ok) => {
        if (!this.trackers.delete(tracker)) return;
        tracker.finish(Date.now(), ok);
        this.update();
      },
    };
  }

  /** A point of a named series (client.logMetric), sent with the next update. */
  record(name: string, x: number, y: number): void {
    let s = this.pendingSeries.get(name);
    if (!s) this.pendingSeries.set(name, (s = { name, x: [], y: [] }));
    s.x.push(x);
    s.y.push(y);
    this.update();
  }

  /** The state now, as a new subscriber's first message (what `subscribe` delivers first). */
  snapshot(): FeedMessage {
    const s = this.runner.scheduler;
    this.prefixes.count(s);
    const progress: FeedPrefix[] = [];
    for (let id = 0; id < s.prefixes.length; id++) {
      const p = s.prefixes[id]!;
      if (p.total > 0 || p.live > 0) progress.push(this.prefixes.entry(s, id));
    }
    const base = this.history.length > 0 ? this.history[0]!.base : Date.now();
    return {
      kind: "snapshot",
      seq: this.seq,
      time: Date.now(),
      base,
      tasks: concatTasks(this.history, base),
      activity: concatActivity(this.history, base),
      progress,
      workers: this.workers.feed(s),
      errors: this.keptErrors.slice(),
      ops: this.opNames.slice(0, this.opsSent),
      opsFrom: 0,
      series: [...this.keptSeries.values()].map((s) => ({ name: s.name, x: s.x.slice(), y: s.y.slice() })),
    };
  }

  /**
   * The task graph the scheduler holds now, for the graph page: nodes with their prefix and
   * state, dependency edges. With more than `limit` tasks, only the count (`tooLarge`).
   */
  graph(limit = GRAPH_LIMIT): FeedGraph {
    const s = this.runner.scheduler;
    const t = s.t;
    const total = s.tasks.size;
    const out: FeedGraph = { time: Date.now(), total, tooLarge: total > limit, limit, key: [], prefix: [], prefixes: {}, state: [], from: [], to: [] };
    if (out.tooLarge) return out;
    const index = new Map<number, number>();
    for (const slot of s.tasks.values()) {
      if (t.state[slot] === FORGOTTEN) continue;
      index.set(slot, out.key.length);
      out.key.push(t.key[slot]!);
      const p = t.prefix[slot]!;
      out.prefix.push(p);
      out.prefixes[p] ??= s.prefixes[p]?.name ?? "?";
      out.state.push(STATE_NAMES[t.state[slot]!]!);
    }
    for (const [slot, i] of index) {
      const arena = t.depArena[slot]!;
      const from = t.depStart[slot]!;
      for (let d = from; d < from + t.depCount[slot]!; d++) {
        const j = index.get(arena[d]!);
        if (j === undefined) continue;
        out.from.push(j);
        out.to.push(i);
      }
    }
    return out;
  }

  /** Stop everything (the client closed). */
  close(): void {
    this.closed = true;
    this.subscribers.clear();
    this.progressListeners.clear();
    this.trackers.clear();
    this.update();
  }

  // ---- recording (per report) -------------------------------------------------------------

  private readonly tap = (worker: string, r: Report): void => {
    const s = this.runner.scheduler;
    const w = s.workers.get(worker);
    const wi = w ? w.index : -1;
    const t = s.t;
    const feed = this.subscribers.size > 0;
    if (feed) {
      const buf = this.buffer;
      let busy = 0;
      for (let i = 0; i < r.done.length; i++) {
        busy += r.stop[i]! - r.start[i]!;
        if (!buf.admit()) continue;
        const key = r.done[i]!;
        const slot = t.derefWire(r.refs[i]!, key);
        const prefix = slot >= 0 ? t.prefix[slot]! : s.prefixOf(key);
        buf.push(key, prefix, this.opId(slot >= 0 ? opName(t.run[slot]) : "?"), wi, r.start[i]!, r.stop[i]!, 0);
      }
      for (const e of r.erred) {
        const slot = s.tasks.get(e.key);
        const op = this.opId(e.error.op ?? (slot !== undefined ? opName(t.run[slot]) : "?"));
        busy += e.stop - e.start;
        buf.admitFailure();
        buf.push(e.key, slot !== undefined ? t.prefix[slot]! : s.prefixOf(e.key), op, wi, e.start, e.stop, 1);
        const err: FeedError = { key: e.key, op: this.opNames[op]!, worker, name: e.error.name, message: e.error.message, time: e.stop };
        if (e.error.stack !== undefined) err.stack = e.error.stack;
        this.pendingErrors.push(err);
      }
      if (wi >= 0) this.workers.addBusy(wi, busy);
      if (r.fetched) {
        for (const f of r.fetched) {
          const from = s.workers.get(f.from);
          this.activity.push(TRANSFER, wi, from ? from.index : -1, f.key, 1, f.nbytes, f.start, f.stop);
        }
      }
    }
    if (this.trackers.size > 0) {
      for (const tr of this.trackers) {
        for (let i = 0; i < r.done.length; i++) tr.mark(r.done[i]!, false);
        for (const e of r.erred) tr.mark(e.key, true);
      }
    }
  };

  private opId(name: string): number {
    // Consecutive tasks mostly run the same op (the same string): skip the map then.
    if (name === this.lastOp) return this.lastOpId;
    let id = this.opIds.get(name);
    if (id === undefined) {
      id = this.opNames.length;
      // A function shipped as source shows its name, not its op's token.
      const fn = name.startsWith("src:") ? this.runner.sourceName(name) : undefined;
      this.opNames.push(fn === undefined ? name : `${fn || "lambda"}()`);
      this.opIds.set(name, id);
    }
    this.lastOp = name;
    this.lastOpId = id;
    return id;
  }

  // ---- ticking ----------------------------------------------------------------------------

  /** Start or stop the timer and the report tap to match who listens. */
  private update(): void {
    const listening = !this.closed && (this.subscribers.size > 0 || this.progressListeners.size > 0 || this.trackers.size > 0);
    if (listening && !this.timer) {
      this.timer = setInterval(() => this.tick(), this.o.interval);
      (this.timer as { unref?: () => void }).unref?.();
    } else if (!listening && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    const tapping = !this.closed && (this.subscribers.size > 0 || this.trackers.size > 0);
    if (tapping && !this.untap) this.untap = this.runner.tapReports(this.tap);
    else if (!tapping && this.untap) {
      this.untap();
      this.untap = undefined;
    }
    if (this.subscribers.size === 0) this.forgetStream();
  }

  /** With no feed subscriber, keep no stream: a later one starts from the present. */
  private forgetStream(): void {
    if (this.buffer.length === 0 && this.activity.length === 0 && this.history.length === 0 && this.pendingErrors.length === 0) return;
    this.buffer = new TaskBuffer(this.o.maxTasksPerUpdate);
    this.activity = new ActivityBuffer(this.o.maxTasksPerUpdate);
    this.history = [];
    this.historyCount = 0;
    this.pendingErrors = [];
  }

  /** One tick: progress events, compute trackers, then the feed. Public for tests. */
  tick(now = Date.now()): void {
    const s = this.runner.scheduler;
    this.prefixes.count(s);
    const changed = this.prefixes.changed(s);
    if (changed.length > 0 && this.progressListeners.size > 0) {
      const event = this.prefixes.event(s, now);
      for (const l of this.progressListeners) safely(l, event);
    }
    for (const tr of this.trackers) tr.tick(now, s);
    if (this.subscribers.size > 0) this.publish(s, now, changed);
  }

  private publish(s: Scheduler, now: number, progress: FeedPrefix[]): void {
    this.workers.poll(now);
    const buf = this.buffer;
    const earliest = Math.min(buf.earliest(), this.activity.earliest());
    const base = earliest < Infinity ? Math.floor(earliest) : now;
    const tasks = buf.drain(base);
    const activity = this.activity.drain(base);
    const errors = this.pendingErrors;
    this.pendingErrors = [];
    const series = [...this.pendingSeries.values()];
    this.pendingSeries = new Map();
    const workers = this.workers.feed(s);
    const workerText = JSON.stringify(workers);
    const workersChanged = workerText !== this.lastWorkers;
    this.lastWorkers = workerText;
    const ops = this.opNames.slice(this.opsSent);
    const opsFrom = this.opsSent;
    this.opsSent = this.opNames.length;
    const news = tasks.seen > 0 || activity.seen > 0 || progress.length > 0 || errors.length > 0 || workersChanged || ops.length > 0 || series.length > 0;
    const send = news || now - this.lastSent >= this.o.heartbeat;
    if (send) this.seq++;
    const msg: FeedMessage = { kind: "update", seq: this.seq, time: now, base, tasks, activity, progress, workers, errors, ops, opsFrom, series };
    this.remember(msg, now);
    let snap: FeedMessage | undefined;
    for (const sub of this.subscribers) {
      if (sub.fresh) {
        sub.fresh = false;
        safely(sub.cb, (snap ??= this.snapshot()));
      } else if (send) safely(sub.cb, msg);
    }
    if (send) this.lastSent = now;
  }

  /** Keep the tasks and errors of a message for later snapshots. */
  private remember(msg: FeedMessage, now: number): void {
    for (const s of msg.series) {
      let k = this.keptSeries.get(s.name);
      if (!k) this.keptSeries.set(s.name, (k = { name: s.name, x: [], y: [] }));
      for (let i = 0; i < s.x.length; i++) {
        k.x.push(s.x[i]!);
        k.y.push(s.y[i]!);
      }
      // The newest points of each series, for snapshots.
      if (k.x.length > SERIES_KEPT) {
        k.x.splice(0, k.x.length - SERIES_KEPT);
        k.y.splice(0, k.y.length - SERIES_KEPT);
      }
    }
    if (msg.errors.length > 0) {
      for (const e of msg.errors) this.keptErrors.push(e);
      if (this.keptErrors.length > this.o.errorsKept) this.keptErrors.splice(0, this.keptErrors.length - this.o.errorsKept);
    }
    if (msg.tasks.key.length > 0 || msg.activity.kind.length > 0) {
      this.history.push({ base: msg.base, time: now, tasks: msg.tasks, activity: msg.activity });
      this.historyCount += msg.tasks.key.length + msg.activity.kind.length;
    }
    const h = this.history;
    let drop = 0;
    while (drop < h.length - 1 && (this.historyCount > this.o.historyTasks || h[drop]!.time < now - this.o.historyMs)) {
      this.historyCount -= h[drop]!.tasks.key.length + h[drop]!.activity.kind.length;
      drop++;
    }
    if (drop > 0) h.splice(0, drop);
  }
}

/** The op a task runs, for the task stream (a fused chain shows its last op). */
export function opName(run: unknown): string {
  if (run instanceof Task) return run.op;
  if (run instanceof Fused) {
    const last = run.tasks[run.tasks.length - 1]!;
    return last instanceof Task ? last.op : last.kind;
  }
  if (run instanceof Alias) return "alias";
  if (run instanceof DataNode) return "data";
  if (run !== null && typeof run === "object") {
    // A task encoded for the wire (worker/protocol.ts WireTask).
    if ("op" in run && typeof run.op === "string") return run.op;
    if ("fused" in run && Array.isArray(run.fused) && run.fused.length > 0) return String((run.fused[run.fused.length - 1] as { op?: unknown }).op);
  }
  return "?";
}

/** Points kept per series for snapshots. */
const SERIES_KEPT = 10_000;

const collectors = new WeakMap<Runner, MetricsCollector>();

/** The runner's collector, made on first use. */
export function metricsOf(runner: Runner, options?: CollectorOptions): MetricsCollector {
  let c = collectors.get(runner);
  if (!c) collectors.set(runner, (c = new MetricsCollector(runner, options)));
  return c;
}

/** The runner's collector if one was made (something watches the cluster), else undefined. */
export function watchingMetrics(runner: Runner): MetricsCollector | undefined {
  return collectors.get(runner);
}

/** Stop the runner's collector, if it has one (the client closed). */
export function closeMetrics(runner: Runner): void {
  collectors.get(runner)?.close();
  collectors.delete(runner);
}