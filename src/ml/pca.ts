/**
 * PCA (sklearn.decomposition.PCA) by a tall-skinny QR of the centred data. fit persists X and
 * runs three passes of one task per row block:
 *
 *   moments   rows per block, NaN check, column means (ml.info)
 *   TSQR      per block the R of the QR of (block - mean) (Householder, on the worker); the
 *             combine tree stacks Rs and takes the R of the stack, so one d x d R reaches the
 *             client: RᵀR is the centred scatter, without ever forming it (no squared
 *             condition number). Its SVD (one-sided Jacobi) gives the singular values and the
 *             right singular vectors of the whole centred X.
 *   signs     scikit-learn's svd_flip (u-based, as its "full" solver in 1.2): each component is
 *             signed so that the largest |score| over all rows is positive; per block the row
 *             of largest |(x - mean)·v| per component, the first one on ties
 *
 * explainedVariance is σ²/(n - 1); the ratio is over the total variance (the sum of all σ²,
 * or of the column variances for the randomized solver). transform ((x - mean)·Vₖ, over
 * √explainedVariance with whiten) and inverseTransform are lazy, one task per block; on a
 * dataframe the outputs are columns pca0, pca1, ...
 *
 * svdSolver: "full" and "tsqr" run the exact TSQR above; "randomized" runs randomized subspace
 * iteration (pca-randomized.ts: nIter + 1 passes, d x (k + nOversamples) per block to the
 * client) for an integer nComponents, then the same sign pass; "auto" (default) takes
 * randomized when X has more than 500 columns and nComponents is an integer below 0.8·min(n, d)
 * (scikit-learn's rule, on the columns: the rows are many anyway), TSQR otherwise.
 * ("arpack" is not offered.)
 */

import type { ComputeOptions } from "../client/current.js";
import { TesseraError } from "../errors.js";
import { toRows, type MatrixInput, type Rows } from "./data.js";
import { autoPowerIterations, randomizedSvd } from "./pca-randomized.js";
import { checkSeed } from "./random.js";
import { boolOption, checkKeys, intOption, notFitted } from "./estimator.js";
import type { FlipPartial, LoglikeSpec, QrPartial } from "./ops-pca.js";
import { transformed } from "./prep.js";
import type { Transformed } from "./preprocessing.js";
import { jacobiSvd } from "./qr.js";
import { inspect, persistRows, reduceBlocks } from "./run.js";
import { decodeNumber, encodeNumber, encodeNumbers, estimatorJSON, fittedFields, registerEstimator, type EstimatorJSON } from "./serialize.js";

export interface PCAOptions {
  /** Components kept: a count, a fraction of variance in (0, 1), or null for min(n, d) (default null). */
  nComponents?: number | null;
  /** Scale the scores to unit variance (default false). */
  whiten?: boolean;
  /** "auto" (default), "full" or "tsqr" (the exact TSQR), or "randomized"; see the module notes. */
  svdSolver?: PCASolver;
  /** Randomized: extra random directions beyond nComponents (default 10, scikit-learn's). */
  nOversamples?: number;
  /** Randomized: power iterations, or "auto" (7 when nComponents < 0.1·min(n, d), else 4; the default). */
  iteratedPower?: number | "auto";
  /** Randomized: the seed of the random directions (default 0). */
  seed?: number;
}

export type PCASolver = "auto" | "full" | "tsqr" | "randomized";
const SOLVERS: readonly PCASolver[] = ["auto", "full", "tsqr", "randomized"];
/** "auto" takes the randomized solver above this many columns (scikit-learn's 500). */
const AUTO_RANDOMIZED_COLUMNS = 500;

/** What a solver gives: k components (Vk d x k, vectors as columns), singular values, variances. */
interface Solved {
  k: number;
  Vk: Float64Array;
  s: Float64Array;
  /** Explained variance of each component found (k or more). */
  all: Float64Array;
  ratio: Float64Array;
  noise: number;
}

export class PCA {
  readonly nComponents: number | null;
  readonly whiten: boolean;
  readonly svdSolver: PCASolver;
  readonly nOversamples: number;
  readonly iteratedPower: number | "auto";
  readonly seed: number;
  /** The solver the last fit ran ("tsqr" or "randomized"). */
  solverFitted: "tsqr" | "randomized" | null = null;
  /** After fit: row-major [nComponents, nFeaturesIn], each row a unit vector. */
  components: Float64Array | null = null;
  explainedVariance: Float64Array | null = null;
  explainedVarianceRatio: Float64Array | null = null;
  singularValues: Float64Array | null = null;
  mean: Float64Array | null = null;
  /** The mean variance of the components left out (scikit-learn's noise_variance_). */
  noiseVariance = 0;
  /** Components kept (nComponents resolved). */
  nComponentsFitted = 0;
  nFeaturesIn = 0;
  nSamplesSeen = 0;
  featureNames: string[] | null = null;

