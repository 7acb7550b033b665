// The spill format: every value a worker keeps comes back bit for bit (pure, no workers).
import { existsSync, mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as arrow from "apache-arrow";
import { decodeSpill, encodeSpill, SpillFormatError, PREFIX_BYTES } from "../../src/worker/spill-format.js";
import { RegionFile, type SyncHandle } from "../../src/worker/spill-disk.js";
import { NodeDisk, SPILL_FILE } from "../../src/worker/disk-node.js";
import { WasmChunk, reviveWasmChunk } from "../../src/array/block.js";
import { REFS, RELEASE, RETAIN } from "../../src/worker/resource.js";
import { configureKernels, getKernels } from "../../src/kernels/instance.js";
import { readWasm } from "../../src/kernels/node.js";
import { arrowToFrame, frameToArrow } from "../../src/dataframe/io/arrow.js";
import { stringColumn, type Frame } from "../../src/dataframe/frame.js";
import { kernels } from "../kernels/helpers.js";

/** Write with encodeSpill into one buffer, read back with decodeSpill. */
function roundTrip(v: unknown): unknown {
  const { parts, byteLength } = encodeSpill(v);
  const file = new Uint8Array(byteLength);
  let at = 0;
  for (const p of parts) {
    file.set(p, at);
    at += p.byteLength;
  }
  return decodeSpill((offset, into) => {
    if (offset + into.byteLength > file.byteLength) throw new Error("read past the end");
    into.set(file.subarray(offset, offset + into.byteLength));
  });
}

function bytes(v: ArrayBufferView | ArrayBuffer): Uint8Array {
  return v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** Where a and b differ ("" when they are the same: numbers by Object.is, buffers by their bytes). */
function diff(a: unknown, b: unknown, path = "$"): string {
  if (typeof a !== typeof b) return `${path}: ${typeof a} vs ${typeof b}`;
  if (a === null || typeof a !== "object") return Object.is(a, b) ? "" : `${path}: ${String(a)} vs ${String(b)}`;
  if (b === null) return `${path}: object vs null`;
  const pa = Object.getPrototypeOf(a);
  if (pa !== Object.getPrototypeOf(b)) return `${path}: prototypes differ`;
  if (ArrayBuffer.isView(a) || a instanceof ArrayBuffer) {
    const x = bytes(a);
    const y = bytes(b as ArrayBufferView);
    if (x.length !== y.length) return `${path}: ${x.length} vs ${y.length} bytes`;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return `${path}: byte ${i} differs`;
    return "";
  }
  if (a instanceof Map) return diff([...a], [...(b as Map<unknown, unknown>)], path);
  if (a instanceof Set) return diff([...a], [...(b as Set<unknown>)], path);
  if (a instanceof Date) return diff(a.getTime(), (b as Date).getTime(), path);
  const ka = Object.keys(a);
  const kb = Object.keys(b as object);
  if (ka.join() !== kb.join()) return `${path}: keys ${ka} vs ${kb}`;
  for (const k of ka) {
    const d = diff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    if (d) return d;
  }
  return "";
}

function expectSame(v: unknown): unknown {
  const back = roundTrip(v);
  expect(diff(v, back)).toBe("");
  return back;
}

/** Float32 values with NaN payloads, signed zeros and infinities, set through their bits. */
function awkwardFloat32(): Float32Array {
  const bits = new Uint32Array([0x7fc00000, 0x7fc00001, 0xffc12345, 0x7f800001, 0x80000000, 0x7f800000, 0xff800000, 0x3f800000, 1]);
  return new Float32Array(bits.buffer);
}

function awkwardFloat64(): Float64Array {
  const out = new Float64Array([NaN, -0, 0, Infinity, -Infinity, Number.MIN_VALUE, Number.MAX_VALUE, 1 / 3]);
  new DataView(out.buffer).setUint32(0, 0x7ff80000 | 0xbeef, true); // a NaN with a payload
  new DataView(out.buffer).setUint32(4, 0x7ff8dead, true);
  return out;
}

describe("spill format", () => {
  it("round-trips every typed array kind bit for bit", () => {
    const values = [
      awkwardFloat64(),
      awkwardFloat32(),
      new Int8Array([-128, -1, 0, 127]),
      new Uint8Array([0, 1, 255]),
      new Uint8ClampedArray([0, 128, 255]),
      new Int16Array([-32768, 32767]),
      new Uint16Array([0, 65535]),
      new Int32Array([-(2 ** 31), 2 ** 31 - 1]),
      new Uint32Array([0, 2 ** 32 - 1]),
      new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 0n]),
      new BigUint64Array([0n, 2n ** 64n - 1n]),
      new Float64Array(0),
      new DataView(new Uint8Array([1, 2, 3]).buffer),
      new Uint8Array([9, 8, 7]).buffer,
    ];
    for (const v of values) {
      const back = expectSame(v) as ArrayBufferView;
      expect(back.constructor).toBe(v.constructor);
    }
  });

  it("gives a view into a larger buffer back as a buffer of its own (transferable, no copy of the rest)", () => {
    const big = new Float64Array(1000).map((_, i) => i);
    const view = big.subarray(10, 20);
    const back = expectSame(view) as Float64Array;
    expect(back.buffer.byteLength).toBe(80);
    expect(back.byteOffset).toBe(0);
  });

  it("writes the same buffer once and gives it back as one object", () => {
    const a = new Int32Array([1, 2, 3]);
    const { parts } = encodeSpill({ x: a, y: [a, a] });
    expect(parts.length).toBe(2); // header, one buffer
    const back = roundTrip({ x: a, y: [a, a] }) as { x: Int32Array; y: Int32Array[] };
    expect(back.y[0]).toBe(back.x);
    expect(back.y[1]).toBe(back.x);
  });

  it("round-trips plain data: every scalar, nested objects, Maps, Sets, Dates", () => {
    const v = {
      n: [0, -0, NaN, Infinity, -Infinity, 1.5, -(2 ** 53)],
      s: ["", "é", "😀", "\ud800 lone surrogate", "$", "\u0000"],
      b: [true, false, null, undefined],
      big: [0n, -(2n ** 100n)],
      nested: { $: 0, k: "not a tag", deep: [[[{ a: new Float32Array([1.5]) }]]] },
      m: new Map<unknown, unknown>([["a", 1], [2, new Int8Array([3])]]),
      set: new Set([1, "x"]),
      d: new Date(1700000000000),
      bad: new Date(NaN),
    };
    expectSame(v);
    // eslint-disable-next-line no-sparse-arrays
    expect(roundTrip([1, , 3])).toEqual([1, undefined, 3]);
  });

  it("keeps own __proto__ keys as data and null prototypes", () => {
    const o = JSON.parse('{"__proto__": {"x": 1}, "y": 2}') as Record<string, unknown>;
    const back = roundTrip(o) as Record<string, unknown>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.keys(back)).toEqual(["__proto__", "y"]);
    const bare = Object.assign(Object.create(null) as object, { a: 1 });
    expect(Object.getPrototypeOf(roundTrip(bare))).toBe(null);
  });

  it("round-trips array blocks, and a block in wasm memory is written from a view (no copy) and comes back as plain data", async () => {
    const block = { dtype: "float32", shape: [3, 3], data: awkwardFloat32() };
    expectSame(block);
    const k = await kernels();
    const chunk = WasmChunk.alloc(k, "float64", [2, 4]);
    chunk.view().set(awkwardFloat64());
    const { parts } = encodeSpill(chunk);
    expect(parts[1]!.buffer).toBe(k.memory.buffer); // a view into wasm memory
    const back = roundTrip(chunk) as { dtype: string; shape: number[]; data: Float64Array };
    expect(back.dtype).toBe("float64");
    expect(back.shape).toEqual([2, 4]);
    expect(diff(chunk.view(), back.data)).toBe("");
    expect(back.data.buffer).not.toBe(k.memory.buffer);
    chunk[RETAIN]();
    expect(chunk[REFS]).toBe(1);
  });

  it("brings a block in wasm memory back into wasm memory with a reviver, read straight into it", async () => {
    configureKernels({ source: () => readWasm() });
    const k = await getKernels();
    const chunk = WasmChunk.alloc(k, "float64", [2, 4]);
    chunk.view().set(awkwardFloat64());
    const enc = encodeSpill(chunk);
    const file = new Uint8Array(enc.byteLength);
    let at = 0;
    for (const p of enc.parts) {
      file.set(p, at);
      at += p.byteLength;
    }
    const reads: Uint8Array[] = [];
    const read = (offset: number, into: Uint8Array) => {
      reads.push(into);
      into.set(file.subarray(offset, offset + into.byteLength));
    };
    const used = k.stats().used;
    const back = decodeSpill(read, reviveWasmChunk) as WasmChunk;
    expect(back).toBeInstanceOf(WasmChunk);
    expect(back.shape).toEqual([2, 4]);
    expect(back.ptr).not.toBe(chunk.ptr);
    expect(diff(chunk.view(), back.view())).toBe("");
    expect(reads[reads.length - 1]!.buffer).toBe(k.memory.buffer); // the data went straight into wasm memory
    expect(k.stats().used).toBeGreaterThan(used);
    // A read that fails frees what the reviver allocated.
    const before = k.stats().used;
    expect(() =>
      decodeSpill((offset, into) => {
        if (into.buffer === k.memory.buffer) throw new Error("disk gone");
        read(offset, into);
      }, reviveWasmChunk),
    ).toThrow(/disk gone/);
    expect(k.stats().used).toBe(before);
    // Plain data stays plain; a reviver that declines gives plain data.
    expect(decodeSpill(read, () => undefined)).toMatchObject({ dtype: "float64", shape: [2, 4] });
    back[RETAIN]();
    back[RELEASE]();
    chunk[RETAIN]();
    chunk[RELEASE]();
  });

  it("round-trips dataframe partitions: dictionary strings, validity, int64, timestamps, object columns", () => {
    const s = stringColumn(["b", null, "a", "b", "\ud83d", ""]);
    const frame: Frame = {
      length: 6,
      names: ["s", "x", "i", "t", "d", "o", "flag"],
      columns: [
        s,
        { type: "float64", data: awkwardFloat64().subarray(0, 6), valid: new Uint8Array([1, 1, 0, 1, 1, 0]) },
        { type: "int64", data: new BigInt64Array([1n, -1n, 2n ** 62n, 0n, 5n, -(2n ** 63n)]) },
        { type: "timestamp", data: new BigInt64Array(6).fill(1700000000000000000n), unit: "ns", tz: "Europe/Paris" },
        { type: "date32", data: new Int32Array([0, 1, -1, 19000, 2, 3]) },
        { type: "object", data: [[1, 2], { a: "x" }, null, undefined, 3n, new Map([["k", 1]])] },
        { type: "bool", data: new Uint8Array([1, 0, 1, 0, 1, 0]) },
      ],
    };
    expectSame(frame);
  });

  it("round-trips an Arrow record batch with dictionaries and nulls (as the partition workers keep)", () => {
    const table = new arrow.Table({
      key: arrow.vectorFromArray(["x", "y", null, "x", "z"], new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32())),
      v: arrow.vectorFromArray([1.5, null, NaN, -0, 3], new arrow.Float64()),
      n: arrow.vectorFromArray([1n, 2n, null, -5n, 9n], new arrow.Int64()),
    });
    const frame = arrowToFrame(table);
    const back = expectSame(frame) as Frame;
    const again = frameToArrow(back);
    expect(again.getChild("key")!.toArray()).toEqual(table.getChild("key")!.toArray());
    expect(again.getChild("n")!.toArray()).toEqual(table.getChild("n")!.toArray());
    expect([...again.getChild("v")!]).toEqual([...table.getChild("v")!]);
  });

  it("refuses what it cannot write, saying what it was", () => {
    class Thing {
      x = 1;
    }
    expect(() => encodeSpill({ a: new Thing() })).toThrow(SpillFormatError);
    expect(() => encodeSpill({ a: new Thing() })).toThrow(/cannot write a Thing/);
    expect(() => encodeSpill(() => 1)).toThrow(/cannot write a function/);
    expect(() => encodeSpill(new Float64Array(new SharedArrayBuffer(8)))).toThrow(/shared memory/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => encodeSpill(cyclic)).toThrow(/deeper than/);
  });

  it("rejects a file that is not in the format", () => {
    const junk = new Uint8Array(PREFIX_BYTES + 10);
    expect(() => decodeSpill((at, into) => into.set(junk.subarray(at, at + into.byteLength)))).toThrow(/not a spill file/);
  });
});

