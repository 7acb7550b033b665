// sortValues and setIndex on a 2-worker LocalCluster, against a stable plain-JS sort of the
// whole table: every key type (int, float with NaN and nulls, string with per-partition
// dictionaries, timestamp, int64), both directions, nulls either end, several keys; the result
// must not depend on the input partitioning or on the number of output partitions.
import * as arrow from "apache-arrow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, dataframe as dd, type Client } from "../../dist/index.js";

let client: Client;
beforeAll(async () => {
  client = await LocalCluster.start({ workers: 2 });
});
afterAll(() => client.close());

const N = 1000;
const id = Int32Array.from({ length: N }, (_, i) => i);
const k = Int32Array.from({ length: N }, (_, i) => (i * 7919) % 13); // many ties
const f = Array.from({ length: N }, (_, i) => (i % 17 === 0 ? null : i % 23 === 0 ? NaN : Math.round(Math.sin(i) * 50) / 10));
const s = Array.from({ length: N }, (_, i) => (i % 11 === 0 ? null : ["pear", "apple", "fig", "kiwi", "date", "Zed", "ápple"][(i * 31) % 7]!));
const t = Array.from({ length: N }, (_, i) => (i % 19 === 0 ? null : new Date(Date.UTC(2024, 0, 1) + ((i * 104729) % 500) * 3600_000)));
const b = BigInt64Array.from({ length: N }, (_, i) => BigInt((i * 37) % 101) * 10_000_000_000n - 500_000_000_000n);

type Cell = number | string | bigint | null;
const COLS: Record<string, (i: number) => Cell> = {
  k: (i) => k[i]!,
  f: (i) => (f[i] === null || Number.isNaN(f[i]) ? null : f[i]!),
  s: (i) => s[i]!,
  t: (i) => (t[i] ? t[i]!.getTime() : null),
  b: (i) => b[i]!,
};

/**
 * The table cut into `parts` partitions, each built on its own (so each string column has its
 * own dictionary, in its own first-seen order).
 */
async function make(parts: number): Promise<dd.DataFrame> {
  const frames: dd.DataFrame[] = [];
  for (let p = 0; p < parts; p++) {
    const lo = Math.floor((p * N) / parts), hi = Math.floor(((p + 1) * N) / parts);
    frames.push(dd.fromArrays({ id: id.slice(lo, hi), k: k.slice(lo, hi), f: f.slice(lo, hi), s: s.slice(lo, hi), t: t.slice(lo, hi), b: b.slice(lo, hi) }));
  }
  return parts === 1 ? frames[0]! : dd.concat(frames);
}

interface Key {
  column: string;
  ascending: boolean;
}

/** Row ids in the order of a stable sort by `keys` (missing values last, or first). */
function reference(keys: Key[], nullsFirst: boolean, rows: number[] = Array.from(id)): number[] {
  return [...rows].sort((x, y) => {
    for (const key of keys) {
      const a = COLS[key.column]!(x), c = COLS[key.column]!(y);
      if (a === null || c === null) {
        if (a === c) continue;
        return (a === null ? 1 : -1) * (nullsFirst ? -1 : 1);
      }
      const d = a < c ? -1 : a > c ? 1 : 0;
      if (d) return key.ascending ? d : -d;
    }
    return 0;
  });
}

const column = (tb: { numRows: number; getChild(n: string): { get(i: number): unknown } | null }, name: string) =>
  Array.from({ length: tb.numRows }, (_, i) => tb.getChild(name)!.get(i));

/** The partitions of a dataframe, each as an Arrow record batch. */
async function batches(df: dd.DataFrame): Promise<arrow.RecordBatch[]> {
  return [...arrow.RecordBatchReader.from(await df.toArrow())];
}

