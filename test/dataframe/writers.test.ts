import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { describe, expect, it } from "vitest";
import { concatFrames, makeFrame, stringsOf, type Column, type Frame } from "../../src/dataframe/frame.js";
import { readCsvPart, resolveCsv, type ReadCsvOptions } from "../../src/dataframe/io/csv.js";
import { frameToCsv, frameToParquet, isoTimestamp } from "../../src/dataframe/io/writers.js";

const V = (...bits: number[]) => Uint8Array.from(bits);

function valuesOf(c: Column): unknown[] {
  if (c.type === "string") return stringsOf(c);
  return Array.from(c.data as ArrayLike<unknown>, (x, i) => (c.valid && !c.valid[i] ? null : x));
}

function columnsOf(f: Frame): Record<string, unknown[]> {
  return Object.fromEntries(f.names.map((n, i) => [n, valuesOf(f.columns[i]!)]));
}

async function readText(text: string, options: ReadCsvOptions = {}): Promise<Frame> {
  const ds = await resolveCsv(new Blob([text]), options);
  return concatFrames(await Promise.all(ds.parts.map((p) => readCsvPart(p, null))));
}

/** Every column type, a null in row 1 of each. */
function everyType(): Frame {
  const valid = V(1, 0, 1);
  const cols: [string, Column][] = [
    ["f64", { type: "float64", data: Float64Array.of(1.25, 0, -3e-7), valid }],
    ["f32", { type: "float32", data: Float32Array.of(0.5, 0, -2), valid }],
    ["i8", { type: "int8", data: Int8Array.of(-128, 0, 127), valid }],
    ["i16", { type: "int16", data: Int16Array.of(-32768, 0, 32767), valid }],
    ["i32", { type: "int32", data: Int32Array.of(-(2 ** 31), 0, 2 ** 31 - 1), valid }],
    ["u8", { type: "uint8", data: Uint8Array.of(0, 0, 255), valid }],
    ["u16", { type: "uint16", data: Uint16Array.of(1, 0, 65535), valid }],
    ["u32", { type: "uint32", data: Uint32Array.of(0, 0, 2 ** 32 - 1), valid }],
    ["i64", { type: "int64", data: BigInt64Array.of(-(2n ** 63n), 0n, 2n ** 63n - 1n), valid }],
    ["u64", { type: "uint64", data: BigUint64Array.of(0n, 0n, 2n ** 64n - 1n), valid }],
    ["b", { type: "bool", data: V(1, 0, 0), valid }],
    ["s", { type: "string", data: Int32Array.of(1, 0, 0), dictionary: ['a, "quoted"\nline', "plain"], valid }],
    ["ts", { type: "timestamp", unit: "us", tz: "UTC", data: BigInt64Array.of(1_700_000_000_123_456n, 0n, -1n), valid }],
    ["tsn", { type: "timestamp", unit: "ns", data: BigInt64Array.of(1n, 0n, 1_700_000_000_000_000_000n), valid }],
    ["d", { type: "date32", data: Int32Array.of(19000, 0, -1), valid }],
    ["obj", { type: "object", data: [{ a: 1, b: [1, 2] }, null, { a: 2, b: [] }], valid }],
  ];
  return makeFrame(cols.map((c) => c[0]), cols.map((c) => c[1]));
}

describe("frameToCsv", () => {
  it("quotes only where needed and writes nulls, NaN, infinities, dates and timestamps", () => {
    const f = makeFrame(
      ["name", "x", "d", "t", "b"],
      [
        { type: "string", data: Int32Array.of(0, 1, 2, 0), dictionary: ["plain", 'has "q", sep', "two\nlines"], valid: V(1, 1, 1, 0) },
        { type: "float64", data: Float64Array.of(1.5, NaN, Infinity, -Infinity) },
        { type: "date32", data: Int32Array.of(0, 19782, -1, 0), valid: V(1, 1, 1, 0) },
        { type: "timestamp", unit: "ms", tz: "UTC", data: BigInt64Array.of(0n, 1_700_000_000_123n, -1n, 0n) },
        { type: "bool", data: V(1, 0, 1, 0) },
      ],
    );
    expect(frameToCsv(f)).toBe(
      [
        "name,x,d,t,b",
        "plain,1.5,1970-01-01,1970-01-01T00:00:00Z,true",
        '"has ""q"", sep",,2024-02-29,2023-11-14T22:13:20.123Z,false',
        '"two\nlines",inf,1969-12-31,1969-12-31T23:59:59.999Z,true',
        ",-inf,,1970-01-01T00:00:00Z,false",
        "",
      ].join("\n"),
    );
    expect(frameToCsv(f, { header: false, sep: ";", lineTerminator: "\r\n" }).split("\r\n")[0]).toBe("plain;1.5;1970-01-01;1970-01-01T00:00:00Z;true");
  });

  it("writes timestamps in their unit, naive or with a tz", () => {
    expect(isoTimestamp(1_700_000_000_000_000_001n, "ns", undefined)).toBe("2023-11-14T22:13:20.000000001");
    expect(isoTimestamp(1_700_000_000n, "s", "UTC")).toBe("2023-11-14T22:13:20Z");
    expect(isoTimestamp(0n, "us", "+05:30")).toBe("1970-01-01T05:30:00+05:30");
    expect(isoTimestamp(0n, "ms", "America/New_York")).toBe("1970-01-01T00:00:00Z");
  });

  it("round-trips through readCsv", async () => {
    const f = everyType();
    const dtypes = Object.fromEntries(
      f.names.filter((n) => n !== "obj").map((n, i) => {
        const c = f.columns[i]!;
        return [n, c.type === "timestamp" ? `timestamp[${c.unit}${c.tz ? `, ${c.tz}` : ""}]` : c.type];
      }),
    ) as ReadCsvOptions["dtypes"];
    const back = await readText(frameToCsv(f), { dtypes });
    const expected = columnsOf(f);
    expected.obj = ['{"a":1,"b":[1,2]}', null, '{"a":2,"b":[]}'];
    expect(columnsOf(back)).toEqual(expected);
    expect(back.columns.map((c) => [c.type, c.unit, c.tz])).toEqual(f.columns.map((c) => [c.type === "object" ? "string" : c.type, c.unit, c.tz]));
  });
});

