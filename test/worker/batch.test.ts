// Compute batches as the runner packs them: every task's op and arguments read back as they were,
// after a structured clone (as a worker thread receives them) and without one (inline links).
import { describe, expect, it } from "vitest";
import { ComputeBatchBuilder } from "../../src/cluster/compute-batch.js";
import { taskCall, unpackFused, unpackInline } from "../../src/worker/batch.js";
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
    all.forEach((run, i) =>
      b.add(`t-${i}`, i, run, i === 3 ? 2 : 0, i === 4 ? [{ key: "small-1", holders: [], nbytes: 8, move: false, small: { value: 42 } }] : []),
    );
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
      expect(unpackInline(c)![4]!.get("small-1")).toBe(42);
    }
  });

  it("still reads the unpacked layout (an op and an argument array per task)", () => {
    const c: ComputeBatch = { keys: ["a-1", "b-1"], refs: [1, 2], ops: ["x.f", "x.g"], args: [[1], [{ $: 0, k: "a-1" }]] };
    expect(taskCall(c, 0)).toEqual({ op: "x.f", args: [1] });
    expect(taskCall(c, 1)).toEqual({ op: "x.g", args: [{ $: 0, k: "a-1" }] });
  });
});
