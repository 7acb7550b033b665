/**
 * DataFrame.merge / join on a 2-worker LocalCluster, against a plain-JS nested-loop join of the
 * whole tables (compared as sorted row sets: a distributed merge has no row order). Every `how`,
 * int, string and multi-column keys, null and NaN keys (never matching), many-to-many keys,
 * suffixes, keys of different widths or int vs float, broadcast and shuffle plans giving the same
 * rows whatever the partitioning (1, 3, 7 per side), and the errors.
 */

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, dataframe as dd, type Client } from "../../dist/index.js";

type DataFrame = dd.DataFrame;
type How = "inner" | "left" | "right" | "outer";
type Cols = Record<string, unknown[]>;

let client: Client;
beforeAll(async () => {
  client = await LocalCluster.start({ workers: 2 });
});
afterAll(() => client.close());

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Keys overlap partly (left 0..19, right 8..27) and repeat on both sides: many-to-many.
const NL = 140, NR = 100;
const r = rng(7);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const WORDS = ["ant", "bee", "cat", "dog", "eel", "fox"];
const L = {
  k: Int32Array.from({ length: NL }, () => Math.floor(r() * 20)),
  s: Array.from({ length: NL }, () => (r() < 0.1 ? null : pick(WORDS.slice(0, 5)))),
  x: Float64Array.from({ length: NL }, (_, i) => i + 0.5),
  v: Array.from({ length: NL }, (_, i) => (i % 9 === 0 ? null : i * 2)),
};
const R = {
  k: Int32Array.from({ length: NR }, () => 8 + Math.floor(r() * 20)),
  s: Array.from({ length: NR }, () => (r() < 0.1 ? null : pick(WORDS.slice(1)))),
  x: Float64Array.from({ length: NR }, (_, i) => -i - 0.25),
  w: Array.from({ length: NR }, (_, i) => `w${i % 13}`),
};

const asCols = (c: Record<string, ArrayLike<unknown>>): Cols => Object.fromEntries(Object.entries(c).map(([k, v]) => [k, Array.from(v)]));

/** A dataframe of these columns in p partitions (from client data: row counts are known). */
function frame(cols: Record<string, unknown>, p: number): DataFrame {
  return dd.fromArrays(cols as Parameters<typeof dd.fromArrays>[0], { npartitions: p });
}

/**
 * The same, built as p separate dataframes concatenated: each partition has its own string
 * dictionary (in its own first-seen order, so codes differ between partitions), and the row
 * counts are unknown until run. `k` stays int32.
 */
async function ownDicts(cols: Cols, p: number): Promise<DataFrame> {
  const n = Object.values(cols)[0]!.length;
  const parts: DataFrame[] = [];
  for (let i = 0; i < p; i++) {
    const a = Math.floor((i * n) / p), b = Math.floor(((i + 1) * n) / p);
    const slice = Object.fromEntries(Object.entries(cols).map(([name, v]) => [name, name === "k" ? Int32Array.from(v.slice(a, b) as number[]) : v.slice(a, b)]));
    parts.push(dd.fromArrays(slice as Parameters<typeof dd.fromArrays>[0]));
  }
  return parts.length === 1 ? parts[0]! : dd.concat(parts);
}