describe("sortValues", () => {
  it("sorts by each key type, either way, nulls either end, whatever the partitioning", async () => {
    for (const parts of [1, 3, 7]) {
      const df = await make(parts);
      for (const column of ["k", "f", "s", "t", "b"]) {
        for (const ascending of [true, false]) {
          for (const nullsFirst of [false, true]) {
            const got = await df.sortValues(column, { ascending, nullsFirst }).compute();
            const label = `${column} asc=${ascending} nullsFirst=${nullsFirst} parts=${parts}`;
            expect(columnOf(got, "id"), label).toEqual(reference([{ column, ascending }], nullsFirst));
          }
        }
      }
    }
  });

  it("sorts by several keys with mixed directions (ties on the first key stay together)", async () => {
    const cases: { by: string[]; ascending: boolean[] }[] = [
      { by: ["k", "s"], ascending: [true, true] },
      { by: ["k", "f", "t"], ascending: [false, true, false] },
      { by: ["s", "b"], ascending: [true, false] },
      { by: ["f", "k"], ascending: [false, false] },
    ];
    for (const parts of [1, 3, 7]) {
      const df = await make(parts);
      for (const { by, ascending } of cases) {
        for (const npartitions of [undefined, 1, 2, 5]) {
          for (const nullsFirst of [false, true]) {
            const sorted = df.sortValues(by, { ascending, nullsFirst, npartitions });
            const want = reference(by.map((column, j) => ({ column, ascending: ascending[j]! })), nullsFirst);
            expect(columnOf(await sorted.compute(), "id"), `${by} ${ascending} parts=${parts} out=${npartitions}`).toEqual(want);
            const n = await sorted.npartitions();
            expect(n).toBeLessThanOrEqual(npartitions ?? parts);
            // Equal first-key values never straddle two output partitions.
            const owner = new Map<unknown, number>();
            (await batches(sorted)).forEach((batch, p) => {
              for (const v of column(batch, by[0]!)) {
                const key = v === null || (typeof v === "number" && Number.isNaN(v)) ? "missing" : v;
                expect(owner.get(key) ?? p, `value ${String(v)} in partitions ${owner.get(key)} and ${p}`).toBe(p);
                owner.set(key, p);
              }
            });
          }
        }
      }
    }
  });

  it("balances the output partitions on well spread keys", async () => {
    const df = await make(4);
    const parts = await batches(df.sortValues("b", { npartitions: 4 }));
    expect(parts.length).toBe(4);
    for (const p of parts) expect(p.numRows).toBeGreaterThan(N / 4 / 2);
  });

  it("handles skew: every key equal, empty input partitions, all values missing", async () => {
    const same = dd.fromArrays({ id, key: new Int32Array(N).fill(7) }, { npartitions: 5 });
    const sorted = same.sortValues("key", { npartitions: 4 });
    expect(columnOf(await sorted.compute(), "id")).toEqual(Array.from(id)); // stable: the original order
    expect(await sorted.npartitions()).toBeGreaterThanOrEqual(1);

    const df = (await make(7)).filter(dd.col("id").lt(150).or(dd.col("id").ge(900))); // middle partitions empty
    const rows = Array.from(id).filter((i) => i < 150 || i >= 900);
    for (const npartitions of [undefined, 3]) {
      expect(columnOf(await df.sortValues("s", { npartitions }).compute(), "id")).toEqual(reference([{ column: "s", ascending: true }], false, rows));
    }

    const missing = dd.fromArrays({ id, v: Array.from({ length: N }, () => null as number | null).map((_, i) => (i % 2 ? NaN : null)) }, { npartitions: 3 });
    expect(columnOf(await missing.sortValues("v").compute(), "id")).toEqual(Array.from(id));
    expect(await missing.setIndex("v").divisions()).toBeNull();
  });

  it("skips the shuffle for partitions already in order, and still sorts inside them", async () => {
    const v = Float64Array.from({ length: N }, (_, i) => Math.floor(i / 10) + ((i * 7) % 10) / 100); // sorted across chunks of 10, not inside
    const df = dd.fromArrays({ id, v }, { npartitions: 4 });
    const want = Array.from(id).sort((x, y) => v[x]! - v[y]!);
    expect(columnOf(await df.sortValues("v").compute(), "id")).toEqual(want);
    expect(columnOf(await df.sortValues("v", { ascending: false }).compute(), "id")).toEqual([...want].reverse());
    const d = await df.setIndex("v").divisions();
    expect(d!.values).toEqual([0, 25, 50, 75, v[want[N - 1]!]]);
  });

  it("keeps steps after it partition-wise and works on a computed input", async () => {
    const df = await make(3);
    const got = await df.sortValues("k").filter(dd.col("k").gt(5)).select("id", "k").compute();
    expect(columnOf(got, "id")).toEqual(reference([{ column: "k", ascending: true }], false).filter((i) => k[i]! > 5));
    expect(got.schema.fields.map((x) => x.name)).toEqual(["id", "k"]);
    const sums = await df.groupby("k").agg({ b: ["sum"] }).sortValues("b_sum", { ascending: false }).compute();
    const col = columnOf(sums, "b_sum") as bigint[];
    expect(col.length).toBe(13);
    for (let i = 1; i < col.length; i++) expect(col[i - 1]! >= col[i]!).toBe(true);
  });

  it("names a missing or unsortable column", async () => {
    const df = await make(3);
    expect(() => df.sortValues("nope")).toThrow(/sortValues: no column "nope"; columns are "id", "k"/);
    expect(() => df.sortValues(["k", "f"], { ascending: [true] })).toThrow(/ascending has 1 flags for 2 columns/);
    expect(() => df.sortValues("k", { npartitions: 0 })).toThrow(/npartitions must be a positive integer/);
    expect(() => df.setIndex("nope")).toThrow(/setIndex: no column "nope"/);
    // An input whose schema is known only after it runs: the error comes with compute().
    await expect(df.groupby("k").sum(["f"]).sortValues("nope").compute()).rejects.toThrow(/sortValues: no column "nope"/);
  });
});

