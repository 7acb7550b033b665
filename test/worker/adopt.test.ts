// A block fetched from a peer is kept in wasm memory (adoptBlock), so kernels read it in place
// for every later task instead of copying it in per task.
import { describe, expect, it } from "vitest";
import { adoptBlock, WasmChunk } from "../../src/array/block.js";
import { configureKernels, getKernels } from "../../src/kernels/instance.js";
import { readWasm } from "../../src/kernels/node.js";
import { RELEASE, RETAIN } from "../../src/worker/resource.js";

describe("adoptBlock", () => {
  it("copies an array block into wasm memory, of any dtype; anything else passes through", async () => {
    configureKernels({ source: () => readWasm() });
    const k = await getKernels();
    const f64 = { dtype: "float64" as const, shape: [3, 2], data: Float64Array.from([1, -0, NaN, Infinity, 2.5, -7]) };
    const i32 = { dtype: "int32" as const, shape: [4], data: Int32Array.from([1, -2, 2 ** 31 - 1, -(2 ** 31)]) };
    for (const block of [f64, i32]) {
      const used = k.stats().used;
      const out = adoptBlock(block) as WasmChunk;
      expect(out).toBeInstanceOf(WasmChunk);
      expect(out.dtype).toBe(block.dtype);
      expect(out.shape).toEqual(block.shape);
      expect(Object.is(out.view()[1], block.data[1])).toBe(true);
      expect(Array.from(out.view())).toEqual(Array.from(block.data));
      expect(k.stats().used).toBeGreaterThan(used);
      // The store owns it as any chunk: freed with its last reference.
      out[RETAIN]();
      out[RELEASE]();
      expect(k.stats().used).toBe(used);
    }
    const partial = { n: 3, sums: new Float64Array(2) };
    expect(adoptBlock(partial)).toBe(partial);
    const empty = { dtype: "float64" as const, shape: [0, 4], data: new Float64Array(0) };
    expect(adoptBlock(empty)).toBe(empty);
    const chunk = WasmChunk.alloc(k, "float64", [2]);
    expect(adoptBlock(chunk)).toBe(chunk);
  });
});
