/**
 * The worker ops of src/nn:
 *
 *   nn.rows      rows of an X block                                   (sizing the run)
 *   nn.window    X (and y) blocks as one f32 buffer of permuted rows   (toBatches' windows)
 *   nn.evaluate  Σ loss and correct predictions of a model on a block  (evaluate)
 *   nn.predict   the model's outputs for a block, f32 [rows, outputs]  (predict)
 *   nn.replica   one data-parallel replica: trains on its blocks for the whole run, meeting the
 *                other replicas every step through the shared all-reduce buffer (allreduce.ts)
 *
 * A model travels as checkpoint bytes; each worker keeps the last Network it built, so the blocks
 * of one evaluate do not rebuild it.
 */

import { TesseraError } from "../errors.js";
import { getKernels } from "../kernels/instance.js";
import type { Kernels } from "../kernels/kernels.js";
import { registerOp } from "../worker/registry.js";
import { matrix, vector } from "../ml/blocks.js";
import { WasmChunk, asBlock } from "../array/block.js";
import { Reducer, type ReduceLayout } from "./allreduce.js";
import { decodeCheckpoint } from "./checkpoint.js";
import { mixSeed, nnKernels, permutation } from "./kernels.js";
import { Network, initialParameters } from "./network.js";
import { KernelOptimizer } from "./optim.js";
import type { LossName, OptimizerSpec, SequentialSpec } from "./spec.js";

/** Rows pushed through the network at once when evaluating (bounds the activations' memory). */
const EVAL_ROWS = 2048;

let cached: { token: string; net: Network; loss: LossName } | undefined;

function networkFor(k: Kernels, token: string, bytes: Uint8Array): { net: Network; loss: LossName } {
  if (cached?.token === token && cached.net.k === k) return cached;
  cached?.net.dispose();
  const c = decodeCheckpoint(bytes);
  cached = { token, net: new Network(k, c.spec, c.params), loss: c.loss };
  return cached;
}

/** X block rows [from, to) as f32 into the network's input buffer. */
function loadRows(k: Kernels, net: Network, xPtr: number, d: number, from: number, to: number): void {
  const n = to - from;
  const dst = net.inputPtr(n);
  const src = k.view("float64", xPtr + from * d * 8, n * d);
  k.view("float32", dst, n * d).set(src);
}

export interface EvalSpec {
  token: string;
  model: Uint8Array;
  d: number;
}

export interface EvalPartial {
  n: number;
  loss: number;
  correct: number;
}

registerOp("nn.rows", (x: unknown) => {
  const b = x as { shape?: number[] };
  return b.shape?.[0] ?? 0;
});

registerOp("nn.evaluate", async (spec: EvalSpec, x: unknown, y: unknown): Promise<EvalPartial> => {
  const k = await getKernels();
  const xm = matrix(k, x, spec.d, "nn.evaluate X");
  const ym = vector(k, y, "nn.evaluate y");
  try {
    if (ym.rows !== xm.rows) throw new TesseraError(`nn.evaluate: y has ${ym.rows} values for the ${xm.rows} rows of X`);
    const { net, loss } = networkFor(k, spec.token, spec.model);
    const out: EvalPartial = { n: xm.rows, loss: 0, correct: 0 };
    for (let at = 0; at < xm.rows; at += EVAL_ROWS) {
      const to = Math.min(xm.rows, at + EVAL_ROWS);
      loadRows(k, net, xm.ptr, spec.d, at, to);
      net.forward(to - at, false);
      const r = net.loss(loss, k.view("float64", ym.ptr + at * 8, to - at), to - at);
      out.loss += r.loss;
      out.correct += r.correct;
    }
    return out;
  } finally {
    xm.done();
    ym.done();
  }
});

registerOp("nn.predict", async (spec: EvalSpec, x: unknown): Promise<Float32Array> => {
  const k = await getKernels();
  const xm = matrix(k, x, spec.d, "nn.predict X");
  try {
    const { net } = networkFor(k, spec.token, spec.model);
    const out = new Float32Array(xm.rows * net.outputs);
    for (let at = 0; at < xm.rows; at += EVAL_ROWS) {
      const to = Math.min(xm.rows, at + EVAL_ROWS);
      loadRows(k, net, xm.ptr, spec.d, at, to);
      const o = net.forward(to - at, false);
      out.set(k.view("float32", o, (to - at) * net.outputs), at * net.outputs);
    }
    return out;
  } finally {
    xm.done();
  }
});

export interface WindowSpec {
  d: number;
  /** How many of the block arguments are X's (the rest, if any, are y's in the same order). */
  blocks: number;
  /** Seed of the rows' permutation, or null to keep their order. */
  seed: number | null;
}