  constructor(options: PCAOptions = {}) {
    const E = "PCA";
    checkKeys(E, options, ["nComponents", "whiten", "svdSolver", "nOversamples", "iteratedPower", "seed"]);
    const k = options.nComponents ?? null;
    if (k !== null && !(typeof k === "number" && ((Number.isInteger(k) && k >= 1) || (k > 0 && k < 1)))) {
      throw new TesseraError(`${E}: nComponents must be an integer >= 1, a fraction of variance in (0, 1), or null; got ${JSON.stringify(options.nComponents)}`);
    }
    this.nComponents = k;
    this.whiten = boolOption(E, "whiten", options.whiten, false);
    const s = options.svdSolver ?? "auto";
    if (!SOLVERS.includes(s)) throw new TesseraError(`${E}: svdSolver must be ${SOLVERS.map((x) => JSON.stringify(x)).join(", ")}; got ${JSON.stringify(s)}`);
    if (s === "randomized" && !(k !== null && Number.isInteger(k))) throw new TesseraError(`${E}: svdSolver "randomized" needs nComponents as a count (an integer >= 1); got ${JSON.stringify(k)}`);
    this.svdSolver = s;
    this.nOversamples = intOption(E, "nOversamples", options.nOversamples, 10, 0);
    const p = options.iteratedPower ?? "auto";
    if (p !== "auto") intOption(E, "iteratedPower", p, 0, 0);
    this.iteratedPower = p;
    this.seed = checkSeed(options.seed ?? 0, E);
  }

  /** Fit on X (n x d): three passes, see the module notes. */
  async fit(X: MatrixInput, options: ComputeOptions = {}): Promise<this> {
    const what = "PCA.fit";
    const rows = await toRows(X, undefined, what);
    const data = await persistRows(rows, what, options);
    try {
      const info = await inspect(data, what, { moments: true }, options);
      const n = info.n;
      const d = data.d;
      if (n < 2) throw new TesseraError(`${what}: X has ${n} row; PCA needs at least 2`);
      const mean = Float64Array.from(info.moments!.mean);
      const limit = Math.min(n, d);
      if (this.nComponents !== null && this.nComponents >= 1 && this.nComponents > limit) {
        throw new TesseraError(`${what}: nComponents is ${this.nComponents}, more than min(rows, features) = ${limit}`);
      }
      const randomized = this.svdSolver === "randomized" || (this.svdSolver === "auto" && d > AUTO_RANDOMIZED_COLUMNS && Number.isInteger(this.nComponents) && this.nComponents! < 0.8 * limit);
      const fitted = randomized ? await this.randomized(data, n, d, mean, info.moments!.m2, what, options) : await this.exact(data, n, d, mean, limit, what, options);
      const { k, Vk, s, all, ratio, noise } = fitted;
      const flip = await reduceBlocks<FlipPartial>(
        data,
        { name: "ml-pca-flip", op: "ml.pca.flip", combine: "ml.pca.flip.combine", withY: false, spec: (block) => ({ d, k, mean, V: Vk, offset: info.offsets[block]! }) },
        what,
        options,
      );
      const components = new Float64Array(k * d);
      for (let c = 0; c < k; c++) {
        const sign = flip.value[c]! < 0 ? -1 : 1;
        for (let j = 0; j < d; j++) components[c * d + j] = sign * Vk[j * k + c]!;
      }
      this.components = components;
      this.explainedVariance = all.slice(0, k);
      this.explainedVarianceRatio = ratio.slice(0, k);
      this.singularValues = s.slice(0, k);
      this.mean = mean;
      this.noiseVariance = noise;
      this.solverFitted = randomized ? "randomized" : "tsqr";
      this.nComponentsFitted = k;
      this.nFeaturesIn = d;
      this.nSamplesSeen = n;
      this.featureNames = rows.columns;
      return this;
    } finally {
      data.held.release();
    }
  }

