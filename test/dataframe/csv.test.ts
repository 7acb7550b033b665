import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { concatFrames, stringsOf, type Column, type Frame } from "../../src/dataframe/frame.js";
import { resolveCsv, readCsvPart, type ReadCsvOptions } from "../../src/dataframe/io/csv.js";
import { inferColumn } from "../../src/dataframe/io/csv-infer.js";
import type { CsvSource } from "../../src/dataframe/io/csv-source.js";

function valuesOf(c: Column): unknown[] {
  if (c.type === "string") return stringsOf(c);
  return Array.from(c.data as ArrayLike<unknown>, (x, i) => (c.valid && !c.valid[i] ? null : x));
}

function rowsOf(f: Frame): unknown[][] {
  const cols = f.columns.map(valuesOf);
  return Array.from({ length: f.length }, (_, r) => cols.map((c) => c[r]));
}

function columnsOf(f: Frame): Record<string, unknown[]> {
  return Object.fromEntries(f.names.map((n, i) => [n, valuesOf(f.columns[i]!)]));
}

async function partsOf(source: CsvSource, options: ReadCsvOptions = {}, columns: string[] | null = null): Promise<Frame[]> {
  const ds = await resolveCsv(source, options);
  return Promise.all(ds.parts.map((p) => readCsvPart(p, columns)));
}

async function read(text: string | Uint8Array, options: ReadCsvOptions = {}, columns: string[] | null = null): Promise<Frame> {
  return concatFrames(await partsOf(new Blob([text as BlobPart]), options, columns));
}

