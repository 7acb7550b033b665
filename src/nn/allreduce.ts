/**
 * The gradient all-reduce of data-parallel training: one SharedArrayBuffer that every replica
 * maps (workers of a LocalCluster are threads of one process, and a SharedArrayBuffer posted to
 * a worker_thread or Web Worker is shared, not copied).
 *
 *   ctl       Int32 [16]: arrivals, barrier generation, abort flag, steps logged, failed rank,
 *             snapshot published / taken (step + 1), the snapshot's optimizer step count
 *   start     Float64 [W]: rows each replica holds (published at the start barrier)
 *   stats     Float64 [2 banks][W][3]: rows, Σ loss, correct of the replica's last batch
 *   log       Float64 [steps][4]: the same, summed over replicas, and the time (ms since the
 *             start barrier), per step (rank 0 writes it)
 *   slots     Float32 [2 banks][W][P]: each replica's gradient sum of its last batch (the parts
 *             the other replicas reduce)
 *   params    Float32 [P]: each replica's share of the parameters after the step's update
 *   state     Float32 [optimizer state]: each replica's share of it, gathered at the end
 *   snapshot  Float32 [P · (1 + optimizer state vectors)]: the parameters and optimizer state at
 *             a checkpoint step (each replica writes its share of the state), for the client to
 *             write out (one at a time: the replicas wait until the client took the previous one)
 *
 * A reduce-scatter then an all-gather. The P parameters are cut into W contiguous shares
 * (shareRange); replica r reduces and updates share r only. Step s: every replica writes the
 * other shares of its gradient to its slot in bank s % 2 and meets the others at a barrier; then
 * sums share r of all W slots in rank order (in f64, in wasm: nnMeanOf), divides by the global
 * row count, runs the optimizer's update on share r (its state for share r), writes share r of
 * the parameters to `params`, meets the others at a second barrier and copies their shares in.
 * The mean and the update are element-wise, so each share gets the bits one replica reducing
 * and updating everything would get, and all replicas stay identical. Each does 1/W of the
 * reduction and update instead of all of it. A replica writes its slot and its share of `params`
 * again only after the next step's first barrier, which everyone reaches after reading them.
 *
 * Waits are Atomics.wait in slices, checking the abort flag (set by a failing replica or the
 * client), so one replica's error stops the others instead of hanging them.
 */

import { TesseraError } from "../errors.js";
import type { Kernels } from "../kernels/kernels.js";
import { nnKernels } from "./kernels.js";

const COUNT = 0, GEN = 1, ABORT = 2, LOGGED = 3, FAILED = 4, SNAP = 5, TAKEN = 6, SNAP_T = 7;
/** Fields per step in the log. */
export const LOG_FIELDS = 4;
const CTL_BYTES = 64;
const SLICE_MS = 200;

export interface ReduceLayout {
  workers: number;
  /** Parameters per replica. */
  size: number;
  /** Steps of the whole run (the log's length). */
  steps: number;
  /** Floats in the snapshot area (0: no checkpoints). */
  snapshot: number;
  /** Floats of optimizer state (its vectors one after another, each 0 or P long). */
  state: number;
}

/**
 * The parameters [lo, hi) replica `rank` of `workers` reduces and updates: contiguous shares,
 * starting at multiples of 4 floats (16-byte aligned for the SIMD passes).
 */
export function shareRange(size: number, workers: number, rank: number): [number, number] {
  const at = (r: number) => (r >= workers ? size : 4 * Math.floor(Math.floor((r * size) / workers) / 4));
  return [at(rank), at(rank + 1)];
}

function offsets(l: ReduceLayout) {
  const start = CTL_BYTES;
  const stats = start + 8 * l.workers;
  const log = stats + 8 * 2 * l.workers * 3;
  const slots = log + 8 * LOG_FIELDS * l.steps;
  const params = slots + 4 * 2 * l.workers * l.size;
  const state = params + 4 * l.size;
  const snapshot = state + 4 * l.state;
  const end = snapshot + 4 * l.snapshot;
  return { start, stats, log, slots, params, state, snapshot, end };
}

export function allocReduceBuffer(l: ReduceLayout): SharedArrayBuffer {
  if (typeof SharedArrayBuffer === "undefined") {
    throw new TesseraError("nn.fitDataParallel: SharedArrayBuffer is not available; in a browser the page must be cross-origin isolated (Cross-Origin-Opener-Policy: same-origin, Cross-Origin-Embedder-Policy: require-corp)");
  }
  return new SharedArrayBuffer(offsets(l).end);
}

