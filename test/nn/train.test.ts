// Data-parallel training on a LocalCluster: the digits dataset to >= 95% held-out accuracy on 2
// workers, replicas bit-identical, 1 vs 2 workers, errors; toBatches over arrays and dataframes.
import { existsSync, readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, array as da, dataframe as dd, ml, nn, type Client } from "../../dist/index.js";

const DIGITS = new URL("../../../shared/datasets/digits.csv.gz", import.meta.url);
const HAVE = existsSync(DIGITS);

function digits() {
  const lines = gunzipSync(readFileSync(DIGITS)).toString("utf8").trim().split("\n");
  const n = lines.length, d = 64;
  const X = new Float64Array(n * d), y = new Float64Array(n);
  lines.forEach((line, i) => {
    const v = line.split(",").map(Number);
    for (let j = 0; j < d; j++) X[i * d + j] = v[j]!;
    y[i] = v[d]!;
  });
  return { X, y, n, d };
}

let client: Client;
beforeAll(async () => {
  client = await LocalCluster.start({ workers: 2 });
});
afterAll(() => client?.close());

const sameBytes = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe.skipIf(!HAVE)("fitDataParallel on digits", () => {
  async function prepared() {
    const ds = digits();
    const X = da.fromTypedArray(ds.X, { shape: [ds.n, ds.d], chunks: [300, ds.d] });
    const y = da.fromTypedArray(ds.y, { chunks: [300] });
    const [Xtr, Xte, ytr, yte] = ml.trainTestSplit(X, y, { testSize: 0.2, seed: 0 });
    const scaler = new ml.StandardScaler();
    const Xs = await scaler.fitTransform(Xtr);
    return { Xs, ytr, Xtest: scaler.transform(Xte), yte };
  }
  const spec = nn.sequential([nn.dense(64, 64), nn.relu(), nn.dense(64, 10)], { seed: 1 });

  it("an MLP trained on 2 workers reaches >= 95% held-out accuracy, with replicas bit-identical", async () => {
    const { Xs, ytr, Xtest, yte } = await prepared();
    const epochs: nn.EpochEvent[] = [];
    let steps = 0;
    let last: nn.StepEvent | undefined;
    const run = await nn.fitDataParallel(client, spec, { x: Xs, y: ytr }, {
      epochs: 15, batchSize: 64, optimizer: nn.adam({ lr: 3e-3 }), workers: 2, seed: 0,
      onEpoch: (e) => epochs.push(e), onStep: (e) => {
        steps++;
        last = e;
      },
    });
    // Step events carry the time since the start and the step's throughput.
    expect(last!.step).toBe(run.steps - 1);
    expect(last!.seconds).toBeGreaterThan(0);
    expect(last!.seconds).toBeLessThanOrEqual(run.seconds + 1e-9);
    expect(last!.samplesPerSecond).toBeGreaterThan(0);
    expect(run.workers.length).toBe(2);
    expect(new Set(run.workers).size).toBe(2);
    expect(run.replicaParams.length).toBe(2);
    expect(sameBytes(run.replicaParams[0]!, run.replicaParams[1]!)).toBe(true);
    expect(epochs.length).toBe(15);
    expect(steps).toBe(run.steps);
    expect(epochs[14]!.loss).toBeLessThan(epochs[0]!.loss);
    const acc = await run.model.evaluate(Xtest, yte);
    console.log(`digits: held-out accuracy ${acc.accuracy}, loss ${acc.loss.toFixed(4)}, ${Math.round(run.samplesPerSecond)} samples/s on 2 workers`);
    expect(acc.accuracy!).toBeGreaterThanOrEqual(0.95);
    const classes = await run.model.predictClasses(Xtest);
    const truth = (await yte.compute()).data;
    const agree = classes.filter((c, i) => c === truth[i]).length / classes.length;
    expect(agree).toBeCloseTo(acc.accuracy!, 10);
    // The checkpoint reloads to the same predictions.
    const again = nn.load(run.model.save());
    expect((await again.evaluate(Xtest, yte)).loss).toBe(acc.loss);
    // Its tasks group under plain prefixes (the dashboard's progress rows), no token in them.
    const prefixes = (client as unknown as { runner: { scheduler: { prefixes: { name: string }[] } } }).runner.scheduler.prefixes.map((p) => p.name);
    expect(prefixes).toContain("nn-replica");
    expect(prefixes.filter((p) => /^nn-.*-[0-9a-f]{6,}/.test(p))).toEqual([]);
  }, 30_000);

  it("1 and 2 workers agree to float rounding (not bit for bit: see the README)", async () => {
    const { Xs, ytr, Xtest, yte } = await prepared();
    const opts = { epochs: 2, batchSize: 64, optimizer: nn.sgd({ lr: 0.05, momentum: 0.9 }), seed: 0 };
    const one = await nn.fitDataParallel(client, spec, { x: Xs, y: ytr }, { ...opts, workers: 1 });
    const two = await nn.fitDataParallel(client, spec, { x: Xs, y: ytr }, { ...opts, workers: 2 });
    expect(one.replicaParams.length).toBe(1);
    const a = await one.model.evaluate(Xtest, yte);
    const b = await two.model.evaluate(Xtest, yte);
    // Same steps, same rows per epoch; which rows share a step differs, so the paths differ a little.
    expect(one.steps).toBe(two.steps);
    expect(Math.abs(a.accuracy! - b.accuracy!)).toBeLessThan(0.05);
  }, 20_000);

  it("streams each step's loss and samples/s to the dashboard feed (client.logMetric)", async () => {
    const { Xs, ytr } = await prepared();
    const points = new Map<string, number[]>();
    // Updates only: the first message is a snapshot, with what earlier runs logged; the fit
    // starts once it has come.
    let snapshot!: () => void;
    const subscribed = new Promise<void>((r) => (snapshot = r));
    const stop = client.onMetrics((m) => {
      if (m.kind === "snapshot") snapshot();
      else for (const s of m.series) points.set(s.name, [...(points.get(s.name) ?? []), ...s.y]);
    });
    try {
      await subscribed;
      const run = await nn.fitDataParallel(client, spec, { x: Xs, y: ytr }, { epochs: 1, batchSize: 128, optimizer: nn.adam({ lr: 3e-3 }), seed: 0 });
      for (let i = 0; i < 50 && (points.get("training loss")?.length ?? 0) < run.steps; i++) await new Promise((r) => setTimeout(r, 50));
      expect(points.get("training loss")!.length).toBe(run.steps);
      expect(points.get("training loss")!.every((v) => v > 0 && Number.isFinite(v))).toBe(true);
      expect(points.get("training samples/s")!.length).toBeGreaterThan(0);
    } finally {
      stop();
    }
    expect(() => client.logMetric("", 0, 1)).toThrow(/logMetric: name must be a non-empty string/);
    expect(() => client.logMetric("x", 0, NaN)).toThrow(/x and y must be finite numbers, got 0 and NaN/);
  }, 20_000);

  it("a bad label stops every replica with an error naming it", async () => {
    const X = da.fromTypedArray(new Float64Array(40 * 2).fill(1), { shape: [40, 2], chunks: [10, 2] });
    const y = da.fromTypedArray(new Float64Array(40).fill(7), { chunks: [10] });
    const small = nn.sequential([nn.dense(2, 3)]);
    await expect(nn.fitDataParallel(client, small, { x: X, y }, { epochs: 1, batchSize: 8, workers: 2 })).rejects.toThrow(/class labels 0\.\.2; row \d+ of the batch has label 7/);
    await expect(nn.fitDataParallel(client, small, { x: X, y }, { workers: 3 })).rejects.toThrow(/3 replicas asked for but the cluster has 2/);
    await expect(nn.fitDataParallel(client, nn.sequential([nn.dense(5, 3)]), { x: X, y }, {})).rejects.toThrow(/takes 5 features; X has 2/);
  });
});

