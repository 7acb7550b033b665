// PCA on a 2-worker LocalCluster: explained variance, singular values and components (signs
// included) against scikit-learn's "full" solver (references.json) on digits and wine, for 1,
// 3 and 7 row blocks; transforms; and bad input.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, array as da, dataframe as dd, ml, type Client } from "../../dist/index.js";
import { DATASETS, HAVE_DATASETS, loadCsv, maxRelDiff, rowsPerBlock, standardize } from "./helpers.js";

const REF = JSON.parse(readFileSync(new URL("./references.json", import.meta.url), "utf8"));

let client: Client;
beforeAll(async () => {
  client = await LocalCluster.start({ workers: 2 });
});
afterAll(() => client?.close());

const BLOCKS = [1, 3, 7];
const matrix = (X: Float64Array, n: number, d: number, blocks: number) => da.fromTypedArray(X, { shape: [n, d], chunks: [rowsPerBlock(n, blocks), d] });

function loadDigits() {
  const rows = gunzipSync(readFileSync(new URL("digits.csv.gz", DATASETS))).toString("utf8").trim().split("\n");
  const X = new Float64Array(rows.length * 64);
  rows.forEach((r, i) => r.split(",").forEach((v, j) => j < 64 && (X[i * 64 + j] = Number(v))));
  return { X, n: rows.length, d: 64 };
}

/** max |a - b| over the entries, relative to the largest |b|. */
const relToMax = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  let top = 0;
  for (let i = 0; i < b.length; i++) (m = Math.max(m, Math.abs(a[i]! - b[i]!))), (top = Math.max(top, Math.abs(b[i]!)));
  return m / top;
};

