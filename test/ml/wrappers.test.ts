// ParallelPostFit and Incremental on a 2-worker LocalCluster: a plain-JS estimator's predict run
// blockwise on the workers (shipped as source), tessera estimators delegated to, and blocks
// streamed through partialFit in a seeded order.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, array as da, dataframe as dd, ml, type Client } from "../../dist/index.js";
import { HAVE_DATASETS, loadCsv, maxRelDiff, standardize, blockArrays as arrays } from "./helpers.js";

const REFB = JSON.parse(readFileSync(new URL("./references-b.json", import.meta.url), "utf8")) as {
  sgd: { breast_cancer: { partialFit: { afterOnePass: number[] } } };
};

let client: Client;
beforeAll(async () => {
  client = await LocalCluster.start({ workers: 2 });
});
afterAll(() => client?.close());


/** A plain-JS classifier: the nearest class mean. Self-contained, so it can be shipped as source. */
class NearestCentroid {
  centroids: number[][] = [];
  classes: number[] = [];
  fit(X: number[][], y: number[]): this {
    this.classes = [...new Set(y)].sort((a, b) => a - b);
    this.centroids = this.classes.map((c) => {
      const rows = X.filter((_, i) => y[i] === c);
      return X[0]!.map((_, j) => rows.reduce((s, r) => s + r[j]!, 0) / rows.length);
    });
    return this;
  }
  distances(row: number[]): number[] {
    return this.centroids.map((m) => m.reduce((s, v, j) => s + (v - row[j]!) ** 2, 0));
  }
  predict(X: number[][]): number[] {
    return X.map((r) => {
      const d = this.distances(r);
      return this.classes[d.indexOf(Math.min(...d))]!;
    });
  }
  predictProba(X: number[][]): number[][] {
    return X.map((r) => {
      const w = this.distances(r).map((d) => Math.exp(-d));
      const s = w.reduce((a, b) => a + b, 0);
      return w.map((v) => v / s);
    });
  }
}

describe.skipIf(!HAVE_DATASETS)("ParallelPostFit", () => {
  it("runs a plain-JS estimator's predict and predictProba blockwise on the workers, lazily", async () => {
    const ds = loadCsv("iris.csv");
    const { X, y } = arrays(ds, 3);
    const rows = Array.from({ length: ds.n }, (_, i) => Array.from(ds.X.subarray(i * 4, (i + 1) * 4)));
    const local = new NearestCentroid().fit(rows, Array.from(ds.y));
    const ppf = await new ml.ParallelPostFit(new NearestCentroid()).fit(X, y); // gathered, fitted on the client
    expect(ppf.estimator.centroids).toEqual(local.centroids);
    const pred = ppf.predict(X);
    expect(pred.shape).toEqual([ds.n]);
    expect(pred.chunks[0]!.length).toBe(3);
    const [p, proba] = await client.compute([pred, ppf.predictProba(X)]);
    expect(Array.from(p.data)).toEqual(local.predict(rows));
    expect(proba.shape).toEqual([ds.n, 3]);
    expect(maxRelDiff(proba.data, local.predictProba(rows).flat())).toBeLessThan(1e-12);
    const acc = local.predict(rows).filter((v, i) => v === ds.y[i]).length / ds.n;
    expect(await ppf.score(X, y)).toBeCloseTo(acc, 12);
    // A dataframe: the output is a dataframe of the prediction column.
    const cols = ["a", "b", "c", "d"];
    const df = dd.fromArrays(Object.fromEntries(cols.map((c, j) => [c, Float64Array.from({ length: ds.n }, (_, i) => ds.X[i * 4 + j]!)])), { npartitions: 2 });
    await df.schema();
    const t = await ppf.predict(df).compute();
    expect(Array.from(t.getChild("prediction")!.toArray() as Float64Array)).toEqual(local.predict(rows));
  });

  it("ships an object literal's methods, and delegates to tessera estimators", async () => {
    const doubler = {
      factor: 2,
      predict(X: number[][]) {
        return X.map((r) => r[0]! * this.factor);
      },
    };
    const X = da.fromTypedArray(Float64Array.from({ length: 10 }, (_, i) => i), { shape: [10, 1], chunks: [4, 1] });
    const out = await new ml.ParallelPostFit(doubler).predict(X).compute();
    expect(Array.from(out.data)).toEqual(Array.from({ length: 10 }, (_, i) => 2 * i));
    expect(await new ml.ParallelPostFit(doubler, { scoring: "r2" }).score(X, Array.from({ length: 10 }, (_, i) => 2 * i))).toBe(1);
    const ds = { ...loadCsv("breast_cancer.csv") };
    const Z = { ...ds, X: standardize(ds.X, ds.n, ds.d).Z };
    const { X: Xb, y: yb } = arrays(Z, 3);
    const clf = await new ml.LogisticRegression().fit(Xb, yb);
    const ppf = new ml.ParallelPostFit(clf);
    const [a, b] = await client.compute([ppf.predict(Xb), clf.predict(Xb)]);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(await ppf.score(Xb, yb)).toBe(await clf.score(Xb, yb));
  });

  it("says what is wrong", async () => {
    expect(() => new ml.ParallelPostFit(null as never)).toThrow(/estimator must be an object/);
    const X = da.fromTypedArray(new Float64Array(4), { shape: [2, 2], chunks: [1, 2] });
    expect(() => new ml.ParallelPostFit({ fit() {} }).predict(X)).toThrow(/the estimator has no predict method/);
    expect(() => new ml.ParallelPostFit({ lock: new WeakMap(), predict: (x: number[][]) => x.map(() => 0) }).predict(X)).toThrow(/field "lock" cannot be sent to a worker/);
    const wrong = { predict: (x: number[][]) => x.slice(1).map(() => 0) };
    await expect(new ml.ParallelPostFit(wrong).predict(X).compute()).rejects.toThrow(/predict of the estimator returned 0 values; expected 1 numbers/);
  });
});

