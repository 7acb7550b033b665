// KFold, GridSearchCV, RandomizedSearchCV, IncrementalSearchCV and HyperbandSearchCV on a
// 2-worker LocalCluster: folds as scikit-learn's, cross-validation scores against
// scikit-learn's (references-b.json, made by make-references-b.py), the data sent to the
// workers once whatever the number of candidates, and the adaptive searches' schedules.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, array as da, ml, type Client } from "../../dist/index.js";
import { HAVE_DATASETS, loadCsv, loadDiabetes, maxRelDiff, standardize, type Dataset, blockArrays as arrays } from "./helpers.js";

const REFB = JSON.parse(readFileSync(new URL("./references-b.json", import.meta.url), "utf8")) as {
  search: { diabetesRidge: { meanTestScore: number[]; stdTestScore: number[]; rankTestScore: number[]; splitTestScores: number[][]; bestParams: { alpha: number } } };
};

let client: Client;
beforeAll(async () => {
  client = await LocalCluster.start({ workers: 2 });
});
afterAll(() => client?.close());

const scaled = (ds: Dataset): Dataset => ({ ...ds, X: standardize(ds.X, ds.n, ds.d).Z });

/** Counts what the client submits: data nodes (values carried in the graph) and tasks. */
function watchSubmissions(c: Client): { data: () => number; dataBytes: () => number; tasks: () => number; stop: () => void } {
  const runner = (c as unknown as { runner: { updateGraph: (...a: unknown[]) => unknown } }).runner;
  const orig = runner.updateGraph;
  let data = 0;
  let bytes = 0;
  let tasks = 0;
  const visit = (n: { kind?: string; value?: { data?: ArrayBufferView }; tasks?: unknown[] }) => {
    if (n.kind === "data") {
      data++;
      bytes += n.value?.data?.byteLength ?? 0;
    } else if (n.kind === "fused") for (const t of n.tasks as (typeof n)[]) visit(t);
    else tasks++;
  };
  runner.updateGraph = function (this: unknown, ...args: unknown[]) {
    for (const t of args[1] as { run: Parameters<typeof visit>[0] }[]) visit(t.run);
    return orig.apply(this, args);
  };
  return { data: () => data, dataBytes: () => bytes, tasks: () => tasks, stop: () => void (runner.updateGraph = orig) };
}

describe("KFold", () => {
  it("without shuffle gives scikit-learn's contiguous folds, cut across blocks", async () => {
    const n = 23;
    const X = da.fromTypedArray(Float64Array.from({ length: n * 2 }, (_, i) => Math.floor(i / 2)), { shape: [n, 2], chunks: [6, 2] });
    const y = Float64Array.from({ length: n }, (_, i) => i);
    const kf = new ml.KFold({ nSplits: 5 });
    const { folds, release } = await kf.split(X, y);
    try {
      const bounds = [0, 5, 10, 15, 19, 23]; // 23 // 5 = 4, the first 23 % 5 = 3 folds one longer
      for (let f = 0; f < 5; f++) {
        const [te, tr, teX] = await client.compute([folds[f]!.testY, folds[f]!.trainY, folds[f]!.testX]);
        const expected = Array.from({ length: bounds[f + 1]! - bounds[f]! }, (_, i) => bounds[f]! + i);
        expect(Array.from(te.data)).toEqual(expected);
        expect(Array.from(tr.data)).toEqual(Array.from(y).filter((v) => !expected.includes(v)));
        expect(Array.from({ length: teX.shape[0]! }, (_, i) => teX.data[2 * i])).toEqual(expected); // X rows stay with their y
      }
    } finally {
      release();
    }
  });

  it("with shuffle gives each fold a seeded share of every block; the folds partition the rows", async () => {
    const n = 40;
    const X = da.fromTypedArray(Float64Array.from({ length: n }, (_, i) => i), { shape: [n, 1], chunks: [15, 1] });
    const y = Float64Array.from({ length: n }, (_, i) => i);
    const seen: number[] = [];
    const testsOf = async (seed: number) => {
      const { folds, release } = await new ml.KFold({ nSplits: 3, shuffle: true, seed }).split(X, y);
      try {
        return await Promise.all(folds.map(async (f) => Array.from((await f.testY.compute()).data)));
      } finally {
        release();
      }
    };
    const tests = await testsOf(7);
    for (const t of tests) {
      seen.push(...t);
      // Blocks of 15, 15, 10 rows: 5, 5 and 3 or 4 of each in every fold.
      expect(t.filter((v) => v < 15).length).toBe(5);
      expect(t.filter((v) => v >= 15 && v < 30).length).toBe(5);
    }
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from(y));
    expect(await testsOf(7)).toEqual(tests);
    expect(await testsOf(8)).not.toEqual(tests);
    expect(tests[0]).not.toEqual([0, 1, 2, 3, 4, 15, 16, 17, 18, 19, 30, 31, 32]); // not the blocks' first rows
  });

  it("says what is wrong", async () => {
    expect(() => new ml.KFold({ nSplits: 1 })).toThrow(/nSplits must be an integer >= 2/);
    await expect(new ml.KFold({ nSplits: 5 }).split([[1], [2], [3]], [1, 2, 3])).rejects.toThrow(/nSplits = 5 is more than the 3 rows/);
  });
});

