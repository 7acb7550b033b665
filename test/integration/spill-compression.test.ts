// Spill compression on a real cluster (memory: { spillCompression: true }): arrays over 4x the
// memory limit spill compressed and come back exactly; the disk figures show compressed sizes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, array as da, type Client } from "../../dist/index.js";

const MiB = 2 ** 20;

let client: Client;
beforeAll(async () => {
  client = await LocalCluster.start({ workers: 2, memoryLimit: "64MiB", memory: { terminate: false, spillCompression: true } });
});
afterAll(() => client?.close());

describe("spill compression (Node)", () => {
  it("spills a compressible array compressed, a random one raw, and both come back exactly", async () => {
    const n = 32 * MiB; // 256 MiB of float64: small integers, their high bytes shuffle into runs
    const x = await da.arange(0, n, 1, { chunks: [MiB], dtype: "float64" }).persist();
    const sum = (n * (n - 1)) / 2;
    expect(await x.sum().item()).toBe(sum);
    let mem = (await client.metrics()).map((w) => w.memory!);
    const inMemory = mem.reduce((s, w) => s + w.spillBytes, 0);
    const onDisk = mem.reduce((s, w) => s + w.spillDiskBytes, 0);
    expect(inMemory).toBeGreaterThan(0);
    expect(onDisk).toBeLessThan(0.8 * inMemory);
    for (const w of mem) expect(w.spillErrors).toBe(0);
    for (const a of x.anchors) for (const f of a.futures) (f as unknown as { release(): void }).release();

    const r = await da.random.uniform([n], { chunks: [MiB], seed: 3 }).persist();
    const s1 = await r.sum().item();
    expect(await r.sum().item()).toBe(s1);
    mem = (await client.metrics()).map((w) => w.memory!);
    const more = mem.reduce((s, w) => s + w.spillBytes, 0) - inMemory;
    const moreDisk = mem.reduce((s, w) => s + w.spillDiskBytes, 0) - onDisk;
    expect(more).toBeGreaterThan(0);
    expect(moreDisk).toBeGreaterThan(more); // random floats stored raw (plus headers)
    expect(moreDisk).toBeLessThan(more * 1.01);
  });
});
