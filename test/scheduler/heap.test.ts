import { describe, expect, it } from "vitest";
import { Heap } from "../../src/scheduler/heap.js";

describe("Heap", () => {
  it("pops in order for sorted, reversed and random pushes, interleaved with pops", () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (const gen of [(i: number) => i, (i: number) => -i, () => Math.floor(rand() * 1000)]) {
      const h = new Heap<number>((a, b) => a < b);
      const ref: number[] = [];
      const popped: number[] = [];
      const expected: number[] = [];
      for (let i = 0; i < 2000; i++) {
        const v = gen(i);
        h.push(v);
        ref.push(v);
        if (i % 3 === 2) {
          ref.sort((a, b) => a - b);
          expected.push(ref.shift()!);
          popped.push(h.pop()!);
        }
      }
      ref.sort((a, b) => a - b);
      expect(h.size).toBe(ref.length);
      expect(h.peek()).toBe(ref[0]);
      while (h.size) popped.push(h.pop()!);
      expect(popped).toEqual([...expected, ...ref]);
      expect(h.pop()).toBeUndefined();
    }
  });
});
