// RobustScaler, OneHotEncoder, OrdinalEncoder, SimpleImputer and PolynomialFeatures on a
// 2-worker LocalCluster: against scikit-learn (references.json, make-references.py) on its
// datasets for 1, 3 and 7 row blocks, on dataframes (string columns, nulls), and bad input.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, array as da, dataframe as dd, ml, type Client } from "../../dist/index.js";
import { DATASETS, HAVE_DATASETS, loadCsv, loadDiabetes, maxRelDiff, rowsPerBlock, type Dataset } from "./helpers.js";

const REF = JSON.parse(readFileSync(new URL("./references.json", import.meta.url), "utf8"));

let client: Client;
beforeAll(async () => {
  client = await LocalCluster.start({ workers: 2 });
});
afterAll(() => client?.close());

const BLOCKS = [1, 3, 7];
const matrix = (X: Float64Array, n: number, d: number, blocks: number) => da.fromTypedArray(X, { shape: [n, d], chunks: [rowsPerBlock(n, blocks), d] });

function loadDigits(): Dataset {
  const rows = gunzipSync(readFileSync(new URL("digits.csv.gz", DATASETS))).toString("utf8").trim().split("\n");
  const X = new Float64Array(rows.length * 64);
  const y = new Float64Array(rows.length);
  rows.forEach((r, i) => r.split(",").forEach((v, j) => (j < 64 ? (X[i * 64 + j] = Number(v)) : (y[i] = Number(v)))));
  return { X, y, n: rows.length, d: 64 };
}

/** Columns `cols` of X. */
function columns(ds: Dataset, cols: number[]): Float64Array {
  const out = new Float64Array(ds.n * cols.length);
  for (let i = 0; i < ds.n; i++) cols.forEach((c, j) => (out[i * cols.length + j] = ds.X[i * ds.d + c]!));
  return out;
}

/** make-references.py's hole_mask: X[i, j] is NaN when (13 i + 7 j) % 11 == 0. */
function withHoles(ds: Dataset): Float64Array {
  return ds.X.map((v, t) => ((13 * Math.floor(t / ds.d) + 7 * (t % ds.d)) % 11 === 0 ? NaN : v));
}

const colSums = (data: ArrayLike<number>, w: number) => {
  const s = new Float64Array(w);
  for (let t = 0; t < data.length; t++) s[t % w] += data[t]!;
  return s;
};

