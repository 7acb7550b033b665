// toTfBatches: toBatches' mini-batches as TF.js tensors (tfjs-core on its CPU backend).
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, array as da, nn, type Client } from "../../dist/index.js";

let client: Client;
beforeAll(async () => {
  await tf.setBackend("cpu");
  client = await LocalCluster.start({ workers: 2 });
});
afterAll(() => client?.close());

describe("toTfBatches", () => {
  it("gives { xs: [rows, d] float32, ys } per batch, one-hot when asked, every row once", async () => {
    const n = 100;
    const X = da.fromTypedArray(Float64Array.from({ length: n * 3 }, (_, i) => Math.floor(i / 3) + (i % 3) / 10), { shape: [n, 3], chunks: [30, 3] });
    const y = da.fromTypedArray(Float64Array.from({ length: n }, (_, i) => i % 4), { chunks: [30] });
    const before = tf.memory().numTensors;
    const seen: number[] = [];
    let batches = 0;
    for await (const { xs, ys } of nn.toTfBatches(tf, nn.toBatches(X, { label: y, batchSize: 32, seed: 1, client }), { oneHot: 4 })) {
      batches++;
      const rows = xs.shape[0]!;
      expect(xs.shape).toEqual([rows, 3]);
      expect(xs.dtype).toBe("float32");
      expect(ys!.shape).toEqual([rows, 4]);
      const x = xs.dataSync(), t = ys!.dataSync();
      for (let r = 0; r < rows; r++) {
        const id = Math.round(x[r * 3]!);
        seen.push(id);
        expect(x[r * 3 + 2]).toBeCloseTo(id + 0.2, 5);
        // The one-hot row marks the label id % 4.
        expect(Array.from(t.subarray(r * 4, r * 4 + 4))).toEqual([0, 1, 2, 3].map((c) => (c === id % 4 ? 1 : 0)));
      }
      tf.dispose([xs, ys!]);
    }
    expect(batches).toBe(4);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    // No tensor left behind (the int32 indices behind each one-hot are disposed).
    expect(tf.memory().numTensors).toBe(before);
  });

  it("plain labels as a 1-d tensor, and says what is wrong", async () => {
    const X = da.fromTypedArray(new Float64Array(20).fill(1), { shape: [10, 2], chunks: [5, 2] });
    const y = da.fromTypedArray(Float64Array.from({ length: 10 }, (_, i) => i / 10), { chunks: [5] });
    for await (const { xs, ys } of nn.toTfBatches(tf, nn.toBatches(X, { label: y, batchSize: 10, shuffle: false, client }))) {
      expect(ys!.shape).toEqual([10]);
      expect(Array.from(ys!.dataSync())).toEqual(Array.from({ length: 10 }, (_, i) => Math.fround(i / 10)));
      tf.dispose([xs, ys!]);
    }
    const bad = nn.toTfBatches(tf, nn.toBatches(X, { label: y, batchSize: 10, client }), { oneHot: 3 });
    await expect(bad.next()).rejects.toThrow(/oneHot: 3 classes, but row \d+ of a batch has label 0\.\d/);
    await expect(nn.toTfBatches({} as never, nn.toBatches(X, { client })).next()).rejects.toThrow(/pass the TF.js module/);
  });
});
