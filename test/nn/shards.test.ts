// Per-worker sharding of toBatches: shards partition the rows (each row in exactly one shard,
// once), persisted partitions are read by the worker holding them (no worker-to-worker
// transfer while iterating), a plan is deterministic with a seed, and bad options say what is wrong.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, array as da, dataframe as dd, nn, type Client } from "../../dist/index.js";

let client: Client;
beforeAll(async () => {
  client = await LocalCluster.start({ workers: 2 });
});
afterAll(() => client?.close());

const N = 1000, BLOCK = 100;
/** Row i has features [i, -i] and label i: a row's id is its label. */
function data() {
  const X = da.fromTypedArray(Float64Array.from({ length: N * 2 }, (_, j) => (j % 2 === 0 ? 1 : -1) * Math.floor(j / 2)), { shape: [N, 2], chunks: [BLOCK, 2] });
  const y = da.fromTypedArray(Float64Array.from({ length: N }, (_, i) => i), { chunks: [BLOCK] });
  return { X, y };
}

/** The row ids of one pass, checking each row's features match its label (when it has one). */
async function ids(batches: AsyncIterable<nn.Batch>): Promise<number[]> {
  const out: number[] = [];
  for await (const b of batches) {
    for (let r = 0; r < b.rows; r++) {
      const id = b.x[2 * r]!;
      if (b.y) expect(b.y[r]).toBe(id);
      expect(b.x[2 * r + 1]).toBe(-id);
      out.push(id);
    }
  }
  return out;
}

const sorted = (v: number[]) => [...v].sort((a, b) => a - b);
const all = Array.from({ length: N }, (_, i) => i);
const moves = async () => (await client.metrics()).reduce((s, m) => s + m.movedKeys + m.copiedKeys, 0);

