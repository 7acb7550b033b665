// SGDClassifier and SGDRegressor against scikit-learn (references-b.json, made by
// make-references-b.py): with shuffle false the updates are scikit-learn's, so the
// coefficients must agree whatever the blocks; shuffled fits must reach a close accuracy.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, array as da, dataframe as dd, ml, type Client } from "../../dist/index.js";
import { DATASETS, HAVE_DATASETS, loadCsv, loadDiabetes, maxRelDiff, rowsPerBlock, standardize, type Dataset, blockArrays as arrays } from "./helpers.js";

interface Fitted {
  coef: number[];
  intercept: number[];
  nIter: number;
  t: number;
  score: number;
  shuffledScore?: number;
  probaFirstRows?: number[];
}
const REFB = JSON.parse(readFileSync(new URL("./references-b.json", import.meta.url), "utf8")) as {
  sgd: {
    breast_cancer: Record<"hinge" | "log_loss" | "modified_huber" | "elasticnet" | "l1" | "adaptive", Fitted> & { partialFit: { afterOnePass: number[]; afterTwoPasses: number[]; intercept: number[]; t: number } };
    iris: Record<"log_loss" | "hinge" | "modified_huber", Fitted>;
    diabetes: { squared_error: Fitted; huber: Fitted; shuffledScore: number };
  };
};

let client: Client;
beforeAll(async () => {
  client = await LocalCluster.start({ workers: 2 });
});
afterAll(() => client?.close());

const scaled = (ds: Dataset): Dataset => ({ ...ds, X: standardize(ds.X, ds.n, ds.d).Z });
const rowsOf = (ds: Dataset) => Array.from({ length: ds.n }, (_, i) => Array.from(ds.X.subarray(i * ds.d, (i + 1) * ds.d)));