export interface WindowRows {
  /** Row-major f32 [rows, d]. */
  x: Float32Array;
  y: Float32Array | null;
  rows: number;
}

/** An f64 block's values, read in place (a WasmChunk's view is valid until the next allocation). */
function f64Values(v: unknown, shape: (s: readonly number[]) => boolean, what: string): Float64Array {
  const b = asBlock(v, what);
  if (b.dtype !== "float64" || !shape(b.shape)) throw new TesseraError(`${what}: expected a float64 block, got ${b.dtype} [${b.shape}]`);
  return (b instanceof WasmChunk ? b.view() : b.data) as Float64Array;
}

// The whole window becomes one fresh f32 buffer, so the consumer gets it by transfer (no copy)
// and cuts batches out of it as views.
registerOp("nn.window", (spec: WindowSpec, ...blocks: unknown[]): WindowRows => {
  const d = spec.d;
  const xs = blocks.slice(0, spec.blocks).map((b, i) => f64Values(b, (s) => s.length === 2 && s[1] === d, `nn.toBatches X block ${i} of a window`));
  const ys = blocks.slice(spec.blocks).map((b, i) => f64Values(b, (s) => s.length === 1, `nn.toBatches y block ${i} of a window`));
  const counts = xs.map((x) => x.length / d);
  ys.forEach((y, i) => {
    if (y.length !== counts[i]) throw new TesseraError(`nn.toBatches: y has ${y.length} values for the ${counts[i]} rows of X in one block`);
  });
  const rows = counts.reduce((a, b) => a + b, 0);
  // Concatenated (set converts f64 to f32), then permuted row by row into a second buffer.
  const xCat = new Float32Array(rows * d);
  const yCat = ys.length > 0 ? new Float32Array(rows) : null;
  let at = 0;
  xs.forEach((xb, i) => {
    xCat.set(xb, at * d);
    yCat?.set(ys[i]!, at);
    at += counts[i]!;
  });
  if (spec.seed === null) return { x: xCat, y: yCat, rows };
  const order = permutation(rows, spec.seed);
  const x = new Float32Array(rows * d);
  const y = yCat ? new Float32Array(rows) : null;
  for (let r = 0; r < rows; r++) {
    const src = order[r]!;
    for (let j = 0; j < d; j++) x[r * d + j] = xCat[src * d + j]!;
    if (y) y[r] = yCat![src]!;
  }
  return { x, y, rows };
});

export interface ReplicaSpec {
  spec: SequentialSpec;
  loss: LossName;
  optimizer: OptimizerSpec;
  rank: number;
  layout: ReduceLayout;
  sab: SharedArrayBuffer;
  epochs: number;
  stepsPerEpoch: number;
  /** Run steps [startStep, endStep) of the epochs · stepsPerEpoch (resume; maxSteps). */
  startStep: number;
  endStep: number;
  /** Parameters and optimizer state to start from (a checkpoint), or null for spec's initial weights. */
  init: { params: Float32Array; t: number; state: Float32Array[] } | null;
  /** Rank 0 hands its state to the client every this many steps (0: never). */
  checkpointEvery: number;
  seed: number;
  d: number;
  /** How many of the block arguments are X's (the rest are y's, in the same order). */
  blocks: number;
  timeoutMs: number;
}

export interface ReplicaResult {
  rank: number;
  rows: number;
  params: Float32Array;
  optimizerState: Float32Array[];
  t: number;
  seconds: number;
  /** Seconds of the loop in: gathering rows, forward + loss + backward, the all-reduce (barrier wait included), the update. */
  timing: { gather: number; compute: number; reduce: number; update: number; wait: number };
}

