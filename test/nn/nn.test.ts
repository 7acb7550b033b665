// src/nn on one thread: gradients of every layer and loss against finite differences of an f64
// reference, the optimizers against their formulas, checkpoints, and spec errors.
import { describe, expect, it } from "vitest";
import { nn } from "../../dist/index.js";
import { referenceLoss } from "./reference.js";

function rand(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

async function checkGradient(spec: ReturnType<typeof nn.sequential>, loss: "softmaxCrossEntropy" | "binaryCrossEntropy" | "mse", rows: number, labels: (r: number) => number, input?: (u: () => number) => number) {
  const u = rand(7);
  const d = nn.widths(spec)[0]!;
  const x = new Float32Array(rows * d).map(() => (input ? input(u) : 2 * u() - 1));
  const y = Array.from({ length: rows }, (_, r) => labels(r));
  const model = new nn.Model(spec, undefined, loss);
  // Small random biases / layerNorm parameters, so those gradients are exercised too.
  const params = model.params;
  for (let i = 0; i < params.length; i++) if (params[i] === 0 || params[i] === 1) params[i] = params[i]! + 0.2 * (u() - 0.5);
  const { loss: l, grad } = await model.lossAndGradient(x, y, rows);
  const p64 = Float64Array.from(params);
  const x64 = Float64Array.from(x);
  expect(l).toBeCloseTo(referenceLoss(spec, p64, x64, y, rows, loss), 4);
  const h = 1e-6;
  let worst = 0;
  // Every parameter of small models; a spread-out sample of big ones (the reference is slow).
  const stride = Math.max(1, Math.floor(p64.length / 400));
  for (let i = 0; i < p64.length; i += stride) {
    const keep = p64[i]!;
    p64[i] = keep + h;
    const up = referenceLoss(spec, p64, x64, y, rows, loss);
    p64[i] = keep - h;
    const down = referenceLoss(spec, p64, x64, y, rows, loss);
    p64[i] = keep;
    const fd = (up - down) / (2 * h);
    worst = Math.max(worst, Math.abs(fd - grad[i]!) / (1e-3 + Math.abs(fd)));
  }
  expect(worst).toBeLessThan(2e-3);
}

describe("gradients against finite differences (f64 reference)", () => {
  it("dense + relu + dense, softmax cross-entropy", async () => {
    await checkGradient(nn.sequential([nn.dense(5, 7), nn.relu(), nn.dense(7, 3)], { seed: 1 }), "softmaxCrossEntropy", 9, (r) => r % 3);
  });
  it("dense + gelu + layerNorm + tanh + dense, softmax cross-entropy", async () => {
    await checkGradient(nn.sequential([nn.dense(4, 6), nn.gelu(), nn.layerNorm(6), nn.tanh(), nn.dense(6, 4)], { seed: 2 }), "softmaxCrossEntropy", 6, (r) => (r * 7) % 4);
  });
  it("layerNorm first + sigmoid, binary cross-entropy", async () => {
    await checkGradient(nn.sequential([nn.layerNorm(3), nn.dense(3, 5), nn.sigmoid(), nn.dense(5, 1)], { seed: 3 }), "binaryCrossEntropy", 8, (r) => r % 2);
  });
  it("dense without bias + standalone activations, mse", async () => {
    await checkGradient(nn.sequential([nn.dense(6, 4, { bias: false }), nn.dense(4, 4), nn.tanh(), nn.relu(), nn.dense(4, 1)], { seed: 4 }), "mse", 5, (r) => r / 5 - 0.3);
  });
  it("embedding (2 integer columns, indices repeating across rows) + dense + tanh + dense", async () => {
    await checkGradient(nn.sequential([nn.embedding(5, 3, { inputs: 2 }), nn.dense(6, 4), nn.tanh(), nn.dense(4, 3)], { seed: 6 }), "softmaxCrossEntropy", 12, (r) => r % 3, (u) => Math.floor(u() * 5));
  });
  it("wide layers cross the matmul's blocking (65 x 70 x 33, 40 rows)", async () => {
    await checkGradient(nn.sequential([nn.dense(65, 70), nn.relu(), nn.dense(70, 33)], { seed: 5 }), "softmaxCrossEntropy", 40, (r) => r % 33);
  }, 20_000);
});

describe("embedding", () => {
  it("looks rows up, and names the row and column of an index out of range or not an integer", async () => {
    const spec = nn.sequential([nn.embedding(4, 2, { inputs: 2 })], { seed: 1 });
    const m = new nn.Model(spec, undefined, "mse");
    const out = await m.forward(new Float32Array([3, 0, 1, 1]), 2);
    const E = m.params;
    expect(Array.from(out)).toEqual([E[6], E[7], E[0], E[1], E[2], E[3], E[2], E[3]]);
    await expect(m.forward(new Float32Array([0, 1, 4, 0]), 2)).rejects.toThrow(/input column 0 of row 1 of the batch is 4; it must be an integer index in \[0, 4\)/);
    await expect(m.forward(new Float32Array([0, 1.5, 0, 0]), 2)).rejects.toThrow(/input column 1 of row 0/);
    expect(() => nn.sequential([nn.dense(2, 2), nn.embedding(3, 2)])).toThrow(/layer 1 \(embedding\) must come first/);
    expect(nn.widths(spec)).toEqual([2, 4]);
  });
});

describe("learning-rate schedules", () => {
  it("step, cosine and linear warm-up follow their formulas; the optimizer takes its rate from them", () => {
    const close = (a: number, b: number) => expect(a).toBeCloseTo(b, 12);
    const step = nn.stepLr({ every: 10, gamma: 0.5 });
    close(nn.learningRate(step, 0.1, 9, null), 0.1);
    close(nn.learningRate(step, 0.1, 10, null), 0.05);
    close(nn.learningRate(step, 0.1, 25, null), 0.025);
    const cos = nn.cosineLr({ minLr: 0.01 });
    close(nn.learningRate(cos, 0.1, 0, 100), 0.1);
    close(nn.learningRate(cos, 0.1, 50, 100), 0.055);
    close(nn.learningRate(cos, 0.1, 100, 100), 0.01);
    close(nn.learningRate(cos, 0.1, 150, 100), 0.01);
    expect(() => nn.learningRate(cos, 0.1, 1, null)).toThrow(/give steps/);
    const warm = nn.warmupLr(4, nn.cosineLr({ steps: 10 }));
    [0.05, 0.1, 0.15, 0.2].forEach((lr, s) => close(nn.learningRate(warm, 0.2, s, null), lr));
    close(nn.learningRate(warm, 0.2, 4 + 5, null), 0.1);
    expect(() => nn.stepLr({ every: 0 })).toThrow(/every must be a positive integer/);
    expect(() => nn.adam({ schedule: { type: "exp" } as never })).toThrow(/must come from nn.constantLr, nn.stepLr/);
    // SGD without momentum: each update moves by exactly lr · g.
    const opt = new nn.Optimizer(nn.sgd({ lr: 1, schedule: nn.stepLr({ every: 1, gamma: 0.5 }) }), 1);
    const p = new Float32Array([0]);
    const moves = [];
    for (let i = 0; i < 3; i++) {
      const before = p[0]!;
      opt.step(p, new Float32Array([1]));
      moves.push(before - p[0]!);
    }
    expect(moves).toEqual([1, 0.5, 0.25]);
  });
});

describe("dropout", () => {
  it("zeroes about `rate` of values while training, scales the rest, and is the identity in evaluation", async () => {
    const spec = nn.sequential([nn.dense(4, 200, { bias: false }), nn.dropout(0.25), nn.dense(200, 1, { bias: false })], { seed: 9 });
    const m = new nn.Model(spec, undefined, "mse");
    const x = new Float32Array(4).fill(1);
    const a = await m.lossAndGradient(x, [0], 1, { training: true, stream: 3 });
    const b = await m.lossAndGradient(x, [0], 1, { training: true, stream: 3 });
    const c = await m.lossAndGradient(x, [0], 1, { training: true, stream: 4 });
    expect(Array.from(a.grad)).toEqual(Array.from(b.grad)); // seeded: same stream, same mask
    expect(Array.from(a.grad)).not.toEqual(Array.from(c.grad));
    // A dropped unit passes no gradient to its column of the first layer's weights.
    const dropped = Array.from({ length: 200 }, (_, j) => a.grad[j]! === 0).filter(Boolean).length;
    expect(dropped).toBeGreaterThan(30);
    expect(dropped).toBeLessThan(70);
    // Evaluation: no dropout, so the output is the plain product.
    const out = await m.forward(x, 1);
    let ref = 0;
    for (let j = 0; j < 200; j++) ref += (m.params[j]! + m.params[200 + j]! + m.params[400 + j]! + m.params[600 + j]!) * m.params[800 + j]!;
    expect(out[0]).toBeCloseTo(ref, 4);
  });
});

describe("optimizers", () => {
  it("SGD with momentum and Adam/AdamW follow PyTorch's update rules", () => {
    const g = new Float32Array([0.5, -1]);
    const p = new Float32Array([1, 2]);
    const sgd = new nn.Optimizer(nn.sgd({ lr: 0.1, momentum: 0.9 }), 2);
    sgd.step(p, g);
    sgd.step(p, g);
    expect(p[0]).toBeCloseTo(1 - 0.1 * 0.5 - 0.1 * (0.9 * 0.5 + 0.5), 6);
    const q = new Float32Array([1, 2]);
    const adam = new nn.Optimizer(nn.adamw({ lr: 0.01, weightDecay: 0.1 }), 2);
    adam.step(q, g);
    // First step: m̂ / √v̂ = sign(g); decoupled decay first.
    expect(q[0]).toBeCloseTo(1 * (1 - 0.01 * 0.1) - 0.01, 6);
    expect(q[1]).toBeCloseTo(2 * (1 - 0.01 * 0.1) + 0.01, 6);
  });
  it("Adam with its bias corrections folded into constants stays within an f32 rounding of the textbook lr·m̂ / (√v̂ + eps)", () => {
    const n = 500;
    let seed = 7;
    const u = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const spec = nn.adam({ lr: 3e-3, weightDecay: 0.01 }) as Extract<nn.OptimizerSpec, { type: "adam" }>;
    const opt = new nn.Optimizer(spec, n);
    const p = Float32Array.from({ length: n }, () => u() - 0.5);
    const m = new Float32Array(n), v = new Float32Array(n);
    for (let t = 1; t <= 6; t++) {
      const g = Float32Array.from({ length: n }, () => (u() - 0.5) * 10 ** Math.floor(u() * 6 - 4));
      const want = new Float32Array(n);
      const c1 = 1 - spec.beta1 ** t, c2 = 1 - spec.beta2 ** t;
      for (let i = 0; i < n; i++) {
        const gi = g[i]! + spec.weightDecay * p[i]!;
        const mi = (m[i] = spec.beta1 * m[i]! + (1 - spec.beta1) * gi);
        const vi = (v[i] = spec.beta2 * v[i]! + (1 - spec.beta2) * gi * gi);
        want[i] = p[i]! - (spec.lr * (mi / c1)) / (Math.sqrt(vi / c2) + spec.eps);
      }
      opt.step(p, g);
      for (let i = 0; i < n; i++) expect(Math.abs(p[i]! - want[i]!)).toBeLessThanOrEqual(Math.abs(want[i]!) * 2 ** -23);
      p.set(want);
    }
  });
});

describe("checkpoints", () => {
  it("round-trip a model bit for bit, and name what is wrong with bad bytes", () => {
    const spec = nn.sequential([nn.dense(3, 4), nn.relu(), nn.dense(4, 2)], { seed: 11 });
    const m = new nn.Model(spec, undefined, "softmaxCrossEntropy");
    const bytes = m.save();
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe("TSNN");
    const back = nn.load(bytes);
    expect(back.spec).toEqual(spec);
    expect(back.loss).toBe("softmaxCrossEntropy");
    expect(Buffer.from(back.params.buffer).equals(Buffer.from(m.params.buffer))).toBe(true);
    const opt = new nn.Optimizer(nn.adam(), m.params.length);
    opt.step(m.params, new Float32Array(m.params.length).fill(0.1));
    const c = nn.decodeCheckpoint(nn.encodeCheckpoint({ spec, loss: "mse", params: m.params, optimizer: { spec: opt.spec, t: opt.t, state: opt.state } }));
    expect(c.optimizer!.t).toBe(1);
    expect(Array.from(c.optimizer!.state[1]!)).toEqual(Array.from(opt.state[1]!));
    expect(() => nn.load(new Uint8Array(16))).toThrow(/not a tessera checkpoint/);
    expect(() => nn.load(bytes.subarray(0, bytes.length - 4))).toThrow(/truncated/);
  });
});

describe("specs", () => {
  it("are plain data and say what does not fit", () => {
    const spec = nn.sequential([nn.dense(64, 32), nn.relu(), nn.dense(32, 10)]);
    expect(JSON.parse(JSON.stringify(spec))).toEqual(spec);
    expect(nn.parameterCount(spec)).toBe(64 * 32 + 32 + 32 * 10 + 10);
    expect(() => nn.sequential([nn.dense(4, 8), nn.dense(9, 2)])).toThrow(/layer 1 \(dense\) takes 9 inputs but the layer before gives 8/);
    expect(() => nn.sequential([nn.relu()])).toThrow(/cannot come first/);
    expect(() => nn.dropout(1)).toThrow(/rate must be in \[0, 1\)/);
  });
});