/** pandas' merge on whole tables, by nested loops; nulls and NaN match nothing. */
function reference(left: Cols, right: Cols, leftOn: string[], rightOn: string[], how: How, suffixes: [string, string] = ["_x", "_y"]): { names: string[]; rows: unknown[][] } {
  const nl = Object.values(left)[0]!.length, nr = Object.values(right)[0]!.length;
  const eq = (a: unknown, b: unknown) => {
    if (a === null || b === null || a === undefined || b === undefined) return false;
    if (typeof a === "string" || typeof b === "string") return a === b;
    return Number(a) === Number(b); // NaN !== NaN
  };
  const pairs: [number, number][] = [];
  const matched = new Uint8Array(nr);
  for (let i = 0; i < nl; i++) {
    let any = false;
    for (let j = 0; j < nr; j++) {
      if (leftOn.every((ln, t) => eq(left[ln]![i], right[rightOn[t]!]![j]))) {
        pairs.push([i, j]);
        matched[j] = 1;
        any = true;
      }
    }
    if (!any && (how === "left" || how === "outer")) pairs.push([i, -1]);
  }
  if (how === "right" || how === "outer") for (let j = 0; j < nr; j++) if (!matched[j]) pairs.push([-1, j]);
  const merged = new Set(leftOn.filter((n, t) => n === rightOn[t]));
  const rightKept = Object.keys(right).filter((n) => !merged.has(n));
  const names: string[] = [];
  const getters: ((i: number, j: number) => unknown)[] = [];
  for (const n of Object.keys(left)) {
    if (merged.has(n)) {
      names.push(n);
      getters.push((i, j) => (i >= 0 ? left[n]![i] : right[n]![j]));
    } else {
      names.push(rightKept.includes(n) ? n + suffixes[0] : n);
      getters.push((i) => (i >= 0 ? left[n]![i] : null));
    }
  }
  for (const n of rightKept) {
    names.push(n in left ? n + suffixes[1] : n);
    getters.push((_, j) => (j >= 0 ? right[n]![j] : null));
  }
  return { names, rows: pairs.map(([i, j]) => getters.map((g) => g(i, j))) };
}

const norm = (v: unknown): unknown => (typeof v === "bigint" ? Number(v) : typeof v === "number" && Number.isNaN(v) ? "NaN" : v ?? null);
const sortRows = (rows: unknown[][]) => rows.map((row) => JSON.stringify(row.map(norm))).sort();

async function rowsOf(df: DataFrame): Promise<{ names: string[]; rows: unknown[][] }> {
  const t = await df.compute();
  const names = t.schema.fields.map((f) => f.name);
  const cols = names.map((n) => t.getChild(n)!);
  return { names, rows: Array.from({ length: t.numRows }, (_, i) => cols.map((c) => c.get(i))) };
}

async function expectSame(df: DataFrame, want: { names: string[]; rows: unknown[][] }, label: string): Promise<void> {
  const got = await rowsOf(df);
  expect(got.names, label).toEqual(want.names);
  expect(got.rows.length, `${label}: rows`).toBe(want.rows.length);
  expect(sortRows(got.rows), label).toEqual(sortRows(want.rows));
}

const strategyOf = (df: DataFrame) => (df.input as unknown as { strategy(): { kind: string; side?: string; n?: number } }).strategy();

const HOWS: How[] = ["inner", "left", "right", "outer"];
const SPLITS: [number, number][] = [[1, 1], [1, 3], [3, 1], [3, 7], [7, 3], [7, 7]];

