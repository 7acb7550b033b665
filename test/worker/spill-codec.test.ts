// Spill compression (byte-shuffle + LZ4): every buffer comes back bit for bit, compressed or
// raw; a corrupt or truncated file is a clear error naming the byte offset (and, from the store,
// the file).
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as arrow from "apache-arrow";
import { decodeSpill, encodeSpill, PREFIX_BYTES } from "../../src/worker/spill-format.js";
import { BLOCK, lz4Compress, lz4Decompress, shuffle, unshuffle } from "../../src/worker/spill-codec.js";
import { arrowToFrame, frameToArrow } from "../../src/dataframe/io/arrow.js";
import type { Frame } from "../../src/dataframe/frame.js";
import { SpillStore } from "../../src/worker/spill-store.js";
import { NodeDisk, SPILL_FILE } from "../../src/worker/disk-node.js";
import { parseThresholds } from "../../src/cluster/options.js";

function file(v: unknown, compress = true): Uint8Array {
  const { parts, byteLength } = encodeSpill(v, { compress });
  const out = new Uint8Array(byteLength);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

function decode(f: Uint8Array): unknown {
  return decodeSpill((at, into) => {
    if (at + into.byteLength > f.byteLength) throw new Error(`ends after ${f.byteLength} bytes (truncated?)`);
    into.set(f.subarray(at, at + into.byteLength));
  });
}

function bytesOf(v: ArrayBufferView): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  const x = bytesOf(a);
  const y = bytesOf(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

let seed = 12345;
function rnd(): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed;
}

/** Compressible (small ints, short floats) and incompressible (random bits) data of a kind. */
function data(Ctor: { new (n: number): ArrayBufferView; BYTES_PER_ELEMENT: number }, n: number, random: boolean): ArrayBufferView {
  const v = new Ctor(n);
  const b = bytesOf(v);
  if (random) for (let i = 0; i < b.length; i++) b[i] = rnd() >>> 24;
  else {
    const s = Ctor.BYTES_PER_ELEMENT;
    // Low byte varies, the rest mostly constant: what shuffle + LZ4 are for.
    for (let i = 0; i < b.length; i++) b[i] = i % s === 0 ? rnd() >>> 28 : i % s === s - 1 ? 0x3f : 0;
  }
  return v;
}

const KINDS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array] as const;

