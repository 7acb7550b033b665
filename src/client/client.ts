/**
 * The client: what a user program holds. It turns collections and function calls into graphs
 * (cull, fuse, order, encode), submits them to the runner, tracks the keys it wants as futures,
 * and gathers results. Every method that names a key also accepts the Future for it.
 *
 * Each key the client wants counts once at the scheduler, however many Future handles point at
 * it; the client counts handles (KeyState.refs) and releases the key when the last one goes.
 */

import { TesseraError } from "../errors.js";
import { indexGraph } from "../graph/dag.js";
import { fuseIndexed } from "../graph/fuse.js";
import { orderIndexed } from "../graph/order.js";
import { Task, isContainer, type Graph, type Key } from "../graph/task.js";
import { randomToken, tokenize } from "../graph/tokenize.js";
import type { ClientId, StoryEntry, TaskSpec, WorkerId } from "../scheduler/events.js";
import type { ClientReport, Runner } from "../cluster/runner.js";
import { closeMetrics, metricsOf, watchingMetrics, type ProgressHandle } from "../dashboard/collector.js";
import { terminalProgress } from "../dashboard/progress-bar.js";
import type { FeedGraph, FeedMessage, ProgressEvent } from "../dashboard/protocol.js";
import type { WorkerMetrics } from "../worker/control.js";
import type { SourceDef } from "../worker/protocol.js";
import { COLLECTION, PREPARE, isCollection, type Collection, type CollectionSpec } from "./collection.js";
import { dropClient, setCurrentClient, type ComputeOptions } from "./current.js";
import { Delayed, callNode, type DelayedOptions } from "./delayed.js";
import { checkComputeOptions, checkTaskOptions, type ScatterOptions, type SubmitOptions } from "./options.js";
import type { FunctionLike } from "./functions.js";
import { Future, KeyState, type FutureOwner } from "./future.js";

export type { ComputeOptions, ScatterOptions, SubmitOptions };

type Computed<X> = X extends Collection<infer T> ? T : X;

let clientCount = 0;

export class Client implements FutureOwner {
  readonly id: ClientId;
  /** The URL of the dashboard serving this client's cluster, while one does (see startDashboard). */
  dashboardLink: string | undefined;
  private readonly states = new Map<Key, KeyState>();
  private readonly closeHooks: (() => Promise<void> | void)[] = [];
  private closed = false;

  /** @internal clusters create clients (see LocalCluster.start). */
  constructor(
    readonly runner: Runner,
    private readonly onClose: () => Promise<void>,
  ) {
    this.id = `client-${++clientCount}-${randomToken().slice(0, 6)}`;
    runner.connectClient(this.id, (reports) => this.onReports(reports));
    setCurrentClient(this);
  }

  /** Ids of the workers. */
  get workers(): WorkerId[] {
    return this.runner.workerIds;
  }

  // ---- collections ----------------------------------------------------------------------

  /** Compute a collection (or a list of them) and return its value. Results are not kept. */
  compute<X extends readonly unknown[]>(xs: readonly [...X], options?: ComputeOptions): Promise<{ [K in keyof X]: Computed<X[K]> }>;
  compute<X>(x: X, options?: ComputeOptions): Promise<Computed<X>>;
  async compute(x: unknown, options: ComputeOptions = {}): Promise<unknown> {
    this.checkOpen();
    checkComputeOptions(options, "compute");
    const signal = options.signal;
    signal?.throwIfAborted();
    const list = Array.isArray(x);
    const items = list ? (x as unknown[]) : [x];
    await Promise.all(items.map((item) => (isCollection(item) ? item[PREPARE]?.() : undefined)));
    signal?.throwIfAborted();
    const specs = items.map((item) => (isCollection(item) ? item[COLLECTION]() : undefined));
    const keys = [...new Set(specs.flatMap((s) => (s ? s.keys : [])))];
    let progress: ProgressHandle | undefined;
    const states = this.submitSpecs(
      specs.filter((s): s is CollectionSpec<unknown> => s !== undefined),
      keys,
      options,
      options.progress ? (tasks) => (progress = this.trackProgress(tasks, options.progress)) : undefined,
    );
    for (const s of states) s.refs++;
    const onAbort = () => this.cancelKeys(keys, "aborted");
    signal?.addEventListener("abort", onAbort, { once: true });
    let values: unknown[];
    let ok = false;
    try {
      await Promise.all(states.map((s) => s.settled));
      const movable = new Set(states.filter((s) => s.refs === 1).map((s) => s.key));
      values = await this.runner.gather(keys, movable);
      ok = true;
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw err;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      for (const s of states) this.release(s);
      progress?.finish(ok);
    }
    const byKey = new Map(keys.map((k, i) => [k, values[i]]));
    const out = items.map((item, i) => {
      const spec = specs[i];
      return spec ? spec.finalize(spec.keys.map((k) => byKey.get(k))) : item;
    });
    return list ? out : out[0];
  }