export interface StepTotals {
  rows: number;
  loss: number;
  correct: number;
}

export class Reducer {
  private readonly ctl: Int32Array;
  private readonly start: Float64Array;
  private readonly stats: Float64Array;
  readonly log: Float64Array;
  private readonly slots: Float32Array;
  private readonly params: Float32Array;
  private readonly state: Float32Array;
  private readonly snap: Float32Array;
  /** This replica's share of the parameters (all of them for the client, rank -1). */
  readonly lo: number;
  readonly hi: number;
  /** allReduce's buffer in wasm memory: the slots of one step, in rank order (0: not yet allocated). */
  private gather = 0;
  /** Milliseconds this replica spent waiting at the step barriers. */
  waitMs = 0;

  constructor(
    readonly sab: SharedArrayBuffer,
    readonly layout: ReduceLayout,
    /** This replica's rank, or -1 for the client (which only reads the log and aborts). */
    readonly rank: number,
    readonly timeoutMs = 120_000,
  ) {
    const o = offsets(layout);
    this.ctl = new Int32Array(sab, 0, 16);
    this.start = new Float64Array(sab, o.start, layout.workers);
    this.stats = new Float64Array(sab, o.stats, 2 * layout.workers * 3);
    this.log = new Float64Array(sab, o.log, LOG_FIELDS * layout.steps);
    this.slots = new Float32Array(sab, o.slots, 2 * layout.workers * layout.size);
    this.params = new Float32Array(sab, o.params, layout.size);
    this.state = new Float32Array(sab, o.state, layout.state);
    [this.lo, this.hi] = rank < 0 ? [0, layout.size] : shareRange(layout.size, layout.workers, rank);
    this.snap = new Float32Array(sab, o.snapshot, layout.snapshot);
  }

  get aborted(): boolean {
    return Atomics.load(this.ctl, ABORT) !== 0;
  }
  get failedRank(): number {
    return Atomics.load(this.ctl, FAILED) - 1;
  }
  /** Steps rank 0 has logged. */
  get logged(): number {
    return Atomics.load(this.ctl, LOGGED);
  }

  /** Stop every replica at its next wait (first caller's rank is kept for messages). */
  abort(rank = this.rank): void {
    Atomics.compareExchange(this.ctl, FAILED, 0, rank + 1);
    Atomics.store(this.ctl, ABORT, 1);
    Atomics.notify(this.ctl, GEN);
  }

  private stopped(where: string): TesseraError {
    const who = this.failedRank;
    return new TesseraError(`nn.fitDataParallel: replica ${this.rank} stopped ${where}: ${who >= 0 ? `replica ${who} failed` : "the run was cancelled"}`);
  }

  /** Arrive; returns the generation to wait on, or -1 when this arrival released the barrier. */
  private arrive(): number {
    const gen = Atomics.load(this.ctl, GEN);
    if (Atomics.add(this.ctl, COUNT, 1) === this.layout.workers - 1) {
      Atomics.store(this.ctl, COUNT, 0);
      Atomics.add(this.ctl, GEN, 1);
      Atomics.notify(this.ctl, GEN);
      return -1;
    }
    return gen;
  }

  /**
   * The start barrier, waited on asynchronously: a replica must not block its thread before every
   * replica has started, since a replica's inputs may still be fetched from a peer's thread.
   */
  async meet(rows: number): Promise<number[]> {
    this.start[this.rank] = rows;
    const gen = this.arrive();
    const t0 = Date.now();
    while (gen >= 0 && Atomics.load(this.ctl, GEN) === gen) {
      if (this.aborted) throw this.stopped("before the first step");
      if (Date.now() - t0 > this.timeoutMs) {
        this.abort();
        throw new TesseraError(`nn.fitDataParallel: replica ${this.rank} waited ${this.timeoutMs / 1000} s for the other replicas to start; are they on workers of one process (a LocalCluster)? The all-reduce needs shared memory`);
      }
      const w = waitAsync(this.ctl, GEN, gen, SLICE_MS);
      if (w.async) await w.value;
    }
    return Array.from(this.start);
  }

