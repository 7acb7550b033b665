// The fast paths behind the dataframe benchmark (bench/dataframe.ts): the Parquet reader's snappy
// and level decoding, branch-free filters, comparisons with a scalar, and groupby partials that
// take a filter as a row mask. Each is checked against the plain path it replaces.
import { snappyCompress } from "hysnappy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TesseraError } from "../../src/errors.js";
import { filterRows, type Frame } from "../../src/dataframe/frame.js";
import { col, lit } from "../../src/dataframe/expr.js";
import { predicateMask } from "../../src/dataframe/eval.js";
import { applySteps, applyStepsMasked, compactFrame, maskable, type Step } from "../../src/dataframe/steps.js";
import { decodeDefinitionLevels, decodeHybrid } from "../../src/dataframe/io/parquet-rle.js";
import { prepareSnappy, snappyDecompress } from "../../src/dataframe/io/parquet-snappy.js";
import { configureKernels } from "../../src/kernels/instance.js";
import { readWasm } from "../../src/kernels/node.js";
import { LocalCluster, dataframe as dd, type Client } from "../../dist/index.js";

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("snappy", () => {
  const r = rng(1);
  const cases: [string, Uint8Array][] = [
    ["empty", new Uint8Array(0)],
    ["one byte", Uint8Array.of(7)],
    ["random (all literal: the JS decoder)", Uint8Array.from({ length: 100_000 }, () => Math.floor(r() * 256))],
    ["repetitive (copies: the wasm decoder)", Uint8Array.from({ length: 100_000 }, (_, i) => (i % 97) ^ (i >> 12))],
    ["doubles of 32 random bits (short literals and copies)", new Uint8Array(Float64Array.from({ length: 12_500 }, () => r() * 2 - 1).buffer)],
    ["overlapping copies (runs)", Uint8Array.from({ length: 100_000 }, (_, i) => (i >> 10) & 3)],
  ];
  const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(a, b) === 0;
  for (const [name, data] of cases) {
    it(`round-trips ${name}`, () => {
      const packed = snappyCompress(data);
      expect(same(snappyDecompress(packed, data.length), data)).toBe(true);
      const reused = new Uint8Array(data.length + 5);
      expect(same(snappyDecompress(packed, data.length, (n) => reused.subarray(0, n)), data)).toBe(true);
    });
  }

  it("rejects a wrong size, a truncated stream and a copy from before the start", () => {
    const data = Uint8Array.from({ length: 5000 }, (_, i) => i & 255);
    const packed = snappyCompress(data);
    expect(() => snappyDecompress(packed, data.length + 1)).toThrow(TesseraError);
    const r = rng(4);
    const random = Uint8Array.from({ length: 5000 }, () => Math.floor(r() * 256));
    const rp = snappyCompress(random);
    expect(() => snappyDecompress(rp.subarray(0, rp.length - 10), random.length)).toThrow(/snappy/);
    // A page that compresses well goes through the wasm decoder: its errors are ours too.
    expect(() => snappyDecompress(packed.subarray(0, packed.length - 3), data.length)).toThrow(TesseraError);
    // length 8, then a 1-byte-offset copy of 4 bytes reaching 3 bytes back from byte 0
    expect(() => snappyDecompress(Uint8Array.of(8, 0b001, 3, 0, 0, 0), 8)).toThrow(/reaches/);
  });
});

describe("snappy in the kernels (assembly/snappy.ts)", () => {
  it("decodes what hysnappy decodes, and names what is wrong with a bad page", async () => {
    configureKernels({ source: () => readWasm() });
    await prepareSnappy();
    const r = rng(6);
    const pages = [
      new Uint8Array(Float64Array.from({ length: 40_000 }, () => r() * 2 - 1).buffer), // 32 random bits: short elements
      Uint8Array.from({ length: 200_000 }, (_, i) => (i >> 7) & 3), // long runs: overlapping copies
      Uint8Array.from({ length: 70_000 }, (_, i) => ((i * 7) % 251) ^ (i >> 9)), // mixed
    ];
    for (const data of pages) {
      const packed = snappyCompress(data);
      expect(packed.length).toBeLessThan(data.length - (data.length >> 5)); // the kernel path
      const owned = snappyDecompress(packed, data.length);
      expect(Buffer.compare(owned, data)).toBe(0);
      const view = snappyDecompress(packed, data.length, (n) => new Uint8Array(n));
      expect(Buffer.compare(view, data)).toBe(0);
      expect(() => snappyDecompress(packed.subarray(0, packed.length - 7), data.length)).toThrow(/snappy: .*(past|fill|cut off)/);
      const corrupt = packed.slice();
      for (let i = 20; i < corrupt.length; i += 97) corrupt[i] = 0xff;
      try {
        snappyDecompress(corrupt, data.length);
      } catch (err) {
        expect(err).toBeInstanceOf(TesseraError);
      }
    }
  });
});