describe("setIndex", () => {
  it("sorts and records divisions that bound every partition", async () => {
    for (const parts of [1, 3, 7]) {
      const df = (await make(parts)).setIndex("t", { npartitions: 4 });
      const want = reference([{ column: "t", ascending: true }], false);
      expect(columnOf(await df.compute(), "id")).toEqual(want);
      const d = await df.divisions();
      expect(d!.column).toBe("t");
      const out = await batches(df);
      expect(d!.values.length).toBe(out.length + 1);
      const times = want.map((i) => COLS.t!(i)).filter((v) => v !== null) as number[];
      expect(BigInt(d!.values[0] as bigint)).toBe(BigInt(times[0]!));
      expect(BigInt(d!.values[out.length] as bigint)).toBe(BigInt(times[times.length - 1]!));
      out.forEach((batch, p) => {
        const vs = column(batch, "t").filter((v) => v !== null).map(Number);
        expect(vs.length, `partition ${p} is not empty`).toBeGreaterThan(0);
        expect(vs[0]).toBe(Number(d!.values[p]));
        const hi = Number(d!.values[p + 1]);
        for (const v of vs) p === out.length - 1 ? expect(v).toBeLessThanOrEqual(hi) : expect(v).toBeLessThan(hi);
      });
    }
  });

  it("keeps divisions through filters and renames, drops them when the column is rewritten", async () => {
    const df = (await make(3)).setIndex("k");
    const d = await df.divisions();
    expect(d!.values[0]).toBe(0);
    expect(d!.values[d!.values.length - 1]).toBe(12);
    expect(await df.filter(dd.col("f").gt(0)).divisions()).toEqual(d);
    expect(await df.rename({ k: "key" }).divisions()).toEqual({ column: "key", values: d!.values });
    expect(await df.select("id").divisions()).toBeNull();
    expect(await df.assign({ k: dd.col("k").add(1) }).divisions()).toBeNull();
    expect(await df.sortValues("k").divisions()).toBeNull(); // sortValues records no index
    expect(await (await make(3)).divisions()).toBeNull();
    // persist keeps them (the partitions are the same, now held by the workers)
    const kept = await df.filter(dd.col("f").gt(0)).persist();
    expect(await kept.divisions()).toEqual(d);
    expect(await kept.select("id").divisions()).toBeNull();
  });

  it("with sorted: true moves nothing and checks the order", async () => {
    const ts = Array.from({ length: N }, (_, i) => new Date(Date.UTC(2024, 0, 1) + i * 60_000));
    const df = dd.fromArrays({ id, ts }, { npartitions: 4 });
    const indexed = df.setIndex("ts", { sorted: true });
    expect(columnOf(await indexed.compute(), "id")).toEqual(Array.from(id));
    expect(await indexed.npartitions()).toBe(4);
    const d = await indexed.divisions();
    expect(d!.values.map(Number)).toEqual([0, 250, 500, 750, 999].map((i) => ts[i]!.getTime()));

    const shuffled = dd.fromArrays({ id, k }, { npartitions: 4 });
    await expect(shuffled.setIndex("k", { sorted: true }).compute()).rejects.toThrow(/setIndex\(sorted\): partition 0 is not sorted by "k" at row 7/);
    // Sorted inside each partition, but the ranges overlap.
    const overlap = dd.fromArrays({ v: Int32Array.from({ length: 100 }, (_, i) => i % 50) }, { npartitions: 2 });
    await expect(overlap.setIndex("v", { sorted: true }).divisions()).rejects.toThrow(/partition 1 starts at 0 in "v", not after the end of partition 0 \(49\)/);
  });
});

function columnOf(tb: arrow.Table, name: string): unknown[] {
  return column(tb, name);
}
