// categorize and getDummies on a 2-worker LocalCluster, against pandas' rules computed in plain
// JS over the whole table: categories are every value of the column across partitions, sorted;
// dummies come after the other columns, one 0/1 column per category, nulls all zeros. Each
// partition is built on its own, so each starts with its own string dictionary.
import * as arrow from "apache-arrow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, dataframe as dd, type Client } from "../../dist/index.js";

let client: Client;
beforeAll(async () => {
  client = await LocalCluster.start({ workers: 2 });
});
afterAll(() => client.close());

const N = 600;
const id = Int32Array.from({ length: N }, (_, i) => i);
// "banana" appears only near the end, "fig" only at the start: no partition sees every category.
const fruit = Array.from({ length: N }, (_, i) => (i % 13 === 0 ? null : i > 560 && i % 2 ? "banana" : i < 40 && i % 3 === 0 ? "fig" : ["pear", "apple", "kiwi"][(i * 7) % 3]!));
const size = Array.from({ length: N }, (_, i) => (i % 29 === 0 ? null : ["S", "M", "L"][i % 3]!));
const x = Float64Array.from({ length: N }, (_, i) => i / 4);

async function make(parts: number): Promise<dd.DataFrame> {
  const frames: dd.DataFrame[] = [];
  for (let p = 0; p < parts; p++) {
    const lo = Math.floor((p * N) / parts), hi = Math.floor(((p + 1) * N) / parts);
    frames.push(dd.fromArrays({ id: id.slice(lo, hi), fruit: fruit.slice(lo, hi), x: x.slice(lo, hi), size: size.slice(lo, hi) }));
  }
  return parts === 1 ? frames[0]! : dd.concat(frames);
}

const categoriesOf = (values: readonly (string | null)[]) => [...new Set(values.filter((v): v is string => v !== null))].sort();
const FRUITS = categoriesOf(fruit); // ["apple", "banana", "fig", "kiwi", "pear"]
const SIZES = categoriesOf(size); // ["L", "M", "S"]

const columnOf = (t: { numRows: number; getChild(n: string): { get(i: number): unknown } | null }, name: string) =>
  Array.from({ length: t.numRows }, (_, i) => t.getChild(name)!.get(i));

/** The dictionary of a string column of one batch (or table with one chunk). */
function dictionaryOf(batch: arrow.RecordBatch, name: string): string[] {
  return [...(batch.getChild(name)!.data[0]!.dictionary as arrow.Vector<arrow.Utf8>)].map(String);
}

describe("categorize", () => {
  it("gives every partition one sorted dictionary of every category", async () => {
    expect(FRUITS).toEqual(["apple", "banana", "fig", "kiwi", "pear"]);
    for (const parts of [1, 3, 7]) {
      const df = (await make(parts)).categorize();
      expect(await df.schema()).toEqual(await (await make(parts)).schema()); // still string columns
      const t = await df.compute();
      expect(columnOf(t, "fruit")).toEqual(fruit);
      expect(columnOf(t, "size")).toEqual(size);
      const batches = [...arrow.RecordBatchReader.from(await df.toArrow())];
      expect(batches.length).toBe(parts);
      for (const b of batches) {
        expect(dictionaryOf(b, "fruit")).toEqual(FRUITS);
        expect(dictionaryOf(b, "size")).toEqual(SIZES);
      }
    }
  });

  it("categorizes only the named columns, and keeps categories a filter empties", async () => {
    const df = (await make(3)).categorize(["size"]);
    const batches = [...arrow.RecordBatchReader.from(await df.filter(dd.col("size").ne("M")).toArrow())];
    for (const b of batches) expect(dictionaryOf(b, "size")).toEqual(SIZES);
    // fruit keeps each partition's own dictionary (first-seen order), so the last differs.
    expect(dictionaryOf(batches[2]!, "fruit")).not.toEqual(FRUITS);
  });

  it("names a missing or non-string column", async () => {
    const df = await make(3);
    expect(() => df.categorize(["nope"])).toThrow(/categorize: no column "nope"; columns are "id", "fruit", "x", "size"/);
    expect(() => df.categorize(["x"])).toThrow(/categorize: column "x" is float64; only string columns have categories/);
  });
});

