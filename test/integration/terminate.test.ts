// The terminate threshold on worker_threads: a task that leaves its worker over 0.95 of the
// memory limit (measured, after spilling and a garbage collection) gets the worker killed and
// replaced; the task reruns elsewhere, and one that does it every time errs with KilledWorker.
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LocalCluster, delayed, op, type Client } from "../../dist/index.js";

const LEAK_OPS = new URL("../fixtures/leak-ops.mjs", import.meta.url).href;
const MEM_OPS = new URL("../fixtures/memory-ops.mjs", import.meta.url).href;

let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
});

async function start(extra: Parameters<typeof LocalCluster.start>[0] = {}): Promise<Client> {
  return LocalCluster.start({
    workers: 2,
    memoryLimit: "256MiB",
    modules: [
      { url: LEAK_OPS, name: "leak" },
      { url: MEM_OPS, name: "mem" },
    ],
    dashboard: false,
    ...extra,
  });
}

describe("terminate threshold (Node)", () => {
  it("replaces a worker that a task pushed over terminate, and the computation still finishes right", async () => {
    const c = (client = await start());
    const before = (await c.metrics()).map((m) => m.id);
    const marker = path.join(mkdtempSync(path.join(os.tmpdir(), "tessera-leak-")), "leaked");
    const leak = delayed(op("leak.leak"), { name: "leak" });
    const total = delayed(op("mem.total"), { name: "total" });
    const block = delayed(op("mem.block"), { name: "block" });
    // Other work around it is unaffected; the leaking task reruns on a worker and finds the marker.
    const parts = [leak(300, marker), total(block(2, 1000)), total(block(3, 1000))];
    expect(await c.compute(delayed(op("tessera.sum"))(parts))).toBe(5000);
    await expect.poll(async () => (await c.metrics()).length, { timeout: 10_000 }).toBe(2);
    const after = (await c.metrics()).map((m) => m.id);
    expect(after.filter((id) => !before.includes(id)).length).toBe(1);
    // Back to normal: the new worker takes work.
    expect(await c.compute(total(block(7, 10)))).toBe(70);
  }, 60_000);

  it("errs a task that kills every worker it runs on with KilledWorker, naming the key", async () => {
    const c = (client = await start({ scheduler: { allowedFailures: 1 } }));
    const always = delayed(op("leak.leak"), { name: "always-leaks" })(300);
    await expect(c.compute(always)).rejects.toThrow(/always-leaks-\w+ was running on 2 workers that died .*terminate threshold/);
    // The cluster is whole again afterwards.
    await expect.poll(async () => (await c.metrics()).length, { timeout: 10_000 }).toBe(2);
  }, 60_000);
});