describe("spill compression", () => {
  it("round-trips every dtype, compressible and random, odd lengths, empty, over block edges", () => {
    for (const Ctor of KINDS) {
      for (const n of [0, 1, 7, 1000, 4099, (BLOCK * 2 + 24) / Ctor.BYTES_PER_ELEMENT + 3]) {
        for (const random of [false, true]) {
          const v = data(Ctor as never, n, random);
          const back = decode(file({ v })) as { v: ArrayBufferView };
          expect(back.v.constructor).toBe(Ctor);
          expect(sameBytes(back.v, v), `${Ctor.name} n=${n} random=${random}`).toBe(true);
        }
      }
    }
  });

  it("compresses small ints and short floats, and stores random floats raw at little cost", () => {
    const n = 1 << 18;
    const keys = new Int32Array(n).map(() => rnd() % 1000);
    const vals = new Float64Array(n).map(() => (rnd() >>> 12) / 0x100000);
    const packed = file({ keys, vals }).byteLength;
    expect(packed).toBeLessThan(0.6 * n * 12);
    const random = new Float64Array(n).map(() => Math.random());
    const f = file(random);
    expect(f.byteLength).toBeLessThan(random.byteLength + 200);
    expect(sameBytes(decode(f) as Float64Array, random)).toBe(true);
    // A buffer that compresses in its first block but not later keeps the later blocks raw.
    const mixed = new Float64Array(n);
    mixed.set(random.subarray(BLOCK / 8), BLOCK / 8);
    expect(sameBytes(decode(file(mixed)) as Float64Array, mixed)).toBe(true);
  });

  it("round-trips an Arrow batch with dictionaries and nulls, compressed", () => {
    const n = 5000;
    const table = new arrow.Table({
      key: arrow.vectorFromArray(Array.from({ length: n }, (_, i) => (i % 7 === 0 ? null : ["x", "y", "z"][i % 3]!)), new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32())),
      v: arrow.vectorFromArray(Array.from({ length: n }, (_, i) => (i % 5 === 0 ? null : i / 4)), new arrow.Float64()),
    });
    const back = decode(file(arrowToFrame(table))) as Frame;
    const again = frameToArrow(back);
    expect(again.getChild("key")!.toArray()).toEqual(table.getChild("key")!.toArray());
    expect([...again.getChild("v")!]).toEqual([...table.getChild("v")!]);
  });

  it("LZ4 and shuffle round-trip on their own; a malformed block is refused, never written past its end", () => {
    const src = new Uint8Array(10000).map((_, i) => (i % 300 < 100 ? 0 : rnd() & 3));
    const packed = new Uint8Array(src.length + 64);
    const c = lz4Compress(src, src.length, packed);
    const out = new Uint8Array(src.length);
    expect(lz4Decompress(packed.subarray(0, c), out, out.length)).toBe(src.length);
    expect(out).toEqual(src);
    expect(lz4Decompress(packed.subarray(0, c), out, 100)).toBe(-1);
    expect(lz4Decompress(packed.subarray(0, c - 3), out, out.length)).not.toBe(src.length);
    const sh = new Uint8Array(1003);
    const back = new Uint8Array(1003);
    shuffle(src.subarray(0, 1003), sh, 8);
    unshuffle(sh, back, 8);
    expect(back).toEqual(src.subarray(0, 1003));
  });

  it("a corrupt or truncated compressed payload is an error naming the byte offset", () => {
    const v = data(Float64Array as never, 100000, false) as Float64Array;
    const f = file(v);
    expect(f.byteLength).toBeLessThan(v.byteLength / 2);
    expect(() => decode(f.subarray(0, f.byteLength - 10))).toThrow(/truncated/);
    const headerEnd = PREFIX_BYTES + new DataView(f.buffer).getUint32(4, true);
    // The first block's length one short: its LZ4 stream ends inside a sequence.
    const bad = f.slice();
    const dv = new DataView(bad.buffer);
    dv.setUint32(headerEnd, dv.getUint32(headerEnd, true) - 1, true);
    expect(() => decode(bad)).toThrow(/spill: block at byte \d+ is corrupt/);
    const badWord = f.slice();
    badWord[headerEnd + 2] = 0x7f; // the first block's length
    expect(() => decode(badWord)).toThrow(/spill: (bad block length|block at byte \d+ runs past)/);
    const badHeader = f.slice();
    badHeader[PREFIX_BYTES + 5] ^= 1;
    expect(() => decode(badHeader)).toThrow(/header .* fails its checksum/);
  });

  it("the store names the file of a corrupt spill; spillCompression: false writes raw", () => {
    for (const compression of [true, false]) {
      const dir = mkdtempSync(join(tmpdir(), "tessera-codec-"));
      const disk = new NodeDisk(dir);
      const warnings: string[] = [];
      const s = new SpillStore({ worker: "w", limit: 10e6, thresholds: parseThresholds({ target: 0.5, spillCompression: compression }), disk, compression, warn: (m: string) => warnings.push(m) } as never);
      const file = join(disk.where, SPILL_FILE);
      // k0, spilled first, is the file's first region: the file's size after it went out.
      let k0Bytes = 0;
      for (let i = 0; i < 4; i++) {
        s.put(`k${i}`, new Float64Array(250000).fill(i), 2e6);
        if (k0Bytes === 0 && s.isSpilled("k0")) k0Bytes = statSync(file).size;
      }
      const m = s.memory();
      expect(m.spillCount).toBeGreaterThan(0);
      expect(m.thresholds).toEqual({ target: 0.5, spill: 0.7, pause: 0.8, terminate: 0.95 });
      if (compression) expect(m.spillDiskBytes).toBeLessThan(m.spillBytes / 10);
      else expect(m.spillDiskBytes).toBeGreaterThan(m.spillBytes);
      if (compression) {
        const f = readFileSync(file);
        f[k0Bytes - 20] ^= 0xff;
        writeFileSync(file, f);
        expect(s.get("k0")).toBeUndefined();
        expect(warnings.join()).toMatch(/could not read spilled k0 back from .*: 1\.spill: spill: .*at byte \d+/);
      } else expect((s.get("k0") as Float64Array)[7]).toBe(0);
      s.close();
    }
    expect(() => parseThresholds({ spillCompression: "yes" as never })).toThrow(/memory.spillCompression must be true or false/);
  });
});
