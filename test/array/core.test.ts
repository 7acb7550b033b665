// Chunked arrays on a 2-worker LocalCluster against plain-JS references: elementwise results are
// bit-identical to the reference whatever the chunking; reductions agree within tolerance.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, array as da, type Client } from "../../dist/index.js";
import { rand } from "./helpers.js";

let client: Client;
beforeAll(async () => {
  client = await LocalCluster.start({ workers: 2 });
});
afterAll(() => client.close());


const CHUNKINGS = [1, 3, 7, 64, 100];

describe("elementwise", () => {
  it("fuses a chain into one expression and matches the reference bit for bit, for any chunking", async () => {
    const data = rand(100, 1);
    const ref = data.map((v) => Math.max(Math.sqrt(Math.abs((v * 2 + 1) ** 2 - 0.25)), 0.1) / 3);
    for (const chunks of CHUNKINGS) {
      const x = da.fromTypedArray(data, { chunks });
      const y = x.mul(2).add(1).pow(2).sub(0.25).abs().sqrt().maximum(0.1).div(3);
      expect(y.pending?.inputs.length).toBe(1); // one expression over x
      const r = await y.compute();
      expect(r.dtype).toBe("float64");
      expect(r.data).toEqual(ref);
    }
  });

  it("broadcasts arrays of different shapes and aligns different chunks", async () => {
    const a = rand(24, 2);
    const b = rand(6, 3);
    const x = da.fromTypedArray(a, { shape: [4, 6], chunks: [3, 4] });
    const y = da.fromTypedArray(b, { shape: [6], chunks: [2] });
    const r = await x.add(y).compute();
    expect(r.shape).toEqual([4, 6]);
    expect(Array.from(r.data)).toEqual(Array.from(a, (v, i) => v + b[i % 6]!));
    await expect(async () => x.add(da.ones([5]))).rejects.toThrow(/do not broadcast/);
  });

  it("keeps numpy dtype rules: weak scalars, float32, comparisons to bool, astype", async () => {
    const f32 = da.fromTypedArray(new Float32Array([1.5, 2.5, -3]), { chunks: 2 });
    expect(f32.mul(2).dtype).toBe("float32");
    expect((await f32.mul(2).compute()).data).toEqual(new Float32Array([3, 5, -6]));
    const mask = f32.gt(0);
    expect(mask.dtype).toBe("bool");
    expect(Array.from((await mask.compute()).data)).toEqual([1, 1, 0]);
    expect(Array.from((await f32.astype("int32").compute()).data)).toEqual([1, 2, -3]);
    const w = await da.where(f32.gt(0), f32, 0).compute();
    expect(Array.from(w.data)).toEqual([1.5, 2.5, 0]);
  });
});

describe("reductions", () => {
  it("reduces over everything with tree reductions, for any chunking and splitEvery", async () => {
    const data = rand(1000, 4);
    const sum = data.reduce((a, b) => a + b, 0);
    const mean = sum / data.length;
    const variance = data.reduce((a, b) => a + (b - mean) ** 2, 0) / data.length;
    for (const chunks of [1, 7, 250, 1000]) {
      for (const splitEvery of [2, 4, 16]) {
        const x = da.fromTypedArray(data, { chunks });
        expect(await x.sum({ splitEvery }).item()).toBeCloseTo(sum, 10);
        expect(await x.mean({ splitEvery }).item()).toBeCloseTo(mean, 12);
        expect(await x.var({ splitEvery }).item()).toBeCloseTo(variance, 12);
        expect(await x.max({ splitEvery }).item()).toBe(Math.max(...data));
        expect(await x.argmin({ splitEvery }).item()).toBe(data.indexOf(Math.min(...data)));
      }
    }
  });

  it("fuses an expression with its reduction", async () => {
    const data = rand(500, 5);
    const ref = data.reduce((a, v) => a + (v * 2 + 1) ** 2, 0);
    const y = da.fromTypedArray(data, { chunks: 64 }).mul(2).add(1).pow(2).sum();
    expect(await y.item()).toBeCloseTo(ref, 9);
  });

  it("reduces along an axis, with keepdims and ddof", async () => {
    const data = rand(7 * 5, 6);
    const x = da.fromTypedArray(data, { shape: [7, 5], chunks: [3, 2] });
    const colSums = Array.from({ length: 5 }, (_, j) => Array.from({ length: 7 }, (_, i) => data[i * 5 + j]!).reduce((a, b) => a + b));
    const s0 = await x.sum({ axis: 0 }).compute();
    expect(s0.shape).toEqual([5]);
    s0.data.forEach((v, j) => expect(v).toBeCloseTo(colSums[j]!, 12));
    const k = await x.max({ axis: 1, keepdims: true }).compute();
    expect(k.shape).toEqual([7, 1]);
    k.data.forEach((v, i) => expect(v).toBe(Math.max(...data.slice(i * 5, i * 5 + 5))));
    const am = await x.argmax({ axis: -2 }).compute();
    am.data.forEach((v, j) => {
      const col = Array.from({ length: 7 }, (_, i) => data[i * 5 + j]!);
      expect(v).toBe(col.indexOf(Math.max(...col)));
    });
    const sd = await x.std({ axis: 1, ddof: 1 }).compute();
    sd.data.forEach((v, i) => {
      const row = Array.from(data.slice(i * 5, i * 5 + 5));
      const m = row.reduce((a, b) => a + b) / 5;
      expect(v).toBeCloseTo(Math.sqrt(row.reduce((a, b) => a + (b - m) ** 2, 0) / 4), 12);
    });
    const both = await x.sum({ axis: [0, 1] }).item();
    expect(both).toBeCloseTo(data.reduce((a, b) => a + b), 10);
    expect(await x.var({ axis: [0, 1] }).item()).toBeCloseTo(await da.fromTypedArray(data).var().item(), 12);
    expect(() => da.ones([2, 2, 2]).var({ axis: [0, 1] })).toThrow(/several axes/);
    expect(() => x.sum({ axis: 2 })).toThrow(/out of bounds/);
  });
});