describe("merge", () => {
  it("gives the nested-loop join for every how, plan and partitioning (int keys, many-to-many)", async () => {
    for (const how of HOWS) {
      const want = reference(asCols(L), asCols(R), ["k"], ["k"], how);
      expect(want.names).toEqual(["k", "s_x", "x_x", "v", "s_y", "x_y", "w"]);
      for (const [pl, pr] of SPLITS) {
        for (const broadcast of [undefined, true, false]) {
          const df = frame(L, pl).merge(frame(R, pr), { on: "k", how, broadcast });
          await expectSame(df, want, `${how} ${pl}x${pr} broadcast=${broadcast} (${JSON.stringify(strategyOf(df))})`);
        }
      }
    }
  });

  it("merges on several keys, with string keys whose dictionaries differ per partition", async () => {
    for (const how of HOWS) {
      const want = reference(asCols(L), asCols(R), ["k", "s"], ["k", "s"], how);
      expect(want.names).toEqual(["k", "s", "x_x", "v", "x_y", "w"]);
      for (const [pl, pr] of [[1, 1], [3, 7], [7, 3]] as const) {
        const left = await ownDicts(asCols(L), pl), right = await ownDicts(asCols(R), pr);
        for (const broadcast of [true, false]) {
          await expectSame(left.merge(right, { on: ["k", "s"], how, broadcast }), want, `${how} ${pl}x${pr} broadcast=${broadcast}`);
        }
      }
    }
  });

  it("merges on a string key alone", async () => {
    const left = await ownDicts(asCols(L), 3);
    for (const how of HOWS) {
      const want = reference(asCols(L), asCols(R), ["s"], ["s"], how);
      for (const broadcast of [true, false]) {
        await expectSame(left.merge(await ownDicts(asCols(R), 7), { on: "s", how, broadcast }), want, `${how} broadcast=${broadcast}`);
        await expectSame(left.merge(frame(R, 1), { on: "s", how, broadcast }), want, `${how} vs 1 partition, broadcast=${broadcast}`);
      }
    }
  });

  it("never matches null or NaN keys, and keeps their rows where how says", async () => {
    const lk = Array.from({ length: 60 }, (_, i) => (i % 7 === 0 ? null : i % 10));
    const rk = Array.from({ length: 40 }, (_, i) => (i % 5 === 0 ? null : (i % 12) + 3));
    const lf = lk.map((v, i) => (i % 11 === 0 ? NaN : v === null ? null : v + 0.5));
    const rf = rk.map((v, i) => (i % 6 === 0 ? NaN : v === null ? null : v + 0.5));
    const lc: Cols = { k: lk, f: lf, a: lk.map((_, i) => i) };
    const rc: Cols = { k: rk, f: rf, b: rk.map((_, i) => `r${i}`) };
    for (const how of HOWS) {
      for (const on of [["k"], ["f"], ["k", "f"]]) {
        const want = reference(lc, rc, on, on, how);
        for (const [pl, pr] of [[1, 1], [3, 7], [7, 1]] as const) {
          for (const broadcast of [true, false]) {
            // Int keys with nulls: float64 from the JS numbers, cast to int32 (nulls stay null).
            const left = frame(lc, pl).astype({ k: "int32" }), right = frame(rc, pr).astype({ k: "int32" });
            await expectSame(left.merge(right, { on, how, broadcast }), want, `${how} on ${on} ${pl}x${pr} broadcast=${broadcast}`);
          }
        }
      }
    }
    // With nothing but null keys, an outer merge keeps every row of both sides, unmatched.
    const nulls = await frame({ k: [null, null], a: [1, 2] }, 1).merge(frame({ k: [null], b: ["z"] }, 1), { on: "k", how: "outer" }).compute();
    expect(nulls.numRows).toBe(3);
  });

  it("meets int keys of other widths and float keys by value, in the common type", async () => {
    const wide = { k: BigInt64Array.from(R.k, (v) => BigInt(v)), w: R.w };
    const floats = { k: Float64Array.from(R.k, (v) => v + (v % 4 === 0 ? 0.5 : 0)), w: R.w }; // some never match
    for (const how of HOWS) {
      for (const [right, type] of [[wide, "int64"], [floats, "float64"]] as const) {
        const want = reference({ k: Array.from(L.k), x: Array.from(L.x) }, asCols(right), ["k"], ["k"], how);
        for (const [pl, pr] of [[3, 7], [7, 1], [1, 3]] as const) {
          for (const broadcast of [true, false]) {
            const df = frame({ k: L.k, x: L.x }, pl).merge(frame(right, pr), { on: "k", how, broadcast });
            expect((await df.schema()).types[0]!.type).toBe(type);
            await expectSame(df, want, `${how} int32 vs ${type} ${pl}x${pr} broadcast=${broadcast}`);
          }
        }
      }
    }
    // The join compares int64 with float64 as floats (2^53 + 1 meets 2^53); the shuffle must agree.
    const big = [2n ** 53n + 1n, 2n ** 60n + 3n, 5n, -(2n ** 55n) - 1n];
    const bigLeft = { k: BigInt64Array.from(big), a: [1, 2, 3, 4] };
    const bigRight = { k: Float64Array.from(big, (v) => Number(v)), b: [10, 20, 30, 40] };
    for (const broadcast of [true, false]) {
      const df = frame(bigLeft, 2).merge(frame(bigRight, 3), { on: "k", broadcast, npartitions: 7 });
      await expectSame(df, reference(asCols(bigLeft), asCols(bigRight), ["k"], ["k"], "inner"), `int64 vs float64 beyond 2^53, broadcast=${broadcast}`);
      expect((await df.len())).toBe(4);
    }
    // int32 vs uint32 takes int64 (holds both ranges); bool vs int takes the int.
    const u = frame({ k: Uint32Array.from([1, 2, 3]) }, 1).merge(frame({ k: Int32Array.from([2, 3, 4]), y: [1, 2, 3] }, 1), { on: "k", how: "outer" });
    expect((await u.schema()).types.map((t) => t.type)).toEqual(["int64", "float64"]);
    expect(sortRows((await rowsOf(u)).rows)).toEqual(sortRows([[1, null], [2, 1], [3, 2], [4, 3]]));
  });

  it("suffixes overlapping names and keeps both keys when they are named differently", async () => {
    const left = frame({ a: [1, 2, 3], k: [10, 20, 30], x: ["p", "q", "r"] }, 2);
    const right = frame({ b: [2, 3, 4], k: [200, 300, 400], x: ["Q", "R", "S"] }, 2);
    const byOn = await rowsOf(left.merge(right, { leftOn: "a", rightOn: "b", suffixes: ["_l", "_r"], how: "outer", broadcast: false }));
    expect(byOn.names).toEqual(["a", "k_l", "x_l", "b", "k_r", "x_r"]);
    expect(sortRows(byOn.rows)).toEqual(sortRows([
      [1, 10, "p", null, null, null],
      [2, 20, "q", 2, 200, "Q"],
      [3, 30, "r", 3, 300, "R"],
      [null, null, null, 4, 400, "S"],
    ]));
    // A key column of one side that the other side also has as a plain column gets a suffix too.
    const cross = await left.merge(right.rename({ b: "a", k: "kk" }), { leftOn: "k", rightOn: "a" }).schema();
    expect(cross.names).toEqual(["a_x", "k", "x_x", "a_y", "kk", "x_y"]);
    // An empty suffix on one side keeps that side's name.
    expect((await left.merge(right, { on: "k", suffixes: ["", "_right"] }).schema()).names).toEqual(["a", "k", "x", "b", "x_right"]);
  });

  it("join: how left by default, lsuffix/rsuffix for overlapping names", async () => {
    const left = frame({ k: [1, 2, 3, null], v: [10, 20, 30, 40] }, 2);
    const right = frame({ k: [2, 3, 3, 5], v: [200, 300, 301, 500] }, 3);
    const got = await rowsOf(left.join(right, { on: "k", lsuffix: "_left", rsuffix: "_right" }));
    expect(got.names).toEqual(["k", "v_left", "v_right"]);
    expect(sortRows(got.rows)).toEqual(sortRows([[1, 10, null], [2, 20, 200], [3, 30, 300], [3, 30, 301], [null, 40, null]]));
    const inner = await rowsOf(left.join(right.rename({ v: "w" }), { on: "k", how: "inner" }));
    expect(inner.names).toEqual(["k", "v", "w"]);
    expect(inner.rows.length).toBe(3);
    expect(() => left.join(right, { on: "k" })).toThrow(/two columns named "v".*lsuffix/);
  });

  it("picks broadcast for a small side and a shuffle otherwise, with the same rows", async () => {
    const small = frame(R, 1), big = await ownDicts(asCols(L), 5); // ownDicts: no known row counts
    expect(strategyOf(big.merge(small, { on: "k" }))).toEqual({ kind: "broadcast", side: "right" });
    expect(strategyOf(big.merge(small, { on: "k", how: "left" }))).toEqual({ kind: "broadcast", side: "right" });
    // An unmatched row of a broadcast right side would come out of every left partition.
    expect(strategyOf(big.merge(small, { on: "k", how: "right" }))).toEqual({ kind: "shuffle", n: 5 });
    expect(strategyOf(big.merge(small, { on: "k", how: "outer" }))).toEqual({ kind: "shuffle", n: 5 });
    // ... unless the right is one partition and the (big) left is forced into one task.
    expect(strategyOf(big.merge(small, { on: "k", how: "outer", broadcast: true }))).toEqual({ kind: "broadcast", side: "left" });
    expect(strategyOf(big.merge(await ownDicts(asCols(R), 2), { on: "k", how: "outer", broadcast: true }))).toEqual({ kind: "shuffle", n: 5 });
    expect(strategyOf(small.merge(big, { on: "k", how: "right" }))).toEqual({ kind: "broadcast", side: "left" });
    expect(strategyOf(small.merge(big, { on: "k", how: "left" }))).toEqual({ kind: "shuffle", n: 5 });
    // Known small row counts broadcast even with several partitions; broadcast: false shuffles.
    expect(strategyOf(frame(L, 7).merge(frame(R, 3), { on: "k" }))).toEqual({ kind: "broadcast", side: "right" });
    expect(strategyOf(big.merge(await ownDicts(asCols(R), 3), { on: "k" }))).toEqual({ kind: "shuffle", n: 5 });
    const shuffled = frame(L, 3).merge(frame(R, 2), { on: "k", broadcast: false, npartitions: 4 });
    expect(strategyOf(shuffled)).toEqual({ kind: "shuffle", n: 4 });
    expect(await shuffled.npartitions()).toBe(4);
    expect(await frame(L, 3).merge(small, { on: "k" }).npartitions()).toBe(3);
    for (const how of HOWS) {
      const want = reference(asCols(L), asCols(R), ["k"], ["k"], how);
      await expectSame(big.merge(small, { on: "k", how }), want, `${how} auto`);
      await expectSame(small.merge(big, { on: "k", how }), reference(asCols(R), asCols(L), ["k"], ["k"], how), `${how} swapped sides`);
      await expectSame(big.merge(small, { on: "k", how, broadcast: true }), want, `${how} broadcast: true`);
      await expectSame(big.merge(small, { on: "k", how, npartitions: 2, broadcast: false }), want, `${how} shuffle into 2`);
    }
  });

  it("derives the schema before running, and chains with other verbs", async () => {
    // A groupby result is only known once prepared; the merge's schema follows from it.
    const counts = frame(R, 3).groupby("k", { splitOut: 2 }).agg({ x: ["count"] });
    const merged = frame(L, 4).merge(counts, { on: "k", how: "left" });
    const schema = await merged.schema();
    expect(schema.names).toEqual(["k", "s", "x", "v", "x_count"]);
    expect(schema.types.map((t) => t.type)).toEqual(["int32", "string", "float64", "float64", "int64"]);
    const t = await merged.compute();
    expect(t.schema.fields.map((f) => f.name)).toEqual(schema.names);
    const countOf = new Map<number, number>();
    for (const k of R.k) countOf.set(k, (countOf.get(k) ?? 0) + 1);
    const got = new Map(Array.from({ length: t.numRows }, (_, i) => [t.getChild("x")!.get(i) as number, t.getChild("x_count")!.get(i)]));
    L.k.forEach((k, i) => expect(norm(got.get(L.x[i]!))).toBe(countOf.get(k) ?? null));
    // Filters, lengths and a self-merge run on the merged graph.
    const filtered = frame(L, 3).merge(frame(R, 4), { on: "k", broadcast: false }).filter(dd.col("x_y").lt(-50));
    const want = reference(asCols(L), asCols(R), ["k"], ["k"], "inner").rows.filter((row) => (row[5] as number) < -50).length;
    expect(await filtered.len()).toBe(want);
    const self = frame(L, 3);
    const selfWant = reference(asCols(L), asCols(L), ["k"], ["k"], "inner");
    await expectSame(self.merge(self, { on: "k", broadcast: false }), selfWant, "self-merge");
    // Persisted inputs and an empty result.
    const persisted = await frame(R, 2).persist();
    await expectSame(frame(L, 2).merge(persisted, { on: "k", how: "outer" }), reference(asCols(L), asCols(R), ["k"], ["k"], "outer"), "persisted right");
    const none = await frame(L, 2).merge(frame({ k: Int32Array.from([-1, -2]), z: [1, 2] }, 2), { on: "k", broadcast: false }).compute();
    expect(none.numRows).toBe(0);
    expect(none.schema.fields.map((f) => f.name)).toEqual(["k", "s", "x", "v", "z"]);
  });

  it("defaults on to the common columns", async () => {
    const df = frame({ k: L.k, x: L.x }, 2).merge(frame({ k: R.k, w: R.w }, 3));
    await expectSame(df, reference({ k: Array.from(L.k), x: Array.from(L.x) }, { k: Array.from(R.k), w: R.w }, ["k"], ["k"], "inner"), "default on");
  });
});

