import { existsSync, readdirSync, readFileSync } from "node:fs";
import { asyncBufferFromFile, parquetMetadata, parquetReadObjects } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { describe, expect, it } from "vitest";
import { TesseraError } from "../../src/errors.js";
import { concatFrames, type Column, type Frame } from "../../src/dataframe/frame.js";
import { compareStrings, filterMask, mayMatch, normalizeFilters, type Filters } from "../../src/dataframe/io/filters.js";
import { resolveParquet } from "../../src/dataframe/io/parquet.js";
import { readParquetPart } from "../../src/dataframe/io/parquet-read.js";
import { OpRegistry } from "../../src/worker/registry.js";
import "../../src/dataframe/io/ops-parquet.js";
import { TESTING, columnsOf, parquetBytes, countingBuffer, readAll, readParts, rng, sortedFile, valuesOf } from "./parquet-helpers.js";

const DATA = `${TESTING}data/`;
const BAD = `${TESTING}bad_data/`;
const files = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(".parquet")).sort();

/** Within `ms`, or fail naming what hung. */
async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Outcome of reading a whole file: the frame, or the error; with time and RSS growth. */
async function attempt(path: string, columns?: string[]): Promise<{ frame?: Frame; error?: Error; ms: number; rssGrowth: number }> {
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  try {
    const frame = await within(5000, path, readAll(path, columns ? { columns } : {}));
    return { frame, ms: performance.now() - t0, rssGrowth: process.memoryUsage().rss - rss0 };
  } catch (error) {
    return { error: error as Error, ms: performance.now() - t0, rssGrowth: process.memoryUsage().rss - rss0 };
  }
}

// ---------------------------------------------------------------------------------------------
// Values as hyparquet's row objects show them, to compare the two readers.

const utf8 = new TextDecoder();

/** Deep canonical form: bytes as text, bigints tagged, Dates as ms, Maps as objects keyed by String(key). */
function canon(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v === "bigint") return `${v}n`;
  if (v instanceof Date) return v.getTime();
  if (v instanceof Uint8Array) return utf8.decode(v);
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), canon(x)]));
  if (Array.isArray(v)) return v.map(canon);
  if (typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, canon(x)]));
  return v;
}

const PER_MS = { s: 0n, ms: 1n, us: 1000n, ns: 1_000_000n };

/** Our column as hyparquet's default conversions would give it (timestamps and dates as ms, booleans). */
function asHyparquet(c: Column): unknown[] {
  return valuesOf(c).map((v) => {
    if (v === null) return null;
    if (c.type === "timestamp") return Number((v as bigint) / PER_MS[c.unit ?? "ms"]);
    if (c.type === "date32") return (v as number) * 86_400_000;
    if (c.type === "bool") return v === 1;
    return canon(v);
  });
}

/** Columns whose value form differs from hyparquet's on purpose (documented in parquet-nested.ts). */
const OWN_FORM: Record<string, string[]> = {
  "map_no_value.parquet": ["my_map_no_v"], // a MAP without values: a Map to nulls here, hyparquet gives its raw entries
  "nested_structs.rust.parquet": ["ul_observation_date"], // timestamps inside a struct: bigints in their unit here, Dates there
};

const DATA_ERRORS: Record<string, RegExp> = {
  // Two 1 GiB map keys: a page over the limit (and a string over V8's maximum length).
  "large_string_map.brotli.parquet": /column "arr" \(leaf arr\.key_value\.key\): page 0 .*1073741828 bytes uncompressed, over this reader's limit/,
  // Spark's 9999-12-31 does not fit nanoseconds in 64 bits: read it with int96Unit "us" (tested below).
  "int96_from_spark.parquet": /column "a": page 0 .*the INT96 timestamp 9999-12-31 does not fit a 64-bit count of ns; read with int96Unit: "us"/,
  // Arrow's "truncated data page" fixture: the second page of "name" runs past its chunk.
  "nation.dict-malformed.parquet": /row group 0, column "name": page 1 .*size is 28 bytes, but 13 remain in the column chunk/,
};

function parseCsv(text: string): (string | null)[][] {
  const rows: (string | null)[][] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const fields: (string | null)[] = [];
    let i = 0;
    while (i <= line.length) {
      if (line[i] === '"') {
        const end = line.indexOf('"', i + 1);
        fields.push(line.slice(i + 1, end));
        i = end + 2;
      } else {
        const end = line.indexOf(",", i) < 0 ? line.length : line.indexOf(",", i);
        const raw = line.slice(i, end);
        fields.push(raw === "" ? null : raw);
        i = end + 1;
      }
    }
    rows.push(fields);
  }
  return rows;
}