  /**
   * Start computing and keep the results on the cluster: returns the same kind of collection,
   * now backed by futures (its chunks stay pinned until the returned collection is released or
   * garbage collected).
   */
  persist<C extends Collection<unknown>>(x: C, options: ComputeOptions = {}): C {
    this.checkOpen();
    checkComputeOptions(options, "persist");
    const spec = x[COLLECTION]();
    const states = this.submitSpecs([spec], spec.keys, options);
    const futures = states.map((s) => new Future(s.key, this));
    return spec.rebuild(futures) as C;
  }

  // ---- futures --------------------------------------------------------------------------

  /** Run `fn(...args)` on a worker. Arguments may be futures or delayed values. */
  submit<R>(fn: FunctionLike & ((...args: any[]) => R), ...args: unknown[]): Future<Awaited<R>>;
  submit<R = unknown>(fn: FunctionLike, ...args: unknown[]): Future<R>;
  submit(fn: FunctionLike, ...args: unknown[]): Future<unknown> {
    return this.submitWith({}, fn, ...args);
  }

  /** `submit` with options: key, pure, retries, priority, workers, allowOtherWorkers. */
  submitWith<R = unknown>(options: SubmitOptions, fn: FunctionLike, ...args: unknown[]): Future<R> {
    this.checkOpen();
    checkTaskOptions(options, ["key"]);
    const { key, ...rest } = options;
    let { node, parents, source } = callNode(fn, args, rest);
    if (key !== undefined) node = new Task(key, node.op, node.args, node.options);
    const d = new Delayed(node.key, node, parents, source, undefined);
    this.submitSpecs([d[COLLECTION]()], [node.key], { optimize: false });
    return new Future<R>(node.key, this);
  }

  /** `fn(item)` for each item, as one graph. */
  map<T, R>(fn: FunctionLike & ((item: T) => R), items: Iterable<T>, options?: DelayedOptions): Future<Awaited<R>>[];
  map<R = unknown>(fn: FunctionLike, items: Iterable<unknown>, options?: DelayedOptions): Future<R>[];
  map(fn: FunctionLike, items: Iterable<unknown>, options: DelayedOptions = {}): Future<unknown>[] {
    this.checkOpen();
    checkTaskOptions(options);
    const graph: Graph = new Map();
    const keys: Key[] = [];
    const sources = new Map<string, SourceDef>();
    const external: Key[] = [];
    for (const item of items) {
      const { node, parents, source } = callNode(fn, [item], options);
      graph.set(node.key, node);
      keys.push(node.key);
      if (source) sources.set(source.op, source);
      for (const p of parents) {
        const s = p[COLLECTION]();
        for (const [k, n] of s.graph as Graph) graph.set(k, n);
        external.push(...(s.external ?? []));
        for (const src of s.sources ?? []) sources.set(src.op, src);
      }
    }
    const spec: CollectionSpec<unknown> = {
      graph,
      keys,
      sources: [...sources.values()],
      external,
      finalize: (v) => v,
      rebuild: () => {
        throw new Error("unreachable");
      },
    };
    this.submitSpecs([spec], keys, { optimize: false });
    return keys.map((k) => new Future(k, this));
  }

