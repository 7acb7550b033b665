/**
 * What the dashboard page knows, built from the feed's messages (src/dashboard/protocol.ts): a
 * snapshot replaces it, an update adds to it. The task stream is kept in a ring of columns
 * (typed arrays), so a long session costs a fixed amount of memory; progress, workers and errors
 * are small. No DOM here: the panels draw from this, and a unit test can drive it.
 */

import type { FeedError, FeedGraph, FeedMessage, FeedPrefix, FeedWorker } from "tessera";

/** FeedActivity kinds (src/dashboard/protocol.ts). */
export const TRANSFER = 0;
export const SPILL = 1;
export const UNSPILL = 2;

/** The most recent finished tasks, in columns; old entries are overwritten. */
export class TaskRing {
  readonly start: Float64Array;
  readonly stop: Float64Array;
  readonly worker: Int32Array;
  readonly prefix: Int32Array;
  readonly op: Int32Array;
  readonly erred: Uint8Array;
  readonly key: string[];
  /** Entries written ever; the live ones are the last min(written, capacity). */
  written = 0;

  constructor(readonly capacity: number) {
    this.start = new Float64Array(capacity);
    this.stop = new Float64Array(capacity);
    this.worker = new Int32Array(capacity);
    this.prefix = new Int32Array(capacity);
    this.op = new Int32Array(capacity);
    this.erred = new Uint8Array(capacity);
    this.key = new Array<string>(capacity);
  }

  get size(): number {
    return Math.min(this.written, this.capacity);
  }

  push(key: string, prefix: number, op: number, worker: number, start: number, stop: number, erred: number): void {
    const i = this.written++ % this.capacity;
    this.key[i] = key;
    this.prefix[i] = prefix;
    this.op[i] = op;
    this.worker[i] = worker;
    this.start[i] = start;
    this.stop[i] = stop;
    this.erred[i] = erred;
  }

  clear(): void {
    this.written = 0;
  }
}

/** Recent worker activity besides tasks (transfers, spills), in columns; old entries are overwritten. */
export class ActivityRing {
  readonly kind: Uint8Array;
  readonly worker: Int32Array;
  readonly peer: Int32Array;
  readonly count: Float64Array;
  readonly nbytes: Float64Array;
  readonly start: Float64Array;
  readonly stop: Float64Array;
  readonly key: string[];
  written = 0;

  constructor(readonly capacity: number) {
    this.kind = new Uint8Array(capacity);
    this.worker = new Int32Array(capacity);
    this.peer = new Int32Array(capacity);
    this.count = new Float64Array(capacity);
    this.nbytes = new Float64Array(capacity);
    this.start = new Float64Array(capacity);
    this.stop = new Float64Array(capacity);
    this.key = new Array<string>(capacity);
  }

  get size(): number {
    return Math.min(this.written, this.capacity);
  }

  push(kind: number, worker: number, peer: number, key: string, count: number, nbytes: number, start: number, stop: number): void {
    const i = this.written++ % this.capacity;
    this.kind[i] = kind;
    this.worker[i] = worker;
    this.peer[i] = peer;
    this.key[i] = key;
    this.count[i] = count;
    this.nbytes[i] = nbytes;
    this.start[i] = start;
    this.stop[i] = stop;
  }

  clear(): void {
    this.written = 0;
  }
}

/** One point per update: for the throughput and memory chart. */
export interface Series {
  /** Seconds (epoch). */
  time: number[];
  /** Tasks finished per second over the interval. */
  rate: number[];
  /** Bytes of results in workers' memory (managed), summed. */
  memory: number[];
  /** Workers' memory as measured (their heaps and buffers), summed; null where none is measured. */
  measured: (number | null)[];
  /** Tasks on workers. */
  processing: number[];
}

const SERIES_POINTS = 600;
/** Points kept per logged metric series. */
const METRIC_POINTS = 10_000;
const ERRORS_KEPT = 500;

export class DashboardState {
  readonly stream: TaskRing;
  readonly activity: ActivityRing;
  /** Transfers, spill and read-back entries seen since this page connected (kept or not), by kind. */
  activitySeen = [0, 0, 0];
  /** The task graph last fetched for the graph page, and the last one with tasks in it. */
  graph: FeedGraph | undefined;
  lastGraph: FeedGraph | undefined;
  ops: string[] = [];
  readonly prefixes = new Map<number, FeedPrefix>();
  workers: FeedWorker[] = [];
  errors: FeedError[] = [];
  /** Named series the client logged (client.logMetric: a training loss per step), by name. */
  metrics = new Map<string, { x: number[]; y: number[] }>();
  series: Series = { time: [], rate: [], memory: [], measured: [], processing: [] };
  /** Latest task stop seen (epoch ms); 0 before any. */
  latestStop = 0;
  /** Tasks finished or failed since this page connected (sampled or not). */
  seen = 0;
  /** Sampling of the latest update (1 in `stride` tasks drawn). */
  stride = 1;
  messages = 0;
  lastTime = 0;