describe("readParquet: parquet-testing/data", () => {
  it("knows every file of the corpus", () => {
    expect(files(DATA).length).toBeGreaterThanOrEqual(60);
  });

  for (const file of files(DATA)) {
    it(`${file}`, async () => {
      const { frame, error, ms, rssGrowth } = await attempt(DATA + file);
      expect(ms).toBeLessThan(5000);
      expect(rssGrowth).toBeLessThan(400e6);
      const expectedError = DATA_ERRORS[file];
      if (expectedError) {
        expect(error).toBeInstanceOf(TesseraError);
        expect(error!.message).toContain(file);
        expect(error!.message).toMatch(expectedError);
        return;
      }
      if (error) throw error;
      // Row count and every value against hyparquet's own row objects.
      const rows = await parquetReadObjects({ file: await asyncBufferFromFile(DATA + file), compressors });
      expect(frame!.length).toBe(rows.length);
      frame!.names.forEach((name, i) => {
        if (OWN_FORM[file]?.includes(name)) return;
        expect(asHyparquet(frame!.columns[i]!), `${file}: column ${name}`).toEqual(rows.map((r) => canon(r[name])));
      });
      // And against the expected CSV where the corpus has one.
      const csv = DATA + file.replace(/\.parquet$/, "_expect.csv");
      if (existsSync(csv)) {
        const [header, ...body] = parseCsv(readFileSync(csv, "utf8"));
        expect(header!.length).toBe(frame!.names.length);
        const cols = frame!.columns.map(valuesOf);
        const got = body.map((_, r) => cols.map((c) => (c[r] === null ? null : String(c[r]))));
        expect(got).toEqual(body);
      }
    });
  }

  it("gives Parquet types their Frame types: units, time zones, dictionaries", async () => {
    const tiny = await resolveParquet(DATA + "alltypes_tiny_pages.parquet");
    expect(tiny.schema.types.map((t) => t.type)).toEqual(["int32", "bool", "int8", "int16", "int32", "int64", "float32", "float64", "string", "string", "timestamp", "int32", "int32"]);
    expect(tiny.schema.types[10]).toEqual({ type: "timestamp", unit: "ns" }); // INT96
    const spark = await readAll(DATA + "int96_from_spark.parquet", { int96Unit: "us" });
    expect(spark.columns[0]).toMatchObject({ type: "timestamp", unit: "us" });
    expect(valuesOf(spark.columns[0]!)[0]).toBe(1704141296123456n); // 2024-01-01T20:34:56.123456Z
    const sparkRows = await parquetReadObjects({ file: await asyncBufferFromFile(DATA + "int96_from_spark.parquet") });
    expect(asHyparquet(spark.columns[0]!)).toEqual(sparkRows.map((r) => canon(r.a)));
    const nested = columnsOf(await readAll(DATA + "nested_structs.rust.parquet", { columns: ["ul_observation_date"] }));
    expect(nested.ul_observation_date![0]).toMatchObject({ min: 1608822900000000000n, max: 1608822900000000000n, count: 495n });
    const u64 = await resolveParquet(DATA + "concatenated_gzip_members.parquet");
    expect(u64.schema.types).toEqual([{ type: "uint64" }]);
    for (const f of ["int32_decimal", "int64_decimal", "fixed_length_decimal", "fixed_length_decimal_legacy", "byte_array_decimal"]) {
      const d = await readAll(`${DATA}${f}.parquet`);
      expect(d.columns[0]!.type).toBe("object");
      expect(valuesOf(d.columns[0]!)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    }
    const plain = await readAll(DATA + "alltypes_plain.parquet");
    expect(columnsOf(plain).id).toEqual([4, 5, 6, 7, 2, 3, 0, 1]);
    expect(valuesOf(plain.columns[9]!)[0]).toEqual(Uint8Array.of(0x30)); // unannotated BYTE_ARRAY: binary
    const asText = await readAll(DATA + "alltypes_plain.parquet", { binaryAsString: true, columns: ["string_col"] });
    expect(asText.columns[0]!.type).toBe("string");
    expect(valuesOf(asText.columns[0]!)).toEqual(["0", "1", "0", "1", "0", "1", "0", "1"]);
    expect(asText.columns[0]!.dictionary).toEqual(["0", "1"]);
    const split = columnsOf(await readAll(DATA + "byte_stream_split_extended.gzip.parquet"));
    for (const t of ["float16", "float", "double", "int32", "int64", "flba5", "decimal"]) expect(split[`${t}_byte_stream_split`]).toEqual(split[`${t}_plain`]);
    const maps = columnsOf(await readAll(DATA + "nested_maps.snappy.parquet")).a!;
    expect(maps[0]).toEqual(new Map([["a", new Map([[1, true], [2, false]])]]));
  });

  it("reads the undamaged columns of a damaged file", async () => {
    const nation = await readAll(DATA + "nation.dict-malformed.parquet", { columns: ["nation_key", "region_key"] });
    expect(nation.length).toBe(25);
    expect(columnsOf(nation).nation_key).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });
});

describe("readParquet: parquet-testing/bad_data", () => {
  const expected: Record<string, RegExp | "ok"> = {
    "ARROW-GH-41317.parquet": /row group 1, column "timestamp_us_no_tz": the column chunk is for "timestampWus_no_tz"/,
    "ARROW-GH-41321.parquet": /row group 0, column "int64": page 1 .*definition levels: a run header is cut off/,
    "ARROW-GH-43605.parquet": "ok", // RLE dictionary indices of bit width 0: every index is 0, as the spec reads it
    "ARROW-GH-45185.parquet": /column "x" \(leaf x\.list\.element\): page 0 .*first repetition level is 1/,
    "ARROW-GH-47662.parquet": /column "flba_field": page 0 .*too few for 100 PLAIN FIXED_LEN_BYTE_ARRAY values/,
    "ARROW-RS-GH-6229-DICTHEADER.parquet": /column "region_key": the column chunk spans bytes 466-591 but the file has 533 bytes/,
    "ARROW-RS-GH-6229-LEVELS.parquet": /column "outer" \(leaf outer\.list\.item\.c\): page 1 .*claims 21 values, but its column chunk holds 1/,
    "PARQUET-1481.parquet": /cannot parse the footer metadata: schema column "Handle" has an invalid physical type \(-7\)/,
  };

  it("knows every file", () => expect(files(BAD)).toEqual(Object.keys(expected).sort()));

  for (const file of files(BAD)) {
    it(`${file}`, async () => {
      const { frame, error, ms, rssGrowth } = await attempt(BAD + file);
      expect(ms).toBeLessThan(5000);
      expect(rssGrowth).toBeLessThan(300e6);
      const want = expected[file]!;
      if (want === "ok") {
        if (error) throw error;
        expect(frame!.length).toBe(21186);
        expect(new Set(valuesOf(frame!.columns[0]!))).toEqual(new Set([0]));
        return;
      }
      expect(error).toBeInstanceOf(TesseraError);
      expect(error!.message).toContain(file);
      expect(error!.message).toMatch(want);
    });
  }

  it("reads the columns the damage does not touch", async () => {
    const columns = ["boolean", "int32", "string"];
    const f = await readAll(BAD + "ARROW-GH-41317.parquet", { columns });
    const rows = await parquetReadObjects({ file: await asyncBufferFromFile(BAD + "ARROW-GH-41317.parquet"), columns });
    expect(f.length).toBe(5);
    for (const [i, name] of columns.entries()) expect(asHyparquet(f.columns[i]!)).toEqual(rows.map((r) => canon(r[name])));
  });

  it("fails cleanly on random corruption of good files (no crash, hang or blowup)", async () => {
    const r = rng(7);
    const sources = [readFileSync(DATA + "alltypes_plain.snappy.parquet"), readFileSync(DATA + "delta_byte_array.parquet"), sortedFile(2000, 500)];
    const rss0 = process.memoryUsage().rss;
    let failures = 0;
    for (let k = 0; k < 150; k++) {
      const bytes = new Uint8Array(sources[k % sources.length]!);
      for (let m = 0; m < 1 + (k % 4); m++) bytes[Math.floor(r() * bytes.length)] = Math.floor(r() * 256);
      try {
        await within(2000, `mutation ${k}`, readAll(new Blob([bytes])));
      } catch (err) {
        failures++;
        expect(err, `mutation ${k}: ${(err as Error).message}`).toBeInstanceOf(TesseraError);
      }
    }
    expect(failures).toBeGreaterThan(0);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(400e6);
  });
});

// ---------------------------------------------------------------------------------------------

describe("readParquet: projection, pruning, filters, partitions", () => {
  const file = sortedFile(10_000, 1000);

  it("reads only the projected columns' bytes", async () => {
    const big = sortedFile(100_000, 100_000);
    const m = parquetMetadata(big.slice().buffer);
    const chunk = (i: number) => Number(m.row_groups[0]!.columns[i]!.meta_data!.total_compressed_size);
    const buf = countingBuffer(big);
    const ds = await resolveParquet(buf, { columns: ["x"] });
    const footerBytes = buf.bytes;
    expect(footerBytes).toBeLessThanOrEqual(64 * 1024);
    const [frame] = await readParts(ds);
    expect(frame!.names).toEqual(["x"]);
    expect(frame!.length).toBe(100_000);
    expect(buf.bytes - footerBytes).toBe(chunk(0));
    expect(buf.bytes).toBeLessThan(big.length / 2);
    // Asking the worker for fewer columns than resolved reads fewer bytes still; adjacent chunks are one read.
    const all = await resolveParquet(buf);
    let before = buf.bytes;
    await readParts(all, ["s"]);
    expect(buf.bytes - before).toBe(chunk(2));
    before = buf.bytes;
    const reads = buf.reads;
    await readParts(all, ["f", "s"]);
    expect(buf.bytes - before).toBe(chunk(1) + chunk(2));
    expect(buf.reads - reads).toBe(1);
  });

  it("cuts row groups into partitions: splitRowGroups true, n, false", async () => {
    const one = await resolveParquet(new Blob([file]));
    expect(one.parts.map((p) => p.rowGroups)).toEqual(Array.from({ length: 10 }, (_, i) => [i]));
    expect(one.rows).toEqual(new Array(10).fill(1000));
    const three = await resolveParquet(new Blob([file]), { splitRowGroups: 3 });
    expect(three.parts.map((p) => p.rowGroups)).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]);
    const whole = await resolveParquet(new Blob([file]), { splitRowGroups: false });
    expect(whole.parts.length).toBe(1);
    const frames = await Promise.all([one, three, whole].map(async (ds) => concatFrames(await readParts(ds))));
    expect(columnsOf(frames[1]!)).toEqual(columnsOf(frames[0]!));
    expect(columnsOf(frames[2]!)).toEqual(columnsOf(frames[0]!));
    expect(columnsOf(frames[0]!).x).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    await expect(resolveParquet(new Blob([file]), { splitRowGroups: 0 })).rejects.toThrow(/splitRowGroups must be/);
    // Parts are plain data: they survive structured cloning (the trip to a worker).
    expect(await readParquetPart(structuredClone(one.parts[3]!), ["x"], null).then((f) => valuesOf(f.columns[0]!)[0])).toBe(3000);
  });

  it("prunes row groups by statistics and filters the rows of the rest", async () => {
    const cases: [Filters, number[], (x: number) => boolean][] = [
      [[["x", ">=", 2500], ["x", "<", 4000]], [2, 3], (x) => x >= 2500 && x < 4000],
      [[[["x", "<", 100]], [["x", ">=", 9900]]], [0, 9], (x) => x < 100 || x >= 9900],
      [[["x", "in", [5, 5005]]], [0, 5], (x) => x === 5 || x === 5005],
      [[["k", ">", 8999n]], [9], (x) => x > 8999],
      [[["k", "==", 7000]], [7], (x) => x === 7000],
      [[["x", "!=", 3]], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], (x) => x !== 3],
      [[["x", ">", 1e9]], [], () => false],
      [[["s", "=", "c"], ["x", "<=", 1500]], [0, 1], (x) => x % 5 === 2 && x <= 1500],
    ];
    for (const [filters, groups, keep] of cases) {
      const ds = await resolveParquet(new Blob([file]), { filters });
      expect(ds.parts.flatMap((p) => p.rowGroups), JSON.stringify(filters, (_k, v) => (typeof v === "bigint" ? `${v}n` : v))).toEqual(groups);
      const got = concatFrames(await readParts(ds, null, filters));
      expect(columnsOf(got).x).toEqual(Array.from({ length: 10_000 }, (_, i) => i).filter(keep));
      expect(got.names).toEqual(["x", "f", "s", "k"]);
    }
    // Filter columns need not be read columns; they are read, used and dropped.
    const ds = await resolveParquet(new Blob([file]), { columns: ["f"], filters: [["x", "<", 3]] });
    const f = concatFrames(await readParts(ds, null, [["x", "<", 3]]));
    expect(f.names).toEqual(["f"]);
    expect(f.length).toBe(3);
  });

  it("keeps one empty partition with the schema when every row group is pruned", async () => {
    const ds = await resolveParquet(new Blob([file]), { filters: [["x", "<", 0]] });
    expect(ds.parts.length).toBe(1);
    expect(ds.rows).toEqual([0]);
    const [f] = await readParts(ds, null, [["x", "<", 0]]);
    expect(f!.length).toBe(0);
    expect(f!.columns.map((c) => c.type)).toEqual(["int32", "float64", "string", "int64"]);
    const empty = await readAll(DATA + "column_chunk_key_value_metadata.parquet");
    expect(empty.length).toBe(0);
  });

  it("follows pyarrow's null, NaN and string semantics in row filters", async () => {
    const frame: Frame = {
      length: 5,
      names: ["n", "f", "s", "t", "b", "d"],
      columns: [
        { type: "int32", data: Int32Array.of(1, 0, 3, 1, 5), valid: Uint8Array.of(1, 0, 1, 1, 1) },
        { type: "float64", data: Float64Array.of(1.5, NaN, 0, -2, 1.5), valid: Uint8Array.of(1, 1, 0, 1, 1) },
        { type: "string", data: Int32Array.of(0, 0, 1, 2, 3), dictionary: ["a", "b", "é", "😀"], valid: Uint8Array.of(1, 0, 1, 1, 1) },
        { type: "timestamp", unit: "ms", tz: "UTC", data: BigInt64Array.of(0n, 1000n, 2000n, 3000n, 4000n) },
        { type: "bool", data: Uint8Array.of(1, 0, 1, 0, 1) },
        { type: "date32", data: Int32Array.of(0, 1, 2, 3, 4) },
      ],
    };
    const bytes = parquetBytes(frame);
    const rows = async (filters: Filters) => columnsOf(await readAll(new Blob([bytes]), { filters })).n!;
    expect(await rows([["n", "!=", 1]])).toEqual([3, 5]); // the null row is not != 1
    expect(await rows([["n", "not in", [1]]])).toEqual([null, 3, 5]); // but it is "not in"
    expect(await rows([["n", "in", [null, 5]]])).toEqual([null, 5]);
    expect(await rows([["n", "=", null]])).toEqual([]);
    expect(await rows([["f", "!=", 1.5]])).toEqual([null, 1]); // NaN != 1.5; null is not
    expect(await rows([["f", "in", [NaN]]])).toEqual([null]);
    expect(await rows([["s", ">", "a"]])).toEqual([3, 1, 5]);
    expect(await rows([["s", ">", "é"]])).toEqual([5]); // code point order: U+1F600 > U+00E9
    expect(await rows([["t", ">=", new Date(3000)]])).toEqual([1, 5]);
    expect(await rows([["t", "<", "1970-01-01T00:00:01Z"]])).toEqual([1]);
    expect(await rows([["b", "=", true], ["d", ">", "1970-01-02"]])).toEqual([3, 5]);
    await expect(rows([["n", "~", 1] as never])).rejects.toThrow(/unknown op "~"/);
    await expect(rows([["n", ">", "x"]])).rejects.toThrow(/a string cannot be compared with a int32 column/);
    await expect(rows([["nope", ">", 1]])).rejects.toThrow(/no column "nope"; .* has columns "n", "f", "s", "t", "b", "d"/);
    await expect(rows([["n", "in", 1] as never])).rejects.toThrow(/"in" takes a list/);
  });

  it("prunes only what statistics prove, honouring nulls, NaN and inexact bounds", () => {
    const cols = new Map([["x", { meta: { type: "float64" as const }, decimal: false }]]);
    const dnf = (f: Filters) => normalizeFilters(f, cols, () => "");
    const stats = { rows: 10, nullCount: 2, min: 1, max: 1, exact: true, float: true };
    expect(mayMatch(dnf([["x", "!=", 1]]), () => stats)).toBe(true); // NaN hides from float stats
    expect(mayMatch(dnf([["x", "!=", 1]]), () => ({ ...stats, float: false }))).toBe(false);
    expect(mayMatch(dnf([["x", "not in", [1]]]), () => ({ ...stats, float: false }))).toBe(true); // the nulls match
    expect(mayMatch(dnf([["x", "in", [null]]]), () => ({ ...stats, nullCount: 0 }))).toBe(false);
    expect(mayMatch(dnf([["x", ">", 0]]), () => ({ rows: 10, nullCount: 10, exact: true, float: true }))).toBe(false);
    expect(mayMatch(dnf([["x", ">", 0]]), () => undefined)).toBe(true);
    expect(compareStrings("\u{1F600}", "\uFFFD")).toBeGreaterThan(0);
    const f: Frame = { length: 2, names: ["x"], columns: [{ type: "float64", data: Float64Array.of(1, 2) }] };
    expect(filterMask(f, dnf([[["x", "=", 1]], [["x", "=", 2]]]))).toEqual(Uint8Array.of(1, 1));
  });
});

