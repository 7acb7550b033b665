/**
 * The worker runtime: the same code in a worker_thread, a Web Worker, a remote worker process
 * and the inline executor. It receives batches from the runner, fetches missing inputs straight
 * from the peer workers that hold them (fetcher.ts), runs tasks from a small local priority
 * queue, keeps results in its chunk store, and reports back in batches.
 *
 * Run loop: tasks run back to back for up to SLICE_MS, then the loop yields so that incoming
 * messages (new work, steals, fetch requests from peers) are handled; reports are flushed when
 * the queue empties, before awaiting an async op, and at least every FLUSH_MS, so the
 * scheduler can refill the queue before it runs dry.
 *
 * Memory: the inputs a task reads from the store are pinned until it has run (the store never
 * spills them from under it). While the store is paused (over its pause threshold) the loop
 * starts no task and input fetches wait; both resume when the store says so, and the scheduler
 * is told both ways. A task that leaves the worker over its terminate threshold is not reported
 * done: the worker asks to be replaced and starts nothing more.
 */

import type { Key } from "../graph/task.js";
import { SMALL_VALUE_BYTES, type WorkerId } from "../scheduler/events.js";
import { Heap } from "../scheduler/heap.js";
import "./builtins.js";
import type { ComputeBatch, FromWorker, LoopTime, Report, ToWorker, WireTask } from "./protocol.js";
import { OpRegistry } from "./registry.js";
import type { WorkerMetrics } from "./control.js";
import { MemoryStore, sizeOf, type ChunkStore } from "./store.js";
import { CANCELLED, FETCHING, LocalTask, MissingInput, READY, RUNNING, discardAll, isThenable, runsFirst } from "./local-task.js";
import { callOp, defaultDefer, describeError, runFused } from "./execute.js";
import { emptyReport, isPlainData, taskCall, unpackDeps, unpackFused } from "./batch.js";
import { pack } from "./peer.js";
import { PeerFetcher, type PortLike } from "./fetcher.js";

const SLICE_MS = 4;
/** Tasks at least this long measure memory when they finish (a measurement costs ~15 µs). */
const MEASURE_AFTER_MS = 5;
/** Refs are slot + generation * 2^24 (scheduler/table.ts). */
const REF_SLOTS = 2 ** 24;
const FLUSH_MS = 1;

export type { PortLike } from "./fetcher.js";
export { defaultDefer } from "./execute.js";

/** WorkerRuntime.debugState: a snapshot for finding where work stopped. */
export interface WorkerDebugState {
  id: WorkerId;
  tasks: { key: Key; state: string; missing: number }[];
  readyQueued: number;
  looping: boolean;
  loopScheduled: boolean;
  paused: boolean;
  fetches: { key: Key; holder: WorkerId; tried: number; waiting: Key[] }[];
  fetchRequests: { id: number; holder: WorkerId; keys: Key[]; ageMs: number }[];
  deferredFetches: { holder: WorkerId; keys: Key[] }[];
  pendingReports: number;
}

export interface RuntimeOptions {
  id: WorkerId;
  /** Accept functions shipped as source (local clusters only). */
  allowSource: boolean;
  post(msg: FromWorker, transfer: Transferable[]): void;
  store?: ChunkStore;
  /** Run `fn` after pending messages are handled (setImmediate in Node, a MessageChannel tick in browsers). */
  defer?(fn: () => void): void;
  /** The form a value fetched from a peer is kept in (array blocks: in wasm memory, adoptBlock). */
  adopt?(value: unknown): unknown;
}

export class WorkerRuntime {
  readonly id: WorkerId;
  readonly registry: OpRegistry;
  readonly store: ChunkStore;
  private readonly post: RuntimeOptions["post"];
  private readonly defer: (fn: () => void) => void;
  /**
   * Tasks here (queued, fetching or running), indexed by the slot part of their ref: the
   * scheduler reuses slots, so the array stays dense and small. Cheaper than a Map by key on
   * every task; the rare lookups by key (cancel, steal) scan it.
   */
  private readonly bySlot: (LocalTask | undefined)[] = [];
  private live = 0;
  private readonly ready = new Heap<LocalTask>(runsFirst);
  private readonly fetcher: PeerFetcher;
  private report: Report = emptyReport();
  private pending = 0;
  private seq = 0;
  private looping = false;
  private loopScheduled = false;
  /** Over the terminate threshold: waiting to be killed, starting nothing. */
  private terminating = false;
  /** The task that finished last, not yet checked against the terminate threshold. */
  private justFinished: Key | undefined;
  private measureNow = false;
  private lastFlush = 0;
  private readonly origin = performance.timeOrigin;
  /** Tasks run since start, for metrics. */
  executed = 0;

