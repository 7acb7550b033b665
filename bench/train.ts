/**
 * Data-parallel training throughput: an MLP 16-256-256-2 (ReLU, softmax cross-entropy, Adam
 * lr 1e-3, batch 1024) for one epoch over 1.6M generated rows (--quick: 160k), on a 2-worker
 * LocalCluster, against TensorFlow.js with its wasm backend on the same model and data in the
 * same run.
 *
 *   tessera-1w   nn.fitDataParallel with workers: 1 (one replica; the other worker idles)
 *   tessera-2w   workers: 2 (two replicas, gradients all-reduced every step through shared memory)
 *   tfjs-wasm    the same network in tfjs-core on the wasm backend (SIMD; one thread: its
 *                threaded build does not start in Node), forward with tf.fused.matMul
 *                (bias + ReLU fused), backward written out with tf ops (tfjs-core ships no
 *                gradient registrations in a form Node's ESM loader can import, and the ops
 *                autodiff would emit are the same matMuls, masks and column sums), Adam from
 *                tf.train.adam; Aᵀ·B and A·Bᵀ as tf.transpose then matMul, the fastest form on
 *                this backend. It trains on the same rows in the same order for a bounded
 *                number of steps (one epoch at its speed takes minutes); samples/s is rows over
 *                the time of those steps.
 *   tfjs-wasm-flags  the same with matMul's transpose flags (what autodiff's MatMul gradient
 *                emits), which the wasm backend runs on a much slower path; for reference.
 *
 * tessera's samples/s is rows over the training loop's wall time (slowest replica, from the
 * first step to the last: data already on the workers, the replicas launched); `seconds_call`
 * is the whole fitDataParallel call (persisting, launch, gather). Best of the timed runs after
 * a warm-up run (V8 compiles the workers' wasm in tiers). Every row also gives the process's CPU
 * time over the timed run (all threads) and rows per CPU-second, the host's load average, and
 * (tessera rows) the CPU-seconds the host's other processes used meanwhile (`others_cpu_s`):
 * on a shared 2-core host, wall-clock throughput mostly measures the other tenants, and a
 * synchronous data-parallel step waits for its slowest replica. Goals: >= 150k samples/s on 2 workers,
 * >= 3x TF.js-wasm, 2-worker scaling >= 1.7x.
 */

import { readFileSync } from "node:fs";
import os from "node:os";
import { LocalCluster, array as da, nn, type Client } from "tessera";

export interface TrainCase {
  case: string;
  impl: string;
  samples_per_s: number;
  seconds: number;
  rows: number;
  steps: number;
  /** Mean training loss over the run's last 10% of steps. */
  loss_end?: number;
  seconds_call?: number;
  /** CPU time of the whole process (all threads) over the timed run, and rows per CPU-second. */
  cpu_seconds?: number;
  samples_per_cpu_s?: number;
  /** The host's 1-minute load average when the row was measured (2 cores: above 2 means waiting). */
  load_avg?: number;
  /**
   * CPU-seconds the host's other processes used during the timed run (Linux: busy time in
   * /proc/stat minus this process's). The load average counts more than CPU use on this host;
   * this says whether the replicas had both cores: near 0 they did, near the run's seconds one
   * core went to someone else.
   */
  others_cpu_s?: number;
  /** Per replica, seconds of the loop in forward + backward and in the all-reduce (barrier waits included). */
  compute_s?: number[];
  reduce_s?: number[];
  /** Of reduce_s, the seconds waiting at the barrier for the other replicas; then the optimizer's update, and gathering the batch's rows. */
  wait_s?: number[];
  update_s?: number[];
  gather_s?: number[];
  scaling?: number;
  vs_tfjs?: number;
  goal_samples?: boolean;
  goal_vs_tfjs?: boolean;
  goal_scaling?: boolean;
  note?: string;
  ok: boolean;
}

const D = 16;
const HIDDEN = 256;
const BATCH = 1024;
const LR = 1e-3;