describe("getDummies", () => {
  /** pandas' get_dummies of fruit and size over the whole table. */
  function reference(opts: { dropFirst?: boolean; columns?: string[] } = {}) {
    const cols = opts.columns ?? ["fruit", "size"];
    const out: Record<string, unknown[]> = {};
    if (!cols.includes("fruit")) out.fruit = fruit;
    if (!cols.includes("size")) out.size = size;
    for (const c of cols) {
      const values = c === "fruit" ? fruit : size;
      const cats = (c === "fruit" ? FRUITS : SIZES).slice(opts.dropFirst ? 1 : 0);
      for (const cat of cats) out[`${c}_${cat}`] = values.map((v) => (v === cat ? 1 : 0));
    }
    return out;
  }

  it("one-hot encodes every string column after the others, whatever the partitioning", async () => {
    for (const parts of [1, 3, 7]) {
      const df = (await make(parts)).getDummies();
      const want = reference();
      const names = ["id", "x", ...Object.keys(want).filter((n) => n.includes("_"))];
      expect(names).toEqual(["id", "x", "fruit_apple", "fruit_banana", "fruit_fig", "fruit_kiwi", "fruit_pear", "size_L", "size_M", "size_S"]);
      const schema = await df.schema(); // known after prepare (the categories), before the data runs
      expect(schema.names).toEqual(names);
      expect(schema.types.slice(2).every((t) => t.type === "uint8")).toBe(true);
      const t = await df.compute();
      expect(t.schema.fields.map((f) => f.name)).toEqual(names);
      expect(columnOf(t, "id")).toEqual(Array.from(id));
      for (const [name, values] of Object.entries(want)) if (name.includes("_")) expect(columnOf(t, name), name).toEqual(values);
      // Nulls give all zeros.
      const row = fruit.indexOf(null);
      expect(FRUITS.map((c) => t.getChild(`fruit_${c}`)!.get(row))).toEqual([0, 0, 0, 0, 0]);
      expect(await df.npartitions()).toBe(parts);
    }
  });

  it("takes columns, prefix, prefixSep, dropFirst and dtype", async () => {
    const df = await make(3);
    let t = await df.getDummies(["size"], { dropFirst: true }).compute();
    expect(t.schema.fields.map((f) => f.name)).toEqual(["id", "fruit", "x", "size_M", "size_S"]);
    const want = reference({ columns: ["size"], dropFirst: true });
    expect(columnOf(t, "size_S")).toEqual(want.size_S);

    t = await df.getDummies(["size", "fruit"], { prefix: ["sz", "f"], prefixSep: ":" }).compute();
    expect(t.schema.fields.map((f) => f.name)).toEqual(["id", "x", "sz:L", "sz:M", "sz:S", ...FRUITS.map((c) => `f:${c}`)]);

    t = await df.getDummies(undefined, { prefix: { fruit: "is" }, dtype: "bool" }).compute();
    expect(t.schema.fields.map((f) => f.name)).toContain("is_banana");
    expect(t.getChild("is_banana")!.type.toString()).toBe("Bool");
    expect(columnOf(t, "is_banana")).toEqual(fruit.map((v) => v === "banana"));
    expect(columnOf(t, "size_L")).toEqual(size.map((v) => v === "L"));

    t = await df.getDummies(["size"], { dtype: "float64" }).compute();
    expect(columnOf(t, "size_M")).toEqual(size.map((v) => (v === "M" ? 1 : 0)));
    t = await df.getDummies(["size"], { dtype: "int64" }).compute();
    expect(columnOf(t, "size_M")).toEqual(size.map((v) => (v === "M" ? 1n : 0n)));
  });

  it("reuses the categories categorize found, including ones a filter removed", async () => {
    const cat = (await make(3)).categorize();
    const df = cat.filter(dd.col("fruit").ne("banana")).rename({ size: "sz" });
    const t = await df.getDummies().compute();
    // pandas keeps unused categories of a categorical column: fruit_banana stays, all zeros.
    expect(t.schema.fields.map((f) => f.name)).toEqual(["id", "x", ...FRUITS.map((c) => `fruit_${c}`), ...SIZES.map((c) => `sz_${c}`)]);
    expect(columnOf(t, "fruit_banana").every((v) => v === 0)).toBe(true);
    const kept = Array.from(id).filter((i) => fruit[i] !== "banana" && fruit[i] !== null);
    expect(columnOf(t, "id")).toEqual(kept);
    expect(columnOf(t, "sz_S")).toEqual(kept.map((i) => (size[i] === "S" ? 1 : 0)));
    // Without categorize, only the categories left after the filter exist.
    const plain = await (await make(3)).filter(dd.col("fruit").ne("banana")).getDummies(["fruit"]).columns();
    expect(plain).not.toContain("fruit_banana");
  });

  it("works on an input whose schema is known only after it runs", async () => {
    const df = (await make(3)).groupby("fruit").agg({ x: ["sum"] }).getDummies(["fruit"]);
    const t = await df.compute();
    expect(t.schema.fields.map((f) => f.name)).toEqual(["x_sum", ...FRUITS.map((c) => `fruit_${c}`)]);
    expect(t.numRows).toBe(FRUITS.length); // groupby drops the null key
  });

  it("names bad columns, prefixes and clashing names", async () => {
    const df = await make(3);
    expect(() => df.getDummies(["nope"])).toThrow(/getDummies: no column "nope"; columns are "id", "fruit", "x", "size"/);
    expect(() => df.getDummies(["x"])).toThrow(/getDummies: column "x" is float64/);
    expect(() => df.getDummies(["size"], { dtype: "string" as never })).toThrow(/dtype must be one of/);
    await expect(df.getDummies(["size"], { prefix: ["a", "b"] }).compute()).rejects.toThrow(/2 prefixes for 1 encoded columns/);
    await expect(df.getDummies(["size"], { prefix: { fruit: "f" } }).compute()).rejects.toThrow(/prefix given for "fruit", which is not an encoded column/);
    // Column names that are also Object.prototype keys are plain names.
    const odd = await dd.fromArrays({ constructor: ["b", "a", null] }, { npartitions: 2 }).getDummies().compute();
    expect(odd.schema.fields.map((f) => f.name)).toEqual(["constructor_a", "constructor_b"]);
    expect(columnOf(odd, "constructor_b")).toEqual([1, 0, 0]);
    const clash = dd.fromArrays({ a: ["x", "y"], a_x: [1, 2] });
    await expect(clash.getDummies(["a"]).compute()).rejects.toThrow(/the dummy column "a_x" of "a" is already a column/);
    await expect(df.groupby("fruit").agg({ x: ["sum"] }).getDummies(["nope"]).compute()).rejects.toThrow(/getDummies: no column "nope"/);
  });
});