  constructor(capacity = 200_000) {
    this.stream = new TaskRing(capacity);
    this.activity = new ActivityRing(Math.max(1000, capacity >> 2));
  }

  /** Keep a graph fetched for the graph page (and the last non-empty one, shown once a computation is over). */
  setGraph(g: FeedGraph): void {
    this.graph = g;
    if (g.total > 0) this.lastGraph = g;
  }

  apply(m: FeedMessage): void {
    if (m.kind === "snapshot") this.reset();
    this.messages++;
    if (m.opsFrom <= this.ops.length) {
      this.ops.length = m.opsFrom;
      for (const name of m.ops) this.ops.push(name);
    }
    const t = m.tasks;
    for (let i = 0; i < t.key.length; i++) {
      const stop = m.base + t.stop[i]!;
      this.stream.push(t.key[i]!, t.prefix[i]!, t.op[i]!, t.worker[i]!, m.base + t.start[i]!, stop, t.erred[i]!);
      if (stop > this.latestStop) this.latestStop = stop;
    }
    this.seen += t.seen;
    this.stride = t.stride;
    // Absent from feeds of servers older than this page.
    const a = m.activity;
    if (a) {
      for (let i = 0; i < a.kind.length; i++) {
        const kind = a.kind[i]!;
        const stop = m.base + a.stop[i]!;
        this.activity.push(kind, a.worker[i]!, a.peer[i]!, a.key[i]!, a.count[i]!, a.nbytes[i]!, m.base + a.start[i]!, stop);
        this.activitySeen[kind] = (this.activitySeen[kind] ?? 0) + (kind === TRANSFER ? 1 : a.count[i]!);
        if (stop > this.latestStop) this.latestStop = stop;
      }
    }
    for (const p of m.progress) this.prefixes.set(p.id, p);
    this.workers = m.workers;
    // Absent from feeds of servers older than this page.
    for (const s of m.series ?? []) {
      let k = this.metrics.get(s.name);
      if (!k) this.metrics.set(s.name, (k = { x: [], y: [] }));
      k.x.push(...s.x);
      k.y.push(...s.y);
      if (k.x.length > METRIC_POINTS) {
        k.x.splice(0, k.x.length - METRIC_POINTS);
        k.y.splice(0, k.y.length - METRIC_POINTS);
      }
    }
    if (m.kind === "snapshot") this.errors = m.errors.slice();
    else if (m.errors.length > 0) this.errors.push(...m.errors);
    if (this.errors.length > ERRORS_KEPT) this.errors.splice(0, this.errors.length - ERRORS_KEPT);
    if (m.kind === "update" && this.lastTime > 0 && m.time > this.lastTime) this.addPoint(m, (m.time - this.lastTime) / 1000);
    this.lastTime = m.time;
  }

  /** Totals over the prefixes shown. */
  totals(): { total: number; done: number; erred: number; processing: number } {
    const out = { total: 0, done: 0, erred: 0, processing: 0 };
    for (const p of this.prefixes.values()) {
      out.total += p.total;
      out.done += p.done;
      out.erred += p.erred;
      out.processing += p.processing;
    }
    return out;
  }

  /** The op's name, or "?" when it was never received. */
  opName(id: number): string {
    return this.ops[id] ?? "?";
  }

  private addPoint(m: FeedMessage, seconds: number): void {
    const s = this.series;
    let memory = 0;
    let measured: number | null = null;
    let processing = 0;
    for (const w of m.workers) {
      if (!w.running) continue;
      memory += w.memory ? w.memory.managed : w.nbytes;
      if (w.memory?.measured !== undefined) measured = (measured ?? 0) + w.memory.measured;
      processing += w.processing;
    }
    s.time.push(m.time / 1000);
    s.rate.push(m.tasks.seen / seconds);
    s.memory.push(memory);
    s.measured.push(measured);
    s.processing.push(processing);
    if (s.time.length > SERIES_POINTS) {
      for (const col of [s.time, s.rate, s.memory, s.measured, s.processing]) col.splice(0, col.length - SERIES_POINTS);
    }
  }

  private reset(): void {
    this.stream.clear();
    this.activity.clear();
    this.activitySeen = [0, 0, 0];
    this.ops = [];
    this.prefixes.clear();
    this.errors = [];
    this.metrics.clear();
    this.latestStop = 0;
    this.seen = 0;
    this.lastTime = 0;
  }
}
