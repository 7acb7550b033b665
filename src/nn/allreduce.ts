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
 *   slots     Float32 [2 banks][W][P]: each replica's gradient sum of its last batch
 *   snapshot  Float32 [P · (1 + optimizer state vectors)]: rank 0's parameters and optimizer
 *             state at a checkpoint step, for the client to write out (one at a time: rank 0
 *             waits until the client took the previous one)
 *
 * Step s: every replica writes its slot in bank s % 2, meets the others at a barrier, then sums
 * all W slots in rank order (in f64, in wasm: nnMeanOf) and divides by the global row count. Every replica runs
 * that same arithmetic on the same bytes, so all get the same mean gradient, bit for bit, and
 * stay identical after the optimizer's update. Two banks make one barrier per step enough: a
 * replica can only write bank s % 2 again at step s + 2, after everyone passed step s + 1's
 * barrier, that is after everyone finished reading step s.
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
}

function offsets(l: ReduceLayout) {
  const start = CTL_BYTES;
  const stats = start + 8 * l.workers;
  const log = stats + 8 * 2 * l.workers * 3;
  const slots = log + 8 * LOG_FIELDS * l.steps;
  const snapshot = slots + 4 * 2 * l.workers * l.size;
  const end = snapshot + 4 * l.snapshot;
  return { start, stats, log, slots, snapshot, end };
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
  private readonly snap: Float32Array;
  /** allReduce's buffer in wasm memory: the slots of one step, in rank order (0: not yet allocated). */
  private gather = 0;
  /** Milliseconds this replica spent waiting at the per-step barrier. */
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
   * Publish this replica's gradient sum (at `grad` in its kernels' memory) and batch stats for
   * `step`, wait for the others, and write the mean gradient over all their rows to `out` (f32,
   * in the kernels' memory). Returns the step's totals.
   *
   * The slots of the replicas that had rows are copied, in rank order, into one buffer in wasm
   * memory (this replica's own from its gradient, which holds the same bytes, or with two replicas
   * read in place), and nnMeanOf sums them in f64 and divides: the arithmetic of a scalar loop
   * over the shared slots, in SIMD.
   */
  allReduce(k: Kernels, step: number, grad: number, mine: StepTotals, out: number, ms = 0): StepTotals {
    const { workers: W, size: P } = this.layout;
    const bank = step & 1;
    const s = (bank * W + this.rank) * 3;
    this.stats[s] = mine.rows;
    this.stats[s + 1] = mine.loss;
    this.stats[s + 2] = mine.correct;
    // One replica: nobody reads the slot.
    if (W > 1 && mine.rows > 0) this.slots.set(k.view("float32", grad, P), (bank * W + this.rank) * P);
    if (W > 1) this.barrier(step);
    const tot: StepTotals = { rows: 0, loss: 0, correct: 0 };
    this.gather ||= k.allocArray("float32", Math.max(1, W * P));
    const gather = k.view("float32", this.gather, W * P);
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
    // addresses when negative): one slot copied instead of two. With more, all are gathered.
    const ptr = had.map((w, i) => (w === this.rank && had.length === 2 ? grad : this.gather + 4 * P * i));
    had.forEach((w, i) => {
      if (ptr[i] === grad) return;
      const at = (bank * W + w) * P;
      gather.set(w === this.rank ? k.view("float32", grad, P) : this.slots.subarray(at, at + P), i * P);
    });
    const stride = had.length === 2 ? (ptr[1]! - ptr[0]!) | 0 : 4 * P;
    if (tot.rows > 0) nnKernels(k).nnMeanOf(ptr[0]!, had.length, stride, P, tot.rows, out);
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

  /** Free the wasm buffer allReduce gathers the slots into. */
  dispose(k: Kernels): void {
    if (this.gather) k.free(this.gather);
    this.gather = 0;
  }

  /**
   * Rank 0: hand the state after `steps` completed steps to the client (parameters, then each
   * optimizer state vector). Waits first until the client took the previous snapshot.
   */
  publish(steps: number, params: Float32Array, state: readonly Float32Array[], t: number): void {
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
    this.snap.set(params, 0);
    let at = params.length;
    for (const s of state) {
      this.snap.set(s, at);
      at += s.length;
    }
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