describe.skipIf(!HAVE_DATASETS)("RobustScaler", () => {
  it("equals scikit-learn's center and scale (exact quantiles) for 1, 3 and 7 blocks, and transforms back and forth", async () => {
    const ds = loadCsv("breast_cancer.csv");
    for (const blocks of BLOCKS) {
      const X = matrix(ds.X, ds.n, ds.d, blocks);
      const rs = new ml.RobustScaler();
      const Z = await (await rs.fitTransform(X)).compute();
      expect(maxRelDiff(rs.center!, REF.breast_cancer.robust.center)).toBeLessThan(1e-12);
      expect(maxRelDiff(rs.scale!, REF.breast_cancer.robust.scale)).toBeLessThan(1e-12);
      expect(rs.nSamplesSeen).toBe(ds.n);
      const want = ds.X.map((v, t) => (v - rs.center![t % ds.d]!) / rs.scale![t % ds.d]!);
      expect(maxRelDiff(Z.data as Float64Array, want)).toBeLessThan(1e-12);
      const back = await rs.inverseTransform(rs.transform(X)).compute();
      expect(maxRelDiff(back.data as Float64Array, ds.X)).toBeLessThan(1e-12);
    }
    const r2 = await new ml.RobustScaler({ quantileRange: [10, 90] }).fit(matrix(ds.X, ds.n, ds.d, 3));
    expect(maxRelDiff(r2.scale!, REF.breast_cancer.robust10_90.scale)).toBeLessThan(1e-12);
  });

  it("unitVariance divides the scale by the normal's interquantile range, as scikit-learn (references-c.json)", async () => {
    const C = JSON.parse(readFileSync(new URL("./references-c.json", import.meta.url), "utf8")).robust_unit_variance;
    const ds = loadCsv("breast_cancer.csv");
    const rs = await new ml.RobustScaler({ unitVariance: true }).fit(matrix(ds.X, ds.n, ds.d, 3));
    expect(maxRelDiff(rs.scale!, C.scale)).toBeLessThan(1e-14);
    const r2 = await new ml.RobustScaler({ unitVariance: true, quantileRange: [10, 90] }).fit(matrix(ds.X, ds.n, ds.d, 7));
    expect(maxRelDiff(r2.scale!, C.scale10_90)).toBeLessThan(1e-14);
    const back = ml.fromJSON(JSON.parse(JSON.stringify(r2))) as InstanceType<typeof ml.RobustScaler>;
    expect(back.unitVariance).toBe(true);
    expect([...back.scale!]).toEqual([...r2.scale!]);
    expect(() => new ml.RobustScaler({ unitVariance: true, quantileRange: [0, 75] })).toThrow(/RobustScaler: unitVariance needs 0 < lo < hi < 100 in quantileRange .*got \[0,75\]/);
    expect(() => new ml.RobustScaler({ unitVariance: 1 as never })).toThrow(/RobustScaler: unitVariance must be true or false, got 1/);
  });

  it("takes numpy's linear quantiles of negative and tied values, whatever the blocks", async () => {
    const n = 2001;
    const X = Float64Array.from({ length: n * 2 }, (_, t) => (t % 2 === 0 ? Math.round(Math.sin(t) * 50) / 10 : -Math.exp(Math.cos(t * 0.37) * 3)));
    const q = (col: number[], p: number) => {
      const s = [...col].sort((a, b) => a - b);
      const pos = (p / 100) * (s.length - 1);
      const lo = Math.floor(pos);
      return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (pos - lo);
    };
    const cols = [0, 1].map((j) => Array.from({ length: n }, (_, i) => X[i * 2 + j]!));
    for (const blocks of [1, 4, 9]) {
      const rs = await new ml.RobustScaler({ quantileRange: [10, 65] }).fit(matrix(X, n, 2, blocks));
      cols.forEach((c, j) => {
        expect(rs.center![j]).toBeCloseTo(q(c, 50), 13);
        expect(rs.scale![j]).toBeCloseTo(q(c, 65) - q(c, 10), 13);
      });
    }
  });

  it("scales a dataframe's fitted columns and refuses NaN and bad options", async () => {
    const df = dd.fromArrays({ a: new Float64Array([1, 2, 3, 4, 100]), s: ["p", "q", "r", "s", "t"] }, { npartitions: 2 });
    const rs = await new ml.RobustScaler().fit(df.select("a"));
    expect(Array.from(rs.center!)).toEqual([3]);
    expect(Array.from(rs.scale!)).toEqual([2]);
    const t = await rs.transform(df).compute();
    expect(Array.from(t.getChild("a")!.toArray() as Float64Array)).toEqual([-1, -0.5, 0, 0.5, 48.5]);
    await expect(new ml.RobustScaler().fit([[1], [NaN]])).rejects.toThrow(/RobustScaler.fit: X has NaN \(or a null\) at row 1, column 0/);
    await expect(new ml.RobustScaler().fit(df)).rejects.toThrow(/column "s" of X is string/);
    expect(() => new ml.RobustScaler({ quantileRange: [75, 25] as [number, number] })).toThrow(/quantileRange/);
    expect(() => new ml.RobustScaler().transform([[1]])).toThrow(/not fitted yet/);
  });
});

