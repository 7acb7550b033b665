/**
 * The runner performs the scheduler's instructions. It owns the Scheduler (pure state) and the
 * WorkerLinks (I/O): worker reports become events; events are fed to the scheduler at the end
 * of the current macrotask (so a burst of reports is one `handle` call); the instructions that
 * come out are grouped into one batch message per worker and one report list per client.
 *
 * Gather (values to the client) and scatter (values from the client) go straight to the worker
 * that holds or will hold the data; the scheduler only learns keys and sizes, and of scattered
 * data only once the worker says it has stored it (as Dask's scatter waits for its workers
 * before it tells the scheduler).
 */

import { TesseraError } from "../errors.js";
import type { GraphNode, Key } from "../graph/task.js";
import type { ClientId, Instruction, SchedulerEvent, StoryEntry, TaskSpec, WorkerId } from "../scheduler/events.js";
import { Scheduler, type SchedulerOptions } from "../scheduler/scheduler.js";
import type { FromWorker, Report, SourceDef, WireTask } from "../worker/protocol.js";
import { sizeOf } from "../worker/store.js";
import { prepareForPost } from "../worker/transfer.js";
import { ComputeBatchBuilder } from "./compute-batch.js";
import { PendingPuts, lostPut } from "./puts.js";
import type { WorkerLink } from "./link.js";

export type ClientReport = Extract<Instruction, { type: "report" }>;

/**
 * Sees each worker report as it arrives, before its events reach the scheduler, so the report's
 * refs still name live tasks there (the metrics feed reads their prefix and op). It must not
 * change the report, and runs on the runner's thread: keep it cheap.
 */
export type ReportTap = (worker: WorkerId, report: Report) => void;

/** Frees held back for a worker go after this long without another message to carry them, or at this many keys. */
const FREE_DELAY_MS = 2;
const FREE_BATCH = 4096;

interface Batch {
  defs?: SourceDef[];
  compute?: ComputeBatchBuilder;
  free?: Key[];
  steal?: Key[];
  cancel?: Key[];
  acquire?: { keys: Key[]; holders: WorkerId[] };
}

interface PendingGather {
  worker: WorkerId;
  keys: Key[];
  resolve(values: unknown[]): void;
  reject(err: Error): void;
}


/** Primitives are immutable; anything else is cloned so the caller cannot change what is kept. */
function structuredCopy(v: unknown): unknown {
  return v !== null && typeof v === "object" ? structuredClone(v) : v;
}

