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

  it("keeps wire refs small integers however often a slot is reused, and never takes a stale one for a new task", () => {
    const t = new TaskTable();
    t.alloc("keep-1", null, 0, 0, 0); // slot 0 stays live, so slot 1 is reused
    let slot = t.alloc("k-0", null, 0, 0, 1);
    const first = t.wireRef(slot);
    let sameBits = -1;
    for (let i = 1; i <= 300; i++) {
      t.release(slot);
      t.flushFree();
      slot = t.alloc(`k-${i}`, null, 0, 0, 1 + i);
      expect(slot).toBe(1);
      const ref = t.wireRef(slot);
      expect(ref).toBeLessThan(2 ** 31);
      expect(t.ref(slot)).toBeGreaterThan(0);
      expect(t.derefWire(ref, `k-${i}`)).toBe(1);
      if (ref === first && sameBits < 0) sameBits = i;
    }
    // The generation bits came round (64 reuses): the old ref names the slot again, but not its task.
    expect(sameBits).toBe(64);
    expect(t.derefWire(first, "k-0")).toBe(-1);
    // Full refs, which the scheduler keeps internally, do not come round.
    expect(t.ref(slot)).toBeGreaterThan(2 ** 31);
    // Junk from a worker names nothing.
    for (const junk of [-1, 2 ** 40, 1.5, NaN]) expect(t.derefWire(junk, "k-300")).toBe(-1);
  });
});