describe("toBatches", () => {
  it("yields every row once per pass from an array, shuffled across partitions, seeded", async () => {
    const n = 1000;
    const X = da.fromTypedArray(Float64Array.from({ length: n * 2 }, (_, i) => Math.floor(i / 2)), { shape: [n, 2], chunks: [100, 2] });
    const y = da.fromTypedArray(Float64Array.from({ length: n }, (_, i) => i), { chunks: [100] });
    const seen: number[] = [];
    let batches = 0;
    for await (const b of nn.toBatches(X, { label: y, batchSize: 64, seed: 3, shuffleBuffer: 300, prefetch: 2 })) {
      batches++;
      for (let r = 0; r < b.rows; r++) {
        expect(b.x[r * 2]).toBe(b.y![r]);
        seen.push(b.y![r]!);
      }
    }
    expect(batches).toBe(Math.ceil(n / 64));
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    // A batch mixes partitions.
    expect(new Set(seen.slice(0, 64).map((v) => Math.floor(v / 100))).size).toBeGreaterThan(1);
    const again: number[] = [];
    for await (const b of nn.toBatches(X, { label: y, batchSize: 64, seed: 3, shuffleBuffer: 300 })) again.push(...b.y!);
    expect(again).toEqual(seen);
    const plain: number[] = [];
    for await (const b of nn.toBatches(X, { label: y, batchSize: 64, shuffle: false, dropLast: true })) plain.push(...b.y!);
    expect(plain).toEqual(Array.from({ length: 960 }, (_, i) => i));
  });

  it("reads feature columns and a label column of a dataframe", async () => {
    const df = dd.fromArrays({ a: new Float64Array([1, 2, 3, 4, 5]), b: new Int32Array([10, 20, 30, 40, 50]), c: new Float64Array(5), label: new Float64Array([0, 1, 0, 1, 0]) }, { npartitions: 2 });
    const out: number[][] = [];
    for await (const b of nn.toBatches(df, { columns: ["a", "b"], label: "label", batchSize: 2, shuffle: false })) {
      expect(b.d).toBe(2);
      for (let r = 0; r < b.rows; r++) out.push([b.x[2 * r]!, b.x[2 * r + 1]!, b.y![r]!]);
    }
    expect(out).toEqual([[1, 10, 0], [2, 20, 1], [3, 30, 0], [4, 40, 1], [5, 50, 0]]);
  });
});
