// The ML estimators on a 2-worker LocalCluster, on scikit-learn's small datasets: against
// scikit-learn's results (references.json) and plain-JS computations on the whole data, for
// 1, 3 and 7 row blocks; and what they say when the input is wrong.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, array as da, dataframe as dd, ml, type Client } from "../../dist/index.js";
import { HAVE_DATASETS, REF, loadCsv, loadDiabetes, maxRelDiff, meanVariance, plainLloyd, ridgeDirect, standardize, blockArrays as arrays } from "./helpers.js";

let client: Client;
beforeAll(async () => {
  client = await LocalCluster.start({ workers: 2 });
});
afterAll(() => client?.close());

const BLOCKS = [1, 3, 7];

describe.skipIf(!HAVE_DATASETS)("preprocessing", () => {
  it("StandardScaler equals scikit-learn's statistics and (x - mean) / scale, for 1, 3 and 7 blocks", async () => {
    const ds = loadCsv("breast_cancer.csv");
    const ref = standardize(ds.X, ds.n, ds.d);
    for (const blocks of BLOCKS) {
      const { X } = arrays(ds, blocks);
      const sc = new ml.StandardScaler();
      const Z = await sc.fitTransform(X);
      expect(maxRelDiff(sc.mean!, REF.breast_cancer.scaler.mean)).toBeLessThan(1e-12);
      expect(maxRelDiff(sc.scale!, REF.breast_cancer.scaler.scale)).toBeLessThan(1e-12);
      expect(sc.nSamplesSeen).toBe(ds.n);
      expect(Z.chunks[0]!.length).toBe(blocks === 7 ? 7 : blocks);
      const z = await Z.compute();
      expect(z.shape).toEqual([ds.n, ds.d]);
      expect(maxRelDiff(z.data as Float64Array, ref.Z)).toBeLessThan(1e-10);
      const back = await sc.inverseTransform(Z).compute();
      expect(maxRelDiff(back.data as Float64Array, ds.X)).toBeLessThan(1e-12);
    }
  });

  it("MinMaxScaler equals scikit-learn's scale and min and maps each column onto [0, 1]", async () => {
    const ds = loadCsv("breast_cancer.csv");
    const sc = new ml.MinMaxScaler();
    const Z = await (await sc.fitTransform(arrays(ds, 3).X)).compute();
    expect(maxRelDiff(sc.scale!, REF.breast_cancer.minmax.scale)).toBeLessThan(1e-12);
    expect(maxRelDiff(sc.min!, REF.breast_cancer.minmax.min)).toBeLessThan(1e-12);
    for (let j = 0; j < ds.d; j++) {
      const col = Array.from({ length: ds.n }, (_, i) => Z.data[i * ds.d + j]!);
      expect(Math.min(...col)).toBeCloseTo(0, 12);
      expect(Math.max(...col)).toBeCloseTo(1, 12);
    }
    const custom = new ml.MinMaxScaler({ featureRange: [-1, 1] });
    const W = await (await custom.fitTransform([[0], [5], [10]])).compute();
    expect(Array.from(W.data)).toEqual([-1, 0, 1]);
  });

  it("scales the fitted columns of a dataframe lazily and keeps its other columns", async () => {
    const df = dd.fromArrays({ a: new Float64Array([1, 2, 3, 4]), b: new Int32Array([10, 10, 20, 20]), label: ["x", "y", "x", "y"] }, { npartitions: 2 });
    const sc = await new ml.StandardScaler().fit(df.select("a", "b"));
    expect(sc.featureNames).toEqual(["a", "b"]);
    const t = await sc.transform(df).compute();
    expect(t.schema.fields.map((f) => f.name)).toEqual(["a", "b", "label"]);
    const s5 = Math.sqrt(1.25);
    expect(Array.from(t.getChild("a")!.toArray() as Float64Array)).toEqual([-1.5 / s5, -0.5 / s5, 0.5 / s5, 1.5 / s5]);
    expect(Array.from(t.getChild("b")!.toArray() as Float64Array)).toEqual([-1, -1, 1, 1]);
    expect(t.getChild("label")!.toArray().length).toBe(4);
  });

  it("trainTestSplit splits each block with a seeded shuffle, keeps X and y aligned, and sizes test like scikit-learn", async () => {
    const n = 150;
    const X = da.fromTypedArray(Float64Array.from({ length: n * 2 }, (_, i) => (i % 2 === 0 ? i / 2 : -i)), { shape: [n, 2], chunks: [40, 2] });
    const y = Float64Array.from({ length: n }, (_, i) => i);
    const [Xtr, Xte, ytr, yte] = ml.trainTestSplit(X, y, { testSize: 0.25, seed: 3 });
    expect(Xte.shape).toEqual([38, 2]); // ceil(0.25 * 150), as scikit-learn
    expect(Xtr.shape).toEqual([112, 2]);
    expect(Xte.chunks[0]).toEqual([10, 10, 10, 8]);
    const [a, b, c, d] = await client.compute([Xtr, Xte, ytr, yte]);
    const firstCol = (m: { data: ArrayLike<number> }) => Array.from({ length: m.data.length / 2 }, (_, i) => m.data[2 * i]!);
    expect(firstCol(a)).toEqual(Array.from(c.data));
    expect(firstCol(b)).toEqual(Array.from(d.data));
    const all = [...Array.from(c.data), ...Array.from(d.data)].sort((p, q) => p - q);
    expect(all).toEqual(Array.from(y));
    // Rows stay in their block: test rows of block 0 come from rows 0..39.
    expect(Array.from(d.data.slice(0, 10)).every((v) => v < 40)).toBe(true);
    const again = await ml.trainTestSplit(X, y, { testSize: 0.25, seed: 3 })[3].compute();
    expect(Array.from(again.data)).toEqual(Array.from(d.data));
    const other = await ml.trainTestSplit(X, y, { testSize: 0.25, seed: 4 })[3].compute();
    expect(Array.from(other.data)).not.toEqual(Array.from(d.data));
    const [tr2, te2] = ml.trainTestSplit(X, { trainSize: 0.5, testSize: 0.2 });
    expect(te2.shape[0]).toBe(30);
    expect(tr2.shape[0]).toBe(75);
  });

  it("trainTestSplit splits each dataframe partition", async () => {
    const df = dd.fromArrays({ i: Float64Array.from({ length: 100 }, (_, i) => i) }, { npartitions: 4 });
    const [train, test] = ml.trainTestSplit(df, { testSize: 0.2, seed: 1 });
    const [a, b] = await client.compute([train, test]);
    expect(b.numRows).toBe(20);
    const all = [...(a.getChild("i")!.toArray() as Float64Array), ...(b.getChild("i")!.toArray() as Float64Array)].sort((p, q) => p - q);
    expect(all).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});

describe.skipIf(!HAVE_DATASETS)("linear_model", () => {
  it("Ridge and LinearRegression equal a direct solve (1e-8) and scikit-learn, for 1, 3 and 7 blocks", async () => {
    const ds = loadDiabetes();
    const ridgeRef = ridgeDirect(ds.X, ds.y, ds.n, ds.d, 1);
    const olsRef = ridgeDirect(ds.X, ds.y, ds.n, ds.d, 0);
    for (const blocks of BLOCKS) {
      const { X, y } = arrays(ds, blocks);
      const ridge = await new ml.Ridge({ alpha: 1 }).fit(X, y);
      expect(maxRelDiff(ridge.coef!, ridgeRef.coef)).toBeLessThan(1e-8);
      expect(Math.abs(ridge.intercept - ridgeRef.intercept) / Math.abs(ridgeRef.intercept)).toBeLessThan(1e-8);
      expect(maxRelDiff(ridge.coef!, REF.diabetes.ridge.coef)).toBeLessThan(1e-8);
      const ols = await new ml.LinearRegression().fit(X, y);
      expect(maxRelDiff(ols.coef!, olsRef.coef)).toBeLessThan(1e-8);
      expect(maxRelDiff(ols.coef!, REF.diabetes.linear.coef)).toBeLessThan(1e-8);
      expect(ols.intercept).toBeCloseTo(REF.diabetes.linear.intercept as number, 6);
      expect(await ols.score(X, y)).toBeCloseTo(REF.diabetes.linear.r2!, 10);
      expect(await ridge.score(X, ds.y)).toBeCloseTo(REF.diabetes.ridge.r2!, 10);
    }
    const noIntercept = await new ml.Ridge({ alpha: 2, fitIntercept: false }).fit(arrays(ds, 3).X, ds.y);
    expect(maxRelDiff(noIntercept.coef!, ridgeDirect(ds.X, ds.y, ds.n, ds.d, 2, false).coef)).toBeLessThan(1e-8);
    const pred = await new ml.LinearRegression().fit(arrays(ds, 3).X, ds.y).then((m) => m.predict(arrays(ds, 3).X).compute());
    expect(pred.shape).toEqual([ds.n]);
    const expected = Array.from({ length: ds.n }, (_, i) => olsRef.intercept + olsRef.coef.reduce((s, w, j) => s + w * ds.X[i * ds.d + j]!, 0));
    expect(maxRelDiff(pred.data, expected)).toBeLessThan(1e-8);
  });

  it("LinearRegression with collinear features takes the minimum-norm solution", async () => {
    const rows = Array.from({ length: 20 }, (_, i) => [i, i, (i * 7) % 5]);
    const y = rows.map((r) => 2 * r[0]! + 3 * r[2]! + 1);
    const m = await new ml.LinearRegression().fit(rows, y);
    expect(m.singular).toBe(true);
    expect(m.coef![0]).toBeCloseTo(1, 8);
    expect(m.coef![1]).toBeCloseTo(1, 8);
    expect(m.coef![2]).toBeCloseTo(3, 8);
    expect(m.intercept).toBeCloseTo(1, 8);
  });

  it("LogisticRegression (binary) reaches the optimum of scikit-learn's objective on scaled breast_cancer, accuracy >= 0.95, for 1, 3 and 7 blocks", async () => {
    const ds = loadCsv("breast_cancer.csv");
    const Z = standardize(ds.X, ds.n, ds.d).Z;
    const coefs: Float64Array[] = [];
    for (const blocks of BLOCKS) {
      const { X, y } = arrays({ ...ds, X: Z }, blocks);
      const tight = await new ml.LogisticRegression({ tol: 1e-9, maxIter: 1000 }).fit(X, y);
      expect(tight.converged).toBe(true);
      expect(tight.coefShape).toEqual([1, ds.d]);
      expect(maxRelDiff(tight.coef!, REF.breast_cancer.logistic.coef)).toBeLessThan(1e-5);
      expect(maxRelDiff(tight.intercept!, REF.breast_cancer.logistic.intercept as number[])).toBeLessThan(1e-5);
      coefs.push(tight.coef!);
      const clf = await new ml.LogisticRegression().fit(X, y);
      const acc = await clf.score(X, y);
      expect(acc).toBeGreaterThanOrEqual(0.95);
      expect(acc).toBeCloseTo(REF.breast_cancer.logistic.defaultAccuracy!, 10);
    }
    expect(maxRelDiff(coefs[1]!, coefs[0]!)).toBeLessThan(1e-7);
    expect(maxRelDiff(coefs[2]!, coefs[0]!)).toBeLessThan(1e-7);
  });

  it("LogisticRegression (multinomial) on iris and wine: the optimum of scikit-learn's objective, its accuracy; probabilities and labels agree", async () => {
    for (const [name, ref, scale] of [["iris.csv", REF.iris.logistic, false], ["wine_data.csv", REF.wine.logistic, true]] as const) {
      const ds = loadCsv(name);
      const data = scale ? { ...ds, X: standardize(ds.X, ds.n, ds.d).Z } : ds;
      const { X, y } = arrays(data, 3);
      const clf = await new ml.LogisticRegression({ tol: 1e-9, maxIter: 2000 }).fit(X, y);
      expect(clf.coefShape).toEqual([3, ds.d]);
      expect(maxRelDiff(clf.coef!, ref.coef)).toBeLessThan(1e-5);
      expect(await clf.score(X, y)).toBeCloseTo(ref.accuracy!, 10);
      const [proba, labels] = await client.compute([clf.predictProba(X), clf.predict(X)]);
      expect(proba.shape).toEqual([ds.n, 3]);
      for (let i = 0; i < ds.n; i++) {
        const p = [0, 1, 2].map((c) => proba.data[i * 3 + c]!);
        expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
        expect(labels.data[i]).toBe(p.indexOf(Math.max(...p)));
      }
    }
  });

  it("LogisticRegression keeps arbitrary labels, and takes a dataframe with a label column", async () => {
    const ds = loadCsv("iris.csv");
    const labels = ds.y.map((v) => v * 10 + 5); // 5, 15, 25
    const X = arrays(ds, 3).X;
    const a = await new ml.LogisticRegression().fit(X, labels);
    expect(Array.from(a.classes!)).toEqual([5, 15, 25]);
    const pred = await a.predict(X).compute();
    expect(new Set(pred.data)).toEqual(new Set([5, 15, 25]));
    const b = await new ml.LogisticRegression().fit(X, ds.y);
    expect(maxRelDiff(a.coef!, b.coef!)).toBeLessThan(1e-12);
    const cols = ["sl", "sw", "pl", "pw"];
    const columns: Record<string, Float64Array> = Object.fromEntries(cols.map((c, j) => [c, Float64Array.from({ length: ds.n }, (_, i) => ds.X[i * 4 + j]!)]));
    const df = dd.fromArrays({ ...columns, species: ds.y }, { npartitions: 3 });
    const c = await new ml.LogisticRegression().fit(df, "species");
    expect(c.featureNames).toEqual(cols);
    expect(maxRelDiff(c.coef!, b.coef!)).toBeLessThan(1e-6);
    expect(await c.score(df, "species")).toBeCloseTo(await b.score(X, ds.y), 12);
    const t = await c.predict(df).compute();
    expect(t.schema.fields.map((f) => f.name)).toEqual(["prediction"]);
    expect(Array.from(t.getChild("prediction")!.toArray() as Float64Array)).toEqual(Array.from((await b.predict(X).compute()).data));
  });
});

describe.skipIf(!HAVE_DATASETS)("cluster", () => {
  it("KMeans from given centres equals a plain Lloyd run, for 1, 3 and 7 blocks", async () => {
    const ds = loadCsv("iris.csv");
    const init = Float64Array.from([...ds.X.subarray(0, 4), ...ds.X.subarray(200, 204), ...ds.X.subarray(400, 404)]);
    const ref = plainLloyd(ds.X, ds.n, ds.d, init, 1e-4 * meanVariance(ds.X, ds.n, ds.d));
    for (const blocks of BLOCKS) {
      const km = await new ml.KMeans({ nClusters: 3, init }).fit(arrays(ds, blocks).X);
      expect(km.nIter).toBe(ref.nIter);
      expect(maxRelDiff(km.clusterCenters!, ref.centres)).toBeLessThan(1e-12);
      expect(km.inertia).toBeCloseTo(ref.inertia, 9);
    }
  });

  it("k-means‖ reaches scikit-learn's inertia within 1% on iris and wine, the same for any blocking, and near a plain Lloyd run from its init", async () => {
    for (const [name, ref, scale] of [["iris.csv", REF.iris.kmeans3.inertia, false], ["wine_data.csv", REF.wine.kmeans3.inertia, true]] as const) {
      const raw = loadCsv(name);
      const ds = scale ? { ...raw, X: standardize(raw.X, raw.n, raw.d).Z } : raw;
      const inertias: number[] = [];
      for (const blocks of BLOCKS) {
        const km = await new ml.KMeans({ nClusters: 3, seed: 0 }).fit(arrays(ds, blocks).X);
        inertias.push(km.inertia);
        const plain = plainLloyd(ds.X, ds.n, ds.d, km.initCenters!, 1e-4 * meanVariance(ds.X, ds.n, ds.d));
        expect(Math.abs(km.inertia - plain.inertia) / plain.inertia).toBeLessThan(0.03);
      }
      expect(Math.abs(inertias[0]! - ref) / ref).toBeLessThan(0.01);
      for (const v of inertias) expect(v).toBeCloseTo(inertias[0]!, 8);
    }
  });

  it("KMeans predict, transform and score agree with the centres", async () => {
    const ds = loadCsv("iris.csv");
    const X = arrays(ds, 3).X;
    const km = await new ml.KMeans({ nClusters: 3, seed: 1 }).fit(X);
    const [labels, dist] = await client.compute([km.predict(X), km.transform(X)]);
    expect(labels.dtype).toBe("int32");
    expect(dist.shape).toEqual([ds.n, 3]);
    let inertia = 0;
    for (let i = 0; i < ds.n; i++) {
      const row = [0, 1, 2].map((c) => dist.data[i * 3 + c]!);
      expect(labels.data[i]).toBe(row.indexOf(Math.min(...row)));
      inertia += Math.min(...row) ** 2;
    }
    expect(await km.score(X)).toBeCloseTo(-inertia, 9);
    expect(-inertia).toBeCloseTo(-km.inertia, 9);
  });
});

describe("errors", () => {
  const rows = Array.from({ length: 30 }, (_, i) => [i, (i * 3) % 7, i % 2]);
  const labels = rows.map((r) => r[2]!);

  it("names the row and column of a NaN in X, and of a NaN in y", async () => {
    const data = Float64Array.from(rows.flat());
    data[17 * 3 + 1] = NaN;
    const X = da.fromTypedArray(data, { shape: [30, 3], chunks: [7, 3] });
    await expect(new ml.LogisticRegression().fit(X, labels)).rejects.toThrow(/LogisticRegression\.fit: X has NaN .*row 17, column 1/);
    await expect(new ml.StandardScaler().fit(X)).rejects.toThrow(/StandardScaler\.fit: X has NaN .*row 17, column 1/);
    await expect(new ml.Ridge().fit(X, labels)).rejects.toThrow(/Ridge\.fit: X has NaN .*row 17, column 1/);
    await expect(new ml.KMeans({ nClusters: 2 }).fit(X)).rejects.toThrow(/KMeans\.fit: X has NaN .*row 17, column 1/);
    const y = [...labels];
    y[4] = NaN;
    await expect(new ml.LinearRegression().fit(rows, y)).rejects.toThrow(/y has NaN .*row 4/);
    const df = dd.fromArrays({ a: [1, 2, null, 4], b: [1, 1, 0, 0] }, { npartitions: 2 });
    await expect(new ml.LogisticRegression().fit(df, "b")).rejects.toThrow(/X has NaN \(or a null\) at row 0 of partition 1, column "a"/);
  });

  it("says what is wrong with shapes and labels", async () => {
    await expect(new ml.LogisticRegression().fit(da.fromTypedArray(new Float64Array(10)), new Float64Array(10))).rejects.toThrow(/X must be 2-d .*reshape/);
    await expect(new ml.LogisticRegression().fit(rows, labels.slice(1))).rejects.toThrow(/X has 30 rows but y has 29 values/);
    await expect(new ml.LogisticRegression().fit(rows, labels.map(() => 1))).rejects.toThrow(/y has one class only \(1\)/);
    await expect(new ml.KMeans({ nClusters: 40 }).fit(rows)).rejects.toThrow(/X has 30 rows, fewer than nClusters \(40\)/);
    await expect(new ml.StandardScaler().fit([[1, 2], [3]])).rejects.toThrow(/row 1 has 1/);
    const df = dd.fromArrays({ a: [1, 2], s: ["x", "y"] });
    await expect(new ml.StandardScaler().fit(df)).rejects.toThrow(/column "s" of X is string, not numeric/);
    await expect(new ml.LogisticRegression().fit(df, "nope")).rejects.toThrow(/y names column "nope", which X does not have/);
    const clf = await new ml.LogisticRegression().fit(rows, labels);
    expect(() => clf.predict([[1, 2]])).toThrow(/X has 2 features, but the model was fitted with 3/);
    await expect(clf.score(rows, labels.slice(2))).rejects.toThrow(/X has 30 rows but y has 28 values/);
  });

  it("refuses to predict before fit, and bad options when made", () => {
    expect(() => new ml.LogisticRegression().predict(rows)).toThrow(/LogisticRegression\.predict: this LogisticRegression is not fitted yet; call fit\(\) first/);
    expect(() => new ml.KMeans().transform(rows)).toThrow(/not fitted yet/);
    expect(() => new ml.StandardScaler().transform(rows)).toThrow(/StandardScaler\.transform: .*not fitted yet/);
    expect(() => new ml.Ridge().predict(rows)).toThrow(/not fitted yet/);
    expect(() => new ml.LogisticRegression({ C: 0 })).toThrow(/C must be a number in \(0, inf\)/);
    expect(() => new ml.KMeans({ nClusters: 2.5 })).toThrow(/nClusters must be an integer >= 1/);
    expect(() => new ml.Ridge({ alhpa: 1 } as never)).toThrow(/unknown option "alhpa"; options are alpha, fitIntercept/);
    expect(() => ml.trainTestSplit(rows, { testSize: 1.5 })).toThrow(/testSize must be a fraction in \(0, 1\)/);
  });
});