  /** TSQR: every singular value, the components kept by nComponents (a count or a variance fraction). */
  private async exact(data: Rows, n: number, d: number, mean: Float64Array, limit: number, what: string, options: ComputeOptions): Promise<Solved> {
    const qr = await reduceBlocks<QrPartial>(data, { name: "ml-pca-qr", op: "ml.pca.qr", combine: "ml.pca.qr.combine", withY: false, spec: () => ({ d, mean }) }, what, options);
    const { s, V } = jacobiSvd(qr.r, qr.rows, d);
    const all = Float64Array.from(s.subarray(0, limit), (x) => (x * x) / (n - 1));
    const total = all.reduce((a, b) => a + b, 0);
    const ratio = all.map((v) => (total > 0 ? v / total : 0));
    let k = this.nComponents ?? limit;
    if (k < 1) {
      // scikit-learn: the fewest components whose cumulative ratio exceeds the fraction.
      let cum = 0;
      k = limit;
      for (let i = 0; i < limit; i++) {
        cum += ratio[i]!;
        if (cum > this.nComponents!) {
          k = i + 1;
          break;
        }
      }
    }
    const Vk = new Float64Array(d * k);
    for (let j = 0; j < d; j++) for (let c = 0; c < k; c++) Vk[j * k + c] = V[j * d + c]!;
    const noise = k < limit ? all.subarray(k).reduce((a, b) => a + b, 0) / (limit - k) : 0;
    return { k, Vk, s, all, ratio, noise };
  }

  /** Randomized subspace iteration: the top nComponents only; the total variance from the column variances (as scikit-learn). */
  private async randomized(data: Rows, n: number, d: number, mean: Float64Array, m2: Float64Array, what: string, options: ComputeOptions): Promise<Solved> {
    const k = this.nComponents!;
    const limit = Math.min(n, d);
    const nIter = this.iteratedPower === "auto" ? autoPowerIterations(k, n, d) : this.iteratedPower;
    const { s, Vk } = await randomizedSvd(data, { d, mean, k, nOversamples: this.nOversamples, nIter, seed: this.seed }, what, options);
    const all = Float64Array.from(s, (x) => (x * x) / (n - 1));
    const total = m2.reduce((a, b) => a + b, 0) / (n - 1);
    const ratio = all.map((v) => (total > 0 ? v / total : 0));
    const noise = k < limit ? Math.max(0, total - all.reduce((a, b) => a + b, 0)) / (limit - k) : 0;
    return { k, Vk, s, all, ratio, noise };
  }

  private model(method: string) {
    if (!this.components || !this.explainedVariance || !this.mean) throw notFitted("PCA", method);
    return { C: this.components, ev: this.explainedVariance, mean: this.mean, k: this.nComponentsFitted, d: this.nFeaturesIn };
  }

  /**
   * The average log-likelihood of X's rows under the fitted probabilistic PCA model (scikit-
   * learn's PCA.score): covariance Cᵀ diag(λ - σ²) C + σ² I (with whiten, scikit-learn scales
   * the components by √λ first, and so does this), σ² the noise variance. One pass.
   */
  async score(X: MatrixInput, options: ComputeOptions = {}): Promise<number> {
    const what = "PCA.score";
    const { C, ev, mean, k, d } = this.model("score");
    const rows = await toRows(X, undefined, what);
    if (rows.d !== d) throw new TesseraError(`${what}: X has ${rows.d} features, but the model was fitted with ${d}`);
    const noise = this.noiseVariance;
    if (k < d && !(noise > 0)) {
      throw new TesseraError(`${what}: the model has no variance off its ${k} components (noise variance ${noise}): its covariance is singular, so X has no likelihood under it`);
    }
    // Eigenvalues of the model covariance along each component (scikit-learn's get_covariance).
    const lambda = Float64Array.from(ev, (e) => (this.whiten ? e : 1) * Math.max(e - noise, 0) + noise);
    if (lambda.some((l) => !(l > 0))) throw new TesseraError(`${what}: the model covariance is singular along a component (explained variance 0)`);
    const spec: LoglikeSpec = { d, k, mean, C, lambda, noise };
    const s = await reduceBlocks<{ n: number; q: number }>(rows, { name: "ml-pca-loglike", op: "ml.pca.loglike", combine: "ml.sum", withY: false, spec: () => spec }, what, options);
    if (!Number.isFinite(s.q)) throw new TesseraError(`${what}: X has NaN or infinite values`);
    let logdet = 0;
    for (const l of lambda) logdet += Math.log(l);
    if (k < d) logdet += (d - k) * Math.log(noise);
    return -0.5 * (s.q / s.n) - 0.5 * (d * Math.log(2 * Math.PI) + logdet);
  }