/** Rows with a nonlinear two-class target (learnable, not separable by a line). */
function generate(n: number, seed: number): { X: Float64Array; y: Float64Array } {
  let s = seed >>> 0;
  const u = () => {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const X = new Float64Array(n * D);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * D;
    for (let j = 0; j < D; j++) X[o + j] = Math.fround(2 * u() - 1);
    const f = X[o]! * X[o + 1]! + Math.sin(3 * X[o + 2]!) - X[o + 3]! * X[o + 3]! + 0.5 * X[o + 4]! - 0.25 * X[o + 5]! + 0.3;
    y[i] = f > 0 ? 1 : 0;
  }
  return { X, y };
}

const spec = () => nn.sequential([nn.dense(D, HIDDEN), nn.relu(), nn.dense(HIDDEN, HIDDEN), nn.relu(), nn.dense(HIDDEN, 2)], { seed: 1 });

function tailLoss(losses: number[]): number {
  const k = Math.max(1, Math.floor(losses.length / 10));
  const t = losses.slice(-k);
  return t.reduce((a, b) => a + b, 0) / t.length;
}

interface TesseraRun {
  samples: number;
  compute: number[];
  reduce: number[];
  wait: number[];
  update: number[];
  gather: number[];
  cpu: number;
  load: number;
  others: number | undefined;
  seconds: number;
  call: number;
  steps: number;
  loss: number;
  identical: boolean;
}

type Chunked = ReturnType<typeof da.ones>;

/** Seconds of CPU the host has spent busy (all processes; /proc/stat, Linux), or undefined elsewhere. */
function hostBusy(): number | undefined {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: all but idle and iowait.
    return (f.slice(0, 8).reduce((a, b) => a + b, 0) - f[3]! - f[4]!) / 100; // USER_HZ
  } catch {
    return undefined;
  }
}

async function tesseraRun(client: Client, X: Chunked, y: Chunked, workers: number): Promise<TesseraRun> {
  const losses: number[] = [];
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const h0 = hostBusy();
  const run = await nn.fitDataParallel(client, spec(), { x: X, y }, {
    epochs: 1, batchSize: BATCH, optimizer: nn.adam({ lr: LR }), workers, seed: 0, onStep: (e) => losses.push(e.loss),
  });
  const call = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const cpu = (c.user + c.system) / 1e6;
  const h1 = hostBusy();
  const others = h0 !== undefined && h1 !== undefined ? +(h1 - h0 - cpu).toFixed(2) : undefined;
  const p = run.replicaParams.map((q) => Buffer.from(q.buffer, q.byteOffset, q.byteLength));
  return { samples: run.samplesPerSecond, compute: run.timing.map((t) => +t.compute.toFixed(2)), reduce: run.timing.map((t) => +t.reduce.toFixed(2)), wait: run.timing.map((t) => +t.wait.toFixed(2)), update: run.timing.map((t) => +t.update.toFixed(2)), gather: run.timing.map((t) => +t.gather.toFixed(2)), cpu, load: os.loadavg()[0]!, others, seconds: run.seconds, call, steps: run.steps, loss: tailLoss(losses), identical: p.every((b) => b.equals(p[0]!)) };
}

type Tf = typeof import("@tensorflow/tfjs-core");

async function loadTf(): Promise<{ tf: Tf; note: string } | { error: string }> {
  try {
    const tf = await import("@tensorflow/tfjs-core");
    await import("@tensorflow/tfjs-backend-wasm");
    if (!(await tf.setBackend("wasm"))) return { error: "tf.setBackend('wasm') failed" };
    await tf.ready();
    const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
    const threads = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
    return { tf, note: `tfjs ${tf.version_core}, wasm backend, SIMD ${simd ? "on" : "off"}, threads ${threads ? "on" : "off (1 thread)"}` };
  } catch (err) {
    return { error: `TF.js wasm backend unavailable (npm install): ${(err as Error).message}` };
  }
}

