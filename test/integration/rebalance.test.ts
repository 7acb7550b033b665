// client.rebalance: stored data spread evenly over the workers, fetched worker to worker, with
// the values unchanged and the scheduler's record of who holds what kept true.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, array as da, type Client, type Future } from "../../dist/index.js";

let client: Client;
beforeAll(async () => {
  client = await LocalCluster.start({ workers: 2 });
});
afterAll(() => client?.close());

const MB = 2 ** 20;
const holdersOf = (fs: Future[]) => fs.map((f) => client.whoHas(f)[f.key]!);

describe("rebalance", () => {
  it("moves half of what one worker holds to the other, fetched peer to peer, values intact", async () => {
    const [w0, w1] = client.workers;
    const values = Array.from({ length: 8 }, (_, i) => new Float64Array(MB / 8).fill(i + 0.5)); // 1 MiB each
    const fs = (await client.scatter(values, { workers: [w0!] })) as Future[];
    expect(holdersOf(fs).every((h) => h.length === 1 && h[0] === w0)).toBe(true);
    const before = await client.metrics();
    const r = await client.rebalance(fs);
    expect(r.moved).toBe(4);
    expect(r.bytes).toBe(4 * MB);
    const holders = holdersOf(fs);
    // Each key has exactly one holder now (the old copy was let go), four on each worker.
    expect(holders.every((h) => h.length === 1)).toBe(true);
    expect(holders.filter((h) => h[0] === w0).length).toBe(4);
    expect(holders.filter((h) => h[0] === w1).length).toBe(4);
    // The workers agree: the bytes moved between them, not through the client.
    const after = await client.metrics();
    const stored = (id: string, m: typeof after) => m.find((x) => x.id === id)!;
    expect(stored(w1!, after).nbytes - stored(w1!, before).nbytes).toBe(4 * MB);
    expect(stored(w0!, before).nbytes - stored(w0!, after).nbytes).toBe(4 * MB);
    expect(stored(w0!, after).copiedKeys - stored(w0!, before).copiedKeys).toBe(4);
    const got = (await client.gather(fs)) as Float64Array[];
    got.forEach((v, i) => expect(v.every((x) => x === i + 0.5)).toBe(true));
    // Balanced already: nothing to do.
    expect(await client.rebalance(fs)).toEqual({ moved: 0, bytes: 0 });
    for (const f of fs) f.release();
  });

  it("takes a persisted collection, and everything in memory when given nothing", async () => {
    const [w0] = client.workers;
    const x = await da.arange(0, 64 * 1024, 1, { chunks: [8 * 1024] }).persist();
    const sum = await x.sum().item();
    const r1 = await client.rebalance(x);
    expect(r1.moved).toBeGreaterThanOrEqual(0);
    const fs = (await client.scatter(Array.from({ length: 6 }, () => new Float64Array(MB / 8)), { workers: [w0!] })) as Future[];
    const r2 = await client.rebalance();
    expect(r2.moved).toBeGreaterThanOrEqual(3);
    const bytes = await client.metrics();
    const [a, b] = bytes.map((m) => m.nbytes);
    expect(Math.abs(a! - b!)).toBeLessThanOrEqual(MB + 64 * 1024 * 8);
    expect(await x.sum().item()).toBe(sum);
    for (const f of fs) f.release();
  });

  it("rejects what is not a collection, futures or keys", async () => {
    await expect(client.rebalance(42 as never)).rejects.toThrow(/rebalance: pass a persisted collection, futures or keys/);
  });
});