describe.skipIf(!HAVE_DATASETS)("GridSearchCV", () => {
  it("Ridge over alpha on diabetes: scikit-learn's cross-validation scores, ranks and best alpha, for 1 and 4 blocks", async () => {
    const ds = loadDiabetes();
    const ref = REFB.search.diabetesRidge;
    for (const blocks of [1, 4]) {
      const { X, y } = arrays(ds, blocks);
      const gs = await new ml.GridSearchCV(new ml.Ridge(), { alpha: [0.1, 1, 10, 100] }, { cv: 5 }).fit(X, y);
      const r = gs.cvResults!;
      expect(r.params).toEqual([{ alpha: 0.1 }, { alpha: 1 }, { alpha: 10 }, { alpha: 100 }]);
      expect(maxRelDiff(r.meanTestScore, ref.meanTestScore)).toBeLessThan(1e-8);
      expect(maxRelDiff(r.stdTestScore, ref.stdTestScore)).toBeLessThan(1e-8);
      expect(maxRelDiff(r.splitTestScores.flat(), ref.splitTestScores.flat())).toBeLessThan(1e-8);
      expect(r.rankTestScore).toEqual(ref.rankTestScore);
      expect(gs.bestParams).toEqual(ref.bestParams);
      expect(gs.bestScore).toBeCloseTo(ref.meanTestScore[0]!, 10);
      const direct = await new ml.Ridge({ alpha: 0.1 }).fit(X, y);
      expect(maxRelDiff((gs.bestEstimator as InstanceType<typeof ml.Ridge>).coef!, direct.coef!)).toBeLessThan(1e-10);
      expect(await gs.score(X, y)).toBeCloseTo(await direct.score(X, y), 10);
    }
  });

  it("sends X and y to the workers once, however many candidates", async () => {
    const ds = scaled(loadCsv("breast_cancer.csv"));
    const run = async (alphas: number[]) => {
      const { X, y } = arrays(ds, 3);
      const w = watchSubmissions(client);
      try {
        const gs = await new ml.GridSearchCV(new ml.SGDClassifier({ shuffle: false, maxIter: 5, tol: null }), { alpha: alphas }, { cv: 3 }).fit(X, y);
        expect(gs.cvResults!.meanTestScore.length).toBe(alphas.length);
        return { data: w.data(), bytes: w.dataBytes(), tasks: w.tasks() };
      } finally {
        w.stop();
      }
    };
    const two = await run([1e-4, 1e-3]);
    const six = await run([1e-4, 1e-3, 1e-2, 1e-1, 1, 10]);
    // X's 3 blocks and y's 3: once, for 2 candidates as for 6 (and the refit reads them too).
    expect(two.data).toBe(6);
    expect(six.data).toBe(6);
    expect(six.bytes).toBe(two.bytes);
    expect(two.bytes).toBe(ds.n * (ds.d + 1) * 8);
    // Tasks grow with the candidates' fits only: the same count per candidate.
    const perCandidate = (six.tasks - two.tasks) / 4;
    expect(two.tasks).toBeLessThan(2 * perCandidate + 200);
  });

  it("SGDClassifier over a grid of loss and alpha: scikit-learn's candidate order, a best accuracy above 0.95", async () => {
    const ds = scaled(loadCsv("breast_cancer.csv"));
    const { X, y } = arrays(ds, 3);
    const gs = await new ml.GridSearchCV(new ml.SGDClassifier({ seed: 0 }), { loss: ["hinge", "log_loss"], alpha: [1e-4, 1e-2] }, { cv: new ml.KFold({ nSplits: 4, shuffle: true, seed: 2 }), nJobs: 3 }).fit(X, y);
    expect(gs.cvResults!.params).toEqual([
      { alpha: 1e-4, loss: "hinge" },
      { alpha: 1e-4, loss: "log_loss" },
      { alpha: 1e-2, loss: "hinge" },
      { alpha: 1e-2, loss: "log_loss" },
    ]);
    expect(gs.bestScore).toBeGreaterThan(0.95);
    expect(gs.cvResults!.rankTestScore[gs.bestIndex]).toBe(1);
    expect(gs.nSplits).toBe(4);
    const best = gs.bestEstimator as InstanceType<typeof ml.SGDClassifier>;
    expect(best.alpha).toBe(gs.bestParams!.alpha);
    const pred = await (gs.predict(X) as InstanceType<typeof da.ChunkedArray>).compute();
    expect(pred.shape).toEqual([ds.n]);
    const acc = await new ml.GridSearchCV(new ml.LogisticRegression(), { C: [0.1, 1] }, { cv: 3, scoring: "accuracy" }).fit(X, y);
    expect(acc.bestScore).toBeGreaterThan(0.95);
  });

  it("says what is wrong before any work", async () => {
    expect(() => new ml.GridSearchCV(new ml.Ridge(), { alpha: [] })).toThrow(/parameter "alpha" must have a non-empty list of values/);
    expect(() => new ml.GridSearchCV(new ml.Ridge(), { alpha: [1] }, { folds: 3 } as never)).toThrow(/unknown option "folds"/);
    expect(() => new ml.GridSearchCV(new ml.Ridge(), { alpha: [1] }, { scoring: "f1" as never })).toThrow(/scoring must be one of/);
    await expect(new ml.GridSearchCV(new ml.Ridge(), { alpha: [1, -2] }).fit([[1], [2], [3], [4], [5]], [1, 2, 3, 4, 5])).rejects.toThrow(/candidate \{"alpha":-2\}: Ridge: alpha must be a number/);
    await expect(new ml.GridSearchCV(new ml.Ridge(), { alpha: [1] }, { cv: 5 }).fit([[1], [2], [3]], [1, 2, 3])).rejects.toThrow(/cv has 5 folds but X has only 3 rows/);
  });
});

