// df.groupby(keys).agg(...) on a 2-worker LocalCluster against a plain-JS groupby of the whole
// table; results must not depend on the partitioning, the tree shape or the shuffle.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, dataframe as dd, type Client } from "../../dist/index.js";

let client: Client;
beforeAll(async () => {
  client = await LocalCluster.start({ workers: 2 });
});
afterAll(() => client.close());

const N = 5000;
const key = Int32Array.from({ length: N }, (_, i) => (i * 7919) % 37);
const x = Array.from({ length: N }, (_, i) => (i % 29 === 0 ? null : Math.sin(i) * 100));
const n = Int32Array.from({ length: N }, (_, i) => (i * 31) % 101);
const cat = Array.from({ length: N }, (_, i) => (i % 13 === 0 ? null : ["red", "green", "blue", "cyan"][(i * 3) % 4]!));

const make = (npartitions: number) => dd.fromArrays({ key, x, n, cat }, { npartitions });

type Row = Record<string, unknown>;

/** Keys the scheduler holds now (a plan that is never lowered keeps its partials until collected). */
function heldKeys(): string[] {
  const s = (client as unknown as { runner: { scheduler: { tasks: Map<string, number>; t: { key: string[] } } } }).runner.scheduler;
  return [...s.tasks.values()].map((slot) => s.t.key[slot]!);
}
const rowsOf = (t: { toArray(): { toJSON(): Row }[] }): Row[] => t.toArray().map((r) => ({ ...r.toJSON() }));

