/** Loading the module: sources, ABI check, shared memory, and the errors users will meet. */

import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadKernels, compileKernels, wasmUrl, sharedWasmUrl } from "../../src/kernels/loader.js";
import { createMemory } from "../../src/kernels/wasm.js";
import { input, mul } from "../../src/kernels/expr.js";
import { finalize } from "../../src/kernels/reduce-state.js";
import { kernels } from "./helpers.js";

describe("loadKernels", () => {
  it("loads from bytes, a compiled Module and a Response", async () => {
    const bytes = await readFile(fileURLToPath(wasmUrl));
    const module = await compileKernels(bytes);
    for (const source of [bytes, module, new Response(bytes, { headers: { "content-type": "application/wasm" } }), new Response(bytes)]) {
      const k = await loadKernels(source);
      const p = k.copyIn(new Float64Array([1, 2, 3]));
      expect(finalize(k.reduce("sum", { ptr: p, dtype: "float64" }, 3))).toBe(6);
    }
  });

  it("says what to do with bad sources", async () => {
    await expect(loadKernels(new Uint8Array([0, 1, 2, 3]))).rejects.toThrow(/not a valid wasm module.*build:wasm/);
    await expect(loadKernels(wasmUrl)).rejects.toThrow(/loadKernelsFromFile/);
    await expect(loadKernels(new Response("nope", { status: 404 }))).rejects.toThrow(/HTTP 404/);
    expect(() => createMemory({ maximumBytes: 2 ** 33 })).toThrow(/at most 4 GiB|between 64 KiB and 4 GiB/);
  });

  it("two instances share one shared memory, each allocating in its own range", async () => {
    const bytes = await readFile(fileURLToPath(sharedWasmUrl));
    const memory = createMemory({ initialBytes: 8 * 2 ** 20, maximumBytes: 64 * 2 ** 20, shared: true });
    const half = 4 * 2 ** 20;
    const a = await loadKernels(bytes, { memory, heapLimit: half });
    const b = await loadKernels(bytes, { memory, heapBase: half });
    const pa = a.copyIn(new Float64Array([1, 2, 3, 4]));
    const pb = b.alloc(32);
    expect(pa).toBeLessThan(half);
    expect(pb).toBeGreaterThanOrEqual(half);
    // b computes on a's data in place: the memory is one.
    const prog = b.compile(mul(input(0), 10), ["float64"], "sum");
    expect(finalize(b.runProgram(prog, [pa], 4)!)).toBe(100);
    // A non-shared build refuses a shared memory with a hint.
    await expect(loadKernels(await readFile(fileURLToPath(wasmUrl)), { memory })).rejects.toThrow(/shared build/);
  });

  it("helpers load from disk", async () => {
    const k = await kernels();
    expect(k.heap.base).toBeGreaterThan(0);
    expect(k.heap.base % 16).toBe(0);
  });
});
