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
  it("puts deferred slots in on the first lookup, skipping released ones and slots reused since", () => {
    const t = table();
    const deferred = (key: string): number => {
      const slot = t.keys.length;
      t.keys[slot] = key;
      t.index.addDeferred(slot);
      return slot;
    };
    const a = deferred("a");
    const b = deferred("b");
    deferred("c");
    expect(t.index.size).toBe(3);
    // b goes before anything is looked up; its slot is reused by "d", indexed at once.
    t.index.delete("b");
    t.keys[b] = "d";
    t.index.set("d", b);
    expect(t.index.get("a")).toBe(a);
    expect(t.index.get("b")).toBeUndefined();
    expect(t.index.get("d")).toBe(b);
    expect([...t.index.keys()].sort()).toEqual(["a", "c", "d"]);
    expect(t.index.size).toBe(3);
    // Scans from the end find late keys at once; lookups that scan the whole list (absent keys)
    // put it into the map once they have cost twice its length.
    const map = () => (t.index as unknown as { map: Map<string, number> }).map;
    const late = Array.from({ length: 100 }, (_, i) => deferred(`late${i}`));
    expect(t.index.get("late99")).toBe(late[99]);
    expect(map().has("late99")).toBe(false);
    for (let i = 0; i < 2; i++) expect(t.index.get("absent")).toBeUndefined();
    expect(map().has("late0")).toBe(true);
    expect(t.index.get("late0")).toBe(late[0]);
    for (let i = 0; i < 100; i++) t.drop(`late${i}`);
    // Deferred again after everything went: a fresh start.
    for (const k of ["a", "c", "d"]) t.drop(k);
    expect(t.index.size).toBe(0);
    const e = deferred("e");
    expect([...t.index.values()]).toEqual([e]);
    expect(t.index.get("a")).toBeUndefined();
  });
});