export class Runner {
  readonly scheduler: Scheduler;
  private readonly links = new Map<WorkerId, WorkerLink>();
  private readonly sinks = new Map<ClientId, (reports: ClientReport[]) => void>();
  private readonly sources = new Map<string, SourceDef>();
  private readonly shipped = new Map<WorkerId, Set<string>>();
  private readonly gathers = new Map<number, PendingGather>();
  private readonly reportTaps = new Set<ReportTap>();
  private readonly lostListeners = new Set<(id: WorkerId, reason: string) => void>();
  private events: SchedulerEvent[] = [];
  private scheduled = false;
  private gatherId = 0;
  private readonly rebalances = new Map<number, (r: { moved: number; bytes: number }) => void>();
  private rebalanceId = 0;
  private scatterTurn = 0;
  private readonly puts = new PendingPuts();
  private closed = false;
  /**
   * Frees held back per worker: a batch of frees alone is not worth a message (each one wakes
   * the worker), so they ride with the next message to that worker, or go after FREE_DELAY_MS.
   * Every post to a worker carries its held frees first, so a free never overtakes a later
   * message about the same key.
   */
  private readonly heldFrees = new Map<WorkerId, Key[]>();
  private freeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: SchedulerOptions = {}) {
    this.scheduler = new Scheduler(options);
  }

  get workerIds(): WorkerId[] {
    return [...this.links.keys()];
  }

  link(id: WorkerId): WorkerLink | undefined {
    return this.links.get(id);
  }

  addWorker(link: WorkerLink): void {
    this.links.set(link.id, link);
    this.shipped.set(link.id, new Set());
    link.listen(
      (msg) => this.onWorkerMessage(link.id, msg),
      (reason) => this.removeWorker(link.id, reason),
    );
    this.submit({ type: "worker-added", worker: link.id, nthreads: link.nthreads, memoryLimit: link.memoryLimit });
  }

  removeWorker(id: WorkerId, reason: string): void {
    if (!this.links.delete(id)) return;
    this.heldFrees.delete(id);
    this.shipped.delete(id);
    for (const [gid, g] of this.gathers) {
      if (g.worker !== id) continue;
      this.gathers.delete(gid);
      g.reject(new TesseraError(`worker ${id} went away (${reason}) while sending ${g.keys.length} key(s), e.g. ${g.keys[0]}`));
    }
    this.submit({ type: "worker-removed", worker: id, reason });
    this.resendPuts(id, reason);
    // Peers waiting on inputs from it would wait forever (a channel to a dead thread stays
    // silent): they ask the next holder or report the inputs missing, and the scheduler
    // recomputes what only it held.
    for (const other of this.links.values()) other.control.disconnectPeer(id).catch(() => undefined);
    if (!this.closed) for (const l of this.lostListeners) l(id, reason);
  }

  /**
   * Kill a worker that is over its memory terminate threshold (Dask's nanny does this). The
   * scheduler sees it removed (its tasks rerun elsewhere, keys only it held are recomputed) and
   * the cluster starts a replacement, as for a crash.
   */
  private terminateWorker(id: WorkerId, reason: string): void {
    const link = this.links.get(id);
    if (!link) return;
    console.warn(`tessera: ${reason}: restarting it`);
    this.removeWorker(id, `terminated: ${reason}`);
    void link.terminate();
  }

  /** Observe workers that went away (crashed or exited) while the cluster was open. */
  onWorkerLost(listener: (id: WorkerId, reason: string) => void): () => void {
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }

  connectClient(id: ClientId, sink: (reports: ClientReport[]) => void): void {
    this.sinks.set(id, sink);
  }

  disconnectClient(id: ClientId): void {
    this.sinks.delete(id);
  }

  /**
   * Move stored keys between workers so each holds about the same bytes of them (`keys`
   * undefined: every key in memory); resolves when the moves have ended. See
   * scheduler/rebalance.ts.
   */
  rebalance(client: ClientId, keys?: readonly Key[]): Promise<{ moved: number; bytes: number }> {
    const id = ++this.rebalanceId;
    return new Promise((resolve) => {
      this.rebalances.set(id, resolve);
      this.submit({ type: "rebalance", client, id, ...(keys ? { keys } : {}) });
    });
  }

  /** Observe worker reports (finished and failed tasks, in columns). Returns an unsubscribe function. */
  tapReports(tap: ReportTap): () => void {
    this.reportTaps.add(tap);
    return () => this.reportTaps.delete(tap);
  }

  /** The function name behind a `src:` op shipped as source (for the dashboard), if known. */
  sourceName(op: string): string | undefined {
    return this.sources.get(op)?.name;
  }

  defineSource(def: SourceDef): void {
    if (!this.sources.has(def.op)) this.sources.set(def.op, def);
  }

  updateGraph(
    client: ClientId,
    tasks: readonly TaskSpec[],
    wanted: readonly Key[],
    deps?: { depStart: Int32Array; depIndex: Int32Array },
  ): void {
    this.submit(deps ? { type: "update-graph", client, tasks, wanted, ...deps } : { type: "update-graph", client, tasks, wanted });
  }

  release(client: ClientId, keys: readonly Key[]): void {
    if (keys.length > 0) this.submit({ type: "client-release", client, keys });
  }

  cancel(client: ClientId, keys: readonly Key[], reason?: string): void {
    if (keys.length > 0) this.submit(reason === undefined ? { type: "cancel", client, keys } : { type: "cancel", client, keys, reason });
  }

  story(keys: readonly Key[]): StoryEntry[] {
    return this.scheduler.story(...keys);
  }

  /**
   * Values of keys in memory. Keys in `movable` the caller gives up right after, so a holder
   * whose copy nobody else needs hands it over instead of copying.
   */
  async gather(keys: readonly Key[], movable?: ReadonlySet<Key>): Promise<unknown[]> {
    const smallValues = new Map<number, unknown>();
    const byWorker = new Map<WorkerId, { keys: Key[]; index: number[]; move: boolean }>();
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const src = this.scheduler.gatherSource(key, movable !== undefined && movable.has(key));
      if (typeof src === "object" && "value" in src) {
        // A small result the scheduler keeps: no message to a worker. Copied, as a worker's would be.
        smallValues.set(i, structuredCopy(src.value));
        continue;
      }
      if (typeof src === "string" || !this.links.has(src.worker)) {
        const why = typeof src === "string" ? src : `held by ${src.worker}, which is gone`;
        throw new TesseraError(`cannot gather ${key}: it is ${why}, not in memory on a worker`);
      }
      const groupKey = `${src.worker}\u0000${src.move}`;
      let g = byWorker.get(groupKey);
      if (!g) byWorker.set(groupKey, (g = { keys: [], index: [], move: src.move }));
      g.keys.push(key);
      g.index.push(i);
    }
    const out = new Array<unknown>(keys.length);
    smallValues.forEach((v, i) => (out[i] = v));
    await Promise.all(
      [...byWorker].map(async ([groupKey, g]) => {
        const worker = groupKey.slice(0, groupKey.indexOf("\u0000"));
        const values = await this.requestGather(worker, g.keys, g.move);
        for (let j = 0; j < g.index.length; j++) out[g.index[j]!] = values[j];
      }),
    );
    return out;
  }

  private requestGather(worker: WorkerId, keys: Key[], move: boolean): Promise<unknown[]> {
    const link = this.links.get(worker)!;
    const id = ++this.gatherId;
    return new Promise<unknown[]>((resolve, reject) => {
      this.gathers.set(id, { worker, keys, resolve, reject });
      this.postFreesFirst(worker);
      link.post({ t: "gather", id, keys, move }, []);
    });
  }

  /**
   * Put values on workers (round robin, or on `workers`) under `keys`, wanted by `client`. The
   * scheduler learns of each worker's share when that worker has stored it; a worker that goes
   * before then has its share sent to another.
   */
  scatter(client: ClientId, keys: readonly Key[], values: readonly unknown[], workers?: readonly WorkerId[]): void {
    const targets = this.scatterTargets(workers);
    if (targets.length === 0) throw new TesseraError("cannot scatter: no running worker" + (workers ? ` among ${workers.join(", ")}` : ""));
    const perWorker = new Map<WorkerId, { keys: Key[]; values: unknown[] }>();
    for (let i = 0; i < keys.length; i++) {
      const w = targets[this.scatterTurn++ % targets.length]!;
      let p = perWorker.get(w);
      if (!p) perWorker.set(w, (p = { keys: [], values: [] }));
      p.keys.push(keys[i]!);
      p.values.push(values[i]);
    }
    for (const [w, p] of perWorker) {
      const link = this.links.get(w)!;
      const id = this.puts.add({ worker: w, client, keys: p.keys, values: p.values, workers });
      this.postFreesFirst(w);
      const prepared = link.sharesMemory ? { value: p.values, transfer: [] } : prepareForPost(p.values, false);
      link.post({ t: "put", id, keys: p.keys, values: prepared.value as unknown[] }, prepared.transfer);
    }
  }

  private scatterTargets(workers: readonly WorkerId[] | undefined): WorkerId[] {
    return (workers && workers.length > 0 ? workers : this.workerIds).filter((w) => this.links.has(w));
  }

  /** A worker stored put `id`: now the scheduler may send tasks and peers to it for those keys. */
  private onStored(worker: WorkerId, id: number): void {
    const p = this.puts.stored(id);
    if (!p) return;
    for (let i = 0; i < p.keys.length; i++) {
      this.events.push({ type: "data-added", client: p.client, worker, key: p.keys[i]!, nbytes: sizeOf(p.values[i]) });
    }
    this.schedule();
  }

  /** `worker` went before storing what was put on it: send it to another, or fail its keys. */
  private resendPuts(worker: WorkerId, reason: string): void {
    for (const p of this.puts.takeFrom(worker)) {
      if (this.scatterTargets(p.workers).length > 0) this.scatter(p.client, p.keys, p.values, p.workers);
      else this.sinks.get(p.client)?.(lostPut(p, worker, reason));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.freeTimer !== undefined) clearTimeout(this.freeTimer);
    this.heldFrees.clear();
    this.puts.clear();
    for (const g of this.gathers.values()) g.reject(new TesseraError("cluster closed"));
    this.gathers.clear();
    const links = [...this.links.values()];
    this.links.clear();
    await Promise.all(links.map((l) => l.terminate()));
  }

  // ---- event loop -----------------------------------------------------------------------

  private submit(e: SchedulerEvent): void {
    this.events.push(e);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    queueMicrotask(() => this.run());
  }

  private run(): void {
    this.scheduled = false;
    if (this.events.length === 0) return;
    const events = this.events;
    this.events = [];
    const out = this.scheduler.handle(events, Date.now());
    this.perform(out);
  }

  private perform(out: Instruction[]): void {
    const batches = new Map<WorkerId, Batch>();
    const batchOf = (w: WorkerId): Batch => {
      let b = batches.get(w);
      if (!b) batches.set(w, (b = {}));
      return b;
    };
    let reports: Map<ClientId, ClientReport[]> | undefined;
    for (let i = 0; i < out.length; i++) {
      const ins = out[i]!;
      switch (ins.type) {
        case "compute": {
          const b = batchOf(ins.worker);
          // A local client hands over graph nodes; they are encoded only now, as they are sent.
          (b.compute ??= new ComputeBatchBuilder()).add(ins.key, ins.ref, ins.run as GraphNode | WireTask, ins.priority, ins.deps);
          break;
        }
        case "free": {
          const b = batchOf(ins.worker);
          if (!b.free) b.free = ins.keys;
          else for (const k of ins.keys) b.free.push(k);
          break;
        }
        case "steal":
          (batchOf(ins.worker).steal ??= []).push(ins.key);
          break;
        case "cancel-task":
          (batchOf(ins.worker).cancel ??= []).push(ins.key);
          break;
        case "acquire": {
          const a = (batchOf(ins.worker).acquire ??= { keys: [], holders: [] });
          a.keys.push(...ins.keys);
          a.holders.push(...ins.holders);
          break;
        }
        case "rebalanced": {
          const done = this.rebalances.get(ins.id);
          this.rebalances.delete(ins.id);
          done?.({ moved: ins.moved, bytes: ins.bytes });
          break;
        }
        case "report": {
          reports ??= new Map();
          let r = reports.get(ins.client);
          if (!r) reports.set(ins.client, (r = []));
          r.push(ins);
          break;
        }
      }
    }
    // Frees are held back only while other workers get work from the same round (a computation
    // under way): once nothing runs, what was freed is gone from the workers at once.
    let computing = false;
    batches.forEach((b) => (computing ||= b.compute !== undefined));
    batches.forEach((b, w) => {
      const held = this.heldFrees.get(w);
      if (computing && b.free && !b.compute && !b.steal && !b.cancel && !b.acquire && !b.defs) {
        if (held) for (const k of b.free) held.push(k);
        else this.heldFrees.set(w, b.free);
        if ((held ?? b.free).length >= FREE_BATCH) this.postFreesFirst(w);
        else if (this.freeTimer === undefined) {
          this.freeTimer = setTimeout(() => this.postHeldFrees(), FREE_DELAY_MS);
          (this.freeTimer as { unref?: () => void }).unref?.();
        }
        return;
      }
      if (held) {
        this.heldFrees.delete(w);
        if (b.free) for (const k of b.free) held.push(k);
        b.free = held;
      }
      if (b.compute) this.shipSources(w, b.compute.ops(), b);
      this.links.get(w)?.post({ t: "batch", ...b, compute: b.compute?.finish() }, []);
    });
    reports?.forEach((r, client) => this.sinks.get(client)?.(r));
  }

  /** Send `worker` the frees held back for it, ahead of a message about to go. */
  private postFreesFirst(worker: WorkerId): void {
    const held = this.heldFrees.get(worker);
    if (!held) return;
    this.heldFrees.delete(worker);
    this.links.get(worker)?.post({ t: "batch", free: held }, []);
  }

  private postHeldFrees(): void {
    this.freeTimer = undefined;
    for (const w of [...this.heldFrees.keys()]) this.postFreesFirst(w);
  }

  /** Put in `b` the source of every shipped function among `ops` that `worker` has not seen. */
  private shipSources(worker: WorkerId, ops: readonly string[], b: Batch): void {
    const known = this.shipped.get(worker);
    if (!known) return;
    for (const op of ops) {
      if (!op.startsWith("src:") || known.has(op)) continue;
      const def = this.sources.get(op);
      if (!def) continue;
      known.add(op);
      (b.defs ??= []).push(def);
    }
  }

  private onWorkerMessage(worker: WorkerId, msg: FromWorker): void {
    if (msg.t === "terminate") {
      this.terminateWorker(worker, msg.reason);
      return;
    }
    if (msg.t === "stored") {
      this.onStored(worker, msg.id);
      return;
    }
    if (msg.t === "gathered") {
      const g = this.gathers.get(msg.id);
      if (!g) return;
      this.gathers.delete(msg.id);
      if (msg.missing.length > 0) g.reject(new TesseraError(`worker ${worker} no longer holds ${msg.missing.join(", ")}`));
      else g.resolve(msg.values);
      return;
    }
    this.onReport(worker, msg);
  }

  private onReport(worker: WorkerId, r: Report): void {
    const ev = this.events;
    if (r.done.length > 0) {
      ev.push({
        type: "tasks-finished",
        worker,
        keys: r.done,
        refs: r.refs,
        nbytes: r.nbytes,
        start: r.start,
        stop: r.stop,
        smallIndex: r.smallIndex,
        smallValue: r.smallValue,
      });
    }
    for (const e of r.erred) ev.push({ type: "task-erred", worker, key: e.key, error: e.error });
    for (let i = 0; i < r.replicaKeys.length; i++) {
      ev.push({ type: "replica-added", worker, key: r.replicaKeys[i]!, nbytes: r.replicaBytes[i]! });
    }
    if (r.moved) for (const m of r.moved) ev.push({ type: "replica-added", worker, key: m.key, nbytes: m.nbytes, movedFrom: m.from });
    for (const s of r.stolen) ev.push({ type: "steal-response", worker, key: s.key, stolen: s.stolen });
    for (const m of r.missing) ev.push({ type: "missing-data", worker, key: m.key, dep: m.dep, holder: m.holder });
    if (r.paused !== undefined) ev.push({ type: "worker-paused", worker, paused: r.paused });
    this.schedule();
    if (this.reportTaps.size > 0) for (const tap of this.reportTaps) tap(worker, r);
  }
}