describe("creation", () => {
  it("makes ranges, constants and identity matrices", async () => {
    expect(Array.from((await da.arange(2, 11, 3, { chunks: 2 }).compute()).data)).toEqual([2, 5, 8]);
    const l = await da.linspace(0, 1, 5, { chunks: 2 }).compute();
    expect(Array.from(l.data)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(Array.from((await da.full([2, 2], 7, { chunks: 1 }).compute()).data)).toEqual([7, 7, 7, 7]);
    expect((await da.eye(3, { chunks: 2, k: 1 }).compute()).toArray()).toEqual([
      [0, 1, 0],
      [0, 0, 1],
      [0, 0, 0],
    ]);
  });

  it("draws random numbers that depend only on seed and chunks, not on workers", async () => {
    const a = await da.random.uniform([1000], { chunks: 100, seed: 42 }).compute();
    const inline = await LocalCluster.start({ inline: true });
    try {
      const b = await inline.compute(da.random.uniform([1000], { chunks: 100, seed: 42 }));
      expect(b.data).toEqual(a.data);
    } finally {
      await inline.close();
    }
    expect(Math.min(...a.data)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a.data)).toBeLessThan(1);
    const n = await da.random.normal([20000], { chunks: 5000, seed: 1, loc: 3, scale: 2 }).mean().item();
    expect(n).toBeGreaterThan(2.9);
    expect(n).toBeLessThan(3.1);
    const ints = await da.random.integers([500], { low: -3, high: 4, chunks: 128, seed: 7 }).compute();
    expect(ints.dtype).toBe("int32");
    expect(new Set(ints.data).size).toBe(7);
  });

  it("rejects bad shapes and chunks clearly", () => {
    expect(() => da.fromTypedArray(new Float64Array(10), { shape: [3, 3] })).toThrow(/cannot fill shape \[3, 3\]/);
    expect(() => da.ones([4], { chunks: [[1, 2]] })).toThrow(/summing to 4/);
    expect(() => da.ones([4, 4], { chunks: [2] })).toThrow(/1 entries for an array of 2/);
  });
});

describe("persist and the README example", () => {
  it("persists blocks in worker memory and reuses them", async () => {
    const x = await da.random.normal([1e5], { chunks: [1e4], seed: 0 }).persist();
    const m = await client.metrics();
    expect(m.reduce((s, w) => s + w.nbytes, 0)).toBeGreaterThanOrEqual(8e5);
    const y = x.mul(2).add(1).pow(2).sum();
    const r = await y.compute();
    expect(r.shape).toEqual([]);
    expect(r.dtype).toBe("float64");
    expect(await y.item()).toBeCloseTo(r.item(), 6);
    const mm = await da
      .fromTypedArray(new Float32Array(16).map((_, i) => i), { shape: [4, 4], chunks: [2, 2] })
      .rechunk([4, 1])
      .compute();
    expect(mm.shape).toEqual([4, 4]);
    expect(Array.from(mm.data)).toEqual(Array.from({ length: 16 }, (_, i) => i));
  });
});
