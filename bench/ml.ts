/**
 * Machine learning: tessera's LogisticRegression (lbfgs, newton) and KMeans on a 2-worker LocalCluster,
 * against scikit-learn (Debian's python3-sklearn, run as a child process on the same data in
 * the same run, when /usr/bin/python3 has it).
 *
 * Data (seeded, the same every run): n = 2M rows (`--quick`: 200k) of 16 standard-normal
 * features; labels from a logistic model, y ~ Bernoulli(sigmoid(w·x + b)) with fixed w (|w| ≈
 * 2.2) and b = 0.3. The first 80% of the rows train, the last 20% test (rows are independent,
 * so a contiguous split is a random one).
 *
 * Cases:
 *   logistic-lbfgs   fit LogisticRegression (C = 1, tol 1e-4, scikit-learn's defaults) on the
 *                    1.6M training rows, persisted on the workers beforehand in 8 blocks (in
 *                    wasm memory, as blocks computed there are: x·1 of the scattered data); the
 *                    time is fit() (its first pass, the L-BFGS iterations); accuracy is on
 *                    the 400k held-out rows. Goal: <= 0.35 s at accuracy >= 0.811.
 *   logistic-newton  the same fit with solver "newton" (one pass per iteration that also sums
 *                    the 17 x 17 Hessian): time, iterations, accuracy, and its time over
 *                    lbfgs's in the same run (vs_lbfgs: below 1 means newton helps here).
 *   kmeans           KMeans k = 8 (seed 0, k-means‖) on all 2M rows, persisted in 8 blocks
 *                    and rebalanced (client.rebalance: 4 blocks per worker):
 *                    time, Lloyd iterations, inertia. The k-means++ reference: k-means++
 *                    seeding over the whole data on the client (D² sampling, seeded), then
 *                    Lloyd iterations from it (tessera's, as they match plain Lloyd): inertia
 *                    within 1% of it is the goal, with <= 3.5 s.
 * scikit-learn: LogisticRegression() and KMeans(n_clusters=8, n_init=1, random_state=0) (its
 * k-means++ and Lloyd), fit times best of the same number of runs.
 *
 * cpu_seconds: the CPU time of the process in the best-CPU run (tessera: all its threads, the
 * workers included; scikit-learn: time.process_time()), a figure less moved by other load.
 *
 * tessera's times are the best of `runs` (5, `--quick` 3) after a warm-up fit (median reported
 * too); KMeans: the better of 2 fits (the logistic fits warmed the workers up).
 */

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalCluster, array as da, ml } from "tessera";

type Emit = (row: Record<string, unknown>) => void;

const D = 16;
const BLOCKS = 8;

function generate(n: number): { X: Float64Array; y: Float64Array; w: Float64Array; b: number } {
  let s = 0x9e3779b9;
  const rnd = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const w = Float64Array.from({ length: D }, (_, j) => (j % 2 === 0 ? 1 : -1) * (0.2 + 0.05 * j));
  const b = 0.3;
  const X = new Float64Array(n * D);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let z = b;
    for (let j = 0; j < D; j++) z += w[j]! * (X[i * D + j] = normal());
    y[i] = rnd() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  }
  return { X, y, w, b };
}

const summary = (t: number[]) => {
  const s = [...t].sort((a, b) => a - b);
  return { best: s[0]!, median: s[Math.floor(s.length / 2)]! };
};

/** k-means++ seeding on the client over all rows (seeded D² sampling). */
function kmeansPlusPlus(X: Float64Array, n: number, k: number, seed: number): Float64Array {
  let s = seed >>> 0;
  const rnd = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const C = new Float64Array(k * D);
  const first = Math.floor(rnd() * n);
  C.set(X.subarray(first * D, (first + 1) * D), 0);
  const dist = new Float64Array(n).fill(Infinity);
  for (let c = 1; c <= k; c++) {
    let total = 0;
    for (let i = 0; i < n; i++) {
      let e = 0;
      for (let j = 0; j < D; j++) e += (X[i * D + j]! - C[(c - 1) * D + j]!) ** 2;
      if (e < dist[i]!) dist[i] = e;
      total += dist[i]!;
    }
    if (c === k) break;
    let r = rnd() * total;
    let pick = n - 1;
    for (let i = 0; i < n; i++) {
      r -= dist[i]!;
      if (r <= 0) {
        pick = i;
        break;
      }
    }
    C.set(X.subarray(pick * D, (pick + 1) * D), c * D);
  }
  return C;
}

