// Compute batches as the runner packs them: every task's op and arguments read back as they were,
// after a structured clone (as a worker thread receives them) and without one (inline links).
import { describe, expect, it } from "vitest";
import { ComputeBatchBuilder } from "../../src/cluster/compute-batch.js";
import { Alias, DataNode, Fused, Task, TaskRef } from "../../src/graph/task.js";
import { taskCall, unpackFused } from "../../src/worker/batch.js";
import { encodeNode } from "../../src/worker/wire.js";
import type { ComputeBatch, WireArg, WireTask } from "../../src/worker/protocol.js";

function runs(n: number): WireTask[] {
  return Array.from({ length: n }, (_, i): WireTask => {
    if (i % 7 === 6) return { fused: [{ key: `inner-${i}`, op: "src:abc", args: [i] }] };
    const op = ["src:abc", "src:abc", "tessera.sum", "array.fused"][i % 4]!;
    const args: WireArg[] = i % 5 === 0 ? [] : i % 5 === 1 ? [{ $: 0, k: `x-${i}` }, 2] : [i, `s${i}`, null, { $: 3, v: new Float64Array([i]) }];
    return { op, args };
  });
}

describe("packed compute batches", () => {
  it("read back every task's call, fused tasks and inline inputs, before and after a clone", () => {
    const all = runs(50);
    const b = new ComputeBatchBuilder();
    all.forEach((run, i) => b.add(`t-${i}`, i, run, i === 3 ? 2 : 0, []));
    const sent = b.finish();
    expect(sent.opNames).toEqual(["src:abc", "tessera.sum", "array.fused", ""]);
    expect(sent.opIndex).toBeInstanceOf(Int32Array);
    for (const c of [sent, structuredClone(sent)] as ComputeBatch[]) {
      const fused = unpackFused(c)!;
      all.forEach((run, i) => {
        if ("fused" in run) expect(fused[i]).toEqual(run);
        else expect(taskCall(c, i)).toEqual(run);
      });
      expect(c.priority![3]).toBe(2);
      expect(c.priority![2]).toBe(0);
    }
  });

  it("writes small inputs into the arguments in place of their references, wherever they are", () => {
    const small = (key: string, value: unknown) => ({ key, holders: [], nbytes: 8, move: false, small: { value } });
    const big = { key: "big-1", holders: ["w1"], nbytes: 1e6, move: false };
    const b = new ComputeBatchBuilder();
    const ref = (k: string): WireArg => ({ $: 0, k });
    // A tree node: all references small; a mix with a big input; nested; fused; a wide fan-in.
    b.add("n-1", 1, { op: "x.add", args: [{ $: 4, ks: ["a-1", "b-1"] }] }, 0, [small("a-1", 1), small("b-1", [2, 3])]);
    b.add("n-2", 2, { op: "x.f", args: [ref("a-1"), ref("big-1"), { $: 2, o: { p: ref("a-1"), q: 5 } }] }, 0, [small("a-1", 1), big]);
    b.add("n-3", 3, { fused: [{ key: "i-1", op: "x.g", args: [ref("a-1")] }, { key: "n-3", op: "x.h", args: [ref("i-1"), { $: 4, ks: ["a-1", "big-1"] }] }] }, 0, [small("a-1", "s"), big]);
    const wide = Array.from({ length: 20 }, (_, i) => small(`w-${i}`, i));
    b.add("n-4", 4, { op: "x.sum", args: [{ $: 4, ks: wide.map((d) => d.key) }] }, 0, wide);
    const c = structuredClone(b.finish());
    expect(taskCall(c, 0)).toEqual({ op: "x.add", args: [{ $: 1, a: [1, { $: 3, v: [2, 3] }] }] });
    expect(taskCall(c, 1)).toEqual({ op: "x.f", args: [1, ref("big-1"), { $: 2, o: { p: 1, q: 5 } }] });
    expect(unpackFused(c)![2]).toEqual({
      fused: [
        { key: "i-1", op: "x.g", args: ["s"] },
        { key: "n-3", op: "x.h", args: [ref("i-1"), { $: 1, a: ["s", ref("big-1")] }] },
      ],
    });
    expect(taskCall(c, 3)).toEqual({ op: "x.sum", args: [{ $: 1, a: wide.map((_, i) => i) }] });
    // No inline columns: small inputs travel only in the arguments; big ones still as deps.
    expect(Object.keys(c).filter((k) => k.startsWith("inline"))).toEqual([]);
    expect(c.depKey).toEqual(["big-1", "big-1"]);
  });

  it("encodes graph nodes as it adds them, the same calls as encoding them first", () => {
    const small = (key: string, value: unknown) => ({ key, holders: [], nbytes: 8, move: false, small: { value } });
    const big = { key: "big-1", holders: ["w1"], nbytes: 1e6, move: false };
    const deps = [small("a-1", 1), big, small("c-1", { z: 1 })];
    const r = (k: string) => new TaskRef(k);
    const nodes = [
      new Task("t-1", "x.f", [r("a-1"), r("big-1"), 3, "s", null, r("c-1")]),
      new Task("t-2", "x.g", [[r("a-1"), r("big-1")], { p: r("c-1"), q: [r("a-1")] }, new Float64Array([1])]),
      new Task("t-3", "x.h", [[r("a-1"), r("c-1")]]),
      new Task("t-4", "x.h", []),
      new Alias("t-5", "a-1"),
      new DataNode("t-6", { v: [1, 2] }),
      new Fused("t-7", [new Task("i-1", "x.f", [r("a-1")]), new Task("t-7", "x.g", [r("i-1"), r("big-1")])]),
    ];
    const direct = new ComputeBatchBuilder();
    const viaWire = new ComputeBatchBuilder();
    nodes.forEach((node, i) => {
      direct.add(node.key, i, node, 0, deps);
      viaWire.add(node.key, i, encodeNode(node), 0, deps);
    });
    const a = structuredClone(direct.finish());
    const b = structuredClone(viaWire.finish());
    nodes.forEach((node, i) => {
      if (node instanceof Fused) expect(unpackFused(a)![i]).toEqual(unpackFused(b)![i]);
      else expect(taskCall(a, i)).toEqual(taskCall(b, i));
    });
    expect(taskCall(a, 0)).toEqual({ op: "x.f", args: [1, { $: 0, k: "big-1" }, 3, "s", null, { $: 3, v: { z: 1 } }] });
    expect(direct.ops().sort()).toEqual(["tessera.identity", "x.f", "x.f", "x.g", "x.g", "x.h"]);
    expect(() => new ComputeBatchBuilder().add("t-8", 8, new Task("t-8", "x.f", [() => 1]), 0, [])).toThrow(/function cannot be a task argument/);
    // A wide fan-in of direct references (past the deps it scans): the same as encoding first.
    const wide = [...Array.from({ length: 20 }, (_, i) => small(`w-${i}`, i)), big];
    const fan = new Task("t-9", "x.sum", [...wide.map((d) => r(d.key)), [r("w-3"), r("big-1")]]);
    const d2 = new ComputeBatchBuilder();
    const w2 = new ComputeBatchBuilder();
    d2.add("t-9", 9, fan, 0, wide);
    w2.add("t-9", 9, encodeNode(fan), 0, wide);
    const call = taskCall(structuredClone(d2.finish()), 0);
    expect(call).toEqual(taskCall(structuredClone(w2.finish()), 0));
    expect(call.args.slice(0, 3)).toEqual([0, 1, 2]);
    expect(call.args[20]).toEqual({ $: 0, k: "big-1" });
  });

  it("still reads the unpacked layout (an op and an argument array per task)", () => {
    const c: ComputeBatch = { keys: ["a-1", "b-1"], refs: [1, 2], ops: ["x.f", "x.g"], args: [[1], [{ $: 0, k: "a-1" }]] };
    expect(taskCall(c, 0)).toEqual({ op: "x.f", args: [1] });
    expect(taskCall(c, 1)).toEqual({ op: "x.g", args: [{ $: 0, k: "a-1" }] });
  });
});
