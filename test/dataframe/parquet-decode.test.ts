/**
 * The Parquet reader's fast paths against its plain ones: dictionary pages decoded in wasm
 * (parquet-dict.ts, assembly/parquet.ts), snappy pages decoded straight into the column
 * (snappyDecompressSplit), and column buffers reused through the pool (parquet-pool.ts) only once
 * no stored value owns them.
 */

import { readdirSync } from "node:fs";
import { snappyCompress } from "hyparquet-writer/src/snappy.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectColumns, type Frame } from "../../src/dataframe/frame.js";
import { resolveParquet } from "../../src/dataframe/io/parquet.js";
import { ColumnBuilder } from "../../src/dataframe/io/parquet-convert.js";
import { dictDecodeInto, dictPrepare } from "../../src/dataframe/io/parquet-dict.js";
import { poolStats, POOL_MIN, setPooling } from "../../src/dataframe/io/parquet-pool.js";
import { readParquetPart } from "../../src/dataframe/io/parquet-read.js";
import { decodeHybrid } from "../../src/dataframe/io/parquet-rle.js";
import { decoderKernels, prepareSnappy, setDecoderKernels, snappyDecompress, snappyDecompressSplit } from "../../src/dataframe/io/parquet-snappy.js";
import type { Kernels } from "../../src/kernels/kernels.js";
import { configureKernels } from "../../src/kernels/instance.js";
import { readWasm } from "../../src/kernels/node.js";
import { sizeOf } from "../../src/worker/store.js";
import { SpillStore } from "../../src/worker/spill-store.js";
import { MemoryStore } from "../../src/worker/store.js";
import { REFS, RELEASE, isResource, type Resource } from "../../src/worker/resource.js";
import { TESTING, columnsOf, readAll, rng, sortedFile } from "./parquet-helpers.js";

let kernels: Kernels;

beforeAll(async () => {
  configureKernels({ source: () => readWasm() });
  await prepareSnappy();
  const k = decoderKernels();
  if (!k) throw new Error("no kernels for the decoder: build/tessera.wasm lacks snappyDecode (npm run build:wasm)");
  kernels = k;
});

/** Frame or error message, read with the kernels or without. */
async function both(path: string): Promise<[unknown, unknown]> {
  const read = async (k: Kernels | null) => {
    setDecoderKernels(k);
    try {
      return columnsOf(await readAll(path));
    } catch (err) {
      return { error: (err as Error).message };
    } finally {
      setDecoderKernels(kernels);
    }
  };
  return [await read(null), await read(kernels)];
}

describe("readParquet: wasm paths give what the JS paths give", () => {
  for (const dir of ["data", "bad_data"]) {
    const files = readdirSync(`${TESTING}${dir}`).filter((f) => f.endsWith(".parquet")).sort();
    it(`every file of parquet-testing/${dir}`, async () => {
      expect(files.length).toBeGreaterThan(5);
      for (const f of files) {
        const [js, wasm] = await both(`${TESTING}${dir}/${f}`);
        expect(wasm, f).toEqual(js);
      }
    }, 120_000);
  }
});