/** The reference: groups of row indices by the key tuple (rows with a null key dropped). */
function groups(keyOf: (i: number) => unknown[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (let i = 0; i < N; i++) {
    const k = keyOf(i);
    if (k.some((v) => v === null)) continue;
    const s = JSON.stringify(k);
    const g = m.get(s);
    if (g) g.push(i);
    else m.set(s, [i]);
  }
  return m;
}

function stats(values: (number | null)[]) {
  const v = values.filter((a): a is number => a !== null);
  const sum = v.reduce((a, b) => a + b, 0);
  const mean = v.length ? sum / v.length : null;
  const varr = v.length > 1 ? v.reduce((a, b) => a + (b - mean!) ** 2, 0) / (v.length - 1) : null;
  return { count: v.length, sum, mean, var: varr, std: varr === null ? null : Math.sqrt(varr), min: v.length ? Math.min(...v) : null, max: v.length ? Math.max(...v) : null };
}

describe("groupby on a dataframe", () => {
  it("aggregates numbers by an int key, whatever the partitioning and tree shape", async () => {
    const want = [...groups((i) => [key[i]]).entries()]
      .map(([k, rows]) => ({ key: JSON.parse(k)[0] as number, rows }))
      .sort((a, b) => a.key - b.key);
    for (const [parts, splitEvery] of [[1, 8], [3, 2], [7, 8]] as const) {
      const t = await make(parts).groupby("key", { splitEvery }).agg({ x: ["sum", "mean", "count", "min", "max", "std", "var"], n: ["sum", "first", "last", "nunique"] }).compute();
      expect(t.schema.fields.map((f) => f.name)).toEqual(["key", "x_sum", "x_mean", "x_count", "x_min", "x_max", "x_std", "x_var", "n_sum", "n_first", "n_last", "n_nunique"]);
      const got = rowsOf(t);
      expect(got.map((r) => r.key)).toEqual(want.map((w) => w.key));
      got.forEach((r, g) => {
        const rows = want[g]!.rows;
        const s = stats(rows.map((i) => x[i]!));
        expect(r.x_sum as number).toBeCloseTo(s.sum, 9);
        expect(r.x_mean as number).toBeCloseTo(s.mean!, 9);
        expect(r.x_count).toBe(BigInt(s.count));
        expect(r.x_min).toBe(s.min);
        expect(r.x_max).toBe(s.max);
        expect(r.x_std as number).toBeCloseTo(s.std!, 9);
        expect(r.x_var as number).toBeCloseTo(s.var!, 7);
        expect(r.n_sum).toBe(BigInt(rows.reduce((a, i) => a + n[i]!, 0)));
        expect(r.n_first).toBe(n[rows[0]!]);
        expect(r.n_last).toBe(n[rows[rows.length - 1]!]);
        expect(r.n_nunique).toBe(BigInt(new Set(rows.map((i) => n[i])).size));
      });
    }
  });

  it("groups by a string key and by several keys, with the types pandas gives", async () => {
    const t = await make(4).groupby(["cat", "key"]).agg({ x: "count", n: ["max"] }).compute();
    const want = [...groups((i) => [cat[i], key[i]]).entries()]
      .map(([k, rows]) => {
        const [c, kk] = JSON.parse(k) as [string, number];
        return { cat: c, key: kk, x_count: BigInt(rows.filter((i) => x[i] !== null).length), n_max: Math.max(...rows.map((i) => n[i]!)) };
      })
      .sort((a, b) => (a.cat < b.cat ? -1 : a.cat > b.cat ? 1 : a.key - b.key));
    expect(rowsOf(t)).toEqual(want);
    const s = await make(2).groupby("cat").agg({ n: "sum" }).schema();
    expect(s.types.map((m) => m.type)).toEqual(["string", "int64"]);
  });

  it("keeps null keys as a group with dropna: false, and counts sizes", async () => {
    const t = await make(3).groupby("cat", { dropna: false }).size().compute();
    const got = rowsOf(t);
    expect(got.map((r) => r.cat)).toEqual(["blue", "cyan", "green", "red", null]);
    expect(got.reduce((a, r) => a + Number(r.size), 0)).toBe(N);
    expect(got[4]!.size).toBe(BigInt(cat.filter((c) => c === null).length));
  });

  it("gives the same groups through a hash shuffle (splitOut) as through a tree", async () => {
    const tree = rowsOf(await make(5).groupby("key", { splitOut: 1 }).agg({ x: ["sum", "count"] }).compute());
    const df = make(5).groupby("key", { splitOut: 3 }).agg({ x: ["sum", "count"] });
    expect(await df.npartitions()).toBe(3);
    const shuffled = rowsOf(await df.compute()).sort((a, b) => (a.key as number) - (b.key as number));
    expect(shuffled.map((r) => [r.key, r.x_count])).toEqual(tree.map((r) => [r.key, r.x_count]));
    shuffled.forEach((r, i) => expect(r.x_sum as number).toBeCloseTo(tree[i]!.x_sum as number, 9));
    // Its tasks group under plain prefixes (the dashboard's progress rows), no token in them.
    const prefixes = (client as unknown as { runner: { scheduler: { prefixes: { name: string }[] } } }).runner.scheduler.prefixes.map((p) => p.name);
    expect(prefixes).toEqual(expect.arrayContaining(["groupby-split", "groupby-piece", "groupby-combine"]));
    expect(prefixes.filter((p) => /^groupby-.*-[0-9a-f]{6,}/.test(p))).toEqual([]);
  });

  it("shuffles on its own when there are many groups", async () => {
    const heldBefore = heldKeys();
    const M = 1_200_000;
    const k = Int32Array.from({ length: M }, (_, i) => (i * 13) % M);
    const v = Float64Array.from({ length: M }, (_, i) => i % 10);
    const df = dd.fromArrays({ k, v }, { npartitions: 4 }).groupby("k").agg({ v: "sum" });
    expect(await df.npartitions()).toBeGreaterThan(1);
    expect(await df.len()).toBe(M);
    expect((await df.sum(["v_sum"])).v_sum).toBe(v.reduce((a, b) => a + b, 0));
    // The one-piece result computed on the bet of few groups was given up: nothing stays held.
    await new Promise((r) => setTimeout(r, 50));
    expect(heldKeys().filter((k) => !heldBefore.includes(k))).toEqual([]);
  });

  it("with few groups, uses the one-piece result computed beside the partials (nothing runs twice)", async () => {
    const executed = async () => (await client.metrics()).reduce((a, m) => a + m.executed, 0);
    const before = await executed();
    const got = rowsOf(await make(5).groupby("key").agg({ x: ["count"] }).compute());
    expect(got.reduce((a, r) => a + Number(r.x_count), 0)).toBe(x.filter((v) => v !== null).length);
    // 5 partials, 5 row counts, the combine and finalize (fused into one task): none twice.
    expect((await executed()) - before).toBe(11);
  });

  it("runs after partition-wise steps and before more of them", async () => {
    const t = await make(3)
      .filter(dd.col("x").gt(0))
      .assign({ z: dd.col("x").mul(2) })
      .groupby("key")
      .agg({ z: ["mean"] })
      .filter(dd.col("z_mean").gt(50))
      .compute();
    const want = [...groups((i) => [key[i]]).entries()]
      .map(([k, rows]) => {
        const z = rows.filter((i) => x[i] !== null && x[i]! > 0).map((i) => x[i]! * 2);
        return { key: JSON.parse(k)[0] as number, z_mean: z.reduce((a, b) => a + b, 0) / z.length };
      })
      .filter((r) => r.z_mean > 50)
      .sort((a, b) => a.key - b.key);
    const got = rowsOf(t);
    expect(got.map((r) => r.key)).toEqual(want.map((r) => r.key));
    got.forEach((r, i) => expect(r.z_mean as number).toBeCloseTo(want[i]!.z_mean, 9));
  });

  it("names the bad column or aggregation", async () => {
    await expect(make(2).groupby("nope").agg({ x: "sum" }).compute()).rejects.toThrow(/key "nope" is not a column; columns are "key", "x", "n", "cat"/);
    await expect(make(2).groupby("key").agg({ nope: "sum" }).compute()).rejects.toThrow(/aggregated column "nope" is not a column/);
    await expect(make(2).groupby("key").agg({ cat: "mean" }).compute()).rejects.toThrow(/cannot take the mean of column "cat" \(type string\)/);
    expect(() => make(2).groupby("key").agg({ x: ["median" as never] })).toThrow(/unknown aggregation "median" for column "x"/);
    expect(() => make(2).groupby("key", { splitOut: 0 })).toThrow(/splitOut must be a positive integer/);
  });
});
