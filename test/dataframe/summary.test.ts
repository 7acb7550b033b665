// describe, valueCounts, nunique and unique on a 2-worker LocalCluster, against references
// computed on the whole table in plain JS; results must not depend on the partitioning.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, dataframe as dd, type Client } from "../../dist/index.js";

let client: Client;
beforeAll(async () => {
  client = await LocalCluster.start({ workers: 2 });
});
afterAll(() => client.close());

type TableLike = { numRows: number; schema: { fields: { name: string }[] }; getChild(n: string): { get(i: number): unknown } | null };
const rowsOf = (t: TableLike, col: string) => Array.from({ length: t.numRows }, (_, i) => t.getChild(col)!.get(i));

const N = 1000;
// Floats with nulls (every 13th row) and NaN (every 17th): both are missing to pandas.
const x = Array.from({ length: N }, (_, i) => (i % 13 === 5 ? null : i % 17 === 3 ? NaN : Math.round(Math.sin(i) * 1000) / 100));
const k = Int32Array.from({ length: N }, (_, i) => (i * 7919) % 23);
const big = BigInt64Array.from({ length: N }, (_, i) => BigInt((i * 31) % 50) * 10n ** 12n);
const name = Array.from({ length: N }, (_, i) => (i % 11 === 0 ? null : ["ann", "bob", "cy", "dee"][(i * i) % 4]!));
const flag = Array.from({ length: N }, (_, i) => (i % 19 === 0 ? null : i % 3 === 0));

const PARTS = [1, 3, 7];
const make = (npartitions: number) => dd.fromArrays({ x, k, big, name, flag }, { npartitions });

const isMissing = (v: unknown) => v === null || (typeof v === "number" && Number.isNaN(v));
const present = (vs: readonly unknown[]) => vs.filter((v) => !isMissing(v));

/** pandas' linear percentile of sorted values. */
function linear(xs: readonly number[], q: number): number {
  const h = (xs.length - 1) * q;
  const lo = Math.floor(h);
  return lo + 1 < xs.length ? xs[lo]! + (h - lo) * (xs[lo + 1]! - xs[lo]!) : xs[lo]!;
}

function numberSummary(vs: readonly number[]) {
  const xs = [...vs].sort((a, b) => a - b);
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  return { xs, values: [n, mean, std, xs[0]!, linear(xs, 0.25), linear(xs, 0.5), linear(xs, 0.75), xs[n - 1]!] };
}