describe.skipIf(!HAVE_DATASETS)("PCA", () => {
  it("matches scikit-learn on digits (1797 x 64, rank-deficient) for 1, 3 and 7 blocks", async () => {
    const ds = loadDigits();
    const ref = REF.digits.pca;
    for (const blocks of BLOCKS) {
      const pca = await new ml.PCA().fit(matrix(ds.X, ds.n, ds.d, blocks));
      expect(pca.nComponentsFitted).toBe(64);
      // Digits has constant pixels: the smallest singular values are rounding noise, so compare relative to the largest.
      expect(relToMax(pca.explainedVariance!, ref.explainedVariance)).toBeLessThan(1e-12);
      expect(relToMax(pca.explainedVarianceRatio!, ref.explainedVarianceRatio)).toBeLessThan(1e-12);
      expect(relToMax(pca.singularValues!, ref.singularValues)).toBeLessThan(1e-12);
      // The leading components, with scikit-learn's signs (svd_flip).
      expect(maxRelDiff(pca.components!.slice(0, 5 * 64), ref.components5)).toBeLessThan(1e-9);
      const scores = await pca.transform(matrix(ds.X, ds.n, ds.d, blocks)).compute();
      const sums = new Float64Array(10);
      for (let i = 0; i < ds.n; i++) for (let c = 0; c < 10; c++) sums[c] += scores.data[i * 64 + c]!;
      // Sums of centred scores are ~0: compare against the scale of a score, not relatively.
      expect(Math.max(...Array.from(sums, (s, c) => Math.abs(s - ref.transformSums10[c])))).toBeLessThan(1e-8);
    }
  });

  it("keeps the components that explain a fraction of the variance, whitens, and inverts (wine, standardized)", async () => {
    const ds = loadCsv("wine_data.csv");
    const { Z } = standardize(ds.X, ds.n, ds.d);
    for (const blocks of BLOCKS) {
      const pca = await new ml.PCA({ nComponents: 0.8 }).fit(matrix(Z, ds.n, ds.d, blocks));
      const ref = REF.wine.pca80;
      expect(pca.nComponentsFitted).toBe(ref.nComponents);
      expect(maxRelDiff(pca.explainedVariance!, ref.explainedVariance)).toBeLessThan(1e-12);
      expect(maxRelDiff(pca.explainedVarianceRatio!, ref.explainedVarianceRatio)).toBeLessThan(1e-12);
      expect(maxRelDiff(pca.components!, ref.components)).toBeLessThan(1e-10);
      expect(pca.noiseVariance).toBeCloseTo(ref.noiseVariance, 12);
      const w = new ml.PCA({ nComponents: 3, whiten: true });
      const T = await (await w.fitTransform(matrix(Z, ds.n, ds.d, blocks))).compute();
      expect(maxRelDiff(T.data.slice(0, 15), REF.wine.pcaWhiten3.firstRows)).toBeLessThan(1e-10);
      // With every component, inverseTransform(transform(X)) is X.
      const full = await new ml.PCA({ whiten: true }).fit(matrix(Z, ds.n, ds.d, blocks));
      const back = await full.inverseTransform(full.transform(matrix(Z, ds.n, ds.d, blocks))).compute();
      expect(maxRelDiff(back.data as Float64Array, Z)).toBeLessThan(1e-12);
    }
  });

  it("with fewer rows than features: the variance is all kept and the components are orthonormal", async () => {
    const n = 5;
    const d = 8;
    const X = Float64Array.from({ length: n * d }, (_, t) => Math.sin(t * 1.7) * (1 + (t % d)));
    const pca = await new ml.PCA().fit(matrix(X, n, d, 2));
    expect(pca.nComponentsFitted).toBe(n);
    let total = 0;
    for (let j = 0; j < d; j++) {
      const col = Array.from({ length: n }, (_, i) => X[i * d + j]!);
      const m = col.reduce((a, b) => a + b, 0) / n;
      total += col.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1);
    }
    expect(pca.explainedVariance!.reduce((a, b) => a + b, 0)).toBeCloseTo(total, 10);
    expect(pca.explainedVariance![n - 1]).toBeLessThan(1e-20 * total + 1e-12); // centring leaves rank n - 1
    for (let a = 0; a < n - 1; a++) {
      for (let b = 0; b < n - 1; b++) {
        let dot = 0;
        for (let j = 0; j < d; j++) dot += pca.components![a * d + j]! * pca.components![b * d + j]!;
        expect(dot).toBeCloseTo(a === b ? 1 : 0, 12);
      }
    }
  });

  it("svdSolver randomized on digits: the full solver's explained variance and components, as close as scikit-learn's randomized gets", async () => {
    // references-c.json (make-references-c.py): scikit-learn's PCA(10) on digits, "full" and "randomized" (random_state=0).
    const C = JSON.parse(readFileSync(new URL("./references-c.json", import.meta.url), "utf8")).pca_digits10;
    const rel = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(b, (v, i) => Math.abs(a[i]! - v) / Math.abs(v));
    // How far scikit-learn's randomized solver strays from its full one, per component, over 6 seeds (~1e-11 .. 1e-4).
    const sk = C.spread as number[];
    const ds = loadDigits();
    for (const blocks of [1, 3, 7]) {
      const pca = await new ml.PCA({ nComponents: 10, svdSolver: "randomized", seed: 1 }).fit(matrix(ds.X, ds.n, ds.d, blocks));
      expect(pca.solverFitted).toBe("randomized");
      const ours = rel(pca.explainedVariance!, C.full.explainedVariance);
      ours.forEach((e, c) => expect(e).toBeLessThan(3 * sk[c]! + 1e-9));
      expect(rel(pca.explainedVarianceRatio!, C.full.explainedVarianceRatio).every((e, c) => e < 3 * sk[c]! + 1e-9)).toBe(true);
      expect(Math.abs(pca.noiseVariance - C.full.noiseVariance) / C.full.noiseVariance).toBeLessThan(1e-4);
      // The leading components (well separated) equal the full solver's, signs included.
      expect(maxRelDiff(pca.components!.slice(0, 3 * 64), C.full.components.slice(0, 3).flat())).toBeLessThan(1e-4);
    }
    // More power iterations close the gap; the whitened scores have unit variance.
    const sharp = await new ml.PCA({ nComponents: 10, svdSolver: "randomized", iteratedPower: 12, whiten: true }).fit(matrix(ds.X, ds.n, ds.d, 3));
    expect(Math.max(...rel(sharp.explainedVariance!, C.full.explainedVariance))).toBeLessThan(1e-9);
    const T = (await sharp.transform(matrix(ds.X, ds.n, ds.d, 3)).compute()).data as Float64Array;
    for (let c = 0; c < 10; c++) {
      let ss = 0;
      for (let i = 0; i < ds.n; i++) ss += T[i * 10 + c]! ** 2;
      expect(ss / (ds.n - 1)).toBeCloseTo(1, 10);
    }
    const back = ml.fromJSON(JSON.parse(JSON.stringify(sharp))) as InstanceType<typeof ml.PCA>;
    expect([back.svdSolver, back.iteratedPower, back.nOversamples, back.seed, back.solverFitted]).toEqual(["randomized", 12, 10, 0, "randomized"]);
    expect(maxRelDiff(back.components!, sharp.components!)).toBe(0);
    expect(() => new ml.PCA({ svdSolver: "randomized", nComponents: 0.5 })).toThrow(/PCA: svdSolver "randomized" needs nComponents as a count .*got 0.5/);
    expect(() => new ml.PCA({ svdSolver: "randomized", nComponents: 2, iteratedPower: -1 })).toThrow(/PCA: iteratedPower must be an integer >= 0, got -1/);
    expect(() => new ml.PCA({ svdSolver: "arpack" as never })).toThrow(/PCA: svdSolver must be "auto", "full", "tsqr", "randomized"; got "arpack"/);
  });

  it("auto takes the randomized solver for more than 500 columns, and finds a low-rank wide matrix's leading singular values", async () => {
    const n = 120;
    const d = 520;
    // Rank 6 plus small noise, from a fixed recipe.
    const X = new Float64Array(n * d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) {
      let v = 0;
      for (let r = 0; r < 6; r++) v += (6 - r) * Math.sin((i + 1) * (r + 1) * 0.37 + r) * Math.cos((j + 1) * (r + 2) * 0.11);
      X[i * d + j] = v + 1e-3 * Math.sin(i * 7.1 + j * 3.3);
    }
    const pca = await new ml.PCA({ nComponents: 4 }).fit(matrix(X, n, d, 3));
    expect(pca.solverFitted).toBe("randomized");
    // Reference: the eigenvalues of the centred rows' n x n Gram matrix (σ²), by power iteration with deflation.
    const mean = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += X[i * d + j]! / n;
    const G = new Float64Array(n * n);
    for (let a = 0; a < n; a++) for (let b = 0; b <= a; b++) {
      let g = 0;
      for (let j = 0; j < d; j++) g += (X[a * d + j]! - mean[j]!) * (X[b * d + j]! - mean[j]!);
      G[a * n + b] = G[b * n + a] = g;
    }
    const want: number[] = [];
    for (let c = 0; c < 4; c++) {
      let v = Float64Array.from({ length: n }, (_, i) => Math.sin(i + c + 1));
      let lambda = 0;
      for (let it = 0; it < 3000; it++) {
        const w = new Float64Array(n);
        for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) w[a] += G[a * n + b]! * v[b]!;
        lambda = Math.sqrt(w.reduce((s, x) => s + x * x, 0));
        v = w.map((x) => x / lambda);
      }
      want.push(lambda / (n - 1));
      for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) G[a * n + b] -= lambda * v[a]! * v[b]!;
    }
    expect(maxRelDiff(Array.from(pca.explainedVariance!, (x, c) => x / want[c]!), [1, 1, 1, 1])).toBeLessThan(1e-8);
    // Orthonormal components.
    for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += pca.components![a * d + j]! * pca.components![b * d + j]!;
      expect(dot).toBeCloseTo(a === b ? 1 : 0, 12);
    }
  });

  it("takes dataframes (output columns pca0, pca1, ...) and names bad input", async () => {
    const df = dd.fromArrays({ a: new Float64Array([1, 2, 3, 4]), b: new Float64Array([2, 4, 6, 8.5]), id: ["p", "q", "r", "s"] }, { npartitions: 2 });
    const pca = await new ml.PCA({ nComponents: 1 }).fit(df.select("a", "b"));
    expect(pca.featureNames).toEqual(["a", "b"]);
    const t = await pca.transform(df).compute();
    expect(t.schema.fields.map((f) => f.name)).toEqual(["id", "pca0"]);
    const arr = await pca.transform(da.fromTypedArray(new Float64Array([1, 2, 3, 4, 2, 4, 6, 8.5]), { shape: [2, 4] }).transpose()).compute();
    expect(Array.from(t.getChild("pca0")!.toArray() as Float64Array)).toEqual(Array.from(arr.data));
    const back = await pca.inverseTransform(pca.transform(df)).compute();
    expect(back.schema.fields.map((f) => f.name)).toEqual(["id", "a", "b"]);
    // One component of nearly collinear columns: the round trip is close, not exact.
    expect(Math.abs((back.getChild("b")!.toArray() as Float64Array)[3]! - 8.5)).toBeLessThan(0.2);
    await expect(new ml.PCA().fit([[1, 2], [NaN, 3]])).rejects.toThrow(/PCA.fit: X has NaN \(or a null\) at row 1, column 0/);
    await expect(new ml.PCA({ nComponents: 3 }).fit([[1, 2], [3, 4], [5, 7]])).rejects.toThrow(/nComponents is 3, more than min\(rows, features\) = 2/);
    expect(() => new ml.PCA({ nComponents: 1.5 })).toThrow(/nComponents must be an integer >= 1, a fraction/);
    expect(() => new ml.PCA({ svdSolver: "lobpcg" as "full" })).toThrow(/svdSolver must be/);
    expect(() => new ml.PCA().transform([[1, 2]])).toThrow(/PCA.transform: this PCA is not fitted yet/);
    expect(() => pca.transform([[1, 2, 3]])).toThrow(/X has 3 features, but this PCA was fitted with 2/);
    await expect(pca.transform(da.fromTypedArray(new Float64Array([1, 2, 3, NaN]), { shape: [2, 2], chunks: [1, 2] })).compute()).rejects.toThrow(/X has NaN \(or a null\) at row 1, column 1/);
    await expect(pca.transform(dd.fromArrays({ a: [1, null], b: [2, 3] as number[] }, { npartitions: 1 })).compute()).rejects.toThrow(/X has NaN \(or a null\) at row 1 of partition 0, column "a"/);
  });

  it("score: scikit-learn's average log-likelihood, with and without whiten, held-out rows, and all components", async () => {
    // References: /usr/bin/python3 with scikit-learn 1.2.1 (Debian's python3-sklearn),
    // PCA(n_components=k, whiten=w, svd_solver="full").fit(X).score(Z) with X digits (all
    // rows) or wine's 13 features, Z = X or digits' first 100 rows times 0.9 plus 1.
    const REF_SCORE: Record<string, number> = {
      digits_k10_w0: -159.99373615808088,
      digits_k10_w0_heldout: -156.5731132817519,
      digits_k10_w1: -176.22654889330593,
      digits_k10_w1_heldout: -173.66362907643503,
      digits_k30_w0: -143.25332184424195,
      wine_all: -18.713865391489588,
      wine_k5: -22.129211158815018,
    };
    const ds = loadDigits();
    const held = ds.X.slice(0, 100 * 64).map((v) => v * 0.9 + 1);
    for (const [k, w] of [[10, false], [10, true], [30, false]] as const) {
      const pca = await new ml.PCA({ nComponents: k, whiten: w }).fit(matrix(ds.X, ds.n, ds.d, 3));
      expect(await pca.score(matrix(ds.X, ds.n, ds.d, 7))).toBeCloseTo(REF_SCORE[`digits_k${k}_w${w ? 1 : 0}`], 8);
      if (k === 10) expect(await pca.score(matrix(held, 100, 64, 2))).toBeCloseTo(REF_SCORE[`digits_k10_w${w ? 1 : 0}_heldout`], 8);
    }
    const wine = loadCsv("wine_data.csv");
    const all = await new ml.PCA().fit(matrix(wine.X, wine.n, wine.d, 3));
    expect(all.noiseVariance).toBe(0);
    expect(await all.score(matrix(wine.X, wine.n, wine.d, 1))).toBeCloseTo(REF_SCORE.wine_all, 8);
    const five = await new ml.PCA({ nComponents: 5 }).fit(matrix(wine.X, wine.n, wine.d, 7));
    expect(await five.score(matrix(wine.X, wine.n, wine.d, 3))).toBeCloseTo(REF_SCORE.wine_k5, 8);
    await expect(five.score([[1, 2]])).rejects.toThrow(/PCA.score: X has 2 features, but the model was fitted with 13/);
    await expect(new ml.PCA().score([[1, 2]])).rejects.toThrow(/not fitted yet/);
  });
});