  /** Output column names of a dataframe's transform: pca0, pca1, ... (scikit-learn's). */
  getFeatureNamesOut(): string[] {
    const { k } = this.model("getFeatureNamesOut");
    return Array.from({ length: k }, (_, c) => `pca${c}`);
  }

  /** The scores (x - mean)·componentsᵀ, whitened if asked (lazy). */
  transform<X extends MatrixInput>(X: X): Transformed<X> {
    const { C, ev, mean, k, d } = this.model("transform");
    const W = new Float64Array(d * k);
    for (let c = 0; c < k; c++) {
      const f = this.whiten ? 1 / Math.sqrt(ev[c]!) : 1;
      for (let j = 0; j < d; j++) W[j * k + c] = C[c * d + j]! * f;
    }
    return transformed(X, {
      t: { kind: "project", d, k, mean, W, offset: new Float64Array(k) },
      d,
      inputs: this.featureNames,
      outputs: this.getFeatureNamesOut(),
      inPlace: false,
      prefix: "pca-transform",
      what: "PCA.transform",
      estimator: "PCA",
    }) as Transformed<X>;
  }

  /** Back from scores to the feature space (lazy). */
  inverseTransform<X extends MatrixInput>(X: X): Transformed<X> {
    const { C, ev, mean, k, d } = this.model("inverseTransform");
    const W = new Float64Array(k * d);
    for (let c = 0; c < k; c++) {
      const f = this.whiten ? Math.sqrt(ev[c]!) : 1;
      for (let j = 0; j < d; j++) W[c * d + j] = C[c * d + j]! * f;
    }
    return transformed(X, {
      t: { kind: "project", d: k, k: d, mean: new Float64Array(k), W, offset: mean },
      d: k,
      inputs: this.featureNames ? this.getFeatureNamesOut() : null,
      outputs: this.featureNames ?? Array.from({ length: d }, (_, j) => `x${j}`),
      inPlace: false,
      prefix: "pca-inverse",
      what: "PCA.inverseTransform",
      estimator: "PCA",
    }) as Transformed<X>;
  }

  async fitTransform<X extends MatrixInput>(X: X, options?: ComputeOptions): Promise<Transformed<X>> {
    await this.fit(X, options);
    return this.transform(X);
  }

  toJSON(): EstimatorJSON {
    const params = { nComponents: this.nComponents, whiten: this.whiten, svdSolver: this.svdSolver, nOversamples: this.nOversamples, iteratedPower: this.iteratedPower, seed: this.seed };
    const fitted = this.components
      ? {
          nFeaturesIn: this.nFeaturesIn,
          nSamplesSeen: this.nSamplesSeen,
          featureNames: this.featureNames,
          nComponentsFitted: this.nComponentsFitted,
          components: encodeNumbers(this.components),
          explainedVariance: encodeNumbers(this.explainedVariance!),
          explainedVarianceRatio: encodeNumbers(this.explainedVarianceRatio!),
          singularValues: encodeNumbers(this.singularValues!),
          mean: encodeNumbers(this.mean!),
          noiseVariance: encodeNumber(this.noiseVariance),
          solverFitted: this.solverFitted,
        }
      : null;
    return estimatorJSON("PCA", params, fitted);
  }

  static fromJSON(json: EstimatorJSON): PCA {
    const p = { ...json.params };
    if (typeof p.nComponents === "string") p.nComponents = decodeNumber(p.nComponents) ?? p.nComponents;
    const out = new PCA(p as PCAOptions);
    const f = fittedFields(json);
    if (f) {
      const d = (out.nFeaturesIn = f.int("nFeaturesIn"));
      const k = (out.nComponentsFitted = f.int("nComponentsFitted"));
      out.nSamplesSeen = f.int("nSamplesSeen");
      out.featureNames = f.strings("featureNames");
      out.components = f.f64("components", k * d);
      out.explainedVariance = f.f64("explainedVariance", k);
      out.explainedVarianceRatio = f.f64("explainedVarianceRatio", k);
      out.singularValues = f.f64("singularValues", k);
      out.mean = f.f64("mean", d);
      out.noiseVariance = f.number("noiseVariance");
      const solver = (json.fitted as { solverFitted?: unknown }).solverFitted;
      out.solverFitted = solver === "randomized" ? "randomized" : "tsqr"; // models saved before the randomized solver ran TSQR
    }
    return out;
  }
}

registerEstimator("PCA", PCA.fromJSON);