/** A SyncHandle over memory, like an OPFS FileSystemSyncAccessHandle. */
function memoryHandle(quota = Infinity): SyncHandle & { size: number; closed: boolean } {
  let buf = new Uint8Array(0);
  const h = {
    size: 0,
    closed: false,
    read(into: Uint8Array, { at }: { at: number }) {
      const n = Math.max(0, Math.min(into.byteLength, h.size - at));
      into.set(buf.subarray(at, at + n));
      return n;
    },
    write(from: Uint8Array, { at }: { at: number }) {
      if (at + from.byteLength > quota) throw new DOMException("quota", "QuotaExceededError");
      if (at + from.byteLength > buf.byteLength) {
        const grown = new Uint8Array(Math.max(at + from.byteLength, buf.byteLength * 2));
        grown.set(buf);
        buf = grown;
      }
      buf.set(from, at);
      h.size = Math.max(h.size, at + from.byteLength);
      return from.byteLength;
    },
    truncate(n: number) {
      h.size = n;
    },
    getSize: () => h.size,
    flush() {},
    close() {
      h.closed = true;
    },
  };
  return h;
}

describe("RegionFile (one OPFS file cut into regions)", () => {
  const part = (n: number, fill: number) => [new Uint8Array(n).fill(fill)];
  const readAll = (f: RegionFile, name: string, n: number) => f.read(name, (read) => {
    const out = new Uint8Array(n);
    read(0, out);
    return out;
  });

  it("reuses holes, coalesces neighbours and shrinks the file when its tail is freed", () => {
    const h = memoryHandle();
    const f = new RegionFile(h, "mem");
    f.write("a", part(100, 1), 100);
    f.write("b", part(50, 2), 50);
    f.write("c", part(30, 3), 30);
    expect(f.fileBytes).toBe(180);
    f.remove("a");
    f.write("d", part(40, 4), 40); // into a's hole
    expect(f.fileBytes).toBe(180);
    expect(readAll(f, "d", 40)).toEqual(new Uint8Array(40).fill(4));
    expect(readAll(f, "b", 50)).toEqual(new Uint8Array(50).fill(2));
    f.remove("b");
    f.remove("d"); // holes 0..150 coalesce
    f.write("e", part(150, 5), 150);
    expect(f.fileBytes).toBe(180);
    f.remove("c");
    f.remove("e");
    expect(f.fileBytes).toBe(0);
    expect(h.size).toBe(0);
    expect(() => readAll(f, "e", 1)).toThrow(/nothing written under e/);
  });

  it("gives a failed write's region back and says why", () => {
    const f = new RegionFile(memoryHandle(100), "mem");
    f.write("a", part(60, 1), 60);
    expect(() => f.write("b", part(60, 2), 60)).toThrow(/quota/);
    expect(f.fileBytes).toBe(60);
    f.write("c", part(40, 3), 40);
    expect(readAll(f, "c", 40)).toEqual(new Uint8Array(40).fill(3));
  });

  it("round-trips a spilled value through regions", () => {
    const f = new RegionFile(memoryHandle(), "mem");
    const v = { dtype: "float32", shape: [9], data: awkwardFloat32() };
    const enc = encodeSpill(v);
    f.write("v", enc.parts, enc.byteLength);
    expect(diff(v, f.read("v", decodeSpill))).toBe("");
    // Compressed (as with spillCompression in a browser worker): blocks read back from the region.
    const big = { data: new Float64Array(50000).map((_, i) => i % 1000) };
    const c = encodeSpill(big, { compress: true });
    expect(c.byteLength).toBeLessThan(big.data.byteLength / 2);
    f.write("c", c.parts, c.byteLength);
    expect(diff(big, f.read("c", decodeSpill))).toBe("");
    const h = memoryHandle();
    let closed = false;
    new RegionFile(h, "mem", () => (closed = true)).close();
    expect(h.closed && closed).toBe(true);
  });
});

describe("NodeDisk (the worker's spill file in Node)", () => {
  it("writes values as regions of one file, overwrites freed ones, and removes its directory on close", () => {
    const dir = mkdtempSync(join(tmpdir(), "tessera-nodedisk-"));
    const disk = new NodeDisk(dir);
    const file = join(dir, SPILL_FILE);
    const value = (i: number) => new Float64Array(1 << 16).fill(i);
    const enc = (i: number) => encodeSpill(value(i));
    for (const i of [0, 1, 2]) disk.write(`v${i}`, enc(i).parts, enc(i).byteLength);
    const size = statSync(file).size;
    expect(size).toBe(3 * enc(0).byteLength);
    disk.remove("v1");
    disk.write("v3", enc(3).parts, enc(3).byteLength); // into v1's region: the file does not grow
    expect(statSync(file).size).toBe(size);
    for (const i of [0, 2, 3]) expect(diff(value(i), disk.read(`v${i}`, decodeSpill))).toBe("");
    expect(readdirSync(dir)).toEqual([SPILL_FILE]);
    for (const k of ["v0", "v2", "v3"]) disk.remove(k);
    expect(statSync(file).size).toBe(0);
    disk.close();
    expect(existsSync(dir)).toBe(false);
  });
});
