/**
 * Local files read a window at a time (parquet-chunk.ts: synchronous reads as the pages are
 * decoded) against the same files read whole (an AsyncBuffer source: the chunks fetched first):
 * the same values, or both an error. Tiny windows put page headers, snappy element headers and
 * literals across window ends.
 */

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { snappyCompress } from "hyparquet-writer/src/snappy.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setWindowBytes } from "../../src/dataframe/io/parquet-chunk.js";
import { prepareSnappy, snappyDecompress, snappyDecompressSplit, type PageStream } from "../../src/dataframe/io/parquet-snappy.js";
import { configureKernels } from "../../src/kernels/instance.js";
import { readWasm } from "../../src/kernels/node.js";
import { TESTING, columnsOf, parquetBytes, readAll, rng } from "./parquet-helpers.js";

beforeAll(async () => {
  configureKernels({ source: () => readWasm() });
  await prepareSnappy();
});
afterAll(() => setWindowBytes(undefined));

type Outcome = Record<string, unknown[]> | { error: string };

async function outcome(read: () => Promise<Parameters<typeof columnsOf>[0]>): Promise<Outcome> {
  try {
    return columnsOf(await read());
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** The file read whole (no synchronous reads), then from its path with each window size. */
async function compare(path: string, windows: number[]): Promise<void> {
  const bytes = readFileSync(path);
  const whole = await outcome(() => readAll({ byteLength: bytes.length, slice: (s: number, e?: number) => bytes.buffer.slice(bytes.byteOffset + s, bytes.byteOffset + (e ?? bytes.length)) }));
  for (const w of windows) {
    setWindowBytes(w);
    try {
      const windowed = await outcome(() => readAll(path));
      // Errors may word a truncated file differently (a short read against a size check); both fail.
      if ("error" in whole || "error" in windowed) expect("error" in windowed, `${path}, window ${w}: ${JSON.stringify(windowed).slice(0, 200)}`).toBe("error" in whole);
      else expect(windowed, `${path}, window ${w}`).toEqual(whole);
    } finally {
      setWindowBytes(undefined);
    }
  }
}

describe("readParquet of a local file, read a window at a time", () => {
  for (const dir of ["data", "bad_data"]) {
    it(`every file of parquet-testing/${dir}, with windows of 64 bytes, 1000 bytes and the default`, async () => {
      const files = readdirSync(`${TESTING}${dir}`).filter((f) => f.endsWith(".parquet")).sort();
      expect(files.length).toBeGreaterThan(5);
      for (const f of files) await compare(`${TESTING}${dir}/${f}`, [64, 1000, 512 * 1024]);
    }, 120_000);
  }

  const dir = mkdtempSync(join(tmpdir(), "tessera-chunk-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("pages of random floats (snappy literals decoded into the column), with and without nulls, v2 pages of every size", async () => {
    const r = rng(5);
    const n = 40_000;
    const f = new Float64Array(n).map(() => r() * 2 - 1);
    const g = new Float64Array(n).map(() => r());
    const valid = Uint8Array.from({ length: n }, (_, i) => (i % 7 === 3 ? 0 : 1));
    const k = new BigInt64Array(n).map((_, i) => BigInt(i * 3));
    const x = new Int32Array(n).map(() => Math.floor(r() * 50));
    const frame = {
      length: n,
      names: ["f", "g", "k", "x", "s"],
      columns: [
        { type: "float64" as const, data: f },
        { type: "float64" as const, data: g, valid },
        { type: "int64" as const, data: k },
        { type: "int32" as const, data: x },
        { type: "string" as const, data: x.map((v) => v % 5), dictionary: ["a", "b", "c", "d", "e"] },
      ],
    };
    for (const codec of ["SNAPPY", "UNCOMPRESSED"] as const) {
      const path = join(dir, `floats-${codec}.parquet`);
      writeFileSync(path, parquetBytes(frame, { codec, rowGroupSize: 15_000 }));
      await compare(path, [64, 777, 4096, 512 * 1024]);
      setWindowBytes(100);
      const got = columnsOf(await readAll(path));
      setWindowBytes(undefined);
      expect(got.f).toEqual(Array.from(f));
      expect(got.g).toEqual(Array.from(g, (v, i) => (valid[i] ? v : null)));
    }
  });

  it("DuckDB's v1 pages (levels and values in one snappy stream, dictionary pages) under every codec", async () => {
    const { DuckDBInstance } = await import("@duckdb/node-api");
    const con = await (await DuckDBInstance.create()).connect();
    try {
      for (const codec of ["snappy", "uncompressed", "zstd", "gzip"]) {
        const path = join(dir, `duck-${codec}.parquet`);
        await con.run(`COPY (SELECT i::INTEGER % 1000 AS key, 'c' || (i % 37)::VARCHAR AS cat, hash(i)::DOUBLE / 1e19 AS f,
          CASE WHEN i % 11 = 0 THEN NULL ELSE hash(i + 1)::DOUBLE / 1e19 END AS g FROM range(70000) t(i))
          TO '${path}' (FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE 30000)`);
        await compare(path, [64, 5000, 512 * 1024]);
      }
      // Random dictionary indices: snappy pages of literals, decompressed into wasm memory in place.
      const path = join(dir, "duck-random-keys.parquet");
      const query = `SELECT (hash(i) % 1000)::INTEGER AS key, 'c' || (hash(i + 7) % 50)::VARCHAR AS cat FROM range(250000) t(i)`;
      await con.run(`COPY (${query}) TO '${path}' (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 100000)`);
      const rows = (await con.runAndReadAll(query)).getRows();
      for (const w of [1000, 512 * 1024]) {
        setWindowBytes(w);
        try {
          const got = columnsOf(await readAll(path));
          expect(got.key, `window ${w}`).toEqual(rows.map((r) => r[0]));
          expect(got.cat, `window ${w}`).toEqual(rows.map((r) => r[1]));
        } finally {
          setWindowBytes(undefined);
        }
      }
    } finally {
      con.closeSync();
    }
  });
});

describe("snappyDecompressSplit over a stream of windows", () => {
  const r = rng(9);
  // Long literals (random bytes) with a few short copies and runs (too few for the wasm decoder).
  const data = Uint8Array.from({ length: 100_000 }, (_, i) => (i % 3000 < 40 ? i % 5 : Math.floor(r() * 256)));
  const compressed = snappyCompress(data);
  const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
  const windowed = (bytes: Uint8Array, sizes: () => number): PageStream => ({ length: bytes.length, window: (pos) => bytes.slice(pos, pos + Math.max(16, sizes())) });

  it("decodes the same bytes whatever the windows", () => {
    for (const size of [16, 17, 100, 4096, 65_537]) {
      for (const h of [0, 4, 33]) {
        const head = new Uint8Array(h);
        const dst = new Uint8Array(data.length - h);
        expect(snappyDecompressSplit(windowed(compressed, () => size), data.length, head, dst)).toBe(true);
        expect(same(head, data.subarray(0, h)) && same(dst, data.subarray(h)), `windows of ${size}, head ${h}`).toBe(true);
      }
    }
    const odd = rng(2);
    const dst = new Uint8Array(data.length - 4);
    expect(snappyDecompressSplit(windowed(compressed, () => Math.floor(odd() * 300)), data.length, new Uint8Array(4), dst)).toBe(true);
    expect(same(dst, data.subarray(4))).toBe(true);
  });

  it("fails on a corrupt stream with the error the whole page gives", () => {
    // Cut near the end: still a page for the JS decoder (whose errors these are), cut inside an element.
    const cuts = [compressed.subarray(0, compressed.length - 10), compressed.subarray(0, compressed.length - 1), compressed.subarray(0, compressed.length - 1000)];
    for (const cut of cuts) {
      let whole = "";
      try {
        snappyDecompress(cut, data.length);
      } catch (err) {
        whole = (err as Error).message;
      }
      expect(whole).toMatch(/snappy/);
      expect(() => snappyDecompressSplit(windowed(cut, () => 20), data.length, new Uint8Array(8), new Uint8Array(data.length - 8))).toThrow(whole);
    }
  });
});
