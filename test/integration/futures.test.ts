// The futures and delayed API on a 2-worker LocalCluster (worker_threads), against dist/.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { delayed, op, currentClient, type Client } from "../../dist/index.js";
import { OPS, startCluster } from "./cluster.js";

let client: Client;
beforeAll(async () => {
  client = await startCluster();
});
afterAll(() => client.close());

describe("futures and delayed on worker_threads", () => {
  it("runs the README example", async () => {
    const inc = delayed((x: number) => x + 1);
    expect(await client.compute(inc(1))).toBe(2);
    const f = client.submit((a: number, b: number) => a + b, 1, 2);
    expect(await f.result()).toBe(3);
    const fs = client.map((x: number) => x * x, [1, 2, 3]);
    expect(await client.gather(fs)).toEqual([1, 4, 9]);
    const [big] = await client.scatter([new Float64Array(1e6).fill(0.5)]);
    const total = client.submit((a: Float64Array) => a.reduce((s, v) => s + v, 0), big!);
    expect(await total.result()).toBe(5e5);
    const seen: string[] = [];
    for await (const done of client.asCompleted(fs)) seen.push(done.key);
    expect(seen.sort()).toEqual(fs.map((f) => f.key).sort());
  });

  it("computes a diamond and returns several collections at once", async () => {
    const a = delayed((x: number) => x * 10)(4);
    const b = delayed((x: number) => x + 1)(a);
    const c = delayed((x: number) => x - 1)(a);
    const d = delayed((x: number, y: number) => x * y)(b, c);
    expect(await client.compute(d)).toBe(41 * 39);
    expect(await client.compute([b, c, d])).toEqual([41, 39, 41 * 39]);
  });

  it("fans out and in", async () => {
    const src = delayed((n: number) => Array.from({ length: n }, (_, i) => i))(200);
    const parts = Array.from({ length: 200 }, (_, i) => delayed((xs: number[], j: number) => xs[j]! * 2)(src, i));
    const total = delayed(op("tessera.sum"))(parts);
    expect(await client.compute(total)).toBe(2 * ((199 * 200) / 2));
  });

  it("sends a fan-in's list of inputs compactly and decodes it in order", async () => {
    const { encodeArg, decodeArg } = await import("../../dist/worker/wire.js");
    const { TaskRef } = await import("../../dist/graph/task.js");
    const refs = ["a-1", "b-1", "c-1"].map((k) => new TaskRef(k));
    const wire = encodeArg(refs);
    expect(wire).toEqual({ $: 4, ks: ["a-1", "b-1", "c-1"] });
    expect(decodeArg(wire, (k: string) => k.toUpperCase())).toEqual(["A-1", "B-1", "C-1"]);
    // Mixed lists keep the general form.
    expect(encodeArg([refs[0], 5])).toEqual({ $: 1, a: [{ $: 0, k: "a-1" }, 5] });
  });

  it("runs a chain of 10k tasks, fused and unfused", async () => {
    const inc = delayed((x: number) => x + 1);
    let x = inc(0);
    for (let i = 1; i < 10_000; i++) x = inc(x);
    expect(await client.compute(x)).toBe(10_000);
    expect(await client.compute(x, { optimize: false })).toBe(10_000);
  });

  it("shares keys between equal calls and keeps impure calls apart", async () => {
    const f = (x: number) => x + 1;
    expect(delayed(f)(1).key).toBe(delayed(f)(1).key);
    expect(delayed(f)(1).key).not.toBe(delayed(f)(2).key);
    expect(delayed(f, { pure: false })(1).key).not.toBe(delayed(f, { pure: false })(1).key);
    expect(delayed(f, { name: "plus" })(1).key).toMatch(/^plus-[0-9a-f]{16}$/);
  });

  it("uses ops from a registered module, by name or op()", async () => {
    expect(await client.submit("fx.double", 21).result()).toBe(42);
    expect(await client.compute(delayed(op("fx.slowAdd"))(2, 3))).toBe(5);
    const names = await client.registerModule(OPS, { name: "fx2" });
    expect(names).toContain("fx2.double");
    expect(await client.submit("fx2.double", 4).result()).toBe(8);
  });

  it("accepts futures and nested structures as arguments", async () => {
    const [a, b] = await client.scatter([3, 4]);
    const f = client.submit((o: { xs: number[]; y: number }) => o.xs[0]! + o.xs[1]! + o.y, { xs: [a, b], y: 10 });
    expect(await f.result()).toBe(17);
    const g = client.submit((x: number) => x * 2, f);
    expect(await client.compute(delayed((x: number) => x + 1)(g))).toBe(35);
    expect(await client.gather({ first: a, rest: [b, g] })).toEqual({ first: 3, rest: [4, 34] });
  });

  it("persists a delayed value and keeps it pinned until released", async () => {
    const d = delayed((n: number) => new Float64Array(n).fill(1), { name: "ones" })(1000);
    const p = client.persist(d);
    expect(p.key).toBe(d.key);
    const total = delayed(op("fx.sumArray"))(p);
    expect(await client.compute(total)).toBe(1000);
    // still held after being used
    await new Promise((r) => setTimeout(r, 20));
    expect(client.whoHas(p.key)[p.key]!.length).toBe(1);
    expect(await p.compute()).toEqual(new Float64Array(1000).fill(1));
  });

  it("releases keys once no future needs them", async () => {
    const f = client.submit((n: number) => new Float64Array(n), 12345);
    await f.wait();
    expect(client.runner.scheduler.stateOf(f.key)).toBe("memory");
    f.release();
    await new Promise((r) => setTimeout(r, 50));
    expect(client.runner.scheduler.stateOf(f.key)).toBe("forgotten");
    const m = await client.metrics();
    for (const w of m) expect(w.queued).toBe(0);
  });

  it("uses the current client for Delayed.compute()", async () => {
    expect(currentClient()).toBe(client);
    expect(await delayed((x: number) => x * 3)(5).compute()).toBe(15);
  });

  it("records a story per key", async () => {
    const f = client.submit((x: number) => x, 99);
    await f.wait();
    const story = client.story(f);
    expect(story.map((e) => e.to)).toEqual(["waiting", "ready", "processing", "memory"]);
    expect(story[2]!.worker).toMatch(/^w\d+-\d$/);
  });
});