describe("readCsv: parsing", () => {
  it("reads quoted fields with separators, doubled quotes and line breaks", async () => {
    const text = 'id,text,n\n1,"a, b",2\n2,"say ""hi""",3\n3,"two\nlines",4\n4,plain,5\n5,"",6\n';
    const f = await read(text);
    expect(f.names).toEqual(["id", "text", "n"]);
    expect(columnsOf(f)).toEqual({ id: [1, 2, 3, 4, 5], text: ["a, b", 'say "hi"', "two\nlines", "plain", null], n: [2, 3, 4, 5, 6] });
  });

  it("reads CRLF line ends, a BOM, blank lines, no final line break, and other separators and quotes", async () => {
    const bom = Uint8Array.of(0xef, 0xbb, 0xbf);
    const body = new TextEncoder().encode("a;b\r\n1;'x;y'\r\n\r\n2;'it''s'");
    const bytes = new Uint8Array(bom.length + body.length);
    bytes.set(bom);
    bytes.set(body, 3);
    const f = await read(bytes, { sep: ";", quote: "'" });
    expect(f.names).toEqual(["a", "b"]);
    expect(columnsOf(f)).toEqual({ a: [1, 2], b: ["x;y", "it's"] });
    const cr = await read("a,b\r1,x\r2,y\r");
    expect(columnsOf(cr)).toEqual({ a: [1, 2], b: ["x", "y"] });
  });

  it("reads missing values as nulls: pandas' defaults, short rows, custom lists", async () => {
    const text = "i,f,s,b\n1,1.5,x,true\nNA,,NULL,\n3,nan,n/a,False\n4\n";
    const f = await read(text);
    expect(f.columns.map((c) => c.type)).toEqual(["int32", "float64", "string", "bool"]);
    expect(columnsOf(f)).toEqual({ i: [1, null, 3, 4], f: [1.5, null, null, null], s: ["x", null, null, null], b: [1, null, 0, null] });
    expect(f.columns[2]!.dictionary).toEqual(["x"]);
    const custom = await read("a,b\n-1,NA\n2,x\n", { nullValues: ["-1"] });
    expect(columnsOf(custom)).toEqual({ a: [null, 2], b: ["NA", "x"] });
  });

  it("infers int32, int64, float64, bool, date32, timestamps and strings", async () => {
    const text = [
      "i32,i64,f,b,d,ts,tz,ns,s,empty",
      "1,9007199254740993,1,TRUE,2024-02-29,2024-01-01T10:00:00,2024-01-01T10:00:00Z,2024-01-01 00:00:00.123456789,a,",
      "-2,-1,2.5e3,false,1969-12-31,2024-01-01 10:00:01.5,2024-01-01T12:00:00+02:00,2024-01-01,1,",
      " 3 ,0,inf,True,2000-01-01,2024-01-02,2024-01-01T10:00:00.25-0130,2024-01-01T00:00:00.000000001,2024-13-01,",
    ].join("\n");
    const f = await read(text);
    const types = Object.fromEntries(f.names.map((n, i) => [n, [f.columns[i]!.type, f.columns[i]!.unit, f.columns[i]!.tz]]));
    expect(types).toEqual({
      i32: ["int32", undefined, undefined],
      i64: ["int64", undefined, undefined],
      f: ["float64", undefined, undefined],
      b: ["bool", undefined, undefined],
      d: ["date32", undefined, undefined],
      ts: ["timestamp", "us", undefined],
      tz: ["timestamp", "us", "UTC"],
      ns: ["timestamp", "ns", undefined],
      s: ["string", undefined, undefined],
      empty: ["string", undefined, undefined],
    });
    const c = columnsOf(f);
    expect(c.i32).toEqual([1, -2, 3]);
    expect(c.i64).toEqual([9007199254740993n, -1n, 0n]);
    expect(c.f).toEqual([1, 2500, Infinity]);
    expect(c.d).toEqual([19782, -1, 10957]);
    const us = (iso: string) => BigInt(Date.parse(iso)) * 1000n;
    expect(c.ts).toEqual([us("2024-01-01T10:00:00Z"), us("2024-01-01T10:00:01.5Z"), us("2024-01-02T00:00:00Z")]);
    expect(c.tz).toEqual([us("2024-01-01T10:00:00Z"), us("2024-01-01T10:00:00Z"), us("2024-01-01T11:30:00.25Z")]);
    expect(c.ns).toEqual([BigInt(Date.parse("2024-01-01T00:00:00Z")) * 1_000_000n + 123456789n, BigInt(Date.parse("2024-01-01T00:00:00Z")) * 1_000_000n, BigInt(Date.parse("2024-01-01T00:00:00Z")) * 1_000_000n + 1n]);
    expect(c.empty).toEqual([null, null, null]);
  });

  it("infers types by the documented rules", () => {
    expect(inferColumn(["1", "2147483647"])).toEqual({ type: "int32" });
    expect(inferColumn(["1", "2147483648"])).toEqual({ type: "int64" });
    expect(inferColumn(["1", "99999999999999999999"])).toEqual({ type: "float64" });
    expect(inferColumn(["1", "1.5"])).toEqual({ type: "float64" });
    expect(inferColumn(["1", "true"])).toEqual({ type: "string" });
    expect(inferColumn(["0x10"])).toEqual({ type: "string" });
    expect(inferColumn(["1_000"])).toEqual({ type: "string" });
    expect(inferColumn(["2024-01-01", "2024-01-01T00:00"])).toEqual({ type: "timestamp", unit: "us" });
    expect(inferColumn(["2023-02-29"])).toEqual({ type: "string" });
    expect(inferColumn([])).toEqual({ type: "string" });
  });

  it("applies dtypes overrides and reports a bad value with its line, column and fix", async () => {
    const text = "a,b,c,t\n1,2,x,2024-01-01T00:00:00.123+01:00\n2,007,y,2024-01-02\n";
    const f = await read(text, { dtypes: { a: "int16", b: "string", c: "string", t: "timestamp[ms, UTC]" } });
    expect(f.columns.map((c) => [c.type, c.unit, c.tz])).toEqual([
      ["int16", undefined, undefined],
      ["string", undefined, undefined],
      ["string", undefined, undefined],
      ["timestamp", "ms", "UTC"],
    ]);
    expect(f.columns[0]!.data).toBeInstanceOf(Int16Array);
    expect(columnsOf(f)).toMatchObject({ b: ["2", "007"], t: [BigInt(Date.parse("2023-12-31T23:00:00.123Z")), BigInt(Date.parse("2024-01-02T00:00:00Z"))] });
    const wide = await read("u,i,t\n18446744073709551615,-9223372036854775808,1969-12-31T23:59:59.5\n0,-1,1677-09-21T00:12:43.145224192\n", {
      dtypes: { u: "uint64", i: "int64", t: "timestamp[ns]" },
    });
    expect(columnsOf(wide)).toEqual({ u: [2n ** 64n - 1n, 0n], i: [-(2n ** 63n), -1n], t: [-500_000_000n, -(2n ** 63n)] });
    await expect(read("t\n1677-09-21T00:12:43.145224191\n", { dtypes: { t: "timestamp[ns]" } })).rejects.toThrow(/cannot read "1677-09-21T00:12:43.145224191" as timestamp\[ns\]/);
    await expect(read("a,b\n1,x\n2,y\nthree,z\n", { dtypes: { a: "int32" } })).rejects.toThrow(
      /readCsv <Blob of 20 bytes>: line 4, column "a": cannot read "three" as int32; declare the column's type with dtypes/,
    );
    await expect(read("a\n1\n40000\n", { dtypes: { a: "int16" } })).rejects.toThrow(/line 3, column "a": cannot read "40000" as int16/);
    await expect(read("a\n1\n", { dtypes: { a: "decimal" as never } })).rejects.toThrow(/dtypes.a = "decimal": unknown type/);
    await expect(read("a\n1\n", { dtypes: { zz: "int32" } })).rejects.toThrow(/dtypes names column "zz"/);
  });

  it("takes header: false, header names, usecols, and projected columns in the asked order", async () => {
    const text = "1,x,2.5\n2,y,3.5\n";
    expect((await read(text, { header: false })).names).toEqual(["0", "1", "2"]);
    const named = await read(text, { header: ["id", "name", "score"], usecols: ["score", 0] });
    expect(columnsOf(named)).toEqual({ id: [1, 2], score: [2.5, 3.5] });
    const projected = await read("a,b,c\n1,x,2\n", {}, ["c", "a"]);
    expect(columnsOf(projected)).toEqual({ c: [2], a: [1] });
    const dupes = await read("a,a,,b\n1,2,3,4\n");
    expect(dupes.names).toEqual(["a", "a.1", "Unnamed: 2", "b"]);
    await expect(read("a,b\n1,2\n", { usecols: ["q"] })).rejects.toThrow(/usecols names "q"/);
  });
});