describe("toBatches with shard: { index, count }", () => {
  it("not persisted: contiguous balanced runs of partitions, every row once over the shards, seeded", async () => {
    const { X, y } = data();
    const opts = { label: y, batchSize: 32, seed: 5, shuffleBuffer: 250, client };
    const shards = await Promise.all([0, 1, 2].map((index) => ids(nn.toBatches(X, { ...opts, shard: { index, count: 3 } }))));
    expect(sorted(shards.flat())).toEqual(all);
    // Blocks 0-2, 3-5, 6-9 (as fitDataParallel deals them).
    expect(shards.map((s) => [...new Set(s.map((i) => Math.floor(i / BLOCK)))].sort())).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8, 9]]);
    // Shuffled across partitions within a shard, the same with the same seed, not with another.
    expect(new Set(shards[0]!.slice(0, 32).map((i) => Math.floor(i / BLOCK))).size).toBeGreaterThan(1);
    expect(await ids(nn.toBatches(X, { ...opts, shard: { index: 0, count: 3 } }))).toEqual(shards[0]);
    expect(await ids(nn.toBatches(X, { ...opts, seed: 6, shard: { index: 0, count: 3 } }))).not.toEqual(shards[0]);
    // shardedBatches gives the same shards, with no home worker.
    const sb = await nn.shardedBatches(X, { ...opts, count: 3 });
    expect(sb.map((s) => [s.index, s.count, s.worker, s.partitions])).toEqual([[0, 3, null, [0, 1, 2]], [1, 3, null, [3, 4, 5]], [2, 3, null, [6, 7, 8, 9]]]);
    for (const s of sb) expect(await ids(s.batches)).toEqual(shards[s.index]);
  });

  it("persisted: one shard per worker, each reading only the partitions its worker holds", async () => {
    const { X: X0, y: y0 } = data();
    const [X, y] = [await X0.persist(), await y0.persist()];
    const holder = client.whoHas(...X.keys());
    const byWorker = new Map<string, number[]>();
    X.keys().forEach((k, b) => byWorker.set(holder[k]![0]!, [...(byWorker.get(holder[k]![0]!) ?? []), b]));
    // The scheduler spread the persisted blocks over both workers (the test needs that).
    expect(byWorker.size).toBe(2);

    const shards = await nn.shardedBatches(X, { label: y, batchSize: 64, seed: 1, client });
    expect(shards.length).toBe(2);
    expect(shards.map((s) => s.worker)).toEqual(client.workers);
    const seen: number[] = [];
    for (const s of shards) {
      expect(s.partitions).toEqual(byWorker.get(s.worker!));
      for (const b of s.partitions) expect(holder[X.keys()[b]!]).toContain(s.worker);
      const got = await ids(s.batches);
      // Its rows are those of its partitions.
      expect(sorted(got)).toEqual(s.partitions.flatMap((b) => Array.from({ length: BLOCK }, (_, i) => b * BLOCK + i)));
      seen.push(...got);
    }
    expect(sorted(seen)).toEqual(all);
    // Each window ran on its blocks' worker: without labels (y was persisted apart from X, so its
    // blocks may sit on the other worker), nothing moves between workers.
    const before = await moves();
    const unlabelled: number[] = [];
    for (const s of await nn.shardedBatches(X, { batchSize: 64, seed: 1, client })) unlabelled.push(...(await ids(s.batches)));
    expect(sorted(unlabelled)).toEqual(all);
    expect(await moves()).toBe(before);

    // toBatches({ shard }) reads the same shard, in the same order.
    const one = await nn.shardedBatches(X, { label: y, batchSize: 64, seed: 1, client });
    expect(await ids(nn.toBatches(X, { label: y, batchSize: 64, seed: 1, client, shard: { index: 1, count: 2 } }))).toEqual(await ids(one[1]!.batches));
    // One shard on a 2-worker cluster: the worker holding most rows, with the rest fetched to it.
    const solo = await nn.shardedBatches(X, { label: y, count: 1, client });
    expect(solo[0]!.partitions).toEqual(all.slice(0, N / BLOCK));
    expect(sorted(await ids(solo[0]!.batches))).toEqual(all);
    await expect(nn.shardedBatches(X, { label: y, count: 3, client })).rejects.toThrow(/3 shards asked for, but the persisted data is on a cluster of 2 worker\(s\): per-worker sharding gives at most one shard per worker/);
  });

  it("shards a persisted dataframe by worker", async () => {
    const n = 400;
    const df = await dd.fromArrays({ a: Float64Array.from({ length: n }, (_, i) => i), b: Float64Array.from({ length: n }, (_, i) => -i), label: Float64Array.from({ length: n }, (_, i) => i) }, { npartitions: 8 }).persist();
    const shards = await nn.shardedBatches(df, { label: "label", batchSize: 16, seed: 2, shuffleBuffer: 60, client });
    const seen: number[] = [];
    for (const s of shards) seen.push(...(await ids(s.batches)));
    expect(sorted(seen)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(shards.every((s) => s.worker !== null)).toBe(true);
  });

  it("says what is wrong with a shard option", async () => {
    const { X, y } = data();
    const first = (shard: unknown) => nn.toBatches(X, { label: y, client, shard: shard as nn.ShardSpec }).next();
    await expect(first({ index: 2, count: 2 })).rejects.toThrow(/shard.index must be an integer in 0..1 \(shard.count is 2\), got 2/);
    await expect(first({ index: -1, count: 2 })).rejects.toThrow(/shard.index must be an integer in 0..1/);
    await expect(first({ index: 0.5, count: 2 })).rejects.toThrow(/shard.index must be an integer/);
    await expect(first({ index: 0, count: 0 })).rejects.toThrow(/shard.count must be a positive integer \(the number of shards\), got 0/);
    await expect(first(3)).rejects.toThrow(/shard must be \{ index, count \}, got 3/);
    await expect(nn.shardedBatches(X, { label: y, client, count: 0 })).rejects.toThrow(/shard.count must be a positive integer/);
    await expect(nn.shardedBatches(X, { label: y, client, shard: { index: 0, count: 1 } } as never)).rejects.toThrow(/nn.shardedBatches: gives every shard; for one shard use nn.toBatches/);
  });
});