describe.skipIf(!HAVE_DATASETS)("encoders", () => {
  const cols = REF.digits.columns as number[];

  it("OneHotEncoder equals scikit-learn's categories and columns on digits pixels, for 1, 3 and 7 blocks", async () => {
    const ds = loadDigits();
    const Xc = columns(ds, cols);
    for (const blocks of BLOCKS) {
      const enc = new ml.OneHotEncoder();
      const Z = await (await enc.fitTransform(matrix(Xc, ds.n, cols.length, blocks))).compute();
      expect(enc.categories).toEqual(REF.digits.onehot.categories);
      const w = Z.shape[1]!;
      expect(w).toBe(REF.digits.onehot.columnSums.length);
      expect(Array.from(colSums(Z.data, w))).toEqual(REF.digits.onehot.columnSums);
      // Each feature's block of columns holds exactly one 1 per row.
      expect(Array.from(Z.data).reduce((a, b) => a + b, 0)).toBe(ds.n * cols.length);
      const back = await enc.inverseTransform(enc.transform(matrix(Xc, ds.n, cols.length, blocks))).compute();
      expect(Array.from(back.data)).toEqual(Array.from(Xc));
    }
    const dropped = new ml.OneHotEncoder({ drop: "first" });
    const Zd = await (await dropped.fitTransform(matrix(Xc, ds.n, cols.length, 3))).compute();
    expect(Zd.shape[1]).toBe(REF.digits.onehot.dropFirstWidth);
    const back = await dropped.inverseTransform(da.fromTypedArray(Zd.data as Float64Array, { shape: Zd.shape, chunks: [500, Zd.shape[1]!] })).compute();
    expect(Array.from(back.data)).toEqual(Array.from(Xc));
  });

  it("OrdinalEncoder equals scikit-learn's codes on digits pixels and inverts them", async () => {
    const ds = loadDigits();
    const Xc = columns(ds, cols);
    for (const blocks of BLOCKS) {
      const enc = new ml.OrdinalEncoder();
      const Z = await (await enc.fitTransform(matrix(Xc, ds.n, cols.length, blocks))).compute();
      expect(Array.from(colSums(Z.data, cols.length))).toEqual(REF.digits.ordinal.codeSums);
      const back = await enc.inverseTransform(da.fromTypedArray(Z.data as Float64Array, { shape: Z.shape, chunks: [rowsPerBlock(ds.n, blocks), cols.length] })).compute();
      expect(Array.from(back.data)).toEqual(Array.from(Xc));
    }
  });

  it("encodes dataframe string columns (each partition with its own dictionary) and numeric ones, keeping the others", async () => {
    const df = dd.fromArrays(
      { color: ["red", "green", "red", "blue", "green", "red"], size: new Int32Array([1, 2, 1, 3, 2, 2]), v: new Float64Array([0.5, 1, 1.5, 2, 2.5, 3]) },
      { npartitions: 3 },
    );
    const enc = await new ml.OneHotEncoder().fit(df.select("color", "size"));
    expect(enc.categories).toEqual([["blue", "green", "red"], [1, 2, 3]]);
    expect(enc.getFeatureNamesOut()).toEqual(["color_blue", "color_green", "color_red", "size_1", "size_2", "size_3"]);
    const t = await enc.transform(df).compute();
    expect(t.schema.fields.map((f) => f.name)).toEqual(["v", "color_blue", "color_green", "color_red", "size_1", "size_2", "size_3"]);
    expect(Array.from(t.getChild("color_red")!.toArray() as Float64Array)).toEqual([1, 0, 1, 0, 0, 1]);
    expect(Array.from(t.getChild("size_2")!.toArray() as Float64Array)).toEqual([0, 1, 0, 0, 1, 1]);
    // And back: strings come back as a string column.
    const back = await enc.inverseTransform(enc.transform(df)).compute();
    expect(back.getChild("color")!.toArray()).toEqual(["red", "green", "red", "blue", "green", "red"]);
    expect(Array.from(back.getChild("size")!.toArray() as Float64Array)).toEqual([1, 2, 1, 3, 2, 2]);

    const ord = await new ml.OrdinalEncoder().fit(df.select("color"));
    const o = await ord.transform(df).compute();
    expect(o.schema.fields.map((f) => f.name)).toEqual(["color", "size", "v"]);
    expect(Array.from(o.getChild("color")!.toArray() as Float64Array)).toEqual([2, 1, 2, 0, 1, 2]);
    // Codes of no category come back as nulls of a string column, even in a partition of nothing else.
    const inv = await ord.inverseTransform(dd.fromArrays({ color: new Float64Array([0, 7, 2, 9]) }, { npartitions: 3 })).compute();
    expect(inv.getChild("color")!.toArray()).toEqual(["blue", null, "red", null]);
  });

  it("handles unknown categories as asked, takes given categories and drop, and names bad input", async () => {
    const X = [[1, 10], [2, 20], [3, 10]];
    const strict = await new ml.OneHotEncoder().fit(X);
    await expect(strict.transform([[4, 10]]).compute()).rejects.toThrow(/unknown category 4 at row 0, column 0; known categories are \[1, 2, 3\]/);
    const lax = await new ml.OneHotEncoder({ handleUnknown: "ignore" }).fit(X);
    expect(Array.from((await lax.transform([[4, 20]]).compute()).data)).toEqual([0, 0, 0, 0, 1]);
    const binary = await new ml.OneHotEncoder({ drop: "if_binary" }).fit(X);
    expect(binary.getFeatureNamesOut()).toEqual(["x0_1", "x0_2", "x0_3", "x1_20"]);
    const given = await new ml.OneHotEncoder({ categories: [[3, 2, 1], [10, 20, 30]], drop: [2, null] }).fit(X);
    expect(given.getFeatureNamesOut()).toEqual(["x0_3", "x0_1", "x1_10", "x1_20", "x1_30"]);
    expect(Array.from((await given.transform([[2, 30]]).compute()).data)).toEqual([0, 0, 0, 0, 1]);
    await expect(new ml.OneHotEncoder({ categories: [[1, 2], [10, 20]] }).fit(X)).rejects.toThrow(/column 0 has categories not in categories\[0\]: 3/);
    await expect(new ml.OneHotEncoder({ drop: [5, null] }).fit(X)).rejects.toThrow(/drop\[0\] is 5, which is not a category/);
    await expect(new ml.OneHotEncoder().fit([[1], [NaN]])).rejects.toThrow(/OneHotEncoder.fit: X has NaN \(or a null\) at row 1, column 0; fill it first/);
    expect(() => new ml.OneHotEncoder({ handleUnknown: "skip" as "ignore" })).toThrow(/handleUnknown must be "error" or "ignore"/);
    expect(() => new ml.OneHotEncoder().transform(X)).toThrow(/OneHotEncoder.transform: this OneHotEncoder is not fitted yet/);
    expect(() => strict.transform([[1, 2, 3]])).toThrow(/X has 3 features, but this OneHotEncoder was fitted with 2/);

    const ord = await new ml.OrdinalEncoder({ handleUnknown: "useEncodedValue", unknownValue: -1 }).fit(X);
    expect(Array.from((await ord.transform([[3, 99]]).compute()).data)).toEqual([2, -1]);
    await expect(new ml.OrdinalEncoder({ handleUnknown: "useEncodedValue", unknownValue: 1 }).fit(X)).rejects.toThrow(/unknownValue 1 is the code of category/);
    expect(() => new ml.OrdinalEncoder({ handleUnknown: "useEncodedValue" })).toThrow(/unknownValue must be an integer or NaN/);

    const df = dd.fromArrays({ s: ["a", null, "b"] }, { npartitions: 1 });
    await expect(new ml.OneHotEncoder().fit(df)).rejects.toThrow(/X has a null at row 1 of partition 0, column "s"/);
    const strEnc = await new ml.OrdinalEncoder().fit(dd.fromArrays({ s: ["a", "b"] }, { npartitions: 1 }));
    expect(() => strEnc.transform([[0]])).toThrow(/fitted on string column "s"; give it a dataframe/);
  });
});