describe.skipIf(!HAVE_DATASETS)("RandomizedSearchCV", () => {
  it("draws nIter seeded candidates from distributions and lists; lists alone are drawn without repeats", async () => {
    const ds = scaled(loadCsv("breast_cancer.csv"));
    const { X, y } = arrays(ds, 2);
    const rs = await new ml.RandomizedSearchCV(new ml.LogisticRegression(), { C: ml.logUniform(1e-3, 1e2), fitIntercept: [true, false] }, { nIter: 4, seed: 1, cv: 3 }).fit(X, y);
    const cs = rs.cvResults!.params.map((p) => p.C as number);
    expect(cs.length).toBe(4);
    expect(new Set(cs).size).toBe(4);
    for (const c of cs) expect(c >= 1e-3 && c <= 1e2).toBe(true);
    expect(ml.parameterSampler({ C: ml.logUniform(1e-3, 1e2) }, 4, 1)).toEqual(ml.parameterSampler({ C: ml.logUniform(1e-3, 1e2) }, 4, 1));
    expect(rs.bestScore).toBeGreaterThan(0.9);
    const grid = ml.parameterSampler({ a: [1, 2, 3], b: ["x", "y"] }, 10, 0);
    expect(grid.length).toBe(6);
    expect(new Set(grid.map((p) => JSON.stringify(p))).size).toBe(6);
    expect(() => new ml.RandomizedSearchCV(new ml.Ridge(), { alpha: 3 } as never)).toThrow(/parameter "alpha" must be a list, a distribution/);
  });
});