  /** Values of futures: one future, or arrays / plain objects holding futures. */
  async gather<T>(futures: Future<T>): Promise<T>;
  async gather<T>(futures: readonly Future<T>[]): Promise<T[]>;
  async gather(futures: unknown): Promise<unknown>;
  async gather(futures: unknown): Promise<unknown> {
    this.checkOpen();
    const found: Future[] = [];
    const walk = (v: unknown): void => {
      if (v instanceof Future) found.push(v);
      else if (isContainer(v)) for (const x of Array.isArray(v) ? v : Object.values(v)) walk(x);
    };
    walk(futures);
    await Promise.all(found.map((f) => f.wait()));
    const keys = [...new Set(found.map((f) => f.key))];
    const values = await this.runner.gather(keys);
    const byKey = new Map(keys.map((k, i) => [k, values[i]]));
    const rebuild = (v: unknown): unknown => {
      if (v instanceof Future) return byKey.get(v.key);
      if (!isContainer(v)) return v;
      if (Array.isArray(v)) return v.map(rebuild);
      const o: Record<string, unknown> = {};
      for (const k in v) o[k] = rebuild(v[k]);
      return o;
    };
    return rebuild(futures);
  }

  /** Put data on the workers; returns futures for it. Data is copied, never detached from the caller. */
  async scatter<T>(values: readonly T[], options?: ScatterOptions): Promise<Future<T>[]>;
  async scatter<T>(value: T, options?: ScatterOptions): Promise<Future<T>>;
  async scatter(values: unknown, options: ScatterOptions = {}): Promise<Future | Future[]> {
    this.checkOpen();
    const list = Array.isArray(values) ? (values as unknown[]) : [values];
    const keys = list.map((v) => `${typeName(v)}-${options.hash === false ? randomToken() : tokenize(v)}`);
    const newKeys: Key[] = [];
    const newValues: unknown[] = [];
    keys.forEach((k, i) => {
      if (this.states.has(k) || newKeys.includes(k)) return;
      this.states.set(k, new KeyState(k));
      newKeys.push(k);
      newValues.push(list[i]);
    });
    if (newKeys.length > 0) this.runner.scatter(this.id, newKeys, newValues, options.workers);
    const futures = keys.map((k) => new Future(k, this));
    await Promise.all(futures.map((f) => f.wait()));
    return Array.isArray(values) ? futures : futures[0]!;
  }

  /** Yield futures as they finish (or fail); `withResults` yields `[future, value]` pairs. */
  asCompleted<T>(futures: Iterable<Future<T>>): AsyncGenerator<Future<T>>;
  asCompleted<T>(futures: Iterable<Future<T>>, options: { withResults: true }): AsyncGenerator<[Future<T>, T]>;
  async *asCompleted<T>(futures: Iterable<Future<T>>, options: { withResults?: boolean } = {}): AsyncGenerator<unknown> {
    const list = [...futures];
    const queue: Future<T>[] = [];
    let wake: (() => void) | undefined;
    for (const f of list) {
      const push = () => {
        queue.push(f);
        wake?.();
      };
      f.wait().then(push, push);
    }
    for (let n = 0; n < list.length; n++) {
      while (queue.length === 0) await new Promise<void>((r) => (wake = r));
      wake = undefined;
      const f = queue.shift()!;
      yield options.withResults ? [f, await f.result()] : f;
    }
  }

  /** Cancel futures: their tasks stop unless another client wants them. */
  cancel(futures: Future | readonly Future[], reason?: string): void {
    const list = Array.isArray(futures) ? (futures as Future[]) : [futures as Future];
    this.cancelKeys(
      list.map((f) => f.key),
      reason,
    );
  }

  /** The transitions the scheduler recorded for these keys, oldest first. */
  story(...keys: (Key | Future)[]): StoryEntry[] {
    return this.runner.story(keys.map((k) => (k instanceof Future ? k.key : k)));
  }

  /** Workers holding each key. */
  whoHas(...keys: (Key | Future)[]): Record<Key, WorkerId[]> {
    const out: Record<Key, WorkerId[]> = {};
    for (const k of keys) {
      const key = k instanceof Future ? k.key : k;
      out[key] = this.runner.scheduler.whoHas(key);
    }
    return out;
  }

