// The DataFrame collection on a 2-worker LocalCluster, against references computed on the
// whole table in plain JS; results must not depend on the partitioning.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, dataframe as dd, type Client } from "../../dist/index.js";

let client: Client;
beforeAll(async () => {
  client = await LocalCluster.start({ workers: 2 });
});
afterAll(() => client.close());

const N = 1000;
const key = Int32Array.from({ length: N }, (_, i) => (i * 7919) % 13);
const x = Float64Array.from({ length: N }, (_, i) => Math.sin(i) * 10);
const y = Float64Array.from({ length: N }, (_, i) => (i % 17) - 8);
const name = Array.from({ length: N }, (_, i) => (i % 11 === 0 ? null : ["ann", "bob", "cy"][i % 3]!));

function make(npartitions: number) {
  return dd.fromArrays({ key, x, y, name }, { npartitions });
}

const rowsOf = (t: { numRows: number; getChild(n: string): { get(i: number): unknown } | null }, col: string) =>
  Array.from({ length: t.numRows }, (_, i) => t.getChild(col)!.get(i));

describe("partition-wise verbs", () => {
  it("filters, assigns and selects in one pass per partition, whatever the partitioning", async () => {
    // SQL/Arrow null semantics: null != "bob" is null, so rows with a null name drop out.
    const want = Array.from({ length: N }, (_, i) => i).filter((i) => x[i]! > 0 && name[i] !== null && name[i] !== "bob");
    for (const parts of [1, 3, 7]) {
      const df = make(parts)
        .filter(dd.col("x").gt(0).and(dd.col("name").ne("bob")))
        .assign({ z: dd.col("x").mul(dd.col("y")).add(1) })
        .select("key", "z", "name");
      const t = await df.compute();
      expect(t.numRows).toBe(want.length);
      expect(t.schema.fields.map((f) => f.name)).toEqual(["key", "z", "name"]);
      expect(rowsOf(t, "z")).toEqual(want.map((i) => x[i]! * y[i]! + 1));
      expect(rowsOf(t, "name")).toEqual(want.map((i) => name[i]));
      expect(await df.len()).toBe(want.length);
    }
  });

  it("counts rows without reading data when nothing filters them", async () => {
    expect(await make(4).len()).toBe(N);
    expect(await make(4).dropna({ subset: ["name"] }).len()).toBe(name.filter((v) => v !== null).length);
  });

  it("renames, casts with overflow checks, fills and drops nulls", async () => {
    const df = make(3).rename({ x: "value" }).astype({ key: "float64" });
    const s = await df.schema();
    expect(s.names).toEqual(["key", "value", "y", "name"]);
    expect(s.types[0]!.type).toBe("float64");
    const filled = await make(2).fillna({ name: "?" }).compute();
    expect(rowsOf(filled, "name").filter((v) => v === "?").length).toBe(name.filter((v) => v === null).length);
    const big = dd.fromArrays({ v: [1, 2, 3e10] });
    await expect(big.astype({ v: "int32" }).compute()).rejects.toThrow(/3e\+?10.*does not fit int32|does not fit int32/);
  });

  it("names a missing column and lists the real ones", async () => {
    expect(() => make(2).select("nope")).toThrow(/no column "nope"; columns are "key", "x", "y", "name"/);
    await expect(make(2).filter(dd.col("x").gt("a")).compute()).rejects.toThrow(/compare/);
  });
});

describe("reductions and eager verbs", () => {
  it("sums, averages and counts columns like pandas (skipping nulls)", async () => {
    const sum = x.reduce((a, b) => a + b, 0);
    const mean = sum / N;
    const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / (N - 1);
    for (const parts of [1, 5]) {
      const df = make(parts);
      expect((await df.sum(["x"])).x).toBeCloseTo(sum, 9);
      expect((await df.mean()).x).toBeCloseTo(mean, 12);
      expect((await df.std(["x"])).x).toBeCloseTo(Math.sqrt(variance), 12);
      expect((await df.count(["key"])).key).toBe(N);
      expect((await df.max(["y"])).y).toBe(8);
    }
    await expect(make(2).sum(["name"])).rejects.toThrow(/not numeric/);
  });

  it("takes head and tail reading only the partitions needed", async () => {
    const df = make(10);
    const h = await df.head(3);
    expect(rowsOf(h, "x")).toEqual([x[0], x[1], x[2]]);
    const t = await df.tail(150);
    expect(t.numRows).toBe(150);
    expect(rowsOf(t, "y")[149]).toBe(y[N - 1]);
  });
});

describe("partitions", () => {
  it("concatenates, repartitions and persists", async () => {
    const a = make(2);
    const b = make(3).filter(dd.col("key").eq(0));
    const c = await dd.concat([a, b]);
    expect(await c.len()).toBe(N + key.filter((k) => k === 0).length);
    const r = await dd.repartition(make(2), 5);
    expect(await r.npartitions()).toBe(5);
    expect(rowsOf(await r.compute(), "x")).toEqual(Array.from(x));
    const fewer = await dd.repartition(make(6), 2);
    expect(rowsOf(await fewer.compute(), "y")).toEqual(Array.from(y));
    const p = await make(4).filter(dd.col("y").gt(0)).persist();
    expect(await p.len()).toBe(y.filter((v) => v > 0).length);
    expect((await p.sum(["y"])).y).toBe(y.filter((v) => v > 0).reduce((s, v) => s + v, 0));
    await expect(dd.concat([a, a.select("x")])).rejects.toThrow(/columns/);
  });

  it("gathers a select of persisted partitions without emptying them (shared column buffers are copied, not moved)", async () => {
    const p = await make(3).persist();
    for (let round = 0; round < 3; round++) {
      expect(rowsOf(await p.select("x").compute(), "x")).toEqual(Array.from(x));
      expect(rowsOf(await p.select("key", "name").compute(), "name")).toEqual(name);
    }
    expect(rowsOf(await p.compute(), "y")).toEqual(Array.from(y));
  });

  it("repartitions to a target size in bytes, splitting big partitions and merging small ones", async () => {
    // 1000 rows of int32 + 2 float64 + string codes: ~24 bytes a row plus a small dictionary.
    const split = make(2).repartition({ partitionSize: "6kB" });
    expect(await split.npartitions()).toBeGreaterThanOrEqual(4);
    expect(rowsOf(await split.compute(), "x")).toEqual(Array.from(x));
    const merged = make(8).repartition({ partitionSize: 1e6 });
    expect(await merged.npartitions()).toBe(1);
    expect(rowsOf(await merged.compute(), "name")).toEqual(name);
    expect(() => make(2).repartition({ partitionSize: "lots" })).toThrow(/expected a size in bytes like/);
    expect(() => make(2).repartition({})).toThrow(/either npartitions or partitionSize/);
  });
});