/** The RLE / bit-packing hybrid of `values` (each < 2^width): runs of 8 or more equal values as RLE, the rest bit-packed in runs of many groups. */
function encodeHybrid(values: readonly number[], width: number): Uint8Array {
  const out: number[] = [];
  const varint = (v: number) => {
    while (v >= 0x80) {
      out.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(v);
  };
  const bytes = (width + 7) >> 3;
  let i = 0;
  while (i < values.length) {
    let run = 1;
    while (i + run < values.length && values[i + run] === values[i]) run++;
    if (run >= 8 || i + run === values.length) {
      varint(run * 2);
      for (let b = 0; b < bytes; b++) out.push(Math.floor(values[i]! / 2 ** (8 * b)) & 0xff);
      i += run;
      continue;
    }
    // Groups of 8 values bit-packed in one run (padded with zeros past the end), as writers do,
    // until 8 equal values come that an RLE run takes better.
    const repeats = (at: number) => {
      let r = 1;
      while (at + r < values.length && values[at + r] === values[at]) r++;
      return r;
    };
    let groups = 1;
    while (i + 8 * groups < values.length && repeats(i + 8 * groups) < 8) groups++;
    varint(groups * 2 + 1);
    for (let g = 0; g < groups; g++, i += 8) {
      let acc = 0n;
      for (let k = 0; k < 8; k++) acc |= BigInt(values[i + k] ?? 0) << BigInt(k * width);
      for (let b = 0; b < width; b++) out.push(Number((acc >> BigInt(8 * b)) & 0xffn));
    }
  }
  return Uint8Array.from(out);
}

function builderWith(table: Int32Array | Float64Array, n: number): ColumnBuilder {
  const b = new ColumnBuilder("x", "number", { type: table instanceof Int32Array ? "int32" : "float64" }, n);
  b.startChunk();
  b.setDictionary(table);
  return b;
}

describe("dictDecode (wasm): dictionary indices looked up as they are decoded", () => {
  it("matches the indices' table values for bit widths 0 to 32, RLE and bit-packed runs", () => {
    const r = rng(7);
    for (const width of [0, 1, 2, 3, 5, 8, 10, 13, 16, 17, 24, 31, 32]) {
      for (const Table of [Int32Array, Float64Array]) {
        const size = width === 0 ? 1 : Math.min(2 ** width, 5000);
        const table = Table === Int32Array ? Int32Array.from({ length: size }, (_, i) => i * 7 - 3) : Float64Array.from({ length: size }, (_, i) => i / 3);
        const n = 1000 + Math.floor(r() * 3000);
        const ix: number[] = [];
        while (ix.length < n) {
          const v = Math.floor(r() * size);
          const rep = r() < 0.2 ? 1 + Math.floor(r() * 40) : 1;
          for (let k = 0; k < rep && ix.length < n; k++) ix.push(v);
        }
        const page = Uint8Array.from([99, width, ...encodeHybrid(ix, width)]);
        const b = builderWith(table, n);
        expect(dictPrepare(b, page.length, n)).toBe(true);
        expect(dictDecodeInto(page, 1, page.length, n, b), `width ${width}`).toBe(true);
        expect(Array.from(b.finish().data as ArrayLike<number>), `width ${width}`).toEqual(ix.map((j) => table[j]));
      }
    }
  });

  it("refuses, writing no row, an index past the dictionary or data cut short", () => {
    const table = new Int32Array([10, 20, 30]);
    const ok = [0, 1, 2, 1, 0, 2, 2, 1, 0, 1];
    const bad = [0, 1, 3, 1, 0, 2, 2, 1, 0, 1];
    const good = Uint8Array.from([2, ...encodeHybrid(ok, 2)]);
    for (const page of [Uint8Array.from([2, ...encodeHybrid(bad, 2)]), good.subarray(0, good.length - 2), Uint8Array.from([33, 1, 2])]) {
      const b = builderWith(table, 10);
      expect(dictPrepare(b, page.length, 10)).toBe(true);
      expect(dictDecodeInto(page, 0, page.length, 10, b)).toBe(false);
      // The JS decoder, which the reader falls back to, names what is wrong.
      if (page[0]! <= 32) expect(() => decodeHybrid(page, 1, page.length, page[0]!, new Int32Array(10), "indices")).not.toThrow(/bit width/);
    }
    // An index past the table in the middle of a long bit-packed run (8 at a time) or its tail.
    const big = Int32Array.from({ length: 1000 }, (_, i) => i);
    for (const at of [0, 7, 8, 1000, 1995, 1999]) {
      const ix = Array.from({ length: 2000 }, (_, i) => (i * 37) % 1000);
      ix[at] = 1000 + (at % 24);
      const page = Uint8Array.from([10, ...encodeHybrid(ix, 10)]);
      const b = builderWith(big, ix.length);
      expect(dictPrepare(b, page.length, ix.length)).toBe(true);
      expect(dictDecodeInto(page, 0, page.length, ix.length, b), `bad index at ${at}`).toBe(false);
    }
    const b = builderWith(table, 10);
    dictPrepare(b, good.length, 10);
    expect(dictDecodeInto(good, 0, good.length, 10, b)).toBe(true);
    expect(Array.from(b.finish().data as Int32Array)).toEqual(ok.map((j) => table[j]));
  });

  it("takes the codes of a string column's dictionary as its table", () => {
    const b = new ColumnBuilder("s", "string", { type: "string" }, 16);
    b.startChunk();
    b.setDictionary(["x", "y", "z"].map((s) => new TextEncoder().encode(s)));
    const ix = [2, 2, 1, 0, 1, 2, 0, 0, 1, 1, 2, 0, 2, 1, 0, 0];
    const page = Uint8Array.from([2, ...encodeHybrid(ix, 2)]);
    expect(dictPrepare(b, page.length, ix.length)).toBe(true);
    expect(dictDecodeInto(page, 0, page.length, ix.length, b)).toBe(true);
    const col = b.finish();
    expect(Array.from(col.data as Int32Array, (c) => col.dictionary![c])).toEqual(ix.map((j) => "xyz"[j]));
  });
});

describe("snappyDecompressSplit: a page's levels to one buffer, its values into the column", () => {
  const r = rng(3);
  // Mostly random bytes (literals) with a few repeats (copies), some reaching into the head.
  const data = Uint8Array.from({ length: 50_000 }, (_, i) => (i % 997 < 40 ? i % 7 : Math.floor(r() * 256)));
  data.set(data.subarray(0, 30), 100);
  const compressed = snappyCompress(data);

  it("splits at any point into exactly the bytes of the page", () => {
    for (const h of [0, 1, 4, 7, 10, 33, 64]) {
      const head = new Uint8Array(h);
      const dst = new Uint8Array(data.length - h);
      expect(snappyDecompressSplit(compressed, data.length, head, dst)).toBe(true);
      expect(head).toEqual(data.subarray(0, h));
      expect(dst).toEqual(data.subarray(h));
    }
  });

  it("fails on a corrupt stream as snappyDecompress does", () => {
    const cut = compressed.subarray(0, compressed.length - 10);
    expect(() => snappyDecompress(cut, data.length)).toThrow(/snappy/);
    expect(() => snappyDecompressSplit(cut, data.length, new Uint8Array(8), new Uint8Array(data.length - 8))).toThrow(/snappy/);
  });

  it("leaves pages that compress well to the wasm decoder", () => {
    const zeros = new Uint8Array(100_000);
    expect(snappyDecompressSplit(snappyCompress(zeros), zeros.length, new Uint8Array(4), new Uint8Array(zeros.length - 4))).toBe(false);
  });
});

describe("the column buffer pool", () => {
  // Pooling is for worker threads; these tests play the worker on their own thread.
  beforeAll(() => setPooling(true));
  afterAll(() => setPooling(undefined));
  const rows = 150_000; // float64 and int64 columns over POOL_MIN: pooled; int32 ones under it
  const file = sortedFile(2 * rows, rows, 11).buffer;
  const col = (f: Frame, name: string) => f.columns[f.names.indexOf(name)]!.data as Float64Array;
  /** Released buffers come back once the worker has stored the task's result: a timer later. */
  const settle = () => new Promise((r) => setTimeout(r, 5));
  const since = (before: ReturnType<typeof poolStats>) => {
    const now = poolStats();
    return { returned: now.returned - before.returned, reused: now.reused - before.reused };
  };

  for (const kind of ["SpillStore", "MemoryStore"] as const) {
    it(`reuses a partition's buffers only once no value stored owns them (${kind})`, async () => {
      expect(rows * 8).toBeGreaterThanOrEqual(POOL_MIN);
      const ds = await resolveParquet(file);
      expect(ds.parts.length).toBe(2);
      const store = kind === "SpillStore" ? new SpillStore({ worker: "test", limit: 1e12 }) : new MemoryStore();
      const put = (key: string, v: Frame) => store.put(key, v, sizeOf(v));
      const expectedC = columnsOf(await readParquetPart(ds.parts[1]!, null, null));

      const a = await readParquetPart(ds.parts[0]!, null, null);
      const expectedA = columnsOf(a);
      const f = col(a, "f");
      const fBefore = f.slice();
      put("a", a);
      put("b", selectColumns(a, ["f"])); // shares a's column f
      const before = poolStats();
      store.delete("a");
      await settle();
      // k went back (only a owned it), f did not (b owns it).
      expect(since(before)).toEqual({ returned: 1, reused: 0 });

      const c = await readParquetPart(ds.parts[1]!, null, null);
      expect(since(before)).toEqual({ returned: 1, reused: 1 });
      expect(f).toEqual(fBefore); // a value still held is never overwritten
      expect(columnsOf(c)).toEqual(expectedC);

      store.delete("b");
      await settle();
      expect(since(before).returned).toBe(2);
      // A SpillStore knows b was never handed out by get (only tasks borrow, and keep nothing):
      // f goes back as it is. A MemoryStore does not track that: every value leaving it counts as
      // handed out, and a view kept past its release reads as empty, never as another
      // partition's data.
      expect(f.length).toBe(kind === "SpillStore" ? rows : 0);
      const again = await readParquetPart(ds.parts[0]!, null, null);
      expect(since(before).reused).toBe(2);
      expect(columnsOf(again)).toEqual(expectedA);
      expect(columnsOf(c)).toEqual(expectedC);
      expect(again.columns.some((x) => (x.data as Float64Array).buffer === f.buffer)).toBe(kind === "SpillStore");
    });
  }

  it("detaches a buffer before reuse when a value owning or viewing it was handed out by get", async () => {
    const ds = await resolveParquet(file);
    const store = new SpillStore({ worker: "test", limit: 1e12 });
    for (const whole of [true, false]) {
      const a = await readParquetPart(ds.parts[0]!, null, null);
      const f = col(a, "f");
      store.put("a", a, sizeOf(a));
      // A slice of a's column (a view of part of its buffer), stored and gathered.
      const part: Frame = { length: 10, names: ["f"], columns: [{ type: "float64", data: f.subarray(0, 10) }] };
      store.put("part", part, sizeOf(part));
      store.get(whole ? "a" : "part"); // a gather, or a peer's fetch
      const before = poolStats();
      store.delete("part");
      store.delete("a");
      await settle();
      expect(since(before).returned).toBe(2); // f and k
      expect(f.length, whole ? "a handed out" : "a slice of it handed out").toBe(0);
      const again = await readParquetPart(ds.parts[0]!, null, null);
      expect(columnsOf(again)).toEqual(columnsOf(await readParquetPart(ds.parts[0]!, null, null)));
    }
  });

  it("takes back a fused task's intermediate unless the stored result owns its buffers", async () => {
    const ds = await resolveParquet(file);
    const store = new SpillStore({ worker: "test", limit: 1e12 });
    // What runtime.ts does at the end of a fused task: discard the intermediates nobody retained,
    // then store the result.
    const a = await readParquetPart(ds.parts[0]!, null, null);
    expect(isResource(a) && a[REFS]).toBe(0);
    const result = selectColumns(a, ["f", "x"]);
    const k = a.columns[a.names.indexOf("k")]!.data as BigInt64Array;
    let before = poolStats();
    (a as unknown as Resource)[RELEASE]();
    store.put("r", result, sizeOf(result));
    await settle();
    expect(since(before).returned).toBe(1); // k; f stays with the stored result
    // k was never handed out (only the task's own ops saw it): back as it is, not detached.
    expect(k.length).toBe(rows);
    const f = col(result, "f").slice();
    const b = await readParquetPart(ds.parts[1]!, null, null);
    expect(since(before).reused).toBe(1);
    expect(b.columns.some((c) => (c.data as BigInt64Array).buffer === k.buffer), "the same buffer, reused").toBe(true);
    expect(col(result, "f")).toEqual(f);
    before = poolStats();
    store.delete("r");
    await settle();
    expect(since(before).returned).toBe(1); // now f
  });

  it("is off on a main thread, where an inline executor shares stored values with the caller", async () => {
    setPooling(undefined);
    try {
      const { isMainThread } = await import("node:worker_threads");
      const ds = await resolveParquet(file);
      const a = await readParquetPart(ds.parts[0]!, null, null);
      expect(isResource(a)).toBe(!isMainThread);
    } finally {
      setPooling(true);
    }
  });

  it("does not take back a buffer that moved to another thread", async () => {
    const ds = await resolveParquet(file);
    const store = new SpillStore({ worker: "test", limit: 1e12 });
    const a = await readParquetPart(ds.parts[0]!, null, null);
    store.put("a", a, sizeOf(a));
    const f = col(a, "f");
    structuredClone(f.buffer, { transfer: [f.buffer as ArrayBuffer] }); // what a move does
    const before = poolStats();
    store.delete("a");
    await settle();
    expect(since(before).returned).toBe(1); // k only
  });
});