registerOp("nn.replica", async function (spec: ReplicaSpec, ...blocks: unknown[]): Promise<ReplicaResult> {
  const reducer = new Reducer(spec.sab, spec.layout, spec.rank, spec.timeoutMs);
  let net: Network | undefined;
  let opt: KernelOptimizer | undefined;
  let k: Kernels | undefined;
  // wasm buffers of this replica: its rows, the shuffle, the mean gradient (0: not allocated).
  let X = 0, orderPtr = 0, meanPtr = 0;
  try {
    k = await getKernels();
    const sh = shard(k, blocks, spec);
    X = sh.X;
    const { Y, rows } = sh;
    net = new Network(k, spec.spec, spec.init?.params ?? initialParameters(spec.spec));
    const S = spec.stepsPerEpoch;
    opt = new KernelOptimizer(k, spec.optimizer, net.size, spec.epochs * S, spec.init ?? undefined);
    const P = net.size;
    const d = spec.d;
    // Sized before the loop: no allocation while training, so views stay valid within a step.
    const cap = Math.ceil(rows / S) + 1;
    net.reserve(cap);
    meanPtr = k.allocArray("float32", P);
    orderPtr = k.allocArray("int32", Math.max(1, rows));
    const nk = nnKernels(k);
    const labels = new Float64Array(cap);
    // Nobody blocks its thread before everyone holds its data (see Reducer.meet).
    await reducer.meet(rows);
    const t0 = performance.now();
    let order: Int32Array | null = null;
    const timing = { gather: 0, compute: 0, reduce: 0, update: 0, wait: 0 };
    let tick = performance.now();
    const lap = (what: keyof typeof timing) => {
      const now = performance.now();
      timing[what] += now - tick;
      tick = now;
    };
    for (let step = spec.startStep; step < spec.endStep; step++) {
      const epoch = Math.floor(step / S), s = step % S;
      // The shuffle is a function of (seed, epoch, rank): a resumed run draws the same one.
      if (s === 0 || order === null) {
        order = permutation(rows, mixSeed(spec.seed, epoch, spec.rank));
        k.view("int32", orderPtr, rows).set(order);
      }
      // This replica's share of the global batch: an equal slice of its shuffled rows.
      const lo = Math.floor((s * rows) / S), hi = Math.floor(((s + 1) * rows) / S);
      const n = hi - lo;
      let mine = { rows: n, loss: 0, correct: 0 };
      if (n > 0) {
        nk.nnGatherRows(X, d, orderPtr, lo, n, net.inputPtr(n));
        for (let r = 0; r < n; r++) labels[r] = Y[order[lo + r]!]!;
        lap("gather");
        net.forward(n, true, mixSeed(step, spec.rank));
        const l = net.loss(spec.loss, labels.subarray(0, n), n);
        net.backward(n);
        mine = { rows: n, loss: l.loss, correct: l.correct };
        lap("compute");
      }
      // Reduce-scatter: this replica's share of the mean gradient, its share of the update, then
      // the others' shares of the parameters (allreduce.ts).
      const tot = reducer.allReduce(k, step, net.grads, mine, meanPtr, performance.now() - t0);
      lap("reduce");
      if (tot.rows > 0) opt.step(net.params, meanPtr, opt.lr, reducer.lo, reducer.hi);
      lap("update");
      if (tot.rows > 0) reducer.shareParams(k, step, net.params);
      lap("reduce");
      if (spec.checkpointEvery > 0 && (step + 1) % spec.checkpointEvery === 0 && step + 1 < spec.endStep) {
        reducer.publish(step + 1, k, net.params, opt.vectors, opt.t);
      }
    }
    // Each replica updated only its share of the optimizer state: gather it for the result.
    if (spec.endStep > spec.startStep) reducer.shareState(k, spec.endStep, opt.vectors);
    timing.wait = reducer.waitMs;
    for (const key of Object.keys(timing) as (keyof typeof timing)[]) timing[key] /= 1000;
    return { rank: spec.rank, rows, params: net.paramView().slice(), optimizerState: opt.state, t: opt.t, seconds: (performance.now() - t0) / 1000, timing };
  } catch (err) {
    reducer.abort();
    throw err;
  } finally {
    net?.dispose();
    opt?.dispose();
    if (k) {
      reducer.dispose(k);
      for (const p of [X, orderPtr, meanPtr]) if (p) k.free(p);
    }
  }
});

/**
 * This replica's rows, gathered from its blocks into one f32 X in wasm memory (a pointer: each
 * step's batch is gathered from it by nnGatherRows; the caller frees it) and an f64 y.
 */
function shard(k: Kernels, blocks: unknown[], spec: ReplicaSpec): { X: number; Y: Float64Array; rows: number } {
  const xs = blocks.slice(0, spec.blocks).map((b, i) => matrix(k, b, spec.d, `nn.replica X block ${i}`));
  const ys = blocks.slice(spec.blocks).map((b, i) => vector(k, b, `nn.replica y block ${i}`));
  let X = 0;
  try {
    const rows = xs.reduce((s, m) => s + m.rows, 0);
    X = k.allocArray("float32", Math.max(1, rows * spec.d));
    const Y = new Float64Array(rows);
    let at = 0;
    xs.forEach((m, i) => {
      const ym = ys[i]!;
      if (ym.rows !== m.rows) throw new TesseraError(`nn.fitDataParallel: y has ${ym.rows} values for the ${m.rows} rows of X in one block`);
      // Views after the allocation (it may grow the memory).
      k.view("float32", X + 4 * at * spec.d, m.rows * spec.d).set(k.view("float64", m.ptr, m.rows * spec.d));
      Y.set(k.view("float64", ym.ptr, ym.rows), at);
      at += m.rows;
    });
    return { X, Y, rows };
  } catch (err) {
    if (X) k.free(X);
    throw err;
  } finally {
    for (const m of [...xs, ...ys]) m.done();
  }
}
