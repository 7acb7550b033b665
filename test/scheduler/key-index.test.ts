// The scheduler's key index: lazy deletion must never answer with a slot that is not the key's.
import { describe, expect, it } from "vitest";
import { KeyIndex } from "../../src/scheduler/key-index.js";

/** A slot table as the scheduler's: released slots lose their key, and are reused. */
function table() {
  const keys: (string | undefined)[] = [];
  const free: number[] = [];
  const index = new KeyIndex((slot) => keys[slot]);
  return {
    index,
    add(key: string): number {
      const slot = free.pop() ?? keys.length;
      keys[slot] = key;
      index.set(key, slot);
      return slot;
    },
    drop(key: string): void {
      const slot = index.get(key)!;
      index.delete(key);
      keys[slot] = undefined;
      free.push(slot);
    },
    keys,
  };
}

describe("KeyIndex", () => {
  it("answers only for live keys, through slot reuse, re-adding and compaction", () => {
    const t = table();
    const a = t.add("a");
    t.add("b");
    expect(t.index.get("a")).toBe(a);
    t.drop("a");
    expect(t.index.get("a")).toBeUndefined();
    const c = t.add("c"); // reuses a's slot
    expect(c).toBe(a);
    expect(t.index.get("a")).toBeUndefined();
    expect(t.index.get("c")).toBe(c);
    t.add("a"); // back, on a new slot
    expect(t.index.get("a")).not.toBe(c);
    expect(t.keys[t.index.get("a")!]).toBe("a");
    expect(t.index.size).toBe(3);
    // Many drops: compaction keeps exactly the live ones.
    for (let i = 0; i < 5000; i++) t.add(`k${i}`);
    for (let i = 0; i < 5000; i += 2) t.drop(`k${i}`);
    for (let i = 0; i < 5000; i++) {
      const slot = t.index.get(`k${i}`);
      if (i % 2 === 0) expect(slot).toBeUndefined();
      else expect(t.keys[slot!]).toBe(`k${i}`);
    }
    expect(t.index.size).toBe(3 + 2500);
    expect([...t.index.values()].map((s) => t.keys[s]).sort()).toEqual(
      ["a", "b", "c", ...Array.from({ length: 2500 }, (_, j) => `k${2 * j + 1}`)].sort(),
    );
    expect([...t.index.keys()].sort()).toEqual([...t.index.values()].map((s) => t.keys[s]).sort());
    for (const k of ["a", "b", "c"]) t.drop(k);
    for (let i = 1; i < 5000; i += 2) t.drop(`k${i}`);
    expect(t.index.size).toBe(0);
    expect([...t.index.values()]).toEqual([]);
  });

  it("compacts when stale entries far outnumber live ones, and starts afresh when none is live", () => {
    const t = table();
    for (let i = 0; i < 20000; i++) t.add(`k${i}`);
    // Keep every 16th: 1250 live, 18750 stale, past 8 to 1, so the live ones moved.
    for (let i = 0; i < 20000; i++) if (i % 16 !== 0) t.drop(`k${i}`);
    const map = (t.index as unknown as { map: Map<string, number> }).map;
    expect(map.size).toBeLessThan(20000);
    for (let i = 0; i < 20000; i += 1) {
      const slot = t.index.get(`k${i}`);
      if (i % 16 === 0) expect(t.keys[slot!]).toBe(`k${i}`);
      else expect(slot).toBeUndefined();
    }
    for (let i = 0; i < 20000; i += 16) t.drop(`k${i}`);
    expect((t.index as unknown as { map: Map<string, number> }).map.size).toBe(0);
    const again = t.add("k0"); // a reused slot, a fresh map
    expect(t.index.get("k0")).toBe(again);
    expect(t.index.size).toBe(1);
  });
});
