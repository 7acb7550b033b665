// Reading spilled values back into the memory of the values dropped for them (spill-recycle.ts):
// only buffers nothing else can see are reused, and a view kept anyway reads as empty.
import { afterEach, describe, expect, it } from "vitest";
import { pack } from "../../src/worker/peer.js";
import { MB, chunk, put, removeTempDisks, store, tempDisk } from "./spill-helpers.js";

afterEach(removeTempDisks);

describe("SpillStore read back into reused memory", () => {
  it("reads a borrowed value back into the buffer of one it drops for it", () => {
    const { s } = store({ disk: tempDisk() }); // target 6 MiB: 3 of the 2 MiB values fit
    const third = chunk(2, 3);
    for (let i = 0; i < 6; i++) put(s, `k${i}`, i === 3 ? third : chunk(2, i));
    // k0 comes back as a task's input; k3, never handed out, is written out for it and its
    // memory taken: the array held here (a view kept past the store) reads as empty.
    const first = s.borrow("k0") as Float64Array;
    expect(first.every((x) => x === 0)).toBe(true);
    expect(third.length).toBe(0);
    expect(first.buffer).not.toBe(third.buffer);
    s.unpin("k0");
    // k1 comes back where k0 was (k0 kept its file: dropped without a write).
    const spills = s.memory().spillCount;
    const second = s.borrow("k1") as Float64Array;
    s.unpin("k1");
    expect(second.every((x) => x === 1)).toBe(true);
    expect(first.length).toBe(0);
    expect(s.memory().spillCount).toBe(spills);
    // Both still come back whole from their files.
    expect((s.borrow("k0") as Float64Array).every((x) => x === 0)).toBe(true);
    s.unpin("k0");
    expect((s.borrow("k3") as Float64Array).every((x) => x === 3)).toBe(true);
    s.unpin("k3");
    expect(s.nbytes).toBeLessThanOrEqual(6 * MB);
    s.close();
  });

  it("never reuses a value it handed out unpinned (a peer's fetch, a gather)", () => {
    const { s } = store({ disk: tempDisk() });
    for (let i = 0; i < 6; i++) put(s, `k${i}`, chunk(2, i));
    const held = [3, 4, 5].map((i) => s.get(`k${i}`) as Float64Array);
    // Reading k0 back drops k3 (the least recently used): written out, but its memory stays its own.
    expect((s.borrow("k0") as Float64Array)[0]).toBe(0);
    s.unpin("k0");
    expect(s.isSpilled("k3")).toBe(true);
    held.forEach((a, j) => expect(a.length === (2 * MB) / 8 && a.every((x) => x === j + 3)).toBe(true));
    s.close();
  });

  it("packs several spilled values for a peer whole, though reading each drops the one before", () => {
    const { s } = store({ disk: tempDisk() });
    for (let i = 0; i < 8; i++) put(s, `k${i}`, chunk(2, i));
    const { values, missing } = pack(s, ["k0", "k1", "k2", "k3", "k4"], () => false);
    expect(missing).toEqual([]);
    values.forEach((v, i) => {
      const a = v as Float64Array;
      expect(a.length).toBe((2 * MB) / 8);
      expect(a.every((x) => x === i)).toBe(true);
    });
    s.close();
  });

  it("never reuses a buffer another stored value views in part (a slice of a column)", () => {
    const { s } = store({ disk: tempDisk() }); // target 6 MiB
    for (let i = 0; i < 3; i++) put(s, `k${i}`, chunk(2, i));
    const base = chunk(2, 7);
    base[1000] = 8;
    put(s, "base", base); // k0 goes
    put(s, "slice", { column: base.subarray(1000, 2000) }); // k1 goes
    s.borrow("k2"); // k2 last in the LRU order: base goes first now
    s.unpin("k2");
    // Reading k0 back drops base (not aliased: the slice owns no whole buffer), whose buffer
    // the slice still views: written out, not reused.
    expect((s.borrow("k0") as Float64Array)[0]).toBe(0);
    s.unpin("k0");
    expect(s.isSpilled("base")).toBe(true);
    const slice = (s.get("slice") as { column: Float64Array }).column;
    expect(slice.length).toBe(1000);
    expect(slice[0]).toBe(8);
    expect(slice[999]).toBe(7);
    expect((s.get("base") as Float64Array)[1000]).toBe(8);
    s.close();
  });
});