  private barrier(step: number): void {
    const w0 = performance.now();
    const gen = this.arrive();
    const t0 = Date.now();
    while (gen >= 0 && Atomics.load(this.ctl, GEN) === gen) {
      if (this.aborted) throw this.stopped(`at step ${step}`);
      if (Date.now() - t0 > this.timeoutMs) {
        this.abort();
        throw new TesseraError(`nn.fitDataParallel: replica ${this.rank} waited ${this.timeoutMs / 1000} s at step ${step} for the other replicas`);
      }
      Atomics.wait(this.ctl, GEN, gen, SLICE_MS);
    }
    this.waitMs += performance.now() - w0;
  }

  /**
   * Publish the other replicas' shares of this replica's gradient sum (at `grad` in its kernels'
   * memory) and its batch stats for `step`, wait for the others, and write the mean gradient over
   * all their rows of this replica's share [lo, hi) to the same place in `out` (f32, in the
   * kernels' memory). Returns the step's totals.
   *
   * The share of each slot that had rows is copied, in rank order, into one buffer in wasm memory
   * (with one or two replicas this replica's own is read in place), and nnMeanOf sums them in f64
   * and divides: the arithmetic of a scalar loop over the shared slots, in SIMD.
   */
  allReduce(k: Kernels, step: number, grad: number, mine: StepTotals, out: number, ms = 0): StepTotals {
    const { workers: W, size: P } = this.layout;
    const { lo, hi } = this;
    const bank = step & 1;
    const s = (bank * W + this.rank) * 3;
    this.stats[s] = mine.rows;
    this.stats[s + 1] = mine.loss;
    this.stats[s + 2] = mine.correct;
    // One replica: nobody reads the slot. Otherwise everything but the share this replica reduces.
    if (W > 1 && mine.rows > 0) {
      const at = (bank * W + this.rank) * P;
      if (lo > 0) this.slots.set(k.view("float32", grad, lo), at);
      if (hi < P) this.slots.set(k.view("float32", grad + 4 * hi, P - hi), at + hi);
    }
    if (W > 1) this.barrier(step);
    const tot: StepTotals = { rows: 0, loss: 0, correct: 0 };
    const had: number[] = [];
    for (let w = 0; w < W; w++) {
      const t = (bank * W + w) * 3;
      tot.rows += this.stats[t]!;
      tot.loss += this.stats[t + 1]!;
      tot.correct += this.stats[t + 2]!;
      if (this.stats[t]! > 0) had.push(w);
    }
    // nnMeanOf reads vector w at src + w·stride. With two vectors, this replica's own is read
    // where it is (the stride is the distance to the other's copy, wrapping in wasm's 32-bit
    // addresses when negative): one share copied instead of two. With more, all are gathered.
    const inPlace = had.length <= 2;
    if (had.some((w) => w !== this.rank || !inPlace)) this.gather ||= k.allocArray("float32", Math.max(1, W * P));
    const gather = this.gather ? k.view("float32", this.gather, W * P) : null;
    const ptr = had.map((w, i) => (w === this.rank && inPlace ? grad : this.gather + 4 * P * i));
    had.forEach((w, i) => {
      if (ptr[i] === grad) return;
      const at = (bank * W + w) * P;
      gather!.set(w === this.rank ? k.view("float32", grad + 4 * lo, hi - lo) : this.slots.subarray(at + lo, at + hi), i * P + lo);
    });
    const stride = had.length === 2 ? (ptr[1]! - ptr[0]!) | 0 : 4 * P;
    if (tot.rows > 0 && hi > lo) nnKernels(k).nnMeanOf(ptr[0]! + 4 * lo, had.length, stride, hi - lo, tot.rows, out + 4 * lo);
    if (this.rank === 0 && step < this.layout.steps) {
      const at = LOG_FIELDS * step;
      this.log[at] = tot.rows;
      this.log[at + 1] = tot.loss;
      this.log[at + 2] = tot.correct;
      this.log[at + 3] = ms;
      Atomics.store(this.ctl, LOGGED, step + 1);
    }
    return tot;
  }

  /**
   * The all-gather after the update: publish this replica's share of the parameters (`params`,
   * P f32 in its kernels' memory), wait for the others, and copy their shares in.
   */
  shareParams(k: Kernels, step: number, params: number): void {
    this.gatherShares(k, step, this.params, [{ ptr: params, n: this.layout.size }]);
  }

  /** The same for the optimizer state, once at the end (each replica updated only its share). */
  shareState(k: Kernels, step: number, vectors: readonly { ptr: number; n: number }[]): void {
    this.gatherShares(k, step, this.state, vectors);
  }

