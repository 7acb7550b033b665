// The spilling chunk store and the runtime's pause (pure: one runtime, no threads).
import { readdirSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { NEVER_SPILL_BYTES, SpillStore } from "../../src/worker/spill-store.js";
import type { SpillDisk } from "../../src/worker/spill-disk.js";
import { REFS, RELEASE, RETAIN } from "../../src/worker/resource.js";
import { sizeOf } from "../../src/worker/store.js";
import { WorkerRuntime } from "../../src/worker/runtime.js";
import type { FromWorker, Report } from "../../src/worker/protocol.js";
import { parseBytes, parseThresholds } from "../../src/cluster/options.js";
import { WasmChunk, reviveWasmChunk } from "../../src/array/block.js";
import { configureKernels, getKernels } from "../../src/kernels/instance.js";
import { readWasm } from "../../src/kernels/node.js";
import { MB, chunk, flakyDisk, put, removeTempDisks, store, tempDisk } from "./spill-helpers.js";

afterEach(removeTempDisks);

describe("SpillStore", () => {
  it("spills least recently used values past target and reads them back bit for bit", () => {
    const disk = tempDisk();
    const { s } = store({ disk }); // target 6 MiB
    for (let i = 0; i < 5; i++) put(s, `k${i}`, chunk(2, i));
    expect(["k0", "k1"].map((k) => s.isSpilled(k))).toEqual([true, true]);
    s.get("k0"); // read back (k2 goes to make room): k0 keeps its file
    expect(s.isSpilled("k2")).toBe(true);
    put(s, "k5", chunk(2, 5));
    // Room for k5 is made by dropping k0, which has its file still: nothing is written, where
    // the least recently used (k3, never written) would have cost a write.
    expect(s.nbytes).toBeLessThanOrEqual(6 * MB);
    expect(["k0", "k1", "k2"].map((k) => s.isSpilled(k))).toEqual([true, true, true]);
    expect(["k3", "k4", "k5"].map((k) => s.isSpilled(k))).toEqual([false, false, false]);
    expect(disk.written).toBe(3);
    expect(s.memory().spillCount).toBe(3);
    const back = s.get("k2") as Float64Array;
    expect(back).toEqual(chunk(2, 2));
    expect(s.isSpilled("k2")).toBe(false);
    expect(s.isSpilled("k3")).toBe(true); // nothing clean to drop but k2, in use: the LRU goes
    expect(s.nbytes).toBeLessThanOrEqual(6 * MB);
    const m = s.memory();
    expect(m.managed).toBe(s.nbytes);
    expect(m.managedKeys + m.spilledKeys).toBe(6);
    expect(m.spilled).toBe(m.spilledKeys * 2 * MB);
    expect(m.unspillCount).toBe(2); // k0, k2
    // Each value is written once: one that came back and went out again reuses its region.
    const files = disk.written;
    expect(m.spillCount).toBe(files);
    expect(files).toBe(m.spilledKeys + 1); // k2, read back, keeps its region too
    expect(m.unspillBytes).toBe(4 * MB);
    expect(m.spillTo).toBe(disk.where);
    expect(m.paused).toBe(false);
    // Deleting a spilled key frees its region; close removes the directory.
    s.delete("k1");
    expect(s.has("k1")).toBe(false);
    expect(disk.written).toBe(files - 1);
    s.delete("k2"); // in memory, with a copy on disk: the copy goes too
    expect(disk.written).toBe(files - 2);
    s.close();
    expect(existsSync(disk.where)).toBe(false);
  });

  it("reads a scan of spilled values back without writing the values that never left memory", () => {
    const disk = tempDisk();
    const { s } = store({ disk }); // target 6 MiB: 3 of the 2 MiB values fit
    for (let i = 0; i < 8; i++) put(s, `k${i}`, chunk(2, i));
    const written = s.memory().spillCount;
    expect(written).toBe(5);
    // Read every value once, in order, as a reduction over persisted partitions does.
    for (let i = 0; i < 8; i++) expect((s.get(`k${i}`) as Float64Array)[0]).toBe(i);
    // One of the three that never left memory is written to make room for the first read
    // back; after that, each read back makes room by dropping the one before it.
    expect(s.memory().spillCount).toBe(written + 1);
    s.close();
  });

  it("makes room before it reads a value back, so the read never holds more than target", () => {
    const inner = tempDisk();
    let heldAtRead = -1;
    let s!: SpillStore;
    // Record what the store holds in memory when it starts reading a value back.
    const disk: SpillDisk = {
      where: inner.where,
      write: inner.write.bind(inner),
      read: (name, fn) => ((heldAtRead = Math.max(heldAtRead, s.nbytes)), inner.read(name, fn)),
      remove: inner.remove.bind(inner),
      close: inner.close.bind(inner),
    };
    s = store({ disk }).s; // target 6 MiB: 3 of the 2 MiB values fit
    for (let i = 0; i < 6; i++) put(s, `k${i}`, chunk(2, i));
    for (let i = 0; i < 6; i++) expect((s.get(`k${i}`) as Float64Array)[0]).toBe(i);
    // Reading a 2 MiB value back starts with at most 4 MiB held: the 6 MiB target, less its size.
    expect(heldAtRead).toBe(4 * MB);
    expect(s.nbytes).toBeLessThanOrEqual(6 * MB);
    s.close();
  });

  it("never spills a pinned value (in use by a task) or an aliased one", () => {
    const { s } = store({ disk: tempDisk() });
    const shared = chunk(2, 9);
    put(s, "a", shared);
    put(s, "alias", shared);
    put(s, "p", chunk(2, 1));
    s.pin("p");
    for (let i = 0; i < 4; i++) put(s, `x${i}`, chunk(2, i));
    expect(s.isSpilled("a") || s.isSpilled("alias") || s.isSpilled("p")).toBe(false);
    expect(s.memory().spilledKeys).toBe(4); // the x's went instead, though more recent
    s.unpin("p");
    put(s, "y", chunk(2, 5));
    expect(s.isSpilled("p")).toBe(true); // unpinned, and the least recently used
    expect(s.isSpilled("y")).toBe(false);
  });

  it("never spills values under NEVER_SPILL_BYTES, but counts them, and spills the big ones around them", () => {
    const { s } = store({ disk: tempDisk() });
    const small = new Float64Array(NEVER_SPILL_BYTES / 8 - 1); // just under
    put(s, "n", 42);
    put(s, "small", small);
    s.pin("n"); // a no-op for a value that never spills; unpin must not mind
    for (let i = 0; i < 8; i++) put(s, `x${i}`, chunk(2, i));
    expect(s.isSpilled("n") || s.isSpilled("small")).toBe(false);
    expect(s.isSpilled("x0")).toBe(true); // the oldest big one went, not the older small ones
    const m = s.memory();
    expect(m.managedKeys + m.spilledKeys).toBe(10);
    expect(m.managed).toBe(sizeOf(42) + small.byteLength + (10 - m.spilledKeys - 2) * 2 * MB);
    s.unpin("n");
    expect(s.get("n")).toBe(42);
    expect(s.get("small")).toBe(small);
    expect(s.delete("small") && s.delete("n")).toBe(true);
    expect(s.memory().managedKeys).toBe(8 - s.memory().spilledKeys);
  });

  it("releases a wasm-memory value it spills; it comes back as plain data", () => {
    const { s } = store({ disk: tempDisk() });
    let refs = 0;
    const data = new Float64Array(1000).fill(7);
    const res = {
      dtype: "float64",
      shape: [1000],
      nbytes: 4 * MB,
      [RETAIN]: () => void refs++,
      [RELEASE]: () => void refs--,
      get [REFS]() {
        return refs;
      },
      [Symbol.for("tessera.wireView")]: () => ({ dtype: "float64", shape: [1000], data }),
    };
    put(s, "r", res);
    expect(refs).toBe(1);
    put(s, "y", chunk(4, 1)); // 8 MiB > 6: r (least recent) goes
    expect(s.isSpilled("r")).toBe(true);
    expect(refs).toBe(0);
    expect(s.get("r")).toEqual({ dtype: "float64", shape: [1000], data });
  });

  it("keeps a value it cannot write in memory, counted, and says why once", () => {
    const { s, warnings } = store({ disk: tempDisk() });
    class Opaque {
      big = chunk(4, 0);
    }
    s.put("o", new Opaque(), 4 * MB);
    put(s, "y", chunk(4, 1));
    expect(s.isSpilled("o")).toBe(false);
    expect(s.memory().unspillableKeys).toBe(1);
    expect(warnings.join()).toMatch(/keeps o in memory: spill: cannot write a Opaque/);
  });

  it("keeps values in memory when the disk fails, reports it, pauses, and resumes when memory goes", async () => {
    const disk = flakyDisk(tempDisk());
    const { s, warnings } = store({ disk }); // pause at 8 MiB
    let resumed = 0;
    s.onResume = () => resumed++;
    for (let i = 0; i < 4; i++) put(s, `k${i}`, chunk(2, i));
    expect(s.paused).toBe(false);
    put(s, "k4", chunk(2, 4)); // 10 MiB: nothing could be spilled
    expect(s.paused).toBe(true);
    const m = s.memory();
    expect(m.spillErrors).toBeGreaterThan(0);
    expect(m.lastSpillError).toMatch(/could not spill k0 .* ENOSPC: no space left on device, write; it stays in memory/);
    expect(m.spilledKeys).toBe(0);
    expect(warnings.some((w) => /ENOSPC/.test(w))).toBe(true);
    expect(warnings.some((w) => /paused/.test(w))).toBe(true);
    // The disk recovers: the store writes again after its pause and resumes by itself.
    disk.on = false;
    await new Promise((r) => setTimeout(r, 1100));
    expect(s.paused).toBe(false);
    expect(resumed).toBe(1);
    expect(s.nbytes).toBeLessThanOrEqual(6 * MB);
    for (let i = 0; i < 5; i++) expect((s.get(`k${i}`) as Float64Array)[0]).toBe(i);
    s.close();
  });

  it("drops a key whose spill file was cut short, as missing (the scheduler recomputes it)", () => {
    const disk = tempDisk();
    const { s, warnings } = store({ disk });
    for (let i = 0; i < 4; i++) put(s, `k${i}`, chunk(2, i));
    expect(s.isSpilled("k0")).toBe(true);
    for (const f of readdirSync(disk.where)) writeFileSync(join(disk.where, f), "garbage");
    expect(s.get("k0")).toBeUndefined();
    expect(s.has("k0")).toBe(false);
    // Cut to 7 bytes, then extended by the value written to make room: k0's bytes are not a spill.
    expect(warnings.join()).toMatch(/could not read spilled k0 back from .*: spill: not a spill file \(bad magic number\); the key is dropped/);
  });

  it("spills harder when the measured memory is over the spill threshold", () => {
    let measured = 0;
    const { s } = store({ disk: tempDisk(), measure: () => measured });
    put(s, "a", chunk(2, 1));
    put(s, "b", chunk(2, 2)); // 4 MiB managed: under target
    expect(s.isSpilled("a")).toBe(false);
    measured = 9 * MB; // e.g. 5 MiB of garbage and buffers outside the store
    s.memory(); // a fresh measurement (they are taken at most every 100 ms)...
    put(s, "c", chunk(1, 3)); // ...acted on at the next store
    expect(s.memory().measured).toBe(9 * MB);
    // 9 MiB measured, 6 MiB target: 3 MiB must go, least recent first.
    expect([s.isSpilled("a"), s.isSpilled("b"), s.isSpilled("c")]).toEqual([true, true, false]);
    expect(s.memory().unmanaged).toBe(9 * MB - 1 * MB);
  });

  it("does not spill for the buffers it let go of that the collector has not freed yet", () => {
    // The measurement counts every value spilled so far, as V8's does until a collection runs
    // (this test holds them all, so none is ever collected).
    let spilledOut = 0;
    const held: Float64Array[] = [];
    const { s } = store({ disk: tempDisk(), measure: () => s.nbytes + spilledOut });
    for (let i = 0; i < 12; i++) {
      s.memory(); // a fresh measurement before each store (taken at most every 100 ms)
      const v = chunk(2, i);
      held.push(v);
      put(s, `k${i}`, v);
      spilledOut = held.filter((_, j) => s.isSpilled(`k${j}`)).length * 2 * MB;
    }
    // Target (6 MiB) keeps three 2 MiB values in memory; the garbage does not push them out.
    expect(s.nbytes).toBe(6 * MB);
    expect([9, 10, 11].every((i) => !s.isSpilled(`k${i}`))).toBe(true);
    expect(s.memory().uncollected).toBe(9 * 2 * MB);
    s.close();
  });

  it("does not count as garbage a buffer another stored value still holds", () => {
    const { s } = store({ disk: tempDisk(), measure: () => s.nbytes });
    const shared = chunk(2, 1);
    put(s, "a", shared);
    put(s, "b", { column: shared }); // e.g. a select() of a frame: the same buffer
    s.delete("a");
    expect(s.memory().uncollected).toBe(0);
    s.delete("b"); // the last owner: garbage now, until collected (this test still holds it)
    expect(s.memory().uncollected).toBe(2 * MB);
    s.close();
  });

  it("asks to be replaced over terminate only when spilling and a garbage collection do not help", () => {
    let measured = 2 * MB;
    let collected = 0;
    let garbage = 0;
    const warnings: string[] = [];
    const s = new SpillStore({
      worker: "w-term",
      limit: 10 * MB, // terminate at 9.5 MiB
      thresholds: parseThresholds({ target: 0.6, spill: false, pause: false }),
      disk: tempDisk(),
      measure: () => measured + garbage,
      collectGarbage: () => {
        collected++;
        garbage = 0;
      },
      warn: (m) => warnings.push(m),
    });
    s.setRestMemory(2 * MB);
    expect(s.overTerminate(true)).toBeUndefined();
    expect(collected).toBe(0); // under the threshold: no collection
    // Garbage alone: collected, and the worker stays.
    garbage = 8 * MB;
    expect(s.overTerminate(true)).toBeUndefined();
    expect(collected).toBe(1);
    // Stored values can go to disk: over the threshold with them counted, under without.
    put(s, "stored", chunk(4, 1));
    measured = 8 * MB + 4 * MB;
    expect(s.overTerminate(true)).toBeUndefined();
    s.delete("stored");
    // Memory nothing can free: the reason names the worker, the measure and the threshold.
    measured = 10 * MB;
    expect(s.overTerminate(true)).toMatch(
      /worker w-term uses 10\.0 MiB, 10\.0 MiB of it outside stored values, over its terminate threshold \(9\.5 MiB, 0\.95 of memoryLimit 10\.0 MiB\)/,
    );
    // A limit under twice the worker's own footprint: never acted on, said once.
    s.setRestMemory(6 * MB);
    expect(s.overTerminate(true)).toBeUndefined();
    expect(s.overTerminate(true)).toBeUndefined();
    expect(warnings.filter((w) => /does not act on its terminate threshold.*uses 6\.0 MiB at rest/.test(w))).toHaveLength(1);
  });

  it("reads array blocks that were in wasm memory back into it, and frees them with their key", async () => {
    configureKernels({ source: () => readWasm() });
    const k = await getKernels();
    // target 2.4 MiB: of four 1 MiB blocks, the oldest go to disk
    const s = new SpillStore({ worker: "w-wasm", limit: 4 * MB, disk: tempDisk(), revive: reviveWasmChunk, warn: () => {} });
    const base = k.stats().used;
    const blocks = [0, 1, 2, 3].map((i) => {
      const b = WasmChunk.alloc(k, "float64", [MB / 8]); // 1 MiB each
      b.view().fill(i + 0.5);
      return b;
    });
    blocks.forEach((b, i) => s.put(`b${i}`, b, b.nbytes));
    const spilled = [0, 1, 2, 3].filter((i) => s.isSpilled(`b${i}`));
    expect(spilled.length).toBeGreaterThan(0);
    expect(blocks[spilled[0]!]![REFS]).toBe(0); // released (freed) when it went to disk
    for (const i of spilled) {
      const back = s.get(`b${i}`) as WasmChunk;
      expect(back).toBeInstanceOf(WasmChunk);
      expect(back[REFS]).toBe(1); // the store holds it
      expect(back.view()[MB / 8 - 1]).toBe(i + 0.5);
    }
    for (let i = 0; i < 4; i++) s.delete(`b${i}`);
    expect(k.stats().used).toBe(base);
    s.close();
  });

  it("sends one value bigger than target straight to disk rather than pausing", () => {
    const { s } = store({ disk: tempDisk() });
    put(s, "big", chunk(9, 1));
    expect(s.isSpilled("big")).toBe(true);
    expect(s.paused).toBe(false);
    expect((s.get("big") as Float64Array)[0]).toBe(1); // back for a moment, then out again
    expect(s.isSpilled("big")).toBe(false);
    put(s, "small", chunk(1, 2));
    expect(s.isSpilled("big")).toBe(true);
  });

  it("turns thresholds off with false", () => {
    const { s } = store({ disk: tempDisk(), thresholds: { target: false, spill: false, pause: false } });
    for (let i = 0; i < 8; i++) put(s, `k${i}`, chunk(2, i));
    expect(s.memory().spilledKeys).toBe(0);
    expect(s.paused).toBe(false);
  });
});

describe("runtime pause", () => {
  it("starts no task and fetches nothing while paused, and picks up when memory frees", async () => {
    const disk = flakyDisk(tempDisk());
    const { s } = store({ disk, thresholds: { target: 0.5, spill: false, pause: 0.6 } });
    const reports: Report[] = [];
    const rt = new WorkerRuntime({ id: "w", allowSource: false, post: (m: FromWorker) => m.t === "report" && reports.push(m), store: s });
    rt.handle({ t: "put", id: 1, keys: ["a", "b", "c", "d"], values: [chunk(2, 1), chunk(2, 2), chunk(2, 3), chunk(2, 4)] });
    expect(s.paused).toBe(true);
    const fetchPort = new MessageChannel();
    const asked: unknown[] = [];
    fetchPort.port2.onmessage = (ev) => asked.push(ev.data);
    rt.connectPeer("peer", fetchPort.port1);
    rt.handle({
      t: "batch",
      compute: {
        keys: ["x-1", "y-1"],
        refs: [1, 2],
        ops: ["tessera.identity", "tessera.identity"],
        args: [[{ $: 0, k: "a" }], [{ $: 0, k: "far" }]],
        depTask: [1],
        depKey: ["far"],
        depHolders: ["peer"],
        depBytes: [8],
        depMove: [false],
      },
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(reports.flatMap((r) => r.done)).toEqual([]);
    expect(asked).toEqual([]);
    rt.handle({ t: "batch", free: ["b", "c"] }); // 4 MiB: under pause
    await new Promise((r) => setTimeout(r, 30));
    expect(s.paused).toBe(false);
    expect(reports.flatMap((r) => r.done)).toEqual(["x-1"]);
    expect(asked).toMatchObject([{ t: "fetch", keys: ["far"] }]);
    rt.close();
    fetchPort.port2.close();
  });

  it("pins a task's inputs while it runs and lets them go after", () => {
    const { s } = store({ disk: tempDisk() });
    const rt = new WorkerRuntime({ id: "w", allowSource: false, post: () => {}, store: s });
    let seenPinned = false;
    rt.registry.register("t.check", (a: Float64Array) => {
      // While this runs, storing more cannot push its input out.
      for (let i = 0; i < 4; i++) s.put(`more${i}`, chunk(2, i), 2 * MB);
      seenPinned = !s.isSpilled("in");
      return a.length;
    });
    s.put("in", chunk(2, 5), 2 * MB);
    rt.handle({ t: "batch", compute: { keys: ["r-1"], refs: [1], ops: ["t.check"], args: [[{ $: 0, k: "in" }]] } });
    return new Promise<void>((resolve) =>
      setTimeout(() => {
        expect(seenPinned).toBe(true);
        rt.close();
        resolve();
      }, 20),
    );
  });
});

describe("memory options", () => {
  it("parses byte sizes and says what is wrong", () => {
    expect(parseBytes("2GB")).toBe(2e9);
    expect(parseBytes("512MiB")).toBe(512 * MB);
    expect(parseBytes(" 1.5 gib ")).toBe(1.5 * 2 ** 30);
    expect(() => parseBytes("lots")).toThrow(/memoryLimit: cannot parse "lots"/);
    expect(() => parseBytes(-1)).toThrow(/memoryLimit must be a positive number of bytes, got -1/);
  });

  it("fills in Dask's defaults and validates thresholds", () => {
    expect(parseThresholds(undefined)).toEqual({ target: 0.6, spill: 0.7, pause: 0.8, terminate: 0.95 });
    expect(parseThresholds({ target: 0.5, terminate: false })).toEqual({ target: 0.5, spill: 0.7, pause: 0.8, terminate: false });
    expect(() => parseThresholds({ taget: 0.5 } as never)).toThrow(/memory.taget is not a memory threshold; the thresholds are target, spill, pause, terminate/);
    expect(() => parseThresholds({ pause: 80 })).toThrow(/memory.pause must be a fraction of memoryLimit in \(0, 1\], or false/);
    expect(() => parseThresholds({ target: 0.9 })).toThrow(/memory.target \(0.9\) must not be above memory.spill \(0.7\)/);
    expect(parseThresholds({ target: 0.9, spill: false, pause: false })).toMatchObject({ target: 0.9 });
  });
});