  constructor(opts: RuntimeOptions) {
    this.id = opts.id;
    this.registry = new OpRegistry(opts.allowSource);
    this.store = opts.store ?? new MemoryStore();
    this.post = opts.post;
    this.defer = opts.defer ?? defaultDefer();
    const store = this.store;
    this.fetcher = new PeerFetcher({
      store,
      report: () => this.report,
      reported: () => void this.pending++,
      makeReady: (t) => this.makeReady(t),
      retire: (t) => this.retire(t),
      reportMoved: (m) => this.reportMoved(m),
      afterMessage: () => this.afterMessage(),
      ...(opts.adopt ? { adopt: opts.adopt } : {}),
    });
    this.store.onResume = () => this.resume();
    this.store.onPause = () => this.reportPaused(true);
  }

  /** A message from the runner. */
  handle(msg: ToWorker): void {
    switch (msg.t) {
      case "batch":
        if (msg.defs) for (const d of msg.defs) this.registry.define(d.op, d.name, d.source);
        if (msg.free) for (const k of msg.free) this.free(k);
        if (msg.cancel || msg.steal) {
          const byKey = this.indexByKey();
          if (msg.cancel) for (const k of msg.cancel) this.cancel(k, byKey.get(k));
          if (msg.steal) for (const k of msg.steal) this.steal(k, byKey.get(k));
        }
        if (msg.compute) this.compute(msg.compute);
        if (msg.acquire) this.fetcher.acquire(msg.acquire.keys, msg.acquire.holders);
        break;
      case "put":
        for (let i = 0; i < msg.keys.length; i++) this.store.put(msg.keys[i]!, msg.values[i], sizeOf(msg.values[i]));
        this.post({ t: "stored", id: msg.id }, []);
        break;
      case "gather":
        this.gather(msg.id, msg.keys, msg.move);
        break;
    }
    this.afterMessage();
  }

  /** Connect a direct channel to another worker. */
  connectPeer(peer: WorkerId, port: PortLike): void {
    this.fetcher.connect(peer, port);
  }

  /** Another worker is gone: inputs asked of it are asked elsewhere or reported missing. */
  disconnectPeer(peer: WorkerId): void {
    this.fetcher.disconnect(peer);
  }

  metrics(): WorkerMetrics & { loop?: LoopTime } {
    // Node measures this thread's event loop (busy vs idle); browsers have no such measure.
    const elu = (performance as { eventLoopUtilization?: () => LoopTime }).eventLoopUtilization?.();
    return {
      id: this.id,
      stored: this.store.size,
      nbytes: this.store.nbytes,
      queued: this.live,
      executed: this.executed,
      ...this.fetcher.served,
      ...(this.store.memory ? { memory: this.store.memory() } : {}),
      ...(elu ? { loop: { active: elu.active, idle: elu.idle } } : {}),
    };
  }

  /** What this worker is doing now, for debugging a stall: its tasks, fetches in flight, pause. */
  debugState(): WorkerDebugState {
    const names = ["fetching", "ready", "running", "cancelled"];
    const now = performance.now();
    return {
      id: this.id,
      tasks: this.bySlot.filter((t): t is LocalTask => t !== undefined).map((t) => ({ key: t.key, state: names[t.state] ?? String(t.state), missing: t.missing })),
      readyQueued: this.ready.size,
      looping: this.looping,
      loopScheduled: this.loopScheduled,
      paused: this.store.paused,
      ...this.fetcher.debugState(now),
      pendingReports: this.pending,
    };
  }

  close(): void {
    for (const t of this.bySlot) t?.abort("worker closing");
    this.bySlot.length = 0;
    this.live = 0;
    this.fetcher.close();
    this.store.close?.();
  }

  // ---- incoming work --------------------------------------------------------------------

  private compute(c: ComputeBatch): void {
    const deps = unpackDeps(c);
    const fused = unpackFused(c);
    for (let i = 0; i < c.keys.length; i++) {
      const key = c.keys[i]!;
      const run: WireTask = fused?.[i] ?? taskCall(c, i);
      const t = new LocalTask(key, c.refs[i]!, run, c.priority?.[i] ?? 0, this.seq++, this.id);
      this.track(t);
      const mine = deps?.[i];
      if (mine !== undefined) for (const dep of mine) this.fetcher.need(t, dep);
      if (t.missing === 0) this.makeReady(t);
    }
    this.fetcher.sendWanted();
  }

