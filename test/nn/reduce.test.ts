// The reduce-scatter of fitDataParallel against an in-thread simulation of W replicas that each
// reduce and update every parameter (a plain all-reduce: the mean of all replicas' gradient sums
// in rank order in f64, then the JS Optimizer over the whole vector): the same bits, for 1, 2 and
// 3 replicas (shares of unequal length), Adam with a schedule and SGD with momentum, dropout on.
// Also shareRange's shares.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, array as da, nn, type Client } from "../../dist/index.js";
import { loadKernelsFromFile } from "../../dist/kernels/node.js";
import type { Kernels } from "../../dist/kernels/kernels.js";
import { Network } from "../../dist/nn/network.js";
import { Optimizer } from "../../dist/nn/optim.js";
import { mixSeed, permutation } from "../../dist/nn/kernels.js";
import { shareRange } from "../../dist/nn/allreduce.js";

let client: Client;
let k: Kernels;
beforeAll(async () => {
  client = await LocalCluster.start({ workers: 3 });
  k = await loadKernelsFromFile();
});
afterAll(() => client?.close());

const N = 700, D = 6, BLOCKS = 7, BATCH = 50, EPOCHS = 2, SEED = 3;
const spec = nn.sequential([nn.dense(D, 24), nn.relu(), nn.dropout(0.1), nn.dense(24, 17), nn.relu(), nn.dense(17, 3)], { seed: 2 });

function data() {
  let s = 11;
  const u = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const X = Float64Array.from({ length: N * D }, () => 2 * u() - 1);
  const y = Float64Array.from({ length: N }, (_, i) => (X[i * D]! + X[i * D + 1]! > 0 ? 1 : 0) + (X[i * D + 2]! > 0.5 ? 1 : 0));
  return { X, y };
}

/** What W replicas compute with a full all-reduce: the final parameters. */
function simulate(X: Float64Array, y: Float64Array, W: number, optimizer: nn.OptimizerSpec): Float32Array {
  const S = Math.ceil(N / BATCH);
  const per = N / BLOCKS;
  const ranks = Array.from({ length: W }, (_, r) => {
    // fitDataParallel deals contiguous shares of the blocks in block order.
    const lo = Math.floor((r * BLOCKS) / W) * per, hi = Math.floor(((r + 1) * BLOCKS) / W) * per;
    return { X: X.subarray(lo * D, hi * D), y: y.subarray(lo, hi), rows: hi - lo, net: new Network(k, spec) };
  });
  const opt = new Optimizer(optimizer, ranks[0]!.net.size, EPOCHS * S);
  const params = Float32Array.from(ranks[0]!.net.paramView());
  for (let step = 0; step < EPOCHS * S; step++) {
    const epoch = Math.floor(step / S), s = step % S;
    const sum = new Float64Array(params.length);
    let total = 0;
    for (const [r, rep] of ranks.entries()) {
      const order = permutation(rep.rows, mixSeed(SEED, epoch, r));
      const lo = Math.floor((s * rep.rows) / S), n = Math.floor(((s + 1) * rep.rows) / S) - lo;
      if (n === 0) continue;
      const xb = new Float32Array(n * D), yb = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const row = order[lo + i]!;
        for (let j = 0; j < D; j++) xb[i * D + j] = rep.X[row * D + j]!;
        yb[i] = rep.y[row]!;
      }
      rep.net.paramView().set(params);
      rep.net.setInput(xb, n);
      rep.net.forward(n, true, mixSeed(step, r));
      rep.net.loss("softmaxCrossEntropy", yb, n);
      rep.net.backward(n);
      const g = rep.net.gradView();
      for (let i = 0; i < g.length; i++) sum[i] += g[i]!;
      total += n;
    }
    const mean = Float32Array.from(sum, (v) => v / total);
    opt.step(params, mean);
  }
  for (const r of ranks) r.net.dispose();
  return params;
}

const same = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe("reduce-scatter", () => {
  it("shares are contiguous, cover every parameter once, and start at multiples of 4", () => {
    for (const [P, W] of [[1, 1], [3, 2], [10, 3], [70_000, 2], [1029, 3], [8, 5]] as const) {
      const shares = Array.from({ length: W }, (_, r) => shareRange(P, W, r));
      expect(shares[0]![0]).toBe(0);
      expect(shares[W - 1]![1]).toBe(P);
      shares.forEach(([lo, hi], r) => {
        expect(lo % 4).toBe(0);
        expect(hi).toBeGreaterThanOrEqual(lo);
        if (r > 0) expect(lo).toBe(shares[r - 1]![1]);
      });
    }
  });

  for (const [name, optimizer] of [
    ["adam with a warm-up cosine schedule", nn.adam({ lr: 3e-3, schedule: nn.warmupLr(4, nn.cosineLr()) })],
    ["sgd with momentum", nn.sgd({ lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 })],
  ] as const) {
    it(`${name}: 1, 2 and 3 replicas give the bits of a full all-reduce on every replica`, async () => {
      const { X, y } = data();
      const x = da.fromTypedArray(X, { shape: [N, D], chunks: [N / BLOCKS, D] });
      const t = da.fromTypedArray(y, { chunks: [N / BLOCKS] });
      for (const W of [1, 2, 3]) {
        const run = await nn.fitDataParallel(client, spec, { x, y: t }, { epochs: EPOCHS, batchSize: BATCH, optimizer, workers: W, seed: SEED });
        const want = simulate(X, y, W, optimizer);
        expect(run.replicaParams.length).toBe(W);
        for (const p of run.replicaParams) expect(same(p, want)).toBe(true);
      }
    }, 60_000);
  }
});