describe.skipIf(!HAVE_DATASETS)("Incremental", () => {
  it("streams the blocks through SGD's partialFit: one pass in order is scikit-learn's partial_fit over the pieces", async () => {
    const ds = loadCsv("breast_cancer.csv");
    const Z = standardize(ds.X, ds.n, ds.d).Z;
    const X = da.fromTypedArray(Z, { shape: [ds.n, ds.d], chunks: [200, ds.d] });
    const y = da.fromTypedArray(ds.y, { chunks: [200] });
    const inc = await new ml.Incremental(new ml.SGDClassifier({ loss: "log_loss", shuffle: false }), { shuffleBlocks: false }).fit(X, y, { classes: [0, 1] });
    expect(maxRelDiff(inc.estimator.coef!, REFB.sgd.breast_cancer.partialFit.afterOnePass)).toBeLessThan(1e-10);
    const shuffled = async (randomState: number) => (await new ml.Incremental(new ml.SGDClassifier({ loss: "log_loss", shuffle: false }), { randomState }).fit(X, y, { classes: [0, 1] })).estimator.coef!;
    const a = await shuffled(1);
    expect(Array.from(await shuffled(1))).toEqual(Array.from(a));
    const orders = await Promise.all([2, 3, 4, 5].map(shuffled));
    expect(orders.some((c) => maxRelDiff(c, a) > 1e-6)).toBe(true); // another order, another model
    expect(await inc.score(X, y)).toBeGreaterThan(0.9);
    expect((await inc.predict(X).compute()).shape).toEqual([ds.n]);
  });

  it("gives a plain-JS estimator every block once, on the client, in a seeded order", async () => {
    const X = da.fromTypedArray(Float64Array.from({ length: 20 }, (_, i) => i), { shape: [20, 1], chunks: [5, 1] });
    const y = Float64Array.from({ length: 20 }, (_, i) => 10 * i);
    const seen: number[] = [];
    const est = {
      partialFit(rows: number[][], ys: number[]) {
        seen.push(rows[0]![0]!);
        expect(ys[0]).toBe(10 * rows[0]![0]!);
      },
    };
    await new ml.Incremental(est, { randomState: 4 }).fit(X, y);
    expect([...seen].sort((a, b) => a - b)).toEqual([0, 5, 10, 15]);
    const first = [...seen];
    seen.length = 0;
    await new ml.Incremental(est, { randomState: 4 }).fit(X, y);
    expect(seen).toEqual(first);
    seen.length = 0;
    await new ml.Incremental(est, { shuffleBlocks: false }).fit(X, y);
    expect(seen).toEqual([0, 5, 10, 15]);
    expect(() => new ml.Incremental({ fit() {} })).toThrow(/the estimator has no partialFit method/);
  });
});