describe("readParquet: the worker op", () => {
  it("is registered, reads a part, and honours this.signal", async () => {
    const ds = await resolveParquet(new Blob([sortedFile(3000, 1000)]), { columns: ["x", "s"] });
    const op = new OpRegistry(false).get("dataframe.readParquet");
    const ctx = { key: "read-parquet-x", worker: "w", signal: new AbortController().signal };
    const f = (await op.call(ctx, ds.parts[1], ["s"], [["x", "<", 1003]])) as Frame;
    expect(columnsOf(f)).toEqual({ s: ["a", "b", "c"] });
    expect(f.columns[0]!.dictionary).toEqual(["a", "b", "c", "d", "e"]);
    const ac = new AbortController();
    ac.abort();
    await expect(op.call({ ...ctx, signal: ac.signal }, ds.parts[0], null, null)).rejects.toThrow(/abort/i);
    await expect(resolveParquet(new Blob([sortedFile(10, 10)]), { signal: ac.signal })).rejects.toThrow(/abort/i);
  });

  it("stops between pages when cancelled mid-read", async () => {
    const ac = new AbortController();
    const bytes = sortedFile(50_000, 50_000);
    const ds = await resolveParquet(new Blob([bytes]));
    const buf = { byteLength: bytes.length, slice: async (s: number, e?: number) => (ac.abort(), bytes.slice(s, e).buffer) };
    const part = { ...ds.parts[0]!, source: (await resolveParquet(buf)).parts[0]!.source };
    await expect(readParquetPart(part, null, null, ac.signal)).rejects.toThrow(/abort/i);
  });

  it("names the file and column when asked for a column the part lacks", async () => {
    const ds = await resolveParquet(new Blob([sortedFile(10, 10)]), { columns: ["x"] });
    await expect(readParquetPart(ds.parts[0]!, ["f"], null)).rejects.toThrow(/<Blob of \d+ bytes>: no column "f"; the dataset's columns are "x"/);
  });
});

describe("readParquet: round trip with toParquet", () => {
  it("reads back every column type the writer writes, nulls included", async () => {
    const valid = Uint8Array.of(1, 0, 1);
    const frame: Frame = {
      length: 3,
      names: ["f64", "f32", "i8", "u16", "u32", "i64", "u64", "b", "s", "ts", "d", "o"],
      columns: [
        { type: "float64", data: Float64Array.of(1.5, 0, -2), valid },
        { type: "float32", data: Float32Array.of(0.5, 0, 2), valid },
        { type: "int8", data: Int8Array.of(-128, 0, 127), valid },
        { type: "uint16", data: Uint16Array.of(0, 0, 65535), valid },
        { type: "uint32", data: Uint32Array.of(0, 0, 4294967295), valid },
        { type: "int64", data: BigInt64Array.of(-(2n ** 63n), 0n, 2n ** 63n - 1n), valid },
        { type: "uint64", data: BigUint64Array.of(0n, 0n, 2n ** 64n - 1n), valid },
        { type: "bool", data: Uint8Array.of(1, 0, 0), valid },
        { type: "string", data: Int32Array.of(1, 0, 0), dictionary: ["x", "y"], valid },
        { type: "timestamp", unit: "us", tz: "UTC", data: BigInt64Array.of(1n, 0n, 1700000000000000n), valid },
        { type: "date32", data: Int32Array.of(-1, 0, 19000), valid },
        { type: "object", data: [Uint8Array.of(1, 2), null, Uint8Array.of()], valid },
      ],
    };
    const back = await readAll(new Blob([parquetBytes(frame)]));
    expect(back.columns.map((c) => [c.type, c.unit, c.tz])).toEqual(frame.columns.map((c) => [c.type, c.unit, c.tz]));
    expect(columnsOf(back)).toEqual(columnsOf(frame));
  });
});
