import { describe, expect, it } from "vitest";
import { TaskTable } from "../../src/scheduler/table.js";

describe("the scheduler's task table", () => {
  it("hands out slots from 0 again once it is empty, with fresh refs", () => {
    const t = new TaskTable();
    const slots = Array.from({ length: 6 }, (_, i) => t.alloc(`k-${i}`, null, 0, 0, i));
    expect(slots).toEqual([0, 1, 2, 3, 4, 5]);
    const oldRefs = slots.map((s) => t.ref(s));
    // Forgotten out of order, as a tree reduction forgets its leaves.
    for (const s of [3, 0, 5, 1]) t.release(s);
    t.flushFree();
    // Still live: freed slots are reused (most recently freed first).
    expect(t.alloc("k-6", null, 0, 0, 6)).toBe(1);
    for (const s of [1, 2, 4]) t.release(s);
    t.flushFree();
    // Empty: slots start from 0 again, in order, and no old ref names a new task.
    const again = Array.from({ length: 3 }, (_, i) => t.alloc(`j-${i}`, null, 0, 0, i));
    expect(again).toEqual([0, 1, 2]);
    for (const r of oldRefs) expect(t.deref(r)).toBe(-1);
    expect(t.deref(t.ref(again[0]!))).toBe(0);
  });
});
