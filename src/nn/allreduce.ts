/**
 * The gradient all-reduce of data-parallel training: one SharedArrayBuffer that every replica
 * maps (workers of a LocalCluster are threads of one process, and a SharedArrayBuffer posted to
 * a worker_thread or Web Worker is shared, not copied).
 *
 *   ctl       Int32 [16]: arrivals, barrier generation, abort flag, steps logged, failed rank
 *   start     Float64 [W]: rows each replica holds (published at the start barrier)
 *   stats     Float64 [2 banks][W][3]: rows, Σ loss, correct of the replica's last batch
 *   log       Float64 [steps][3]: the same, summed over replicas, per step (rank 0 writes it)
 *   slots     Float32 [2 banks][W][P]: each replica's gradient sum of its last batch
 *
 * Step s: every replica writes its slot in bank s % 2, meets the others at a barrier, then sums
 * all W slots in rank order (in f64) and divides by the global row count. Every replica runs
 * that same arithmetic on the same bytes, so all get the same mean gradient, bit for bit, and
 * stay identical after the optimizer's update. Two banks make one barrier per step enough: a
 * replica can only write bank s % 2 again at step s + 2, after everyone passed step s + 1's
 * barrier, that is after everyone finished reading step s.
 *
 * Waits are Atomics.wait in slices, checking the abort flag (set by a failing replica or the
 * client), so one replica's error stops the others instead of hanging them.
 */

import { TesseraError } from "../errors.js";

const COUNT = 0, GEN = 1, ABORT = 2, LOGGED = 3, FAILED = 4;
const CTL_BYTES = 64;
const SLICE_MS = 200;

export interface ReduceLayout {
  workers: number;
  /** Parameters per replica. */
  size: number;
  /** Steps of the whole run (the log's length). */
  steps: number;
}

function offsets(l: ReduceLayout) {
  const start = CTL_BYTES;
  const stats = start + 8 * l.workers;
  const log = stats + 8 * 2 * l.workers * 3;
  const slots = log + 8 * 3 * l.steps;
  const end = slots + 4 * 2 * l.workers * l.size;
  return { start, stats, log, slots, end };
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
  private readonly sum: Float64Array;

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
    this.log = new Float64Array(sab, o.log, 3 * layout.steps);
    this.slots = new Float32Array(sab, o.slots, 2 * layout.workers * layout.size);
    this.sum = new Float64Array(rank >= 0 ? layout.size : 0);
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
  }

  /**
   * Publish this replica's gradient sum and batch stats for `step`, wait for the others, and write
   * the mean gradient over all their rows into `out`. Returns the step's totals.
   */
  allReduce(step: number, grad: Float32Array, mine: StepTotals, out: Float32Array): StepTotals {
    const { workers: W, size: P } = this.layout;
    const bank = step & 1;
    const s = (bank * W + this.rank) * 3;
    this.stats[s] = mine.rows;
    this.stats[s + 1] = mine.loss;
    this.stats[s + 2] = mine.correct;
    if (mine.rows > 0) this.slots.set(grad, (bank * W + this.rank) * P);
    else this.slots.fill(0, (bank * W + this.rank) * P, (bank * W + this.rank + 1) * P);
    this.barrier(step);
    const tot: StepTotals = { rows: 0, loss: 0, correct: 0 };
    const sum = this.sum;
    sum.fill(0);
    for (let w = 0; w < W; w++) {
      const t = (bank * W + w) * 3;
      tot.rows += this.stats[t]!;
      tot.loss += this.stats[t + 1]!;
      tot.correct += this.stats[t + 2]!;
      if (this.stats[t]! === 0) continue;
      const at = (bank * W + w) * P;
      for (let i = 0; i < P; i++) sum[i] += this.slots[at + i]!;
    }
    if (tot.rows > 0) for (let i = 0; i < P; i++) out[i] = sum[i]! / tot.rows;
    if (this.rank === 0 && step < this.layout.steps) {
      this.log[3 * step] = tot.rows;
      this.log[3 * step + 1] = tot.loss;
      this.log[3 * step + 2] = tot.correct;
      Atomics.store(this.ctl, LOGGED, step + 1);
    }
    return tot;
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