/** The hybrid encoding of values (bit-packed runs of 8, then an RLE run), and a plain decoder of it. */
function encodeHybrid(values: number[], width: number, rleTail: { value: number; count: number } | null): Uint8Array {
  const out: number[] = [];
  const varint = (v: number) => {
    while (v >= 128) {
      out.push((v & 127) | 128);
      v = Math.floor(v / 128);
    }
    out.push(v);
  };
  const groups = Math.ceil(values.length / 8);
  varint(groups * 2 + 1);
  let acc = 0n;
  let bits = 0n;
  for (let i = 0; i < groups * 8; i++) {
    acc |= BigInt(values[i] ?? 0) << bits;
    bits += BigInt(width);
    while (bits >= 8n) {
      out.push(Number(acc & 255n));
      acc >>= 8n;
      bits -= 8n;
    }
  }
  if (rleTail) {
    varint(rleTail.count * 2);
    for (let b = 0; b < (width + 7) >> 3; b++) out.push((rleTail.value >> (8 * b)) & 255);
  }
  return Uint8Array.from(out);
}

describe("hybrid decoding", () => {
  it("unpacks every bit width from 1 to 24, to the last byte of the buffer", () => {
    const r = rng(2);
    for (let width = 1; width <= 24; width++) {
      for (const n of [1, 7, 8, 61, 1000]) {
        const values = Array.from({ length: n }, () => Math.floor(r() * 2 ** width));
        const bytes = encodeHybrid(values, width, null); // nothing after the run: the slow tail is used
        const out = new Int32Array(n);
        decodeHybrid(bytes, 0, bytes.length, width, out, "test");
        expect(Array.from(out)).toEqual(values);
        // Then an RLE run: after the bit-packed run's padding (it holds whole groups of 8).
        const padded = Math.ceil(n / 8) * 8;
        const withTail = encodeHybrid(values, width, { value: 2 ** width - 1, count: 5 });
        const out2 = new Int32Array(padded + 5);
        decodeHybrid(withTail, 0, withTail.length, width, out2, "test");
        expect(Array.from(out2)).toEqual([...values, ...Array(padded - n).fill(0), ...Array(5).fill(2 ** width - 1)]);
      }
    }
  });

  it("decodes definition levels: all valid allocates nothing; nulls come back as zeros", () => {
    const all = encodeHybrid([], 1, { value: 1, count: 1000 });
    expect(decodeDefinitionLevels(all.subarray(1), 0, all.length - 1, 1000, "levels")).toEqual({ defs: null, nonNull: 1000 });
    const ones = encodeHybrid(Array(64).fill(1), 1, null);
    expect(decodeDefinitionLevels(ones, 0, ones.length, 64, "levels")).toEqual({ defs: null, nonNull: 64 });
    const r = rng(3);
    const levels = Array.from({ length: 203 }, () => (r() < 0.2 ? 0 : 1));
    const mixed = encodeHybrid(levels, 1, { value: 0, count: 7 });
    const got = decodeDefinitionLevels(mixed, 0, mixed.length, 210, "levels");
    expect(Array.from(got.defs!)).toEqual([...levels, ...Array(7).fill(0)]);
    expect(got.nonNull).toBe(levels.reduce((a: number, b) => a + b, 0));
    const bad = encodeHybrid([], 1, { value: 2, count: 3 });
    expect(() => decodeDefinitionLevels(bad.subarray(1), 0, bad.length - 1, 3, "levels")).toThrow(/above the column's maximum/);
  });
});

const frame = (n: number, seed: number): Frame => {
  const r = rng(seed);
  return {
    length: n,
    names: ["i", "f", "b", "s", "g", "u"],
    columns: [
      { type: "int32", data: Int32Array.from({ length: n }, () => Math.floor(r() * 100) - 50), valid: Uint8Array.from({ length: n }, () => +(r() > 0.1)) },
      { type: "float64", data: Float64Array.from({ length: n }, () => (r() < 0.05 ? NaN : r() * 2 - 1)) },
      { type: "bool", data: Uint8Array.from({ length: n }, () => +(r() > 0.5)) },
      { type: "string", data: Int32Array.from({ length: n }, () => Math.floor(r() * 3)), dictionary: ["x", "y", "z"] },
      { type: "int64", data: BigInt64Array.from({ length: n }, () => BigInt(Math.floor(r() * 1e6))) },
      { type: "float32", data: Float32Array.from({ length: n }, () => r()) },
    ],
  };
};

describe("filters", () => {
  it("compactFrame keeps what filterRows keeps", () => {
    for (const [n, p] of [[0, 0.5], [1, 1], [1000, 0], [1000, 0.5], [1000, 1], [999, 0.97]] as const) {
      const f = frame(n, n + 7);
      const r = rng(9);
      const mask = Uint8Array.from({ length: n }, () => +(r() < p));
      expect(compactFrame(f, mask)).toEqual(filterRows(f, mask));
    }
  });

  it("a comparison with a scalar equals the comparison with the scalar as a column", () => {
    const f = frame(500, 11);
    const withColumn: Frame = { ...f, names: [...f.names, "zero", "tenth"], columns: [...f.columns, { type: "float64", data: new Float64Array(500) }, { type: "float32", data: new Float32Array(500).fill(0.1) }] };
    for (const op of ["eq", "ne", "lt", "le", "gt", "ge"] as const) {
      for (const c of ["i", "f", "b"]) {
        const direct = predicateMask(withColumn, col(c)[op](0).node);
        const flipped = predicateMask(withColumn, lit(0)[op](col(c)).node);
        const viaColumn = predicateMask(withColumn, col(c)[op](col("zero")).node);
        const flippedColumn = predicateMask(withColumn, col("zero")[op](col(c)).node);
        expect(Array.from(direct)).toEqual(Array.from(viaColumn));
        expect(Array.from(flipped)).toEqual(Array.from(flippedColumn));
      }
      // float32: the scalar is rounded to float32, as a float32 column of it would be
      expect(Array.from(predicateMask(withColumn, col("u")[op](0.1).node))).toEqual(Array.from(predicateMask(withColumn, col("u")[op](col("tenth")).node)));
    }
  });

  it("steps with filters as a mask give the rows the filtered steps give", () => {
    const f = frame(2000, 12);
    const steps: Step[] = [
      { kind: "filter", predicate: col("f").gt(0).node },
      { kind: "assign", columns: [{ name: "z", expr: col("f").mul(col("i")).node }] },
      { kind: "rename", mapping: { s: "t" } },
      { kind: "filter", predicate: col("t").ne("y").node },
      { kind: "select", columns: ["i", "z", "t"] },
    ];
    expect(maskable(steps)).toBe(true);
    const { frame: all, mask } = applyStepsMasked(f, steps);
    expect(all.length).toBe(2000);
    expect(compactFrame(all, mask as Uint8Array)).toEqual(applySteps(f, steps));
    // Filters and sums' columns a block at a time: the same mask and values.
    const blockSteps: Step[] = [
      { kind: "filter", predicate: col("f").gt(-0.5).and(col("f").mul(2).le(col("f").add(0.75))).node },
      { kind: "filter", predicate: col("s").ne("y").node }, // strings: evaluated whole
      { kind: "assign", columns: [{ name: "z", expr: col("f").mul(col("f")).sub(1).node }] },
      { kind: "select", columns: ["i", "z"] },
    ];
    const eager = applyStepsMasked(f, blockSteps);
    const lazy = applyStepsMasked(f, blockSteps, new Set(["z"]), true);
    const block = (d: unknown, start: number, n: number) => Array.from((d as { block(s: number, n: number): ArrayLike<number> }).block(start, n)).slice(0, n);
    for (const [start, n] of [[0, 1000], [1000, 1000], [1990, 10]] as const) {
      expect(block(lazy.mask, start, n)).toEqual(Array.from((eager.mask as Uint8Array).subarray(start, start + n)));
      expect(block(lazy.frame.columns[1]!.data, start, n)).toEqual(Array.from((eager.frame.columns[1]!.data as Float64Array).subarray(start, start + n)));
    }
    expect(maskable([{ kind: "assign", columns: [{ name: "c", expr: col("i").cast("int8").node }] }])).toBe(false);
    expect(maskable([{ kind: "filter", predicate: col("g").mod(col("g")).gt(0).node }])).toBe(false);
    expect(maskable([{ kind: "dropna", subset: null, how: "any" }])).toBe(false);
  });
});

describe("groupby with a filter on a cluster", () => {
  let client: Client;
  beforeAll(async () => {
    client = await LocalCluster.start({ workers: 2 });
  });
  afterAll(() => client.close());

  const N = 6000;
  const r = rng(5);
  const key = Int32Array.from({ length: N }, () => Math.floor(r() * 40));
  const x = Array.from({ length: N }, (_, i) => (i % 17 === 0 ? null : r() * 2 - 1));
  const y = Float64Array.from({ length: N }, () => r() * 10);
  const cat = Array.from({ length: N }, (_, i) => (i % 11 === 0 ? null : ["a", "b", "c"][Math.floor(r() * 3)]!));

  /** Reference: per key of the rows that pass, the count and sum of x * y (nulls skipped). */
  function reference(keyOf: (i: number) => string | number | null, pass: (i: number) => boolean): Map<string | number, { count: number; sum: number }> {
    const m = new Map<string | number, { count: number; sum: number }>();
    for (let i = 0; i < N; i++) {
      const k = keyOf(i);
      if (k === null || !pass(i)) continue;
      const g = m.get(k) ?? { count: 0, sum: 0 };
      if (x[i] !== null) {
        g.count++;
        g.sum += x[i]! * y[i]!;
      }
      m.set(k, g);
    }
    return m;
  }

  it("equals filtering first, with nulls in keys and values, and recomputes each time", async () => {
    const df = await dd.fromArrays({ key, x, y, cat }, { npartitions: 5 }).persist();
    const pass = (i: number) => x[i] !== null && x[i]! > 0 && y[i]! < 7;
    for (const [by, keyOf] of [
      ["key", (i: number) => key[i]!],
      ["cat", (i: number) => cat[i]!],
    ] as const) {
      const want = reference(keyOf, pass);
      const q = () => df.filter(dd.col("x").gt(0).and(dd.col("y").lt(7))).assign({ z: dd.col("x").mul(dd.col("y")) }).groupby(by).agg({ z: ["count", "sum"] });
      for (let rep = 0; rep < 2; rep++) {
        const t = await q().compute();
        const rows = t.toArray().map((row) => row.toJSON() as Record<string, unknown>);
        expect(rows.length).toBe(want.size);
        for (const row of rows) {
          const w = want.get(row[by] as string | number)!;
          expect(row.z_count).toBe(BigInt(w.count));
          expect(row.z_sum as number).toBeCloseTo(w.sum, 9);
        }
      }
    }
    // Filters and values over null-free float columns (evaluated a block at a time on the workers).
    const t = await df.filter(dd.col("y").gt(2).and(dd.col("y").mul(2).le(15))).assign({ w: dd.col("y").mul(dd.col("y")) }).groupby("key").agg({ w: ["count", "mean"] }).compute();
    for (const row of t.toArray().map((r) => r.toJSON() as Record<string, unknown>)) {
      const rows = [...Array(N).keys()].filter((i) => key[i] === row.key && y[i]! > 2 && y[i]! * 2 <= 15);
      expect(row.w_count).toBe(BigInt(rows.length));
      expect(row.w_mean as number).toBeCloseTo(rows.reduce((a, i) => a + y[i]! * y[i]!, 0) / rows.length, 9);
    }
    expect(t.numRows).toBe(new Set([...Array(N).keys()].filter((i) => y[i]! > 2 && y[i]! * 2 <= 15).map((i) => key[i])).size);
    // Nothing of those groupbys is left on the cluster (their partials are released once the
    // result's graph is submitted): the scheduler knows the persisted partitions only.
    await new Promise((res) => setTimeout(res, 50));
    const known = (client.runner.scheduler as unknown as { tasks: Map<string, unknown> }).tasks;
    expect([...known.keys()].filter((k) => !k.startsWith("frame-"))).toEqual([]);
  });
});