describe.skipIf(!HAVE_DATASETS)("SGDClassifier", () => {
  it("with shuffle false makes scikit-learn's updates: the same epochs and t on breast_cancer, the same fit for 1, 3 and 7 blocks", async () => {
    const ds = scaled(loadCsv("breast_cancer.csv"));
    for (const loss of ["hinge", "log_loss", "modified_huber"] as const) {
      const ref = REFB.sgd.breast_cancer[loss];
      const coefs: Float64Array[] = [];
      for (const blocks of [1, 3, 7]) {
        const { X, y } = arrays(ds, blocks);
        const clf = await new ml.SGDClassifier({ loss, shuffle: false }).fit(X, y);
        coefs.push(clf.coef!);
        // hinge is exact; log_loss and modified_huber take large early steps that amplify
        // one-ulp differences (Math.exp against glibc's exp, the scaler's rounding) over the epochs.
        const tol = loss === "hinge" ? 1e-8 : 2e-2;
        expect(maxRelDiff(clf.coef!, ref.coef)).toBeLessThan(tol);
        expect(maxRelDiff(clf.intercept!, ref.intercept)).toBeLessThan(tol);
        expect(clf.nIter).toBe(ref.nIter);
        expect(clf.t).toBe(ref.t);
        expect(Math.abs((await clf.score(X, y)) - ref.score)).toBeLessThanOrEqual(2 / ds.n + 1e-12);
      }
      // The same updates in the same order, whatever the blocks.
      expect(Array.from(coefs[1]!)).toEqual(Array.from(coefs[0]!));
      expect(Array.from(coefs[2]!)).toEqual(Array.from(coefs[0]!));
    }
  });

  it("elastic-net, l1 and the adaptive learning rate match scikit-learn (plain data, on the client)", async () => {
    const ds = scaled(loadCsv("breast_cancer.csv"));
    const rows = rowsOf(ds);
    const y = Array.from(ds.y);
    for (const [key, opts] of [
      ["elasticnet", { penalty: "elasticnet", alpha: 1e-3 }],
      ["l1", { penalty: "l1", alpha: 1e-3 }],
      ["adaptive", { learningRate: "adaptive", eta0: 0.01 }],
    ] as const) {
      const ref = REFB.sgd.breast_cancer[key];
      const clf = await new ml.SGDClassifier({ ...opts, shuffle: false }).fit(rows, y);
      expect(maxRelDiff(clf.coef!, ref.coef)).toBeLessThan(1e-8);
      expect(clf.nIter).toBe(ref.nIter);
    }
    const l1 = await new ml.SGDClassifier({ penalty: "l1", alpha: 1e-3, shuffle: false }).fit(rows, y);
    expect(Array.from(l1.coef!).filter((w) => w === 0).length).toBe(REFB.sgd.breast_cancer.l1.coef.filter((w) => w === 0).length);
  });

  it("one-vs-rest on iris: coefficients, epochs and probabilities (log_loss, modified_huber) as scikit-learn's", async () => {
    const ds = scaled(loadCsv("iris.csv"));
    for (const loss of ["log_loss", "hinge", "modified_huber"] as const) {
      const ref = REFB.sgd.iris[loss];
      const { X, y } = arrays(ds, 3);
      const clf = await new ml.SGDClassifier({ loss, shuffle: false }).fit(X, y);
      expect(clf.coefShape).toEqual([3, 4]);
      expect(maxRelDiff(clf.coef!, ref.coef)).toBeLessThan(1e-8);
      expect(clf.nIter).toBe(ref.nIter);
      expect(await clf.score(X, y)).toBeCloseTo(ref.score, 12);
      if (ref.probaFirstRows) {
        const p = await clf.predictProba(X).compute();
        expect(p.shape).toEqual([150, 3]);
        expect(maxRelDiff(p.data.slice(0, 9), ref.probaFirstRows)).toBeLessThan(1e-8);
      }
      const [labels, dec] = await client.compute([clf.predict(X), clf.decisionFunction(X)]);
      for (let i = 0; i < 150; i++) {
        const z = [0, 1, 2].map((k) => dec.data[i * 3 + k]!);
        expect(labels.data[i]).toBe(z.indexOf(Math.max(...z)));
      }
    }
  });

  it("shuffled fits reach scikit-learn's accuracy within 2 points, for 1 and 4 blocks", async () => {
    const ds = scaled(loadCsv("breast_cancer.csv"));
    for (const loss of ["hinge", "log_loss", "modified_huber"] as const) {
      for (const blocks of [1, 4]) {
        const { X, y } = arrays(ds, blocks);
        const clf = await new ml.SGDClassifier({ loss, seed: 1 }).fit(X, y);
        expect(Math.abs((await clf.score(X, y)) - REFB.sgd.breast_cancer[loss].shuffledScore!)).toBeLessThan(0.02);
        const again = await new ml.SGDClassifier({ loss, seed: 1 }).fit(X, y);
        expect(Array.from(again.coef!)).toEqual(Array.from(clf.coef!)); // seeded: the same fit
      }
    }
  });

  it("partialFit on blocks, pieces or plain data continues one pass like scikit-learn's partial_fit", async () => {
    const ds = scaled(loadCsv("breast_cancer.csv"));
    const ref = REFB.sgd.breast_cancer.partialFit;
    // A collection of three blocks (200, 200, 169 rows): one partialFit is one pass in block order.
    const X = da.fromTypedArray(ds.X, { shape: [ds.n, ds.d], chunks: [200, ds.d] });
    const y = da.fromTypedArray(ds.y, { chunks: [200] });
    const a = new ml.SGDClassifier({ loss: "log_loss", shuffle: false });
    await expect(a.partialFit(X, y)).rejects.toThrow(/first call needs classes/);
    await a.partialFit(X, y, { classes: [0, 1] });
    expect(maxRelDiff(a.coef!, ref.afterOnePass)).toBeLessThan(1e-10);
    await a.partialFit(X, y);
    expect(maxRelDiff(a.coef!, ref.afterTwoPasses)).toBeLessThan(1e-10);
    expect(a.t).toBe(ref.t);
    // Plain pieces on the client, the same updates.
    const rows = rowsOf(ds);
    const b = new ml.SGDClassifier({ loss: "log_loss", shuffle: false, classes: [0, 1] });
    for (const [s, e] of [[0, 200], [200, 400], [400, ds.n]] as const) await b.partialFit(rows.slice(s, e), Array.from(ds.y.subarray(s, e)));
    expect(maxRelDiff(b.coef!, ref.afterOnePass)).toBeLessThan(1e-10);
    await expect(b.partialFit(rows, Array.from(ds.y), { classes: [0, 2] })).rejects.toThrow(/differ from the classes of the earlier calls/);
    await expect(b.partialFit([[1, 2]], [0])).rejects.toThrow(/X has 2 features, but the model was fitted with 30/);
    await expect(b.partialFit(rows.slice(0, 2), [0, 5])).rejects.toThrow(/label 5 at row 1, which is not among the classes \[0, 1\]/);
  });

  it("takes a dataframe with a label column and predicts a dataframe", async () => {
    const ds = scaled(loadCsv("iris.csv"));
    const cols = ["a", "b", "c", "d"];
    const df = dd.fromArrays({ ...Object.fromEntries(cols.map((c, j) => [c, Float64Array.from({ length: ds.n }, (_, i) => ds.X[i * 4 + j]!)])), species: ds.y }, { npartitions: 3 });
    const clf = await new ml.SGDClassifier({ loss: "log_loss", shuffle: false }).fit(df, "species");
    expect(clf.featureNames).toEqual(cols);
    expect(maxRelDiff(clf.coef!, REFB.sgd.iris.log_loss.coef)).toBeLessThan(1e-8);
    const p = await clf.predictProba(df).compute();
    expect(p.schema.fields.map((f) => f.name)).toEqual(["proba_0", "proba_1", "proba_2"]);
  });

  it("says what is wrong", async () => {
    expect(() => new ml.SGDClassifier({ loss: "squared_error" as never })).toThrow(/loss must be one of "hinge", "log_loss", "modified_huber"/);
    expect(() => new ml.SGDClassifier({ learningRate: "constant" })).toThrow(/eta0 must be > 0 with learningRate "constant"/);
    expect(() => new ml.SGDClassifier({ penalty: "l3" as never })).toThrow(/penalty must be/);
    expect(() => new ml.SGDClassifier({ alpha: -1 })).toThrow(/alpha must be a number in \[0, inf\)/);
    expect(() => new ml.SGDClassifier({ classes: [1] })).toThrow(/classes must be an array of at least two/);
    expect(() => new ml.SGDClassifier({ maxiter: 3 } as never)).toThrow(/unknown option "maxiter"/);
    const clf = new ml.SGDClassifier();
    expect(() => clf.predict([[1, 2]])).toThrow(/not fitted yet/);
    const X = da.fromTypedArray(new Float64Array([1, 2, NaN, 4, 5, 6]), { shape: [3, 2], chunks: [2, 2] });
    await expect(clf.fit(X, [0, 1, 0])).rejects.toThrow(/SGDClassifier.fit: X has NaN \(or a null\) at row 1, column 0/);
    await expect(clf.fit([[1], [2]], [0, 0])).rejects.toThrow(/y has one class only/);
    await expect(new ml.SGDClassifier({ loss: "hinge" }).fit([[1], [2]], [0, 1]).then((m) => m.predictProba([[1]]))).rejects.toThrow(/probabilities need loss "log_loss" or "modified_huber"/);
    await expect(new ml.SGDRegressor({ eta0: 1e10, learningRate: "constant", shuffle: false, penalty: null }).fit([[1e300], [-1e300]], [1, -1])).rejects.toThrow(/weights overflowed/);
    const fitted = await new ml.SGDClassifier().fit([[0], [1], [2], [3]], [0, 0, 1, 1]);
    expect(() => fitted.predict([[1, 2]])).toThrow(/X has 2 features, but the model was fitted with 1/);
  });
});