describe("describe", () => {
  it("gives pandas' numeric describe, exact while the summaries hold every value", async () => {
    const refs = {
      x: numberSummary(present(x) as number[]),
      k: numberSummary(Array.from(k)),
      big: numberSummary(Array.from(big, Number)),
    };
    for (const parts of PARTS) {
      const t = await make(parts).describe();
      expect(t.schema.fields.map((f) => f.name)).toEqual(["stat", "x", "k", "big"]); // bool and string left out, as pandas
      expect(rowsOf(t, "stat")).toEqual(["count", "mean", "std", "min", "25%", "50%", "75%", "max"]);
      for (const [col, ref] of Object.entries(refs)) {
        const got = rowsOf(t, col) as number[];
        // Relative: the int64 column's values are ~1e13.
        ref.values.forEach((want, i) => expect(Math.abs(got[i]! - want), `${col} row ${i} (${parts} partitions)`).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(want))));
      }
    }
  });

  it("approximates percentiles within the stated rank error, any partitioning and tree shape", async () => {
    const M = 20000;
    // Skewed values with many ties, so neither ranks nor gaps are uniform.
    const v = Float64Array.from({ length: M }, (_, i) => Math.floor(Math.exp(((i * 2654435761) % 1000) / 150)) + (i % 7) / 10);
    const xs = Array.from(v).sort((a, b) => a - b);
    const sketchSize = 64;
    const percentiles = [0.01, 0.1, 0.25, 0.5, 0.9, 0.999];
    for (const [parts, splitEvery] of [[1, 8], [3, 8], [7, 8], [7, 2], [20, 3]] as const) {
      const t = await dd.fromArrays({ v }, { npartitions: parts }).describe(undefined, { percentiles, sketchSize, splitEvery });
      const got = rowsOf(t, "v") as number[];
      const stats = rowsOf(t, "stat");
      expect(stats).toEqual(["count", "mean", "std", "min", "1%", "10%", "25%", "50%", "90%", "99.9%", "max"]);
      expect(got[0]).toBe(M);
      expect(got[3]).toBe(xs[0]);
      expect(got[10]).toBe(xs[M - 1]);
      // E <= (1 + L) N / 2k + P/2 rows, L the combine levels; the estimate lies between the
      // exact order statistics at ranks (N - 1)q - E and (N - 1)q + E + 1.
      const levels = parts === 1 ? 0 : Math.ceil(Math.log(parts) / Math.log(splitEvery) - 1e-9);
      const bound = ((1 + levels) * M) / (2 * sketchSize) + parts / 2;
      percentiles.forEach((q, i) => {
        const h = (M - 1) * q;
        const lo = xs[Math.max(0, Math.floor(h - bound))]!;
        const hi = xs[Math.min(M - 1, Math.ceil(h + bound + 1))]!;
        const est = got[4 + i]!;
        expect(est, `q=${q}, ${parts} partitions, splitEvery ${splitEvery}`).toBeGreaterThanOrEqual(lo);
        expect(est, `q=${q}, ${parts} partitions, splitEvery ${splitEvery}`).toBeLessThanOrEqual(hi);
      });
    }
  });

  it("gives count, unique, top and freq where there is no numeric column", async () => {
    const counts = new Map<string, number>();
    for (const s of name) if (s !== null) counts.set(s, (counts.get(s) ?? 0) + 1);
    const top = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]!;
    const flags = present(flag);
    const trues = flags.filter((f) => f).length;
    for (const parts of PARTS) {
      const t = await make(parts).select("name", "flag").describe();
      expect(rowsOf(t, "stat")).toEqual(["count", "unique", "top", "freq"]);
      expect(rowsOf(t, "name")).toEqual([String(N - name.filter((s) => s === null).length), String(counts.size), top[0], String(top[1])]);
      const topFlag = trues > flags.length - trues ? "true" : "false";
      expect(rowsOf(t, "flag")).toEqual([String(flags.length), "2", topFlag, String(Math.max(trues, flags.length - trues))]);
    }
    const empty = await dd.fromArrays({ s: [null, null] as (string | null)[] }).describe();
    expect(rowsOf(empty, "s")).toEqual(["0", "0", null, null]);
  });

  it("reports NaN where a column has too few values, and rejects bad requests naming the column", async () => {
    const t = await dd.fromArrays({ a: [1, null, NaN], b: [NaN, NaN, NaN] }, { npartitions: 2 }).describe();
    expect(rowsOf(t, "a")).toEqual([1, 1, NaN, 1, 1, 1, 1, 1]);
    expect(rowsOf(t, "b")[0]).toBe(0);
    expect((rowsOf(t, "b") as number[]).slice(1).every(Number.isNaN)).toBe(true);
    await expect(make(2).describe(["x", "nope"])).rejects.toThrow(/describe: no column "nope"; columns are "x", "k", "big", "name", "flag"/);
    await expect(make(2).describe(["x", "name"])).rejects.toThrow(/"name" is not numeric while "x" is/);
    await expect(make(2).describe(["x"], { percentiles: [1.5] })).rejects.toThrow(/percentiles must be in \[0, 1\], got 1.5/);
  });
});

