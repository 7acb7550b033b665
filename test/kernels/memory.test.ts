/** The host-side allocator: first fit, coalescing, growth (with views re-created), limits. */

import { describe, expect, it } from "vitest";
import { WasmHeap } from "../../src/kernels/memory.js";
import { kernels } from "./helpers.js";

const PAGE = 65536;

function heap(initialPages: number, maximumPages: number, base = 1024): WasmHeap {
  const memory = new WebAssembly.Memory({ initial: initialPages, maximum: maximumPages });
  return new WasmHeap(memory, base, maximumPages * PAGE);
}

describe("WasmHeap", () => {
  it("allocates aligned, non-overlapping blocks and reuses freed space first-fit", () => {
    const h = heap(1, 4);
    const a = h.alloc(100), b = h.alloc(1), c = h.alloc(4096, 4096);
    expect(a % 16).toBe(0);
    expect(c % 4096).toBe(0);
    expect(b).toBeGreaterThanOrEqual(a + 112);
    expect(h.stats().used).toBe(112 + 16 + 4096);
    h.free(a);
    expect(h.alloc(64)).toBe(a); // first fit: the hole a left
    expect(() => h.free(a + 8)).toThrow(/not a live allocation/);
  });

  it("coalesces neighbours so freed space can be handed out whole", () => {
    const h = heap(1, 1);
    const blocks = Array.from({ length: 8 }, () => h.alloc(4096));
    const before = h.stats().freeBlocks;
    for (const i of [1, 3, 2]) h.free(blocks[i]!); // middle pieces, out of order
    expect(h.stats().freeBlocks).toBe(before + 1);
    expect(h.alloc(3 * 4096)).toBe(blocks[1]);
    blocks.forEach((p, i) => i !== 1 && i !== 2 && i !== 3 && h.free(p));
    h.free(blocks[1]!);
    expect(h.stats().freeBlocks).toBe(1);
    expect(h.stats().used).toBe(0);
    expect(h.stats().largestFree).toBe(PAGE - 1024);
  });

  it("grows the memory when nothing fits, and fails clearly past the limit", () => {
    const h = heap(1, 8);
    const a = h.alloc(PAGE / 2);
    const big = h.alloc(3 * PAGE);
    expect(h.memory.buffer.byteLength).toBeGreaterThanOrEqual(big + 3 * PAGE);
    expect(h.stats().peak).toBe(PAGE / 2 + 3 * PAGE);
    expect(() => h.alloc(8 * PAGE)).toThrow(/out of wasm memory: cannot allocate .* limit/);
    h.free(a);
    h.free(big);
    expect(h.alloc(7 * PAGE)).toBe(1024); // everything coalesced back into one block
  });

  it("rejects bad arguments", () => {
    const h = heap(1, 1);
    expect(() => h.alloc(-1)).toThrow(/non-negative integer/);
    expect(() => h.alloc(16, 24)).toThrow(/power of two/);
    expect(() => new WasmHeap(new WebAssembly.Memory({ initial: 1 }), 8, PAGE)).toThrow(/aligned/);
  });
});

describe("Kernels memory", () => {
  it("copyIn / copyOut round-trip, and views made after a growth see the data", async () => {
    const k = await kernels({ initialBytes: PAGE * 4, maximumBytes: PAGE * 1024 });
    const src = Float32Array.from({ length: 1000 }, (_, i) => i * 0.5);
    const p = k.copyIn(src);
    const old = k.view("float32", p, 1000);
    const big = k.alloc(PAGE * 64); // forces growth: `old` is now detached
    expect(old.length).toBe(0);
    expect(Array.from(k.view("float32", p, 1000))).toEqual(Array.from(src));
    expect(Array.from(k.copyOut("float32", p, 1000))).toEqual(Array.from(src));
    k.free(big);
    k.free(p);
    expect(() => k.alloc(PAGE * 2048)).toThrow(/out of wasm memory/);
    expect(k.stats().maximum).toBeLessThanOrEqual(PAGE * 1024);
  });
});