  /**
   * Move stored data between workers so each holds about as many bytes of it (Dask's
   * `Client.rebalance`): `what` is a persisted collection, futures or keys; nothing means every
   * key in memory. Keys go largest first from workers over the mean to the least loaded, each
   * fetched by its new holder over the peer channels; resolves once the moves are done, with
   * how many keys and bytes moved. Meant for a quiet cluster (after `persist`, before the work
   * on the data): keys that tasks are waiting for stay where they are.
   */
  async rebalance(what?: Collection<unknown> | Future | readonly (Future | Key)[]): Promise<{ moved: number; bytes: number }> {
    this.checkOpen();
    let keys: Key[] | undefined;
    if (what !== undefined) {
      if (isCollection(what)) keys = [...what[COLLECTION]().keys];
      else if (what instanceof Future) keys = [what.key];
      else if (Array.isArray(what)) keys = what.map((k) => (k instanceof Future ? k.key : k));
      else throw new TesseraError("rebalance: pass a persisted collection, futures or keys (or nothing, for everything in memory)");
    }
    return this.runner.rebalance(this.id, keys);
  }

  /**
   * Make every worker import `url` and register its exported functions as ops named
   * `<name>.<export>`; returns the op names. Use them with `op("name.fn")` or as a string.
   */
  async registerModule(url: string | URL, options: { name: string }): Promise<string[]> {
    this.checkOpen();
    const href = url instanceof URL ? url.href : url;
    const results = await Promise.all(this.runner.workerIds.map((id) => this.runner.link(id)!.control.registerModule(href, options.name)));
    return results[0] ?? [];
  }

  /** Per-worker metrics. */
  async metrics(): Promise<WorkerMetrics[]> {
    return Promise.all(this.runner.workerIds.map((id) => this.runner.link(id)!.control.metrics()));
  }

  /**
   * The dashboard feed (dashboard/protocol.ts): a snapshot first, then an update ~5 times a
   * second while anything changes (the task stream, progress by prefix, workers' memory and
   * occupancy, errors). With `snapshot: false`, updates only (the caller takes its own
   * snapshot). Returns a function that unsubscribes.
   */
  onMetrics(cb: (m: FeedMessage) => void, options: { snapshot?: boolean } = {}): () => void {
    this.checkOpen();
    return metricsOf(this.runner).subscribe(cb, options);
  }

  /**
   * A point (x, y) of the named series the dashboard charts — a training loss per step, rows
   * per second — sent with the next feed update to whoever watches (the dashboard, onMetrics).
   * Nothing is kept when nothing watches this cluster.
   */
  logMetric(name: string, x: number, y: number): void {
    this.checkOpen();
    if (typeof name !== "string" || name === "") throw new TesseraError(`logMetric: name must be a non-empty string, got ${JSON.stringify(name)}`);
    if (!Number.isFinite(x) || !Number.isFinite(y)) throw new TesseraError(`logMetric(${JSON.stringify(name)}): x and y must be finite numbers, got ${x} and ${y}`);
    watchingMetrics(this.runner)?.record(name, x, y);
  }

  /** Overall progress by task prefix, ~5 times a second while it changes. Returns a function that unsubscribes. */
  onProgress(cb: (p: ProgressEvent) => void): () => void {
    this.checkOpen();
    return metricsOf(this.runner).onProgress(cb);
  }

  /** The task graph the scheduler holds now, for the dashboard's graph page (above `limit` tasks, only their count). */
  taskGraph(limit?: number): FeedGraph {
    this.checkOpen();
    return metricsOf(this.runner).graph(limit);
  }

  /** @internal Run `fn` when the client closes (a dashboard server stops with it). */
  whenClosed(fn: () => Promise<void> | void): void {
    this.closeHooks.push(fn);
  }

  /** Release everything, and shut the cluster down if this client started it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    dropClient(this);
    const keys = [...this.states.keys()];
    for (const s of this.states.values()) s.cancel("client closed");
    this.states.clear();
    this.runner.release(this.id, keys);
    this.runner.disconnectClient(this.id);
    // A hook that fails must not keep the cluster up.
    await Promise.allSettled(this.closeHooks.splice(0).map(async (fn) => fn()));
    closeMetrics(this.runner);
    await this.onClose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- FutureOwner ----------------------------------------------------------------------

  /** @internal */
  acquire(key: Key): KeyState {
    const s = this.states.get(key);
    if (!s) throw new TesseraError(`key ${key} was never submitted by this client`);
    s.refs++;
    return s;
  }

  /** @internal */
  release(state: KeyState): void {
    if (--state.refs > 0) return;
    if (this.states.get(state.key) !== state) return; // cancelled, or the client closed
    this.states.delete(state.key);
    if (!this.closed) this.runner.release(this.id, [state.key]);
  }