/** `steps` Adam steps of the MLP in TF.js over rows [0, steps·BATCH); returns seconds and per-step losses. */
function tfjsTrain(tf: Tf, X: Float32Array, Y: Int32Array, steps: number, warmup: number, flags: boolean): { seconds: number; cpu: number; losses: number[] } {
  // applyGradients finds variables by name: name ours.
  const tag = `train-bench-${Date.now()}`;
  const he = (i: number, o: number, name: string) => tf.variable(tf.randomUniform([i, o], -Math.sqrt(6 / i), Math.sqrt(6 / i), "float32", 1), true, `${tag}-${name}`);
  const zeros = (n: number, name: string) => tf.variable(tf.zeros([n]), true, `${tag}-${name}`);
  const W1 = he(D, HIDDEN, "W1"), b1 = zeros(HIDDEN, "b1");
  const W2 = he(HIDDEN, HIDDEN, "W2"), b2 = zeros(HIDDEN, "b2");
  const W3 = he(HIDDEN, 2, "W3"), b3 = zeros(2, "b3");
  const vars = [W1, b1, W2, b2, W3, b3];
  const opt = tf.train.adam(LR);
  const losses: number[] = [];
  const step = (s: number) => {
    const lo = (s * BATCH) % (Y.length - BATCH + 1);
    const loss = tf.tidy(() => {
      const x = tf.tensor2d(X.subarray(lo * D, (lo + BATCH) * D), [BATCH, D]);
      const t = tf.oneHot(tf.tensor1d(Y.subarray(lo, lo + BATCH), "int32"), 2);
      const z1 = tf.fused.matMul({ a: x, b: W1, bias: b1 });
      const a1 = tf.relu(z1);
      const z2 = tf.fused.matMul({ a: a1, b: W2, bias: b2 });
      const a2 = tf.relu(z2);
      const o = tf.fused.matMul({ a: a2, b: W3, bias: b3 });
      const p = tf.softmax(o);
      const loss = tf.neg(tf.mean(tf.sum(tf.mul(t, tf.log(tf.add(p, 1e-12))), 1)));
      // d(mean loss)/d o = (p - t) / B, then back through the layers.
      const g3 = tf.div(tf.sub(p, t), BATCH);
      // A·Bᵀ and Aᵀ·B: with matMul's transpose flags (what autodiff's MatMul gradient emits) or
      // with an explicit tf.transpose first (10x faster on this backend, whose flagged path is slow).
      const mm = (a: import("@tensorflow/tfjs-core").Tensor, b: import("@tensorflow/tfjs-core").Tensor, ta: boolean, tb: boolean) =>
        flags ? tf.matMul(a, b, ta, tb) : tf.matMul(ta ? tf.transpose(a) : a, tb ? tf.transpose(b) : b);
      const g2 = tf.mul(mm(g3, W3, false, true), tf.step(z2));
      const g1 = tf.mul(mm(g2, W2, false, true), tf.step(z1));
      const grads = [mm(x, g1, true, false), tf.sum(g1, 0), mm(a1, g2, true, false), tf.sum(g2, 0), mm(a2, g3, true, false), tf.sum(g3, 0)];
      opt.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: grads[i]! })));
      return loss;
    });
    losses.push(loss.dataSync()[0]!);
    loss.dispose();
  };
  for (let s = 0; s < warmup; s++) step(s);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let s = warmup; s < warmup + steps; s++) step(s);
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  for (const v of vars) v.dispose();
  opt.dispose();
  return { seconds, cpu: (c.user + c.system) / 1e6, losses };
}