describe("valueCounts", () => {
  function reference(vs: readonly unknown[], dropna: boolean, ascending: boolean) {
    const counts = new Map<unknown, number>();
    for (const raw of vs) {
      const v = isMissing(raw) ? null : raw;
      if (v === null && dropna) continue;
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    const byValue = (a: unknown, b: unknown) => (a === null ? 1 : b === null ? -1 : (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0);
    return [...counts].sort((a, b) => (ascending ? a[1] - b[1] : b[1] - a[1]) || byValue(a[0], b[0]));
  }

  it("counts values by descending count (ties by value), with or without missing values", async () => {
    for (const parts of PARTS) {
      for (const [col, values] of [["name", name], ["x", x], ["k", Array.from(k)], ["flag", flag]] as const) {
        for (const dropna of [true, false]) {
          const want = reference(values, dropna, false);
          const t = await make(parts).valueCounts(col, { dropna }).compute();
          expect(t.schema.fields.map((f) => f.name)).toEqual([col, "count"]);
          const got = rowsOf(t, col).map((v) => (typeof v === "number" && Number.isNaN(v) ? null : v));
          expect(got, `${col}, dropna ${dropna}, ${parts} partitions`).toEqual(want.map(([v]) => v));
          expect(rowsOf(t, "count").map(Number)).toEqual(want.map(([, c]) => c));
        }
      }
    }
  });

  it("sorts ascending, normalizes to proportions, and keeps first appearance without sort", async () => {
    const strings = name.filter((s) => s !== null);
    for (const parts of PARTS) {
      const asc = await make(parts).valueCounts("k", { ascending: true }).compute();
      const want = reference(Array.from(k), true, true);
      expect(rowsOf(asc, "k")).toEqual(want.map(([v]) => v));

      const prop = await make(parts).valueCounts("name", { normalize: true }).compute();
      expect(prop.schema.fields.map((f) => f.name)).toEqual(["name", "proportion"]);
      const wantProp = reference(name, true, false);
      expect(rowsOf(prop, "name")).toEqual(wantProp.map(([v]) => v));
      (rowsOf(prop, "proportion") as number[]).forEach((p, i) => expect(p).toBeCloseTo(wantProp[i]![1] / strings.length, 12));

      const unsorted = await make(parts).valueCounts("name", { sort: false }).compute();
      expect(rowsOf(unsorted, "name")).toEqual([...new Set(strings)]);
    }
  });

  it("stays lazy, composes with other verbs, and names a missing column", async () => {
    const vc = make(3).filter(dd.col("k").lt(5)).valueCounts("k");
    expect(await vc.columns()).toEqual(["k", "count"]);
    expect(await vc.len()).toBe(5);
    const top = await vc.filter(dd.col("count").ge(1)).head(2);
    expect(top.numRows).toBe(2);
    expect(() => make(2).valueCounts("nope")).toThrow(/valueCounts: no column "nope"; columns are "x", "k", "big", "name", "flag"/);
    const later = make(2).groupby("k").agg({ x: ["sum"] }).valueCounts("nope"); // schema not known yet: fails when computed
    await expect(later.compute()).rejects.toThrow(/valueCounts: no column "nope"/);
    expect(() => dd.fromArrays({ count: [1, 2] }).valueCounts("count")).toThrow(/rename it first/);
  });
});

describe("nunique", () => {
  it("counts distinct non-missing values per column, whatever the partitioning", async () => {
    const want = {
      x: new Set(present(x)).size,
      k: new Set(k).size,
      big: new Set(big).size,
      name: new Set(present(name)).size,
      flag: new Set(present(flag)).size,
    };
    for (const parts of PARTS) {
      expect(await make(parts).nunique()).toEqual(want);
      expect(await make(parts).nunique(["name", "x"])).toEqual({ name: want.name, x: want.x });
    }
  });

  it("compares strings by value across partitions with different dictionaries", async () => {
    const a = dd.fromArrays({ s: ["p", "q", null, "p"] });
    const b = dd.fromArrays({ s: ["r", "q", "r", "s"] }, { npartitions: 2 });
    const df = await dd.concat([a, b]);
    expect(await df.nunique()).toEqual({ s: 4 });
    expect(rowsOf(await df.unique("s"), "s")).toEqual(["p", "q", null, "r", "s"]);
  });

  it("counts and lists timestamps, and treats -0 as 0", async () => {
    const day = 86_400_000;
    const when = [new Date(3 * day), null, new Date(day), new Date(3 * day), new Date(2 * day), null];
    const z = [0, -0, 1, NaN, 1, 0];
    for (const parts of [1, 3]) {
      const df = dd.fromArrays({ when, z }, { npartitions: parts });
      expect(await df.nunique()).toEqual({ when: 3, z: 2 });
      const got = rowsOf(await df.unique("when"), "when").map((v) => (v === null ? null : Number(v)));
      expect(got).toEqual([3 * day, null, day, 2 * day]);
    }
  });

  it("names a missing column", async () => {
    await expect(make(2).nunique(["name", "nope"])).rejects.toThrow(/nunique: no column "nope"; columns are "x", "k", "big", "name", "flag"/);
  });
});

describe("unique", () => {
  function reference(vs: readonly unknown[]): unknown[] {
    const seen = new Set<unknown>();
    const out: unknown[] = [];
    for (const raw of vs) {
      const key = isMissing(raw) ? null : raw;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(raw);
    }
    return out;
  }

  it("keeps the order of first appearance and one missing value, whatever the partitioning", async () => {
    for (const parts of PARTS) {
      const df = make(parts);
      for (const [col, values] of [["name", name], ["k", Array.from(k)], ["big", Array.from(big)], ["flag", flag]] as const) {
        const t = await df.unique(col);
        expect(t.schema.fields.map((f) => f.name)).toEqual([col]);
        expect(rowsOf(t, col), `${col}, ${parts} partitions`).toEqual(reference(values));
      }
      // NaN (row 3) and null (row 5) are one missing value, kept as it first appears.
      expect(rowsOf(await df.unique("x"), "x")).toEqual(reference(x));
    }
  });

  it("returns an empty table for no rows and names a missing column", async () => {
    const empty = await make(3).filter(dd.col("k").lt(0)).unique("name");
    expect(empty.numRows).toBe(0);
    await expect(make(2).unique("nope")).rejects.toThrow(/unique: no column "nope"; columns are "x", "k", "big", "name", "flag"/);
  });
});
