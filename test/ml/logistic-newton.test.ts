// LogisticRegression's solver "newton" on a 2-worker LocalCluster: the optimum of scikit-learn's
// objective (references.json: Newton's method in numpy to a gradient of ~1e-15, see
// make-references.py) on breast_cancer (binary), iris and wine (multinomial), for 1, 3, 7 and 20
// row blocks (20: the partials go through the combine tree); the same solution as "lbfgs"; few
// iterations; its option checks and its JSON.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, ml, type Client } from "../../dist/index.js";
import { HAVE_DATASETS, REF, loadCsv, maxRelDiff, standardize, blockArrays as arrays } from "./helpers.js";

let client: Client;
beforeAll(async () => {
  client = await LocalCluster.start({ workers: 2 });
});
afterAll(() => client?.close());

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)));

describe.skipIf(!HAVE_DATASETS)("LogisticRegression, solver newton", () => {
  it("binary (scaled breast_cancer): scikit-learn's optimum in a few iterations, the same for 1, 3, 7 and 20 blocks, and lbfgs's solution", async () => {
    const ds = loadCsv("breast_cancer.csv");
    const data = { ...ds, X: standardize(ds.X, ds.n, ds.d).Z };
    const ref = REF.breast_cancer.logistic;
    const fits = [];
    for (const blocks of [1, 3, 7, 20]) {
      const { X, y } = arrays(data, blocks);
      const clf = await new ml.LogisticRegression({ solver: "newton", tol: 1e-10 }).fit(X, y);
      expect(clf.converged).toBe(true);
      expect(clf.nIter).toBeLessThanOrEqual(12);
      expect(clf.coefShape).toEqual([1, ds.d]);
      expect(maxRelDiff(clf.coef!, ref.coef)).toBeLessThan(1e-8);
      expect(maxRelDiff(clf.intercept!, ref.intercept as number[])).toBeLessThan(1e-8);
      fits.push(clf);
    }
    for (const f of fits.slice(1)) {
      expect(maxAbsDiff(f.coef!, fits[0]!.coef!)).toBeLessThan(1e-11);
      expect(maxAbsDiff(f.intercept!, fits[0]!.intercept!)).toBeLessThan(1e-11);
    }
    const { X, y } = arrays(data, 3);
    const lb = await new ml.LogisticRegression({ tol: 1e-9, maxIter: 1000 }).fit(X, y);
    expect(maxRelDiff(fits[1]!.coef!, lb.coef!)).toBeLessThan(1e-5);
    // Default tol: as few iterations, scikit-learn's accuracy.
    const dflt = await new ml.LogisticRegression({ solver: "newton" }).fit(X, y);
    expect(dflt.converged).toBe(true);
    expect(dflt.nIter).toBeLessThanOrEqual(10);
    expect(await dflt.score(X, y)).toBeCloseTo(ref.defaultAccuracy!, 10);
    // tol 0: on until f and the gradient stop moving (rounding level), not to maxIter.
    const exact = await new ml.LogisticRegression({ solver: "newton", tol: 0 }).fit(X, y);
    expect(exact.nIter).toBeLessThanOrEqual(11);
    expect(maxRelDiff(exact.coef!, ref.coef)).toBeLessThan(1e-8);
    // scikit-learn's name for it is the same solver.
    const alias = await new ml.LogisticRegression({ solver: "newton-cholesky", tol: 1e-10 }).fit(X, y);
    expect(Array.from(alias.coef!)).toEqual(Array.from(fits[1]!.coef!));
  });

  it("multinomial (iris, scaled wine): scikit-learn's optimum, intercepts summing to 0 as lbfgs's do, independent of the blocks", async () => {
    for (const [name, ref, scale] of [["iris.csv", REF.iris.logistic, false], ["wine_data.csv", REF.wine.logistic, true]] as const) {
      const ds = loadCsv(name);
      const data = scale ? { ...ds, X: standardize(ds.X, ds.n, ds.d).Z } : ds;
      const fits = [];
      for (const blocks of [1, 3, 20]) {
        const { X, y } = arrays(data, blocks);
        const clf = await new ml.LogisticRegression({ solver: "newton", tol: 1e-10 }).fit(X, y);
        expect(clf.converged).toBe(true);
        expect(clf.nIter).toBeLessThanOrEqual(15);
        expect(clf.coefShape).toEqual([3, ds.d]);
        expect(maxRelDiff(clf.coef!, ref.coef)).toBeLessThan(1e-7);
        expect(maxRelDiff(clf.intercept!, ref.intercept as number[])).toBeLessThan(1e-7);
        expect(Math.abs(clf.intercept!.reduce((a, b) => a + b, 0))).toBeLessThan(1e-10);
        fits.push(clf);
      }
      for (const f of fits.slice(1)) expect(maxAbsDiff(f.coef!, fits[0]!.coef!)).toBeLessThan(1e-9);
      const { X, y } = arrays(data, 3);
      expect(await fits[1]!.score(X, y)).toBeCloseTo(ref.accuracy!, 10);
    }
  });

  it("without an intercept and with a small C: the same solution as lbfgs (binary and multinomial)", async () => {
    const bc = loadCsv("breast_cancer.csv");
    const iris = loadCsv("iris.csv");
    for (const ds of [{ ...bc, X: standardize(bc.X, bc.n, bc.d).Z }, iris]) {
      const { X, y } = arrays(ds, 3);
      for (const opts of [{ fitIntercept: false }, { C: 0.01 }]) {
        const nt = await new ml.LogisticRegression({ ...opts, solver: "newton", tol: 1e-10 }).fit(X, y);
        const lb = await new ml.LogisticRegression({ ...opts, tol: 1e-10, maxIter: 5000 }).fit(X, y);
        expect(nt.converged).toBe(true);
        expect(maxRelDiff(nt.coef!, lb.coef!)).toBeLessThan(1e-5);
        expect(maxAbsDiff(nt.intercept!, lb.intercept!)).toBeLessThan(1e-5);
        if (opts.fitIntercept === false) expect(Array.from(nt.intercept!).every((b) => b === 0)).toBe(true);
      }
    }
  });

  it("round-trips through JSON with its solver; JSON from before the option loads as lbfgs", async () => {
    const iris = loadCsv("iris.csv");
    const { X, y } = arrays(iris, 2);
    const clf = await new ml.LogisticRegression({ solver: "newton-cholesky", C: 0.5 }).fit(X, y);
    const json = JSON.parse(JSON.stringify(clf));
    expect(json.params.solver).toBe("newton-cholesky");
    const back = ml.fromJSON(json) as InstanceType<typeof ml.LogisticRegression>;
    expect(back.solver).toBe("newton-cholesky");
    expect(back.nIter).toBe(clf.nIter);
    expect(Array.from(back.coef!)).toEqual(Array.from(clf.coef!));
    expect(Array.from((await back.predictProba(X).compute()).data)).toEqual(Array.from((await clf.predictProba(X).compute()).data));
    delete json.params.solver;
    const old = ml.fromJSON(json) as InstanceType<typeof ml.LogisticRegression>;
    expect(old.solver).toBe("lbfgs");
    expect(Array.from(old.coef!)).toEqual(Array.from(clf.coef!));
  });
});