describe("frameToParquet", () => {
  it("writes every column type, with nulls, that hyparquet reads back", async () => {
    const f = everyType();
    const bytes = frameToParquet(f);
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const meta = parquetMetadata(file);
    expect(meta.row_groups[0]!.columns.every((c) => c.meta_data!.codec === "SNAPPY")).toBe(true);
    const big = (x: bigint) => x;
    const rows = await parquetReadObjects({
      file,
      parsers: { timestampFromMilliseconds: big, timestampFromMicroseconds: big, timestampFromNanoseconds: big, dateFromDays: (d: number) => d },
    });
    const got = Object.fromEntries(f.names.map((n) => [n, rows.map((r) => r[n] ?? null)]));
    const expected = columnsOf(f);
    expected.b = [true, null, false];
    expected.u64 = [0n, null, 2n ** 64n - 1n];
    expect(got).toEqual(expected);
    const types = Object.fromEntries(meta.schema.slice(1).map((s) => [s.name, [s.type, s.converted_type ?? s.logical_type?.type]]));
    expect(types).toMatchObject({ i8: ["INT32", "INT_8"], u32: ["INT32", "UINT_32"], u64: ["INT64", "UINT_64"], s: ["BYTE_ARRAY", "UTF8"], ts: ["INT64", "TIMESTAMP_MICROS"], tsn: ["INT64", "TIMESTAMP"], d: ["INT32", "DATE"], obj: ["BYTE_ARRAY", "JSON"] });
  });

  it("writes empty partitions, uncompressed files, and second timestamps as milliseconds", async () => {
    const empty = makeFrame(["a", "s"], [{ type: "int32", data: new Int32Array(0) }, { type: "string", data: new Int32Array(0), dictionary: [] }]);
    const e = frameToParquet(empty);
    expect(parquetMetadata(e.buffer as ArrayBuffer).num_rows).toBe(0n);
    const secs = makeFrame(["t"], [{ type: "timestamp", unit: "s", data: BigInt64Array.of(1n, 2n) }]);
    const bytes = frameToParquet(secs, { codec: "UNCOMPRESSED" });
    const rows = await parquetReadObjects({ file: bytes.buffer as ArrayBuffer, parsers: { timestampFromMilliseconds: (x: bigint) => x } });
    expect(rows.map((r) => r.t)).toEqual([1000n, 2000n]);
  });
});

describe("toParquet files other readers accept", () => {
  it("DuckDB reads every column type we write (integers of each width, timestamps, dates, strings, nulls)", async () => {
    const { DuckDBInstance } = await import("@duckdb/node-api");
    const { mkdtemp, writeFile, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = await mkdtemp(join(tmpdir(), "tessera-duck-"));
    try {
      const frame = makeFrame(
        ["i8", "i16", "i32", "u8", "u16", "u32", "i64", "u64", "f32", "ts", "d", "s"],
        [
          { type: "int8", data: Int8Array.from([-1, 2, 3]) },
          { type: "int16", data: Int16Array.from([-300, 2, 3]) },
          { type: "int32", data: Int32Array.from([-70000, 2, 3]), valid: Uint8Array.from([1, 0, 1]) },
          { type: "uint8", data: Uint8Array.from([255, 2, 3]) },
          { type: "uint16", data: Uint16Array.from([65535, 2, 3]) },
          { type: "uint32", data: Uint32Array.from([4294967295, 2, 3]) },
          { type: "int64", data: BigInt64Array.from([-(2n ** 62n), 2n, 3n]) },
          { type: "uint64", data: BigUint64Array.from([2n ** 63n, 2n, 3n]) },
          { type: "float32", data: Float32Array.from([0.5, 2, 3]) },
          { type: "timestamp", unit: "us", data: BigInt64Array.from([1n, 2n, 3n]) },
          { type: "date32", data: Int32Array.from([1, 2, 3]) },
          { type: "string", data: Int32Array.from([0, 1, 0]), dictionary: ["x", "y"] },
        ],
      );
      const file = join(dir, "all.parquet");
      await writeFile(file, frameToParquet(frame));
      const con = await (await DuckDBInstance.create()).connect();
      const rows = (await con.runAndReadAll(`select sum(i8), sum(i16), sum(i32), count(i32), sum(u8), sum(u16), sum(u32), sum(i64), sum(u64), sum(f32), max(ts)::varchar, max(d)::varchar, max(s) from read_parquet('${file}')`)).getRows();
      expect(rows[0]!.map(String)).toEqual(["4", "-295", "-69997", "2", "260", "65540", "4294967300", String(-(2n ** 62n) + 5n), String(2n ** 63n + 5n), "5.5", "1970-01-01 00:00:00.000003", "1970-01-04", "y"]);
      con.closeSync();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