const SKLEARN = `
import json, sys, time, warnings
import numpy as np
warnings.filterwarnings("ignore")
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression
d, n, ntrain, runs = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
X = np.fromfile(sys.argv[1] + "/X.bin").reshape(n, d)
y = np.fromfile(sys.argv[1] + "/y.bin")
out = {}
times, cpus = [], []
for _ in range(runs + 1):
    c = time.process_time(); t = time.perf_counter(); m = LogisticRegression().fit(X[:ntrain], y[:ntrain]); times.append(time.perf_counter() - t); cpus.append(time.process_time() - c)
out["logistic"] = {"seconds": min(times[1:]), "median": sorted(times[1:])[len(times[1:]) // 2], "cpu_seconds": min(cpus[1:]), "n_iter": int(m.n_iter_[0]), "accuracy": float(m.score(X[ntrain:], y[ntrain:]))}
times = []
for _ in range(2):
    t = time.perf_counter(); k = KMeans(n_clusters=8, n_init=1, random_state=0).fit(X); times.append(time.perf_counter() - t)
out["kmeans"] = {"seconds": min(times), "n_iter": int(k.n_iter_), "inertia": float(k.inertia_)}
print(json.dumps(out))
`;

function sklearnPeer(X: Float64Array, y: Float64Array, n: number, ntrain: number, runs: number): { logistic?: Record<string, number>; kmeans?: Record<string, number>; error?: string } {
  const dir = mkdtempSync(join(tmpdir(), "tessera-ml-bench-"));
  try {
    writeFileSync(join(dir, "X.bin"), new Uint8Array(X.buffer, X.byteOffset, X.byteLength));
    writeFileSync(join(dir, "y.bin"), new Uint8Array(y.buffer, y.byteOffset, y.byteLength));
    writeFileSync(join(dir, "peer.py"), SKLEARN);
    const r = spawnSync("/usr/bin/python3", [join(dir, "peer.py"), dir, String(D), String(n), String(ntrain), String(runs)], { encoding: "utf8", maxBuffer: 1 << 20 });
    if (r.status !== 0) return { error: (r.stderr || r.error?.message || "python3 failed").trim().split("\n").pop()! };
    return JSON.parse(r.stdout.trim().split("\n").pop()!) as ReturnType<typeof sklearnPeer>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runMlBench(options: { quick?: boolean; emit: Emit }): Promise<void> {
  const quick = options.quick ?? false;
  const n = quick ? 200_000 : 2_000_000;
  const ntrain = Math.round(n * 0.8);
  const runs = quick ? 3 : 5;
  const { X, y } = generate(n);
  const peer = sklearnPeer(X, y, n, ntrain, runs);
  const client = await LocalCluster.start({ workers: 2 });
  try {
    const rows = (m: number) => Math.ceil(m / BLOCKS);
    // Blocks as arrays computed on the workers hold them: in wasm memory (x·1 there, exact),
    // not as the plain copies that data scattered from the client stays.
    const onWorkers = (data: Float64Array, shape: number[]) => da.fromTypedArray(data, { shape, chunks: shape.length === 2 ? [rows(shape[0]!), D] : [rows(shape[0]!)] }).mul(1).persist();
    const Xtr = await onWorkers(X.subarray(0, ntrain * D), [ntrain, D]);
    const ytr = await onWorkers(y.subarray(0, ntrain), [ntrain]);
    const Xte = await onWorkers(X.subarray(ntrain * D), [n - ntrain, D]);
    const yte = await onWorkers(y.subarray(ntrain), [n - ntrain]);
    const placed = (await client.metrics()).map((m) => m.stored);

    // ---- logistic regression ----
    const times: number[] = [];
    const cpus: number[] = [];
    let clf = await new ml.LogisticRegression().fit(Xtr, ytr); // warm-up
    for (let r = 0; r < runs; r++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      clf = await new ml.LogisticRegression().fit(Xtr, ytr);
      times.push((performance.now() - t0) / 1000);
      const c = process.cpuUsage(c0);
      cpus.push((c.user + c.system) / 1e6);
    }
    const accuracy = await clf.score(Xte, yte);
    const lt = summary(times);
    const sk = peer.logistic;
    options.emit({
      case: "logistic-lbfgs",
      impl: "tessera",
      rows: ntrain,
      features: D,
      workers: 2,
      blocks_per_worker: placed.join("/"),
      seconds: lt.best,
      median_seconds: lt.median,
      cpu_seconds: Math.min(...cpus),
      runs,
      n_iter: clf.nIter,
      accuracy,
      goal: "<= 0.35 s at accuracy >= 0.811",
      ok: lt.best <= 0.35 && accuracy >= 0.811,
      ...(sk ? { sklearn_seconds: sk.seconds, speedup_vs_sklearn: sk.seconds! / lt.best } : {}),
    });
    if (sk) options.emit({ case: "logistic-lbfgs", impl: "scikit-learn", rows: ntrain, features: D, seconds: sk.seconds, median_seconds: sk.median, cpu_seconds: sk.cpu_seconds, runs, n_iter: sk.n_iter, accuracy: sk.accuracy });

    // ---- the same fit, solver newton ----
    const nt: number[] = [];
    const ncpus: number[] = [];
    let newton = await new ml.LogisticRegression({ solver: "newton" }).fit(Xtr, ytr); // warm-up
    for (let r = 0; r < runs; r++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      newton = await new ml.LogisticRegression({ solver: "newton" }).fit(Xtr, ytr);
      nt.push((performance.now() - t0) / 1000);
      const c = process.cpuUsage(c0);
      ncpus.push((c.user + c.system) / 1e6);
    }
    const ns = summary(nt);
    options.emit({
      case: "logistic-newton",
      impl: "tessera",
      rows: ntrain,
      features: D,
      workers: 2,
      seconds: ns.best,
      median_seconds: ns.median,
      cpu_seconds: Math.min(...ncpus),
      runs,
      n_iter: newton.nIter,
      converged: newton.converged,
      accuracy: await newton.score(Xte, yte),
      lbfgs_seconds: lt.best,
      lbfgs_n_iter: clf.nIter,
      vs_lbfgs: ns.best / lt.best,
    });

    // ---- k-means ----
    const Xall = await onWorkers(X, [n, D]);
    // Where the 8 blocks landed depends on which worker was free as each was made (5/3 in some
    // runs); every k-means pass waits for the worker with more. Spread them as a user would.
    await client.rebalance(Xall);
    const kmBlocks = new Map<string, number>();
    for (const holders of Object.values(client.whoHas(...Xall.keys()))) for (const w of holders) kmBlocks.set(w, (kmBlocks.get(w) ?? 0) + 1);
    // No separate warm-up: the logistic fits have warmed the workers, and a k-means fit on 2M
    // rows is tens of seconds on a shared machine.
    const kt: number[] = [];
    let km!: InstanceType<typeof ml.KMeans>;
    const kruns = 2;
    for (let r = 0; r < kruns; r++) {
      const t0 = performance.now();
      km = await new ml.KMeans({ nClusters: 8, seed: 0 }).fit(Xall);
      kt.push((performance.now() - t0) / 1000);
    }
    const t0 = performance.now();
    const seeds = kmeansPlusPlus(X, n, 8, 12345);
    const ref = await new ml.KMeans({ nClusters: 8, init: seeds }).fit(Xall);
    const refSeconds = (performance.now() - t0) / 1000;
    const ks = summary(kt);
    const rel = km.inertia / ref.inertia - 1;
    const skk = peer.kmeans;
    options.emit({
      case: "kmeans-k8",
      impl: "tessera",
      rows: n,
      features: D,
      workers: 2,
      blocks_per_worker: [...kmBlocks.values()].join("/"),
      seconds: ks.best,
      median_seconds: ks.median,
      runs: kruns,
      n_iter: km.nIter,
      inertia: km.inertia,
      kmeanspp_inertia: ref.inertia,
      kmeanspp_n_iter: ref.nIter,
      kmeanspp_seconds: refSeconds,
      inertia_vs_kmeanspp: rel,
      goal: "<= 3.5 s, inertia within 1% of k-means++",
      ok: ks.best <= 3.5 && rel <= 0.01,
      ...(skk ? { sklearn_seconds: skk.seconds, sklearn_inertia: skk.inertia, speedup_vs_sklearn: skk.seconds! / ks.best } : {}),
    });
    if (skk) options.emit({ case: "kmeans-k8", impl: "scikit-learn", rows: n, features: D, seconds: skk.seconds, n_iter: skk.n_iter, inertia: skk.inertia });
    if (peer.error) options.emit({ case: "peer", impl: "scikit-learn", ok: false, error: peer.error });
  } finally {
    await client.close();
  }
}
