// The metrics against scikit-learn (references.json) on predictions built from the datasets
// by the rules in make-references.py: as tessera arrays in 1, 3 and 7 blocks (tasks and a
// combine tree on a 2-worker LocalCluster), as plain values, and with bad input.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, array as da, dataframe as dd, ml, type Client } from "../../dist/index.js";
import { HAVE_DATASETS, REF as BASE, loadCsv, loadDiabetes, rowsPerBlock, standardize } from "./helpers.js";
import { readFileSync } from "node:fs";

const REF = JSON.parse(readFileSync(new URL("./references.json", import.meta.url), "utf8")).metrics;

let client: Client;
beforeAll(async () => {
  client = await LocalCluster.start({ workers: 2 });
});
afterAll(() => client?.close());

const BLOCKS = [1, 3, 7];
const vec = (v: Float64Array, blocks: number) => da.fromTypedArray(v, { chunks: [rowsPerBlock(v.length, blocks)] });
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

describe.skipIf(!HAVE_DATASETS)("metrics", () => {
  it("r2Score, meanSquaredError and meanAbsoluteError equal scikit-learn's on diabetes, for 1, 3 and 7 blocks and plain values", async () => {
    const ds = loadDiabetes();
    const yp = Float64Array.from({ length: ds.n }, (_, i) => 10 * ds.X[i * ds.d + 2]! - 110);
    const ref = REF.diabetes;
    for (const blocks of BLOCKS) {
      const [t, p] = [vec(ds.y, blocks), vec(yp, blocks === 7 ? 2 : blocks)]; // differently blocked: yTrue follows yPred
      expect(await ml.r2Score(t, p)).toBeCloseTo(ref.r2, 12);
      expect(await ml.meanSquaredError(t, p)).toBeCloseTo(ref.mse, 9);
      expect(await ml.meanAbsoluteError(t, p)).toBeCloseTo(ref.mae, 11);
    }
    expect(await ml.r2Score(ds.y, yp)).toBeCloseTo(ref.r2, 12);
    expect(await ml.meanSquaredError(Array.from(ds.y), yp, { squared: false })).toBeCloseTo(Math.sqrt(ref.mse), 10);
    expect(await ml.meanAbsoluteError(vec(ds.y, 3), yp)).toBeCloseTo(ref.mae, 11);
    // Estimators' score agrees with the metric on their predictions.
    const X = da.fromTypedArray(ds.X, { shape: [ds.n, ds.d], chunks: [rowsPerBlock(ds.n, 3), ds.d] });
    const ridge = await new ml.Ridge().fit(X, ds.y);
    expect(await ml.r2Score(ds.y, ridge.predict(X))).toBeCloseTo(BASE.diabetes.ridge.r2!, 10);
  });

  it("rocAucScore, logLoss, accuracyScore and confusionMatrix equal scikit-learn's on breast_cancer (binary, tied scores)", async () => {
    const ds = loadCsv("breast_cancer.csv");
    const x0 = Float64Array.from({ length: ds.n }, (_, i) => ds.X[i * ds.d]!);
    const score = x0.map((v) => -v);
    const proba = x0.map((v) => sigmoid(-(v - 14) / 3.5));
    const label = proba.map((p) => (p > 0.5 ? 1 : 0));
    const ref = REF.breast_cancer;
    for (const blocks of BLOCKS) {
      const y = vec(ds.y, blocks);
      expect(await ml.rocAucScore(y, vec(score, blocks))).toBeCloseTo(ref.rocAuc, 14);
      expect(await ml.logLoss(y, vec(proba, blocks))).toBeCloseTo(ref.logLoss, 13);
      expect(await ml.accuracyScore(y, vec(label, blocks))).toBeCloseTo(ref.accuracy, 15);
      expect(await ml.confusionMatrix(y, vec(label, blocks))).toEqual(ref.confusion);
    }
    expect(await ml.rocAucScore(ds.y, score)).toBeCloseTo(ref.rocAuc, 14);
    expect(await ml.accuracyScore(ds.y, label, { normalize: false })).toBe(Math.round(ref.accuracy * ds.n));
  });

  it("logLoss of [n, 3] probabilities and the 3-class confusion matrix on iris", async () => {
    const ds = loadCsv("iris.csv");
    const x2 = Array.from({ length: ds.n }, (_, i) => ds.X[i * ds.d + 2]!);
    const pred = Float64Array.from(x2, (v) => (v < 2.5 ? 0 : v < 4.95 ? 1 : 2));
    const P = new Float64Array(ds.n * 3);
    x2.forEach((v, i) => {
      const e = [1.5, 4.3, 5.5].map((c) => Math.exp(-Math.abs(v - c)));
      const s = e[0]! + e[1]! + e[2]!;
      e.forEach((x, c) => (P[i * 3 + c] = x / s));
    });
    const ref = REF.iris;
    for (const blocks of BLOCKS) {
      const Pa = da.fromTypedArray(P, { shape: [ds.n, 3], chunks: [rowsPerBlock(ds.n, blocks), 3] });
      expect(await ml.logLoss(vec(ds.y, blocks), Pa)).toBeCloseTo(ref.logLoss, 13);
      expect(await ml.confusionMatrix(vec(ds.y, blocks), pred)).toEqual(ref.confusion);
    }
    const rows = Array.from({ length: ds.n }, (_, i) => [P[i * 3]!, P[i * 3 + 1]!, P[i * 3 + 2]!]);
    expect(await ml.logLoss(ds.y, rows)).toBeCloseTo(ref.logLoss, 13);
    expect(await ml.accuracyScore(ds.y, pred)).toBeCloseTo(ref.accuracy, 15);
    expect(await ml.confusionMatrix(ds.y, pred, { labels: [2, 0] })).toEqual([
      [ref.confusion[2][2], ref.confusion[2][0]],
      [ref.confusion[0][2], ref.confusion[0][0]],
    ]);
  });

  it("rocAucScore's multiclass ovr / ovo, macro / weighted equal scikit-learn's on a fitted model's probabilities (iris, wine, tied scores)", async () => {
    // make-references-c.py: LogisticRegression probabilities on iris's sepal columns and wine's first three.
    const C = JSON.parse(readFileSync(new URL("./references-c.json", import.meta.url), "utf8")).rocauc;
    for (const name of ["iris", "wine", "iris_rounded"]) {
      const { y, proba, auc } = C[name] as { y: number[]; proba: number[][]; auc: Record<string, number> };
      const n = y.length;
      const flat = Float64Array.from(proba.flat());
      for (const multiClass of ["ovr", "ovo"] as const) {
        for (const average of ["macro", "weighted"] as const) {
          const want = auc[`${multiClass}_${average}`]!;
          expect(await ml.rocAucScore(y, proba, { multiClass, average })).toBeCloseTo(want, 14);
          for (const blocks of [3, 7]) {
            const P = da.fromTypedArray(flat, { shape: [n, 3], chunks: [rowsPerBlock(n, blocks), 3] });
            expect(await ml.rocAucScore(vec(Float64Array.from(y), 2), P, { multiClass, average })).toBeCloseTo(want, 14);
          }
        }
      }
    }
    const { y, proba } = C.wine as { y: number[]; proba: number[][] };
    await expect(ml.rocAucScore(y, proba)).rejects.toThrow(/rocAucScore: yScore has 3 columns \(multiclass\); say how to pair the classes with multiClass "ovr" or "ovo"/);
    await expect(ml.rocAucScore(y, proba.map((r) => r.map((v) => 2 * v)), { multiClass: "ovr" })).rejects.toThrow(/rows of yScore summing to 1; row \d+ is off by 1/);
    await expect(ml.rocAucScore(y, proba, { multiClass: "ovr", labels: [0, 1] })).rejects.toThrow(/labels has 2 classes but yScore has 3 columns/);
    await expect(ml.rocAucScore(y, proba, { multiClass: "ovr", labels: [2, 1, 0] })).rejects.toThrow(/labels must be distinct numbers in increasing order/);
    await expect(ml.rocAucScore(y, proba, { multiClass: "ovx" as never })).rejects.toThrow(/multiClass must be "raise", "ovr" or "ovo"; got "ovx"/);
    await expect(ml.rocAucScore(y, proba, { multiClass: "ovr", average: "micro" as never })).rejects.toThrow(/average must be "macro" or "weighted"; got "micro"/);
    await expect(ml.rocAucScore([0, 1, 1], [[0.5, 0.5], [0.2, 0.8], [0.1, 0.9]])).rejects.toThrow(/for two classes give a 1-d yScore/);
  });

  it("every estimator's score is accuracyScore (classifiers) or r2Score (regressors) of its predictions, on arrays, dataframes and rows", async () => {
    const ds = loadCsv("wine_data.csv");
    const { Z } = standardize(ds.X, ds.n, ds.d);
    const X = da.fromTypedArray(Z, { shape: [ds.n, ds.d], chunks: [rowsPerBlock(ds.n, 3), ds.d] });
    const y = vec(ds.y, 3);
    const yr = Float64Array.from({ length: ds.n }, (_, i) => Z[i * ds.d]! * 2 + Z[i * ds.d + 1]! + (i % 7) / 7); // a real target
    const rows = Array.from({ length: ds.n }, (_, i) => Array.from(Z.subarray(i * ds.d, (i + 1) * ds.d)));
    const names = Array.from({ length: ds.d }, (_, j) => `f${j}`);
    const df = dd.fromArrays({ ...Object.fromEntries(names.map((c, j) => [c, Float64Array.from({ length: ds.n }, (_, i) => Z[i * ds.d + j]!)])), t: ds.y, r: yr }, { npartitions: 4 });
    const classifiers = [await new ml.LogisticRegression({ C: 0.01 }).fit(X, y), await new ml.SGDClassifier({ shuffle: false, maxIter: 3, tol: null }).fit(X, y)];
    for (const clf of classifiers) {
      const want = await ml.accuracyScore(y, clf.predict(X));
      expect(want).toBeLessThan(1);
      expect(await clf.score(X, y)).toBe(want);
      expect(await clf.score(rows, ds.y)).toBe(want);
    }
    const regressors = [await new ml.Ridge({ alpha: 10 }).fit(X, yr), await new ml.LinearRegression().fit(X, yr), await new ml.SGDRegressor({ shuffle: false, maxIter: 5, tol: null }).fit(X, yr)];
    for (const reg of regressors) {
      const want = await ml.r2Score(yr, reg.predict(X));
      expect(await reg.score(X, yr)).toBeCloseTo(want, 14);
      expect(await reg.score(rows, yr)).toBeCloseTo(want, 14);
    }
    // Dataframes: fitted on the feature columns, y a column.
    const dfc = await new ml.LogisticRegression({ C: 0.01 }).fit(df.select(...names, "t"), "t");
    expect(await dfc.score(df.select(...names, "t"), "t")).toBe(await ml.accuracyScore(y, dfc.predict(X)));
    const dfr = await new ml.Ridge({ alpha: 10 }).fit(df.select(...names, "r"), "r");
    expect(await dfr.score(df.select(...names, "r"), "r")).toBeCloseTo(await ml.r2Score(yr, dfr.predict(X)), 14);
    // scikit-learn's R² of a constant target: 1 for a perfect fit, else 0; NaN in X is an error, as scikit-learn.
    const flat = await new ml.LinearRegression().fit([[0], [1], [2]], [3, 3, 3]);
    expect(await flat.score([[5], [6]], [3, 3])).toBe(1);
    expect(await regressors[0]!.score(rows.slice(0, 3), [1, 1, 1])).toBe(0);
    const holed = rows.map((r, i) => (i === 100 ? r.map((v, j) => (j === 4 ? NaN : v)) : r));
    await expect(classifiers[0]!.score(holed, ds.y)).rejects.toThrow(/LogisticRegression.score: X has NaN \(or a null\) at row 100, column 4/);
    const Xh = da.fromTypedArray(Float64Array.from(holed.flat()), { shape: [ds.n, ds.d], chunks: [rowsPerBlock(ds.n, 3), ds.d] });
    await expect(regressors[2]!.score(Xh, yr)).rejects.toThrow(/SGDRegressor.score: X has NaN \(or a null\) at row 100, column 4/);
    await expect(classifiers[1]!.score(X, undefined as never)).rejects.toThrow(/SGDClassifier.score: y is missing/);
  });

  it("names bad input", async () => {
    await expect(ml.accuracyScore([1, 2, 3], [1, 2])).rejects.toThrow(/accuracyScore: yTrue has 3 values but yPred has 2 rows/);
    await expect(ml.r2Score(vec(new Float64Array([1, 2, NaN]), 2), vec(new Float64Array([1, 2, 3]), 2))).rejects.toThrow(/r2Score: yTrue has NaN \(or a null\) at row 2/);
    await expect(ml.rocAucScore([0, 1, 2], [0.1, 0.2, 0.3])).rejects.toThrow(/rocAucScore: yTrue has 3 classes .* needs yScore as a probability matrix/);
    await expect(ml.logLoss([0, 1], [0.5, 1.5])).rejects.toThrow(/probabilities lie in \[0, 1\]/);
    await expect(ml.logLoss([0, 0], [0.2, 0.3])).rejects.toThrow(/yTrue has one label only/);
    await expect(ml.logLoss([0, 1, 2], [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]])).rejects.toThrow(/yPred has 2 probability columns .* 3 labels/);
    await expect(ml.meanSquaredError("y" as never, [1])).rejects.toThrow(/meanSquaredError: yTrue must be a tessera array/);
    await expect(ml.r2Score(vec(new Float64Array([1, 2]), 1), vec(new Float64Array([1, 2, 3]), 1))).rejects.toThrow(/r2Score: yTrue has 2 values but yPred has 3 rows/);
  });
});