describe("LogisticRegression solver checks", () => {
  it("names a bad solver and the accepted ones; refuses a Hessian too big to gather", async () => {
    expect(() => new ml.LogisticRegression({ solver: "sag" as never })).toThrow(/LogisticRegression: solver must be one of "lbfgs", "newton", "newton-cholesky", got "sag"/);
    expect(() => new ml.LogisticRegression({ solver: 1 as never })).toThrow(/solver must be one of .*got 1/);
    expect(new ml.LogisticRegression().solver).toBe("lbfgs");
    const d = 2048;
    const rows = Array.from({ length: 4 }, (_, i) => Array.from({ length: d }, (_, j) => ((i + 1) * (j + 1)) % 7));
    await expect(new ml.LogisticRegression({ solver: "newton" }).fit(rows, [0, 1, 0, 1])).rejects.toThrow(/solver "newton" gathers a 2049 x 2049 Hessian .*use solver "lbfgs"/);
  });

  it("takes a few iterations where lbfgs takes many: an ill-conditioned binary problem", async () => {
    // Columns on scales 1 to 1e3 (unscaled data, as users pass it): Newton is scale-invariant.
    const n = 400;
    let s = 7;
    const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
    const rows = Array.from({ length: n }, () => [rnd() - 0.5, (rnd() - 0.5) * 30, (rnd() - 0.5) * 1000]);
    const y = rows.map((r) => (r[0]! * 2 + r[1]! / 10 - r[2]! / 300 + (rnd() - 0.5) > 0 ? 1 : 0));
    const nt = await new ml.LogisticRegression({ solver: "newton", tol: 1e-8 }).fit(rows, y);
    const lb = await new ml.LogisticRegression({ tol: 1e-8, maxIter: 10000 }).fit(rows, y);
    expect(nt.converged).toBe(true);
    expect(nt.nIter).toBeLessThan(lb.nIter);
    expect(maxRelDiff(nt.coef!, lb.coef!)).toBeLessThan(1e-4);
  });
});
