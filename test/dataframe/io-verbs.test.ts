// Readers and writers of the DataFrame on a 2-worker LocalCluster: readParquet / readCsv (lazy,
// projected, filtered), fromArrow, toParquet / toCsv (one file per partition, written by the
// workers) and toArrow, round-tripped and compared with the data written.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as arrow from "apache-arrow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, dataframe as dd, type Client } from "../../dist/index.js";

let client: Client;
let dir: string;
beforeAll(async () => {
  client = await LocalCluster.start({ workers: 2 });
  dir = await mkdtemp(join(tmpdir(), "tessera-io-"));
});
afterAll(async () => {
  await client.close();
  await rm(dir, { recursive: true, force: true });
});

const N = 3000;
const id = Int32Array.from({ length: N }, (_, i) => i);
const g = Int32Array.from({ length: N }, (_, i) => i % 5);
const v = Array.from({ length: N }, (_, i) => (i % 17 === 0 ? null : i / 4));
const s = Array.from({ length: N }, (_, i) => (i % 11 === 0 ? null : `s${i % 7}`));
const big = BigInt64Array.from({ length: N }, (_, i) => BigInt(i) * 10_000_000_000n);
const make = (npartitions: number) => dd.fromArrays({ id, g, v, s, big }, { npartitions });

type Row = Record<string, unknown>;
const rowsOf = (t: arrow.Table): Row[] => t.toArray().map((r) => ({ ...(r as { toJSON(): Row }).toJSON() }));

describe("Parquet", () => {
  it("writes one file per partition and reads them back with the same types and values", async () => {
    const paths = (await make(3).toParquet(join(dir, "pq"))) as string[];
    expect(paths).toEqual([0, 1, 2].map((i) => join(dir, "pq", `part.${i}.parquet`)));
    const df = dd.readParquet(join(dir, "pq", "*.parquet"));
    expect(await df.npartitions()).toBe(3);
    const t = await df.compute();
    expect(t.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(["id:Int32", "g:Int32", "v:Float64", "s:Dictionary<Int32, Utf8>", "big:Int64"]);
    expect(rowsOf(t)).toEqual(rowsOf(await make(1).compute()));
    expect(await df.len()).toBe(N);
  });

  it("is lazy, projects to the columns used and filters row groups and rows", async () => {
    await make(6).toParquet(join(dir, "pq6"));
    const df = dd.readParquet(join(dir, "pq6"), { filters: [["id", ">=", 2000]] });
    const t = await df.filter(dd.col("g").eq(1)).select("id", "v").compute();
    const want = Array.from(id).filter((i) => i >= 2000 && g[i] === 1);
    expect(rowsOf(t)).toEqual(want.map((i) => ({ id: i, v: v[i] })));
    expect(await df.len()).toBe(1000);
    const grouped = await dd.readParquet(join(dir, "pq6")).groupby("s").agg({ id: ["count"] }).compute();
    expect(rowsOf(grouped).map((r) => r.s)).toEqual(["s0", "s1", "s2", "s3", "s4", "s5", "s6"]);
  });

  it("returns each partition's file as bytes without a directory", async () => {
    const files = (await make(2).toParquet()) as Uint8Array[];
    expect(files).toHaveLength(2);
    for (const f of files) expect(new TextDecoder().decode(f.subarray(0, 4))).toBe("PAR1");
    const back = dd.readParquet(files.map((f, i) => new File([f as Uint8Array<ArrayBuffer>], `part${i}.parquet`)));
    expect(await back.len()).toBe(N);
  });

  it("names the file and the column when reading fails", async () => {
    await expect(dd.readParquet(join(dir, "missing.parquet")).len()).rejects.toThrow(/missing\.parquet/);
    await expect(dd.readParquet(join(dir, "pq"), { columns: ["nope"] }).compute()).rejects.toThrow(/no column "nope" in .*part\.0\.parquet/);
  });
});

describe("CSV", () => {
  it("writes one file per partition and reads them back, splitting by bytes", async () => {
    const paths = (await make(3).select("id", "g", "s").toCsv(join(dir, "csv", "out-*.csv"))) as string[];
    expect(paths).toEqual([0, 1, 2].map((i) => join(dir, "csv", `out-${i}.csv`)));
    expect((await readFile(paths[0]!, "utf8")).split("\n")[0]).toBe("id,g,s");
    const df = dd.readCsv(join(dir, "csv", "out-*.csv"), { blocksize: 4096 });
    expect(await df.npartitions()).toBeGreaterThan(3);
    const t = await df.compute();
    expect(rowsOf(t)).toEqual(Array.from(id, (i) => ({ id: i, g: g[i], s: s[i] })));
    const typed = await dd.readCsv(join(dir, "csv", "out-*.csv"), { dtypes: { id: "float64" } }).schema();
    expect(typed.types.map((m) => m.type)).toEqual(["float64", "int32", "string"]);
  });

  it("writes into a directory as <i>.part", async () => {
    const paths = (await make(2).toCsv(join(dir, "csvdir"))) as string[];
    expect(paths).toEqual([join(dir, "csvdir", "0.part"), join(dir, "csvdir", "1.part")]);
  });
});

describe("Arrow", () => {
  it("round-trips through IPC bytes and Arrow tables", async () => {
    const bytes = await make(4).toArrow();
    const t = arrow.tableFromIPC(bytes);
    expect(t.batches).toHaveLength(4);
    const df = dd.fromArrow(bytes);
    expect(await df.npartitions()).toBe(4);
    expect(rowsOf(await df.compute())).toEqual(rowsOf(await make(1).compute()));
    const re = dd.fromArrow(t, { npartitions: 2 });
    expect(await re.npartitions()).toBe(2);
    expect((await re.sum(["g"])).g).toBe(g.reduce((a, b) => a + b, 0));
    expect(() => dd.fromArrow(new Uint8Array([1, 2, 3]))).toThrow(/not an Arrow IPC/);
  });
});