describe.skipIf(!HAVE_DATASETS)("SimpleImputer", () => {
  it("equals scikit-learn's statistics (mean, median, most_frequent) on wine with NaN holes, for 1, 3 and 7 blocks", async () => {
    const ds = loadCsv("wine_data.csv");
    const Xh = withHoles(ds);
    for (const blocks of BLOCKS) {
      for (const strategy of ["mean", "median", "most_frequent"] as const) {
        const imp = new ml.SimpleImputer({ strategy });
        const Z = await (await imp.fitTransform(matrix(Xh, ds.n, ds.d, blocks))).compute();
        expect(maxRelDiff(imp.statistics as number[], REF.wine.impute[strategy])).toBeLessThanOrEqual(strategy === "mean" ? 1e-13 : 0);
        const want = Xh.map((v, t) => (Number.isNaN(v) ? (imp.statistics![t % ds.d] as number) : v));
        expect(Array.from(Z.data)).toEqual(Array.from(want));
      }
    }
  });

  it("fills dataframe nulls and NaN, numeric and string columns, in place", async () => {
    const df = dd.fromArrays(
      { a: new Float64Array([1, NaN, 3, 3]), b: [null, "x", "y", "x"], c: [1, null, 5, 7] as (number | null)[] },
      { npartitions: 2 },
    );
    const mf = await new ml.SimpleImputer({ strategy: "most_frequent" }).fit(df.select("a", "b"));
    expect(mf.statistics).toEqual([3, "x"]);
    const t = await mf.transform(df).compute();
    expect(t.schema.fields.map((f) => f.name)).toEqual(["a", "b", "c"]);
    expect(Array.from(t.getChild("a")!.toArray() as Float64Array)).toEqual([1, 3, 3, 3]);
    expect(t.getChild("b")!.toArray()).toEqual(["x", "x", "y", "x"]);
    const mean = await new ml.SimpleImputer().fit(df.select("a", "c"));
    expect(mean.statistics![0]).toBeCloseTo(7 / 3, 14);
    expect(mean.statistics![1]).toBeCloseTo(13 / 3, 14);
    const c = await new ml.SimpleImputer({ strategy: "constant" }).fit(df.select("b", "c"));
    expect(c.statistics).toEqual(["missing_value", 0]);
    const tc = await c.transform(df).compute();
    expect(tc.getChild("b")!.toArray()).toEqual(["missing_value", "x", "y", "x"]);
    expect(Array.from(tc.getChild("c")!.toArray() as Float64Array)).toEqual([1, 0, 5, 7]);
  });

  it("names what is wrong", async () => {
    await expect(new ml.SimpleImputer().fit([[1, NaN], [2, NaN]])).rejects.toThrow(/SimpleImputer.fit: column 1 has no value that is not missing, so it has no mean/);
    await expect(new ml.SimpleImputer().fit(dd.fromArrays({ s: ["a"] }, { npartitions: 1 }))).rejects.toThrow(/column "s" of X is string/);
    await expect(new ml.SimpleImputer({ strategy: "constant", fillValue: "z" }).fit([[1]])).rejects.toThrow(/fillValue "z" does not suit column 0, which is numeric/);
    expect(() => new ml.SimpleImputer({ strategy: "mode" as "mean" })).toThrow(/strategy must be one of/);
    expect(() => new ml.SimpleImputer({ fillValue: 1 })).toThrow(/fillValue is used only with strategy "constant"/);
    expect(() => new ml.SimpleImputer().transform([[1]])).toThrow(/not fitted yet/);
    // Estimators that cannot take NaN still say so.
    await expect(new ml.StandardScaler().fit([[1], [NaN]])).rejects.toThrow(/NaN/);
  });
});