describe("merge errors", () => {
  const left = frame({ k: [1, 2], s: ["a", "b"], v: [1, 2] }, 1);
  const right = frame({ k: [1, 2], s: ["a", "b"], w: [1, 2] }, 1);
  // Checked at the call when the schemas are known, else when the merge is computed.
  const fails = (f: () => DataFrame) => expect((async () => f().compute())()).rejects;

  it("names a missing key column and lists the columns", async () => {
    await fails(() => left.merge(right, { on: "nope" })).toThrow(/merge: left key "nope" is not a column; left columns are "k", "s", "v"/);
    await fails(() => left.merge(right, { leftOn: "k", rightOn: "v" })).toThrow(/right key "v" is not a column; right columns are "k", "s", "w"/);
    await fails(() => left.merge(frame({ z: [1] }, 1))).toThrow(/share no column to merge on/);
  });

  it("rejects key lists of different lengths, and on with leftOn", async () => {
    await fails(() => left.merge(right, { leftOn: ["k", "s"], rightOn: "k" })).toThrow(/leftOn names 2 column\(s\) \(k, s\) but rightOn names 1 \(k\)/);
    await fails(() => left.merge(right, { on: "k", leftOn: "k" })).toThrow(/either on or leftOn\/rightOn/);
    await fails(() => left.merge(right, { leftOn: "k" })).toThrow(/give both leftOn and rightOn/);
  });

  it("names both columns and types when key types are incompatible", async () => {
    await fails(() => left.merge(right, { leftOn: "s", rightOn: "k" })).toThrow(/left key "s" \(string\) and right key "k" \(float64\) have incompatible types/);
    await fails(() => left.merge(right, { leftOn: "k", rightOn: "s" })).toThrow(/left key "k" \(float64\) and right key "s" \(string\)/);
  });

  it("rejects an unknown how, bad suffixes and bad npartitions", async () => {
    await fails(() => left.merge(right, { on: "k", how: "cross" as never })).toThrow(/how must be "inner", "left", "right" or "outer", got "cross"/);
    await fails(() => left.merge(right, { on: "k", suffixes: ["", ""] })).toThrow(/two columns named "s"/);
    await fails(() => left.merge(right, { on: "k", npartitions: 0 })).toThrow(/npartitions must be a positive integer/);
    expect(() => left.merge(right, { on: "k", how: "full" as never })).toThrow(/how must be/);
  });
});
