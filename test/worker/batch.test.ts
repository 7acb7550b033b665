// Compute batches packed for the wire: every task's op and arguments read back as they were.
import { describe, expect, it } from "vitest";
import { packCompute, taskCall } from "../../src/worker/batch.js";
import type { ComputeBatch, WireArg } from "../../src/worker/protocol.js";

function batch(n: number): { c: ComputeBatch; calls: { op: string; args: WireArg[] }[] } {
  const calls = Array.from({ length: n }, (_, i) => ({
    op: ["src:abc", "tessera.sum", "array.fused"][i % 3]!,
    args: i % 5 === 0 ? [] : i % 5 === 1 ? [{ $: 0, k: `x-${i}` }, 2] : [i, `s${i}`, null, { $: 3, v: new Float64Array([i]) }],
  })) as { op: string; args: WireArg[] }[];
  const c: ComputeBatch = { keys: calls.map((_, i) => `t-${i}`), refs: calls.map((_, i) => i), ops: calls.map((x) => x.op), args: calls.map((x) => x.args) };
  return { c, calls };
}

describe("packCompute", () => {
  it("packs ops into a table and arguments into one array; taskCall reads each task back", () => {
    const { c, calls } = batch(100);
    packCompute(c);
    expect(c.ops).toEqual([]);
    expect(c.args).toEqual([]);
    expect(c.opNames).toEqual(["src:abc", "tessera.sum", "array.fused"]);
    const back = structuredClone(c); // as a worker receives it
    calls.forEach((call, i) => expect(taskCall(back, i)).toEqual(call));
    packCompute(c); // packing twice changes nothing
    calls.forEach((call, i) => expect(taskCall(c, i)).toEqual(call));
  });

  it("leaves small batches as they are", () => {
    const { c, calls } = batch(5);
    packCompute(c);
    expect(c.opIndex).toBeUndefined();
    calls.forEach((call, i) => expect(taskCall(c, i)).toEqual(call));
  });
});