export async function runTrainBench(opts: { quick: boolean; emit: (row: TrainCase) => void }): Promise<void> {
  const N = opts.quick ? 160_000 : 1_600_000;
  const label = `mlp-16-256-256-2-${N >= 1e6 ? `${N / 1e6}m` : `${N / 1e3}k`}`;
  const repeat = opts.quick ? 1 : 2;
  const { X, y } = generate(N, 42);
  const client = await LocalCluster.start({ workers: 2 });
  const results = new Map<number, TesseraRun>();
  try {
    const chunks = 16;
    const Xa = await da.fromTypedArray(X, { shape: [N, D], chunks: [N / chunks, D] }).persist();
    const ya = await da.fromTypedArray(y, { chunks: [N / chunks] }).persist();
    // Warm-up: a tenth of the data through both configurations (V8 tiers the wasm up).
    const Xw = await da.fromTypedArray(X.subarray(0, (N / 10) * D), { shape: [N / 10, D], chunks: [N / 40, D] }).persist();
    const yw = await da.fromTypedArray(y.subarray(0, N / 10), { chunks: [N / 40] }).persist();
    for (const w of [1, 2]) await tesseraRun(client, Xw, yw, w);
    for (const w of [1, 2]) {
      let bestRun: TesseraRun | undefined;
      for (let i = 0; i < repeat; i++) {
        const r = await tesseraRun(client, Xa, ya, w);
        if (!bestRun || r.samples > bestRun.samples) bestRun = r;
      }
      results.set(w, bestRun!);
    }
  } finally {
    await client.close();
  }

  // TF.js after tessera's runs: V8 compiles its big wasm module in the background for seconds.
  const tfjs = await loadTf();
  let tfRate = NaN;
  if ("error" in tfjs) {
    opts.emit({ case: label, impl: "tfjs-wasm", samples_per_s: NaN, seconds: NaN, rows: 0, steps: 0, note: tfjs.error, ok: false });
  } else {
    const X32 = Float32Array.from(X);
    const Y32 = Int32Array.from(y);
    for (const flags of [false, true]) {
      const steps = flags ? (opts.quick ? 10 : 30) : opts.quick ? 40 : 150;
      const r = tfjsTrain(tfjs.tf, X32, Y32, steps, flags ? 3 : 10, flags);
      const rate = (steps * BATCH) / r.seconds;
      if (!flags) tfRate = rate;
      const loss = tailLoss(r.losses);
      const how = flags ? "backward with matMul transpose flags (as autodiff emits)" : "backward with explicit tf.transpose (its fastest form here)";
      opts.emit({
        case: label, impl: flags ? "tfjs-wasm-flags" : "tfjs-wasm", samples_per_s: rate, seconds: r.seconds, rows: steps * BATCH, steps, loss_end: loss,
        cpu_seconds: r.cpu, samples_per_cpu_s: (steps * BATCH) / r.cpu, load_avg: os.loadavg()[0]!,
        note: `${tfjs.note}; ${how}; ${steps} steps after warm-up`, ok: Number.isFinite(loss) && r.losses.at(-1)! < r.losses[0]!,
      });
    }
  }

  const one = results.get(1)!, two = results.get(2)!;
  const scaling = two.samples / one.samples;
  for (const [w, r] of results) {
    const row: TrainCase = {
      case: label, impl: `tessera-${w}w`, samples_per_s: r.samples, seconds: r.seconds, rows: N, steps: r.steps, loss_end: r.loss, seconds_call: r.call,
      cpu_seconds: r.cpu, samples_per_cpu_s: N / r.cpu, load_avg: r.load, others_cpu_s: r.others, compute_s: r.compute, reduce_s: r.reduce, wait_s: r.wait, update_s: r.update, gather_s: r.gather, ok: r.identical && Number.isFinite(r.loss),
    };
    if (Number.isFinite(tfRate)) row.vs_tfjs = r.samples / tfRate;
    if (w === 2) {
      row.scaling = scaling;
      row.goal_samples = r.samples >= 150_000;
      row.goal_scaling = scaling >= 1.7;
      if (row.vs_tfjs !== undefined) row.goal_vs_tfjs = row.vs_tfjs >= 3;
      row.note = r.identical ? "replicas bit-identical" : "replicas differ";
    }
    opts.emit(row);
  }
}
