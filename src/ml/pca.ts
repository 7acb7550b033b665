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
 * explainedVariance is σ²/(n - 1); the ratio is over the sum of all σ². transform
 * ((x - mean)·Vₖ, over √explainedVariance with whiten) and inverseTransform are lazy,
 * one task per block; on a dataframe the outputs are columns pca0, pca1, ... Every svdSolver
 * name runs this exact TSQR ("randomized" and "arpack" are not offered).
 */

import type { ComputeOptions } from "../client/current.js";
import { TesseraError } from "../errors.js";
import { toRows, type MatrixInput } from "./data.js";
import { boolOption, checkKeys, notFitted } from "./estimator.js";
import type { FlipPartial, QrPartial } from "./ops-pca.js";
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
  /** "auto" (default), "full" or "tsqr": all are the exact TSQR. */
  svdSolver?: "auto" | "full" | "tsqr";
}

const SOLVERS = ["auto", "full", "tsqr"];

export class PCA {
  readonly nComponents: number | null;
  readonly whiten: boolean;
  readonly svdSolver: "auto" | "full" | "tsqr";
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
    checkKeys(E, options, ["nComponents", "whiten", "svdSolver"]);
    const k = options.nComponents ?? null;
    if (k !== null && !(typeof k === "number" && ((Number.isInteger(k) && k >= 1) || (k > 0 && k < 1)))) {
      throw new TesseraError(`${E}: nComponents must be an integer >= 1, a fraction of variance in (0, 1), or null; got ${JSON.stringify(options.nComponents)}`);
    }
    this.nComponents = k;
    this.whiten = boolOption(E, "whiten", options.whiten, false);
    const s = options.svdSolver ?? "auto";
    if (!SOLVERS.includes(s)) throw new TesseraError(`${E}: svdSolver must be ${SOLVERS.map((x) => JSON.stringify(x)).join(", ")} (all run the exact tall-skinny QR); got ${JSON.stringify(s)}`);
    this.svdSolver = s;
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
      this.noiseVariance = k < limit ? all.subarray(k).reduce((a, b) => a + b, 0) / (limit - k) : 0;
      this.nComponentsFitted = k;
      this.nFeaturesIn = d;
      this.nSamplesSeen = n;
      this.featureNames = rows.columns;
      return this;
    } finally {
      data.held.release();
    }
  }

  private model(method: string) {
    if (!this.components || !this.explainedVariance || !this.mean) throw notFitted("PCA", method);
    return { C: this.components, ev: this.explainedVariance, mean: this.mean, k: this.nComponentsFitted, d: this.nFeaturesIn };
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
    const params = { nComponents: this.nComponents, whiten: this.whiten, svdSolver: this.svdSolver };
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
    }
    return out;
  }
}

registerEstimator("PCA", PCA.fromJSON);