  private track(t: LocalTask): void {
    const i = t.ref % REF_SLOTS;
    const old = this.bySlot[i];
    if (old !== undefined) {
      // The scheduler reused the slot: the old task was cancelled or moved without word reaching us yet.
      old.state = CANCELLED;
      this.retire(old);
    }
    this.bySlot[i] = t;
    this.live++;
  }

  /** Tasks here by key, for the rare messages that name tasks by key (cancel, steal). */
  private indexByKey(): Map<Key, LocalTask> {
    const m = new Map<Key, LocalTask>();
    for (const t of this.bySlot) if (t !== undefined) m.set(t.key, t);
    return m;
  }

  /**
   * The task leaves this worker. Inputs moved here for it alone go with it when it has run
   * (`ran`). When it has not (cancelled, stolen, an input missing, or it failed and may run
   * again elsewhere) they are the only copies left, and the scheduler still names their old
   * holder: they stay, and are reported as held here (dropping them had the scheduler send the
   * task back to the old holder for them, find them missing and recompute them, again and
   * again when two of a task's inputs took turns going missing).
   */
  private retire(t: LocalTask, ran = false): void {
    const i = t.ref % REF_SLOTS;
    if (this.bySlot[i] === t) {
      this.bySlot[i] = undefined;
      this.live--;
    }
    if (!t.movedIn) return;
    for (const m of t.movedIn) {
      if (ran) this.store.delete(m.key);
      else if (this.store.has(m.key)) this.reportMoved(m);
    }
    t.movedIn = undefined;
  }

  private reportMoved(m: { key: Key; from: WorkerId; nbytes: number }): void {
    (this.report.moved ??= []).push(m);
    this.pending++;
  }

  private makeReady(t: LocalTask): void {
    t.state = READY;
    this.ready.push(t);
  }

  private free(key: Key): void {
    this.store.delete(key);
  }

  private cancel(key: Key, t: LocalTask | undefined): void {
    if (!t) return;
    if (t.state === RUNNING) t.abort(`task ${key} was cancelled`);
    t.state = CANCELLED;
    this.retire(t);
  }

  private steal(key: Key, t: LocalTask | undefined): void {
    const stolen = t !== undefined && (t.state === READY || t.state === FETCHING);
    if (stolen) {
      t.state = CANCELLED;
      this.retire(t);
    }
    this.report.stolen.push({ key, stolen });
    this.pending++;
  }

  private gather(id: number, keys: Key[], move: boolean): void {
    const { values, missing, transfer } = pack(this.store, keys, () => move);
    // Positions matter to the runner: a missing key keeps its place as undefined.
    try {
      this.post({ t: "gathered", id, values, missing }, transfer);
    } catch (err) {
      if (!move) throw err;
      // A buffer could not be transferred (detached, or shared in a way the store did not see):
      // copy instead, rather than let the worker die with the client waiting.
      const copied = pack(this.store, keys, () => false);
      this.post({ t: "gathered", id, values: copied.values, missing: copied.missing }, copied.transfer);
    }
  }

  /**
   * After a task: is the worker over its terminate threshold? Then the task is taken back out of
   * the report (the scheduler must count it as running on a worker that died, or a task that
   * always does this would be recomputed forever), what finished before goes out, and the
   * worker asks to be replaced.
   */
  private checkTerminate(): boolean {
    const key = this.justFinished!;
    this.justFinished = undefined;
    const reason = this.store.overTerminate?.(this.measureNow);
    if (reason === undefined) return false;
    const r = this.report;
    if (r.done[r.done.length - 1] === key) {
      r.done.pop();
      r.refs.pop();
      r.nbytes.pop();
      r.start.pop();
      r.stop.pop();
      if (r.smallIndex[r.smallIndex.length - 1] === r.done.length) {
        r.smallIndex.pop();
        r.smallValue.pop();
      }
      this.pending--;
      this.store.delete(key);
    }
    this.terminating = true;
    this.flush();
    this.post({ t: "terminate", reason, key }, []);
    return true;
  }

  /** The scheduler assigns a paused worker nothing new: tell it as soon as the state changes. */
  private reportPaused(paused: boolean): void {
    this.report.paused = paused;
    this.pending++;
    if (!this.looping) this.flush();
  }

