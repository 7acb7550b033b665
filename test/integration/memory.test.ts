// Out-of-core on worker_threads: a 2-worker cluster with 64 MiB per worker persists and computes
// over 4x its memory. Values past the target spill to files in each worker's directory and come
// back on demand; the metrics show memory bounded and the results are exact.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, array as da, dataframe as dd, type Client } from "../../dist/index.js";
import type { MemoryMetrics } from "../../dist/index.js";

const MiB = 2 ** 20;
const LIMIT = 64 * MiB;
const MEM_OPS = new URL("../fixtures/memory-ops.mjs", import.meta.url).href;

let client: Client;
beforeAll(async () => {
  // terminate off: at 64 MiB a worker thread's own heap, code and kernel memory (~50-65 MiB
  // measured after a few tasks, even after a garbage collection) are over 0.95 of the limit.
  client = await LocalCluster.start({
    workers: 2,
    memoryLimit: "64MiB",
    memory: { terminate: false },
    modules: [{ url: MEM_OPS, name: "mem" }],
  });
});
afterAll(() => client?.close());

async function memory(): Promise<MemoryMetrics[]> {
  const m = await client.metrics();
  return m.map((w) => w.memory!);
}

/** Let go of a persisted array's blocks now rather than when it is garbage collected. */
function release(x: { anchors: readonly { futures: readonly unknown[] }[] }): void {
  for (const a of x.anchors) for (const f of a.futures) (f as { release(): void }).release();
}

describe("memory limit and spilling (Node)", () => {
  it("validates memory options with clear errors", async () => {
    await expect(LocalCluster.start({ workers: 1, memoryLimit: "lots" })).rejects.toThrow(/memoryLimit: cannot parse "lots"/);
    await expect(LocalCluster.start({ workers: 1, memory: { pause: 2 } })).rejects.toThrow(/memory.pause must be a fraction/);
  });

  it("persists an array 4x the cluster's memory, keeps each worker under target, and sums it exactly", async () => {
    const n = 32 * MiB; // 256 MiB of float64 in 32 blocks of 8 MiB
    const x = await da.arange(0, n, 1, { chunks: [MiB], dtype: "float64" }).persist();
    let mem = await memory();
    for (const w of mem) {
      expect(w.limit).toBe(LIMIT);
      expect(w.managed).toBeLessThanOrEqual(0.6 * LIMIT);
      expect(w.spilledKeys).toBeGreaterThan(0);
      expect(w.spillErrors).toBe(0);
      expect(w.measured).toBeGreaterThan(0);
      expect(w.paused).toBe(false);
      expect(existsSync(w.spillTo!)).toBe(true);
    }
    const held = mem.reduce((s, w) => s + w.managed + w.spilled, 0);
    expect(held).toBe(n * 8);
    const sum = n * (n - 1) / 2;
    expect(await x.sum().item()).toBe(sum);
    expect(await x.mul(2).add(1).sum().item()).toBe(2 * sum + n);
    // A slice across two blocks comes back exactly, from wherever the blocks are.
    const s = await x.slice({ start: MiB - 2, stop: MiB + 2 }).compute();
    expect(Array.from(s.data as Float64Array)).toEqual([MiB - 2, MiB - 1, MiB, MiB + 1]);
    mem = await memory();
    for (const w of mem) {
      expect(w.managed).toBeLessThanOrEqual(0.6 * LIMIT);
      expect(w.unspillCount).toBeGreaterThan(0);
    }
    // Unpersisting frees the blocks wherever they are: in memory, or on disk (files removed).
    release(x);
    await new Promise((r) => setTimeout(r, 100));
    mem = await memory();
    for (const w of mem) {
      expect(w.spilledKeys).toBe(0);
      expect(w.managedKeys).toBe(0);
      expect(statSync(join(w.spillTo!, "spill")).size).toBe(0); // every region freed: the file shrinks
    }
  });

  it("gives the same bits for random blocks that went to disk and came back", async () => {
    const before = (await memory()).reduce((s, w) => s + w.spillCount, 0);
    const r = await da.random.normal([16 * MiB], { chunks: [MiB], seed: 7 }).persist(); // 128 MiB
    expect((await memory()).reduce((s, w) => s + w.spillCount, 0)).toBeGreaterThan(before);
    const fresh = da.random.normal([16 * MiB], { chunks: [MiB], seed: 7 });
    expect(await r.sum().item()).toBe(await fresh.sum().item());
    const a = await r.slice({ start: 3 * MiB - 5, stop: 3 * MiB + 5 }).compute();
    const b = await fresh.slice({ start: 3 * MiB - 5, stop: 3 * MiB + 5 }).compute();
    expect(new Uint8Array((a.data as Float64Array).buffer)).toEqual(new Uint8Array((b.data as Float64Array).buffer));
    release(r);
  });

  it("groups a dataframe 4x the cluster's memory (dictionary strings and nulls) exactly", async () => {
    const parts = 20;
    const rows = MiB; // 13 MiB a partition (codes, values, validity): 260 MiB in all
    const seeds = dd.fromArrays({ p: Int32Array.from({ length: parts }, (_, i) => i) }, { npartitions: parts });
    const meta = { names: ["key", "value"], types: [{ type: "string" as const }, { type: "float64" as const }] };
    const df = await (await dd.mapPartitions(seeds, "mem.bigFrame", { meta, args: [rows] })).persist();
    const mem = await memory();
    for (const w of mem) expect(w.managed).toBeLessThanOrEqual(0.6 * LIMIT);
    expect(mem.reduce((s, w) => s + w.spilledKeys, 0)).toBeGreaterThan(0);
    const t = await df.groupby("key").agg({ value: ["sum", "count"] }).compute();
    const sum = new Map<string, number>();
    const count = new Map<string, number>();
    for (let i = 0; i < parts * rows; i++) {
      if (i % 11 === 0) continue;
      const k = `k${i % 7}`;
      sum.set(k, (sum.get(k) ?? 0) + (i % 100));
      count.set(k, (count.get(k) ?? 0) + 1);
    }
    const keys = t.getChild("key")!.toArray() as string[];
    expect([...keys]).toEqual(["k0", "k1", "k2", "k3", "k4", "k5", "k6"]);
    keys.forEach((k, i) => {
      expect(t.getChild("value_sum")!.get(i)).toBe(sum.get(k));
      expect(Number(t.getChild("value_count")!.get(i))).toBe(count.get(k));
    });
  });

  it("removes each worker's spill directory when the cluster closes", async () => {
    const dirs = (await memory()).map((w) => w.spillTo!);
    expect(dirs.every((d) => existsSync(d))).toBe(true);
    expect(dirs.some((d) => statSync(join(d, "spill")).size > 0)).toBe(true);
    await client.close();
    expect(dirs.some((d) => existsSync(d))).toBe(false);
  });
});