describe.skipIf(!HAVE_DATASETS)("PolynomialFeatures", () => {
  it("gives scikit-learn's columns, order and names on diabetes, for 1, 3 and 7 blocks", async () => {
    const ds = loadDiabetes();
    const X3 = columns(ds, [0, 1, 2]);
    for (const blocks of BLOCKS) {
      const pf = new ml.PolynomialFeatures({ degree: 2 });
      const Z = await (await pf.fitTransform(matrix(X3, ds.n, 3, blocks))).compute();
      expect(pf.getFeatureNamesOut()).toEqual(REF.diabetes.poly2.names.map((s: string) => s.replace("age", "x0").replace("sex", "x1").replace("bmi", "x2")));
      expect(maxRelDiff(colSums(Z.data, pf.nOutputFeatures), REF.diabetes.poly2.columnSums)).toBeLessThan(1e-12);
      const pi = new ml.PolynomialFeatures({ degree: 3, interactionOnly: true, includeBias: false });
      const W = await (await pi.fitTransform(matrix(X3, ds.n, 3, blocks))).compute();
      expect(pi.getFeatureNamesOut()).toEqual(REF.diabetes.poly3interaction.names);
      expect(maxRelDiff(colSums(W.data, pi.nOutputFeatures), REF.diabetes.poly3interaction.columnSums)).toBeLessThan(1e-12);
    }
  });

  it("names dataframe outputs as scikit-learn and checks its options", async () => {
    const df = dd.fromArrays({ age: new Float64Array([1, 2]), sex: new Float64Array([3, 4]), bmi: new Float64Array([5, 6]), id: ["p", "q"] }, { npartitions: 2 });
    const pf = await new ml.PolynomialFeatures().fit(df.select("age", "sex", "bmi"));
    expect(pf.getFeatureNamesOut()).toEqual(REF.diabetes.poly2.names);
    const t = await pf.transform(df).compute();
    expect(t.schema.fields.map((f) => f.name)).toEqual(["id", ...REF.diabetes.poly2.names]);
    expect(Array.from(t.getChild("age sex")!.toArray() as Float64Array)).toEqual([3, 8]);
    const ranged = await new ml.PolynomialFeatures({ degree: [2, 3], includeBias: false }).fit([[2, 3]]);
    expect(ranged.getFeatureNamesOut()).toEqual(["x0^2", "x0 x1", "x1^2", "x0^3", "x0^2 x1", "x0 x1^2", "x1^3"]);
    expect(() => new ml.PolynomialFeatures({ degree: -1 })).toThrow(/degree must be an integer >= 0/);
    expect(() => new ml.PolynomialFeatures().transform([[1]])).toThrow(/not fitted yet/);
    expect(() => pf.transform([[1, 2]])).toThrow(/X has 2 features, but this PolynomialFeatures was fitted with 3/);
    await expect(pf.transform([[1, NaN, 3]]).compute()).rejects.toThrow(/X has NaN \(or a null\) at row 0, column 1/);
  });
});