describe.skipIf(!HAVE_DATASETS)("IncrementalSearchCV and HyperbandSearchCV", () => {
  it("IncrementalSearchCV keeps floor(n0 / (1 + t)) models after call t, until one is left", async () => {
    const ds = scaled(loadCsv("breast_cancer.csv"));
    const { X, y } = arrays(ds, 4);
    const s = await new ml.IncrementalSearchCV(new ml.SGDClassifier({ loss: "log_loss" }), { alpha: ml.logUniform(1e-5, 1), eta0: [0.01] }, { nInitialParameters: 6, maxIter: 10, seed: 3 }).fit(X, y);
    // t=1: 6 models -> 3; t=2: 3 -> 2; t=3: 2 -> 1.
    expect(s.history.map((h) => h.calls).sort()).toEqual([1, 1, 1, 2, 3, 3].sort());
    expect(s.history.every((h) => h.scores.length === h.calls)).toBe(true);
    expect(s.bestScore).toBeGreaterThan(0.9);
    expect(s.cvResults!.rankTestScore.length).toBe(6);
    const best = s.bestEstimator as InstanceType<typeof ml.SGDClassifier>;
    expect(await best.score(X, y)).toBeGreaterThan(0.9);
  });

  it("HyperbandSearchCV runs dask-ml's brackets: models and calls per successive-halving step", async () => {
    expect(ml.hyperbandBrackets(9, 3).map((b) => [b.bracket, b.nModels, b.initialCalls, b.steps.map((s) => [s.models, s.calls])])).toEqual([
      [2, 9, 1, [[9, 1], [3, 3], [1, 9]]],
      [1, 5, 3, [[5, 3], [1, 9]]],
      [0, 3, 9, [[3, 9]]],
    ]);
    // max_iter=243: brackets of ceil(6 · 3^s / (s + 1)) models.
    expect(ml.hyperbandBrackets(243, 3).map((b) => b.nModels)).toEqual([243, 98, 41, 18, 9, 6]);
    const ds = scaled(loadCsv("breast_cancer.csv"));
    const { X, y } = arrays(ds, 3);
    const hb = new ml.HyperbandSearchCV(new ml.SGDClassifier({ loss: "hinge" }), { alpha: ml.logUniform(1e-5, 1e-1) }, { maxIter: 9, seed: 0 });
    expect(hb.metadata.nModels).toBe(17);
    expect(hb.metadata.partialFitCalls).toBe(69);
    await hb.fit(X, y);
    expect(hb.history.length).toBe(17);
    expect(hb.history.reduce((s, h) => s + h.calls, 0)).toBe(69);
    const byBracket = (b: number) => hb.history.filter((h) => h.bracket === b).map((h) => h.calls).sort((p, q) => p - q);
    expect(byBracket(2)).toEqual([1, 1, 1, 1, 1, 1, 3, 3, 9]);
    expect(byBracket(1)).toEqual([3, 3, 3, 3, 9]);
    expect(byBracket(0)).toEqual([9, 9, 9]);
    expect(hb.bestScore).toBeGreaterThan(0.9);
    expect(() => new ml.HyperbandSearchCV(new ml.Ridge(), { alpha: [1] })).toThrow(/estimator must have a partialFit method/);
  });
});