describe.skipIf(!HAVE_DATASETS)("SGDRegressor", () => {
  it("squared_error and huber with shuffle false match scikit-learn on diabetes; shuffled reaches its R²", async () => {
    const ds = scaled(loadDiabetes());
    const rows = rowsOf(ds);
    const y = Array.from(ds.y);
    const se = await new ml.SGDRegressor({ shuffle: false }).fit(rows, y);
    const ref = REFB.sgd.diabetes.squared_error;
    expect(maxRelDiff(se.coef!, ref.coef)).toBeLessThan(1e-8);
    expect(se.intercept).toBeCloseTo(ref.intercept[0]!, 6);
    expect(se.nIter).toBe(ref.nIter);
    const { X, y: Y } = arrays(ds, 3);
    expect(await se.score(X, Y)).toBeCloseTo(ref.score, 10);
    const hub = await new ml.SGDRegressor({ loss: "huber", epsilon: 10, shuffle: false, maxIter: 5000 }).fit(rows, y);
    expect(maxRelDiff(hub.coef!, REFB.sgd.diabetes.huber.coef)).toBeLessThan(1e-8);
    expect(hub.nIter).toBe(REFB.sgd.diabetes.huber.nIter);
    // On the cluster, 3 blocks, a few epochs: the same as plain data for the same epochs.
    const few = await new ml.SGDRegressor({ shuffle: false, maxIter: 20, tol: null }).fit(X, Y);
    const fewPlain = await new ml.SGDRegressor({ shuffle: false, maxIter: 20, tol: null }).fit(rows, y);
    expect(maxRelDiff(few.coef!, fewPlain.coef!)).toBeLessThan(1e-12);
    expect(few.nIter).toBe(20);
    const shuffled = await new ml.SGDRegressor({ seed: 3, maxIter: 200 }).fit(X, Y);
    expect(Math.abs((await shuffled.score(X, Y)) - REFB.sgd.diabetes.shuffledScore)).toBeLessThan(0.02);
    const pred = await few.predict(X).compute();
    expect(pred.shape).toEqual([ds.n]);
    expect(() => new ml.SGDRegressor({ loss: "hinge" as never })).toThrow(/loss must be one of "squared_error", "huber"/);
    await expect(new ml.SGDRegressor().partialFit(rows, y, { classes: [0, 1] })).rejects.toThrow(/classes is for classifiers/);
  });

  it("toJSON keeps the fitted model and its state (partialFit continues from it)", async () => {
    const rows = [[0], [1], [2], [3]];
    const m = await new ml.SGDRegressor({ shuffle: false, maxIter: 5, tol: null }).fit(rows, [1, 3, 5, 7]);
    const json = JSON.parse(JSON.stringify(m.toJSON()));
    expect(json).toMatchObject({ format: "tessera-ml", version: 1, estimator: "SGDRegressor", params: { loss: "squared_error", maxIter: 5 } });
    const back = ml.fromJSON(JSON.stringify(json)) as InstanceType<typeof ml.SGDRegressor>;
    expect(back).toBeInstanceOf(ml.SGDRegressor);
    expect(Array.from(back.coef!)).toEqual(Array.from(m.coef!));
    expect(back.intercept).toBe(m.intercept);
    await m.partialFit(rows, [1, 3, 5, 7]);
    await back.partialFit(rows, [1, 3, 5, 7]);
    expect(Array.from(back.coef!)).toEqual(Array.from(m.coef!));
    const c = await new ml.SGDClassifier({ loss: "log_loss" }).fit([[0], [1], [2], [3]], [5, 5, 9, 9]);
    const cb = ml.fromJSON(JSON.parse(JSON.stringify(c.toJSON()))) as InstanceType<typeof ml.SGDClassifier>;
    expect(Array.from(cb.classes!)).toEqual([5, 9]);
    expect(Array.from((await cb.predict([[0], [3]]).compute()).data)).toEqual([5, 9]);
    const unfitted = ml.fromJSON(new ml.SGDClassifier({ alpha: 0.5 }).toJSON()) as InstanceType<typeof ml.SGDClassifier>;
    expect(unfitted.alpha).toBe(0.5);
    expect(() => unfitted.predict([[1]])).toThrow(/not fitted yet/);
  });
});

