// The scheduler and worker memory working together on worker_threads: root tasks are handed
// out only as workers have room (workerSaturation), so a reduction over many blocks holds a
// few blocks per worker at a time; a paused worker gets no new work until it resumes.
import { afterEach, describe, expect, it } from "vitest";
import { LocalCluster, delayed, op, type Client } from "../../dist/index.js";

const MiB = 2 ** 20;
const MEM_OPS = new URL("../fixtures/memory-ops.mjs", import.meta.url).href;

let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
});

/** sum over `blocks` blocks of `n` float64 (block i all i): partial totals of 4 blocks, then one sum. */
function blockSum(blocks: number, n: number) {
  const block = delayed(op("mem.block"), { name: "block" });
  const total = delayed(op("mem.total"), { name: "partial" });
  const partials = [];
  for (let i = 0; i < blocks; i += 4) partials.push(total(...[0, 1, 2, 3].map((j) => block(i + j, n))));
  return { graph: delayed(op("tessera.sum"), { name: "sum" })(partials), expected: (n * blocks * (blocks - 1)) / 2 };
}

async function peaks(c: Client): Promise<number[]> {
  return (await c.metrics()).map((w) => w.memory!.managedPeak);
}

describe("backpressure on root tasks and paused workers (Node)", () => {
  it("sums 200 blocks of 8 MiB on 2 workers holding only a few blocks per worker at a time", async () => {
    client = await LocalCluster.start({ workers: 2, memoryLimit: "2GiB", modules: [{ url: MEM_OPS, name: "mem" }], dashboard: false });
    const { graph, expected } = blockSum(200, MiB);
    expect(await client.compute(graph)).toBe(expected);
    const peak = await peaks(client);
    console.log("peak managed per worker (MiB), workerSaturation 1.1:", peak.map((p) => p / MiB));
    // 1.6 GB of blocks in all; each worker holds its queued blocks and a partial's inputs.
    for (const p of peak) expect(p).toBeLessThanOrEqual(16 * 8 * MiB);
  }, 60_000);

  it("without queuing (workerSaturation Infinity) the same sum loads far more at once", async () => {
    client = await LocalCluster.start({
      workers: 2,
      memoryLimit: "2GiB",
      modules: [{ url: MEM_OPS, name: "mem" }],
      dashboard: false,
      scheduler: { workerSaturation: Infinity },
    });
    const { graph, expected } = blockSum(200, MiB);
    expect(await client.compute(graph)).toBe(expected);
    const peak = await peaks(client);
    console.log("peak managed per worker (MiB), workerSaturation Infinity:", peak.map((p) => p / MiB));
    expect(Math.max(...peak)).toBeGreaterThan(24 * 8 * MiB);
  }, 60_000);

  it("gives a paused worker no new tasks, and work flows to it again when it resumes", async () => {
    // No spilling, pause at half of 64 MiB: 40 MiB scattered to one worker pauses it.
    client = await LocalCluster.start({
      workers: 2,
      memoryLimit: "64MiB",
      memory: { target: false, spill: false, pause: 0.5, terminate: false },
      modules: [{ url: MEM_OPS, name: "mem" }],
      dashboard: false,
    });
    const c = client;
    const [w0, w1] = (await c.metrics()).map((m) => m.id);
    const big = await c.scatter(
      Array.from({ length: 5 }, (_, i) => new Float64Array(MiB).fill(i)),
      { workers: [w0!] },
    );
    const pausedNow = async () => (await c.metrics()).find((m) => m.id === w0)!.memory!.paused;
    expect(await pausedNow()).toBe(true);
    await new Promise((r) => setTimeout(r, 50)); // the worker's report reaches the scheduler
    const run = async (from: number) => {
      const fs = Array.from({ length: 20 }, (_, i) => c.submit(op("mem.block"), from + i, 1000));
      await c.gather(fs);
      const where = Object.values(c.whoHas(...fs)).flat();
      for (const f of fs) f.release();
      return where;
    };
    const whilePaused = await run(0);
    expect(whilePaused.every((w) => w === w1)).toBe(true);
    for (const f of big) f.release();
    await expect.poll(pausedNow).toBe(false);
    await new Promise((r) => setTimeout(r, 50));
    const afterResume = await run(100);
    expect(afterResume).toContain(w0);
  }, 60_000);
});