  /** Vectors of P (or 0) floats laid end to end in `area`: write share [lo, hi) of each, meet, read the rest. */
  private gatherShares(k: Kernels, step: number, area: Float32Array, vectors: readonly { ptr: number; n: number }[]): void {
    const { workers: W, size: P } = this.layout;
    if (W === 1) return;
    const { lo, hi } = this;
    let at = 0;
    for (const v of vectors) {
      if (v.n > 0) area.set(k.view("float32", v.ptr + 4 * lo, hi - lo), at + lo);
      at += v.n;
    }
    this.barrier(step);
    at = 0;
    for (const v of vectors) {
      if (v.n === P) {
        const mine = k.view("float32", v.ptr, P);
        if (lo > 0) mine.set(area.subarray(at, at + lo), 0);
        if (hi < P) mine.set(area.subarray(at + hi, at + P), hi);
      }
      at += v.n;
    }
  }

  /** Free the wasm buffer allReduce gathers the slots into. */
  dispose(k: Kernels): void {
    if (this.gather) k.free(this.gather);
    this.gather = 0;
  }

  /**
   * Every replica, after the update of step `steps` - 1: hand the parameters and optimizer state
   * to the client (rank 0 writes the parameters, each replica its share of each state vector,
   * then they meet and rank 0 marks the snapshot published). Waits first until the client took
   * the previous snapshot.
   */
  publish(steps: number, k: Kernels, params: number, vectors: readonly { ptr: number; n: number }[], t: number): void {
    const t0 = Date.now();
    for (;;) {
      const snap = Atomics.load(this.ctl, SNAP);
      if (Atomics.load(this.ctl, TAKEN) === snap) break;
      if (this.aborted) throw this.stopped(`writing the checkpoint of step ${steps}`);
      if (Date.now() - t0 > this.timeoutMs) {
        this.abort();
        throw new TesseraError(`nn.fitDataParallel: replica ${this.rank} waited ${this.timeoutMs / 1000} s for the client to take the checkpoint before step ${steps}`);
      }
      Atomics.wait(this.ctl, TAKEN, Atomics.load(this.ctl, TAKEN), SLICE_MS);
    }
    const P = this.layout.size;
    if (this.rank === 0) this.snap.set(k.view("float32", params, P), 0);
    let at = P;
    for (const v of vectors) {
      if (v.n > 0) this.snap.set(k.view("float32", v.ptr + 4 * this.lo, this.hi - this.lo), at + this.lo);
      at += v.n;
    }
    if (this.layout.workers > 1) this.barrier(steps);
    if (this.rank !== 0) return;
    Atomics.store(this.ctl, SNAP_T, t);
    Atomics.store(this.ctl, SNAP, steps + 1);
    Atomics.notify(this.ctl, SNAP);
  }

  /** Client: the snapshot waiting to be taken, copied out (and marked taken), or null. */
  take(stateSizes: readonly number[]): { steps: number; params: Float32Array; state: Float32Array[]; t: number } | null {
    const snap = Atomics.load(this.ctl, SNAP);
    if (snap === Atomics.load(this.ctl, TAKEN)) return null;
    const P = this.layout.size;
    const params = this.snap.slice(0, P);
    let at = P;
    const state = stateSizes.map((n) => {
      const v = this.snap.slice(at, at + n);
      at += n;
      return v;
    });
    const t = Atomics.load(this.ctl, SNAP_T);
    Atomics.store(this.ctl, TAKEN, snap);
    Atomics.notify(this.ctl, TAKEN);
    return { steps: snap - 1, params, state, t };
  }

  /** Client: resolves when a snapshot may be waiting (or after `ms`). */
  async snapshotReady(ms: number): Promise<void> {
    const snap = Atomics.load(this.ctl, SNAP);
    if (snap !== Atomics.load(this.ctl, TAKEN)) return;
    const w = waitAsync(this.ctl, SNAP, snap, ms);
    if (w.async) await w.value;
  }
}

type WaitAsync = (a: Int32Array, i: number, v: number, t: number) => { async: false; value: string } | { async: true; value: Promise<string> };

/** Atomics.waitAsync (ES2024, in Node >= 16 and current browsers; not in our TypeScript lib). */
function waitAsync(a: Int32Array, i: number, v: number, t: number): ReturnType<WaitAsync> {
  const fn = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;
  if (fn) return fn(a, i, v, t);
  // Without it, poll: a macrotask later is close enough for a start barrier.
  return { async: true, value: new Promise((r) => setTimeout(() => r("timed-out"), 5)) };
}