// average, classWeight, sampleWeight and earlyStopping against scikit-learn (references-c.json,
// make-references-c.py): shuffle false makes the updates scikit-learn's, so the coefficients agree.
describe.skipIf(!HAVE_DATASETS)("SGD averaging, class and sample weights, early stopping", () => {
  interface Ref {
    coef: number[];
    intercept: number[];
    nIter: number;
    t: number;
  }
  const C = JSON.parse(readFileSync(new URL("./references-c.json", import.meta.url), "utf8")).sgd as Record<string, Ref> & {
    early_stopping_digits: { accuracy: number[]; nIter: number[] };
    early_stopping_diabetes: { r2: number[]; nIter: number[] };
  };
  const intercepts = (m: { intercept: Float64Array | number | null }) => (typeof m.intercept === "number" ? [m.intercept] : Array.from(m.intercept!));
  const expectRef = (m: { coef: Float64Array | null; intercept: Float64Array | number | null; nIter: number; t: number }, ref: Ref, tol: number) => {
    expect(maxRelDiff(m.coef!, ref.coef)).toBeLessThan(tol);
    expect(maxRelDiff(intercepts(m), ref.intercept)).toBeLessThan(tol);
    expect([m.nIter, m.t]).toEqual([ref.nIter, ref.t]);
  };
  const bc = () => scaled(loadCsv("breast_cancer.csv"));

  it("average (true or a start sample, with elastic net) gives scikit-learn's averaged coefficients, for plain data and 1, 3, 7 blocks", async () => {
    const ds = bc();
    for (const blocks of [1, 3, 7]) {
      const { X, y } = arrays(ds, blocks);
      expectRef(await new ml.SGDClassifier({ average: true, shuffle: false, maxIter: 20, tol: null }).fit(X, y), C.average!, 1e-10);
    }
    const rows = rowsOf(ds);
    expectRef(await new ml.SGDClassifier({ loss: "log_loss", penalty: "elasticnet", alpha: 1e-3, average: 50, shuffle: false, maxIter: 10, tol: null }).fit(rows, Array.from(ds.y)), C.average_log_l1!, 1e-9);
    const iris = scaled(loadCsv("iris.csv"));
    expectRef(await new ml.SGDClassifier({ average: true, shuffle: false, maxIter: 10, tol: null }).fit(rowsOf(iris), Array.from(iris.y)), C.average_iris!, 1e-10);
    const dia = scaled(loadDiabetes());
    const { X, y } = arrays(dia, 3);
    expectRef(await new ml.SGDRegressor({ average: true, shuffle: false, maxIter: 10, tol: null }).fit(X, y), C.average_regressor!, 1e-10);
  });

  it("classWeight (balanced, a map; binary and one-vs-rest) and sampleWeight scale the updates as scikit-learn's", async () => {
    const ds = bc();
    const { X, y } = arrays(ds, 3);
    expectRef(await new ml.SGDClassifier({ classWeight: "balanced", shuffle: false, maxIter: 10, tol: null }).fit(X, y), C.balanced!, 1e-10);
    expectRef(await new ml.SGDClassifier({ classWeight: { 0: 2, 1: 0.5 }, shuffle: false, maxIter: 10, tol: null }).fit(rowsOf(ds), Array.from(ds.y)), C.class_map!, 1e-10);
    const wine = scaled(loadCsv("wine_data.csv"));
    expectRef(await new ml.SGDClassifier({ classWeight: "balanced", shuffle: false, maxIter: 10, tol: null }).fit(arrays(wine, 4).X, arrays(wine, 4).y), C.balanced_wine!, 1e-10);
    const swb = Float64Array.from({ length: ds.n }, (_, i) => 1 + (i % 3));
    // log_loss amplifies one-ulp differences in exp over the epochs (see above).
    expectRef(await new ml.SGDClassifier({ loss: "log_loss", shuffle: false, maxIter: 10, tol: null }).fit(rowsOf(ds), Array.from(ds.y), { sampleWeight: swb }), C.sample_weight!, 1e-6);
    const dia = scaled(loadDiabetes());
    const swg = Float64Array.from({ length: dia.n }, (_, i) => 0.5 + (i % 4) / 2);
    for (const blocks of [1, 7]) {
      const { X: Xd, y: yd } = arrays(dia, blocks);
      // Weights as a tessera array blocked unlike X: rechunked to X's blocks.
      const w = da.fromTypedArray(swg, { chunks: [rowsPerBlock(dia.n, 2)] });
      expectRef(await new ml.SGDRegressor({ shuffle: false, maxIter: 10, tol: null }).fit(Xd, yd, { sampleWeight: w }), C.sample_weight_regressor!, 1e-10);
    }
    // partialFit takes sampleWeight too: one pass with weights 2 equals the first epoch of a fit with weights 2.
    const once = await new ml.SGDRegressor({ shuffle: false, maxIter: 1, tol: null }).fit(rowsOf(dia), Array.from(dia.y), { sampleWeight: new Float64Array(dia.n).fill(2) });
    const pf = await new ml.SGDRegressor({ shuffle: false }).partialFit(arrays(dia, 3).X, arrays(dia, 3).y, { sampleWeight: da.fromTypedArray(new Float64Array(dia.n).fill(2), { chunks: [rowsPerBlock(dia.n, 3)] }) });
    expect(maxRelDiff(pf.coef!, once.coef!)).toBeLessThan(1e-12);
  });

  it("earlyStopping stops on a held-out split's score: digits and diabetes come close to scikit-learn's accuracy / R² in a few epochs", async () => {
    const digits = (() => {
      const rows = gunzipSync(readFileSync(new URL("digits.csv.gz", DATASETS))).toString("utf8").trim().split("\n");
      const X = new Float64Array(rows.length * 64);
      const y = new Float64Array(rows.length);
      rows.forEach((r, i) => r.split(",").forEach((v, j) => (j < 64 ? (X[i * 64 + j] = Number(v)) : (y[i] = Number(v)))));
      return scaled({ X, y, n: rows.length, d: 64 });
    })();
    const ref = C.early_stopping_digits;
    for (const blocks of [1, 3]) {
      const { X, y } = arrays(digits, blocks);
      const clf = await new ml.SGDClassifier({ earlyStopping: true, seed: 1 }).fit(X, y);
      expect(await clf.score(X, y)).toBeGreaterThan(Math.min(...ref.accuracy) - 0.02);
      // Stopped by the rule (nIterNoChange epochs without a gain of tol), long before maxIter.
      expect(clf.nIter).toBeGreaterThanOrEqual(6);
      expect(clf.nIter).toBeLessThan(30);
      expect(clf.validationScores.length).toBe(clf.nIter);
      expect(clf.validationScores[0]!.length).toBe(10); // one score per one-vs-rest model
    }
    const dia = scaled(loadDiabetes());
    const { X, y } = arrays(dia, 3);
    const reg = await new ml.SGDRegressor({ earlyStopping: true, validationFraction: 0.2 }).fit(X, y);
    expect(await reg.score(X, y)).toBeGreaterThan(Math.min(...C.early_stopping_diabetes.r2) - 0.03);
    expect(reg.nIter).toBeLessThan(60);
    // The split is fit's: partialFit trains on every row.
    const all = await new ml.SGDRegressor({ earlyStopping: true, shuffle: false }).partialFit(rowsOf(dia), Array.from(dia.y));
    expect(all.t).toBe(dia.n + 1);
  });

  it("round-trips the average through toJSON, and names bad options and weights", async () => {
    const ds = bc();
    const rows = rowsOf(ds);
    const y = Array.from(ds.y);
    const m = await new ml.SGDClassifier({ average: 100, classWeight: { 1: 3 }, shuffle: false, maxIter: 3, tol: null }).fit(rows, y);
    const back = ml.fromJSON(JSON.parse(JSON.stringify(m))) as InstanceType<typeof ml.SGDClassifier>;
    expect(back.average).toBe(100);
    expect(back.classWeight).toEqual({ 1: 3 });
    expect(maxRelDiff(back.coef!, m.coef!)).toBe(0);
    await m.partialFit(rows, y);
    await back.partialFit(rows, y);
    expect(maxRelDiff(back.coef!, m.coef!)).toBe(0);
    expect(maxRelDiff(back.intercept!, m.intercept!)).toBe(0);
    expect(() => new ml.SGDClassifier({ average: -2 })).toThrow(/SGDClassifier: average must be true, false or an integer >= 1 .*got -2/);
    expect(() => new ml.SGDClassifier({ classWeight: "auto" as never })).toThrow(/SGDClassifier: classWeight must be "balanced", null or an object/);
    expect(() => new ml.SGDRegressor({ validationFraction: 1 })).toThrow(/SGDRegressor: validationFraction must be a number in \(0, 1\), got 1/);
    expect(() => new ml.SGDRegressor({ classWeight: "balanced" } as never)).toThrow(/SGDRegressor: unknown option "classWeight"/);
    await expect(new ml.SGDClassifier({ classWeight: { 7: 2 } }).fit(rows, y)).rejects.toThrow(/SGDClassifier.fit: classWeight has label\(s\) 7, which are not among the classes \[0, 1\]/);
    await expect(new ml.SGDClassifier({ classWeight: "balanced" }).partialFit(rows, y, { classes: [0, 1] })).rejects.toThrow(/SGDClassifier.partialFit: classWeight "balanced" needs the counts of the whole y/);
    await expect(new ml.SGDClassifier().fit(rows, y, { sampleWeight: [1, 2] })).rejects.toThrow(/SGDClassifier.fit: X has 569 rows but sampleWeight has 2 values/);
    const bad = Float64Array.from({ length: ds.n }, (_, i) => (i === 7 ? -1 : 1));
    await expect(new ml.SGDClassifier().fit(arrays(ds, 3).X, arrays(ds, 3).y, { sampleWeight: bad })).rejects.toThrow(/SGDClassifier.fit: sampleWeight has -1 at row 7; weights must be finite and >= 0/);
    const df = dd.fromArrays({ a: [1, 2, 3, 4], t: [0, 1, 0, 1] }, { npartitions: 2 });
    await expect(new ml.SGDClassifier().fit(df, "t", { sampleWeight: [1, 1, 1, 1] })).rejects.toThrow(/SGDClassifier.fit: sampleWeight is offered with an array X \(or plain data\); X is a dataframe here/);
    await expect(new ml.SGDRegressor({ earlyStopping: true }).fit([[1], [2]], [1, 2])).rejects.toThrow(/SGDRegressor.fit: the validation split holds 0 of 2 rows/);
  });
});