  private resume(): void {
    this.reportPaused(false);
    this.fetcher.resumeDeferred();
    if (this.ready.size > 0) this.kick();
  }

  // ---- running tasks --------------------------------------------------------------------

  private afterMessage(): void {
    if (this.terminating) return;
    if (this.ready.size > 0) this.kick();
    else if (!this.looping) this.flush();
  }

  private kick(): void {
    if (this.looping || this.loopScheduled) return;
    this.loopScheduled = true;
    this.defer(() => void this.loop());
  }

  private async loop(): Promise<void> {
    this.loopScheduled = false;
    this.looping = true;
    try {
      let sliceStart = performance.now();
      // Time since the last flush counts from now: a report of one task after idling helps nobody.
      this.lastFlush = sliceStart;
      for (;;) {
        if (this.store.paused || this.terminating) break; // resume() kicks the loop again
        const t = this.ready.pop();
        if (!t) break;
        if (t.state !== READY) continue;
        const p = this.execute(t);
        if (p) {
          this.flush();
          // The slice goes on: an op's awaits need not have let messages in (a steal of the next
          // task, sent while this one decoded synchronously, is handled at the slice's end).
          await p;
        }
        if (this.justFinished !== undefined && this.checkTerminate()) break;
        const now = performance.now();
        if (now - this.lastFlush > FLUSH_MS && this.pending > 0) this.flush();
        if (now - sliceStart > SLICE_MS) {
          this.flush();
          await new Promise<void>((resolve) => this.defer(resolve));
          sliceStart = performance.now();
        }
      }
    } finally {
      this.looping = false;
      this.flush();
    }
  }

  private execute(t: LocalTask): Promise<void> | undefined {
    t.state = RUNNING;
    const start = performance.now();
    let result: unknown;
    try {
      result = "fused" in t.run ? runFused(this.registry, this.store, t, t.run.fused, 0, new Map()) : callOp(this.registry, this.store, t, t.run, undefined);
    } catch (err) {
      this.fail(t, err, start);
      return undefined;
    }
    if (isThenable(result)) {
      return Promise.resolve(result).then(
        (v) => this.finish(t, v, start),
        (err) => this.fail(t, err, start),
      );
    }
    this.finish(t, result, start);
    return undefined;
  }

  /** The task has stopped using its inputs (it ran, failed, or was cancelled and has returned). */
  private unpinInputs(t: LocalTask): void {
    const pinned = t.pinned;
    if (pinned === undefined) return;
    t.pinned = undefined;
    for (const k of pinned) this.store.unpin(k);
  }

  private finish(t: LocalTask, value: unknown, start: number): void {
    this.unpinInputs(t);
    if (t.state === CANCELLED) {
      discardAll([value], undefined);
      return;
    }
    const stop = performance.now();
    this.retire(t, true);
    t.state = CANCELLED; // done: a late cancel or steal finds nothing
    const nbytes = sizeOf(value);
    this.store.put(t.key, value, nbytes);
    // Measured by the loop once this call has returned: the value here (maybe spilled already)
    // must not count as memory still in use.
    this.justFinished = t.key;
    this.measureNow = stop - start >= MEASURE_AFTER_MS;
    const r = this.report;
    if (nbytes <= SMALL_VALUE_BYTES && isPlainData(value)) {
      r.smallIndex.push(r.done.length);
      r.smallValue.push(value);
    }
    r.done.push(t.key);
    r.refs.push(t.ref);
    r.nbytes.push(nbytes);
    r.start.push(this.origin + start);
    r.stop.push(this.origin + stop);
    this.pending++;
    this.executed++;
  }

  private fail(t: LocalTask, err: unknown, start: number): void {
    this.unpinInputs(t);
    if (t.state === CANCELLED) return;
    const stop = performance.now();
    this.retire(t);
    t.state = CANCELLED;
    if (err instanceof MissingInput) {
      this.report.missing.push({ key: t.key, dep: err.dep, holder: this.id });
      this.pending++;
      return;
    }
    const error = describeError(t, err, this.id);
    this.report.erred.push({ key: t.key, error, start: this.origin + start, stop: this.origin + stop });
    this.pending++;
    this.executed++;
  }

  private flush(): void {
    this.lastFlush = performance.now();
    if (this.pending === 0) return;
    const r = this.report;
    this.report = emptyReport();
    this.pending = 0;
    this.post(r, []);
  }
}