describe("readCsv: partitions", () => {
  // Quoted separators, doubled quotes, multi-byte characters (cuts land inside them), blank lines.
  const rows = [
    "id,name,v",
    '1,"a,b",0.5',
    "2,héllo wörld,1.5",
    "",
    '3,"say ""x""",-2',
    "4,日本語テキスト,3",
    "5,🎉🎉,4e2",
    '6,"",',
    "7,z,8",
  ];
  const variants: [string, string][] = [
    ["LF with a final line break", rows.join("\n") + "\n"],
    ["LF without one", rows.join("\n")],
    ["CRLF", rows.join("\r\n") + "\r\n"],
  ];
  for (const [label, text] of variants) {
    it(`gives every row to exactly one partition at every block size (${label})`, async () => {
      const bytes = new TextEncoder().encode(text);
      const whole = await read(bytes, { blocksize: null });
      expect(whole.length).toBe(7);
      expect(columnsOf(whole).id).toEqual([1, 2, 3, 4, 5, 6, 7]);
      for (let blocksize = 1; blocksize <= bytes.length + 1; blocksize++) {
        const parts = await partsOf(new Blob([bytes]), { blocksize });
        expect(parts.length).toBe(Math.ceil(bytes.length / blocksize));
        expect(rowsOf(concatFrames(parts)), `blocksize ${blocksize}`).toEqual(rowsOf(whole));
      }
    });
  }

  it("reads a file with quoted line breaks in the sample as one partition per file", async () => {
    const ds = await resolveCsv(new Blob(['a,b\n1,"x\ny"\n2,z\n']), { blocksize: 2 });
    expect(ds.parts.length).toBe(1);
  });

  it("never misreads a quoted line break the sample did not show: right rows or a clear error", async () => {
    const lines = ["a,b"];
    for (let i = 0; i < 12; i++) lines.push(`${i},plain${i}`);
    lines.push('12,"two\nlines, ""quoted"""', "13,after", '14,"x\n15,not a row\n"', "16,end");
    const text = lines.join("\n") + "\n";
    const expected = await read(text, { blocksize: null });
    expect(columnsOf(expected).a).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16]);
    let errors = 0;
    for (let blocksize = 1; blocksize <= text.length; blocksize++) {
      const ds = await resolveCsv(new Blob([text]), { blocksize, sampleSize: 40 });
      const results = await Promise.allSettled(ds.parts.map((p) => readCsvPart(p, null)));
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => (r.reason as Error).message);
      if (failed.length === 0) {
        const frames = results.map((r) => (r as PromiseFulfilledResult<Frame>).value);
        expect(rowsOf(concatFrames(frames)), `blocksize ${blocksize}`).toEqual(rowsOf(expected));
        continue;
      }
      errors++;
      // The block whose end is cut inside quotes always says so; blocks starting inside quotes may
      // fail too, with a hint.
      expect(failed.some((m) => /a quoted field is not closed before this partition's end at byte \d+: .*blocksize: null/.test(m)), failed.join("\n")).toBe(true);
      for (const m of failed) expect(m).toMatch(/before this partition's end|this partition starts inside a quoted field that holds a line break: then read the file with blocksize: null/);
    }
    expect(errors).toBeGreaterThan(0);
  });

  it("reads lists of files and globs, checking every file's header", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tessera-csv-"));
    try {
      await writeFile(join(dir, "p1.csv"), "k,v\n1,a\n2,b\n");
      await writeFile(join(dir, "p2.csv"), "k,v\n3,c\n");
      await writeFile(join(dir, "q.csv"), "k,w\n4,d\n");
      const globbed = concatFrames(await partsOf(join(dir, "p*.csv"), { blocksize: 4 }));
      expect(columnsOf(globbed)).toEqual({ k: [1, 2, 3], v: ["a", "b", "c"] });
      const listed = concatFrames(await partsOf([join(dir, "p2.csv"), new Blob(["k,v\n9,z\n"])]));
      expect(columnsOf(listed)).toEqual({ k: [3, 9], v: ["c", "z"] });
      await expect(partsOf([join(dir, "p1.csv"), join(dir, "q.csv")])).rejects.toThrow(/q.csv: the header is \["k","w"\], but the first file's is \["k","v"\]/);
      await expect(partsOf(join(dir, "none*.csv"))).rejects.toThrow(/no files match/);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});

describe("readCsv: errors", () => {
  it("names the line of a row with too many fields, an unclosed quote, and text after a quote", async () => {
    await expect(read("a,b\n1,2\n3,4,5\n")).rejects.toThrow(/line 3: expected 2 fields, saw 3/);
    await expect(read('a,b\n1,2\n3,"open\n4,5\n')).rejects.toThrow(/line 3: a quoted field is not closed: the file ends inside quotes/);
    await expect(read('a,b\n1,"x"y\n')).rejects.toThrow(/line 2: unexpected "y" after a closing quote/);
    await expect(read("")).rejects.toThrow(/no header row/);
    await expect(read("a\n1\n", { sep: "ab" })).rejects.toThrow(/sep must be one character/);
  });

  it("names the byte offset of a bad row in a later partition", async () => {
    const text = "a\n" + "1\n".repeat(50) + "oops\n" + "2\n".repeat(10);
    const err = await read(text, { blocksize: 16, dtypes: { a: "int32" } }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/byte 102 \(line \d+ of the block from byte \d+\), column "a": cannot read "oops" as int32/);
  });
});

describe("readCsv: speed sanity", () => {
  let text = "";
  beforeAll(() => {
    const lines = ["id,x,cat,ts,flag"];
    for (let i = 0; i < 300_000; i++) lines.push(`${i},${(i * 0.37).toFixed(3)},cat${i % 50},2024-01-${String((i % 28) + 1).padStart(2, "0")}T12:00:00Z,${i % 2 === 0}`);
    text = lines.join("\n") + "\n";
  });
  afterAll(() => {
    text = "";
  });

  it("parses a ~15 MB file in blocks", async () => {
    const t0 = performance.now();
    const parts = await partsOf(new Blob([text]), { blocksize: 4 * 2 ** 20 });
    const ms = performance.now() - t0;
    const f = concatFrames(parts);
    console.log(`readCsv: ${(text.length / 2 ** 20).toFixed(1)} MB, ${f.length} rows in ${ms.toFixed(0)} ms (${((text.length / 2 ** 20) / (ms / 1000)).toFixed(0)} MB/s, one thread)`);
    expect(parts.length).toBe(Math.ceil(text.length / (4 * 2 ** 20)));
    expect(f.length).toBe(300_000);
    const c = columnsOf(f);
    expect(c.id![299_999]).toBe(299_999);
    expect(c.x![1000]).toBeCloseTo(370, 9);
    expect(f.columns[2]!.dictionary!.length).toBe(50);
    expect(f.columns.map((x) => x.type)).toEqual(["int32", "float64", "string", "timestamp", "bool"]);
  });
});