  /** @internal */
  gatherKeys(keys: readonly Key[]): Promise<unknown[]> {
    this.checkOpen();
    return this.runner.gather(keys);
  }

  /** @internal */
  cancelKeys(keys: readonly Key[], reason?: string): void {
    const wanted = keys.filter((k) => this.states.has(k));
    if (wanted.length > 0 && !this.closed) this.runner.cancel(this.id, wanted, reason);
  }

  // ---- internals ------------------------------------------------------------------------

  /**
   * Optimize, order, encode and submit; returns the states of `wanted` (refs not taken).
   * `onSubmit` sees the tasks as submitted (after optimization), just before they are.
   */
  private submitSpecs(
    specs: readonly CollectionSpec<unknown>[],
    wanted: readonly Key[],
    options: ComputeOptions,
    onSubmit?: (tasks: readonly TaskSpec[]) => void,
  ): KeyState[] {
    const external = new Set<Key>();
    for (const s of specs) for (const k of s.external ?? []) external.add(k);
    // A collection computed alone may bring its graph's index (a Delayed's walk builds it).
    let indexed = specs.length === 1 ? specs[0]!.indexed : undefined;
    let graph: Graph = new Map();
    for (const s of specs) {
      if (!indexed) {
        const g = s.graph instanceof Map ? s.graph : s.graph.cull(s.keys, { external: (k) => external.has(k) || this.states.has(k) });
        if (specs.length === 1) graph = g;
        else for (const [k, n] of g) graph.set(k, n);
      }
      for (const src of s.sources ?? []) this.runner.defineSource(src);
    }
    for (const k of external) {
      const st = this.states.get(k);
      if (!st) throw new TesseraError(`the graph depends on ${k}, a future this client no longer holds (was it released?)`);
      if (st.status === "cancelled") throw new TesseraError(`the graph depends on ${k}, a future that was cancelled`);
    }
    indexed ??= indexGraph(graph);
    if (options.optimize !== false && indexed.n > 1) {
      const fused = fuseIndexed(indexed, { keep: wanted }).graph;
      if (fused) indexed = indexGraph(fused);
    }
    // Submitted in priority order, so the scheduler's ready queue takes its O(1) path.
    const { nodes, depStart, depRank } = orderIndexed(indexed, wanted);
    const tasks = new Array<TaskSpec>(nodes.length);
    for (let rank = 0; rank < nodes.length; rank++) {
      const node = nodes[rank]!;
      // The node itself travels to the in-process runner, which encodes it when it sends it.
      const spec: TaskSpec = { key: node.key, deps: node.deps, order: rank, run: node };
      const o = node.kind === "task" || node.kind === "fused" ? node.options : undefined;
      const retries = o?.retries ?? options.retries;
      const priority = o?.priority ?? options.priority;
      if (retries) spec.retries = retries;
      if (priority) spec.priority = priority;
      if (o?.workers) spec.workers = o.workers;
      if (o?.workers && o.allowOtherWorkers) spec.allowOtherWorkers = true;
      tasks[rank] = spec;
    }
    const fresh: Key[] = [];
    const states = wanted.map((k) => {
      let s = this.states.get(k);
      if (!s) {
        this.states.set(k, (s = new KeyState(k)));
        fresh.push(k);
      }
      return s;
    });
    onSubmit?.(tasks);
    this.runner.updateGraph(this.id, tasks, fresh, { depStart, depIndex: depRank });
    return states;
  }

  /** Follow a compute's tasks: a terminal bar (`true`, on a TTY only) or the caller's callback. */
  private trackProgress(tasks: readonly TaskSpec[], progress: ComputeOptions["progress"]): ProgressHandle | undefined {
    const cb = progress === true ? terminalProgress() : progress || undefined;
    return cb ? metricsOf(this.runner).track(tasks.map((t) => t.key), cb) : undefined;
  }

  private onReports(reports: ClientReport[]): void {
    for (const r of reports) {
      const s = this.states.get(r.key);
      if (!s) continue;
      if (r.state === "memory") s.finish();
      else if (r.state === "erred") s.fail(r.error);
      else {
        s.cancel(r.reason);
        this.states.delete(r.key);
      }
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new TesseraError(`client ${this.id} is closed`);
  }
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (typeof v !== "object") return typeof v;
  const name = (v as object).constructor?.name;
  return name ? name.toLowerCase() : "object";
}
