/**
 * PCA's worker ops (see pca.ts):
 *
 *   ml.pca.qr      R of the QR of the centred block; combined: R of the stacked Rs (TSQR)
 *   ml.pca.power   Aᵀ(A P) of the centred block A: the randomized solver's power iteration
 *   ml.pca.flip    per component the row of largest |score| (scikit-learn's sign rule)
 *   ml.pca.loglike Σ (x - mean)ᵀ P (x - mean) over the block, P the fitted model's precision
 */

import { withKernels } from "../kernels/instance.js";
import { registerOp } from "../worker/registry.js";
import { matrix, using } from "./blocks.js";
import { householderR } from "./qr.js";

export interface QrPartial {
  /** R: rows x d, upper triangular (rows = min(block rows, d)). */
  r: Float64Array;
  rows: number;
  d: number;
}

registerOp("ml.pca.qr", (spec: { d: number; mean: Float64Array }, x: unknown) =>
  withKernels((k): QrPartial => {
    const m = matrix(k, x, spec.d, "ml.pca.qr X");
    return using([m], () => {
      const a = Float64Array.from(k.view("float64", m.ptr, m.rows * m.d));
      for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.d; j++) a[i * m.d + j] -= spec.mean[j]!;
      return householderR(a, m.rows, m.d);
    });
  }),
);

/** Aᵀ(A P) of the centred block A (rows x d) and P (d x l): one row of A at a time. */
registerOp("ml.pca.power", (spec: { d: number; mean: Float64Array; P: Float64Array; l: number }, x: unknown) =>
  withKernels((k): { z: Float64Array } => {
    const m = matrix(k, x, spec.d, "ml.pca.power X");
    return using([m], () => {
      const { d, l, P, mean } = spec;
      const v = k.view("float64", m.ptr, m.rows * d);
      const a = new Float64Array(d);
      const y = new Float64Array(l);
      const z = new Float64Array(d * l);
      for (let i = 0; i < m.rows; i++) {
        for (let j = 0; j < d; j++) a[j] = v[i * d + j]! - mean[j]!;
        y.fill(0);
        for (let j = 0; j < d; j++) for (let c = 0, o = j * l; c < l; c++) y[c] += a[j]! * P[o + c]!;
        for (let j = 0; j < d; j++) for (let c = 0, o = j * l; c < l; c++) z[o + c] += a[j]! * y[c]!;
      }
      return { z };
    });
  }),
);

/** R of the stacked Rs: the R of the stacked blocks, up to the signs of its rows. */
registerOp("ml.pca.qr.combine", (...parts: QrPartial[]): QrPartial => {
  const d = parts[0]!.d;
  const rows = parts.reduce((s, p) => s + p.rows, 0);
  const a = new Float64Array(rows * d);
  let at = 0;
  for (const p of parts) {
    a.set(p.r, at);
    at += p.r.length;
  }
  return householderR(a, rows, d);
});

export interface FlipPartial {
  /** Per component: the score of largest magnitude, and its row number. */
  value: Float64Array;
  row: Float64Array;
}

registerOp("ml.pca.flip", (spec: { d: number; k: number; mean: Float64Array; V: Float64Array; offset: number }, x: unknown) =>
  withKernels((k): FlipPartial => {
    const m = matrix(k, x, spec.d, "ml.pca.flip X");
    return using([m], () => {
      const v = k.view("float64", m.ptr, m.rows * m.d);
      const { d, k: K, mean, offset } = spec;
      const value = new Float64Array(K);
      const row = new Float64Array(K).fill(-1);
      // Vᵀ, so each score is a contiguous dot product with the centred row.
      const Vt = new Float64Array(K * d);
      for (let j = 0; j < d; j++) for (let c = 0; c < K; c++) Vt[c * d + j] = spec.V[j * K + c]!;
      const xc = new Float64Array(d);
      for (let i = 0; i < m.rows; i++) {
        for (let j = 0, o = i * d; j < d; j++) xc[j] = v[o + j]! - mean[j]!;
        for (let c = 0; c < K; c++) {
          let s = 0;
          for (let j = 0, o = c * d; j < d; j++) s += xc[j]! * Vt[o + j]!;
          // Strictly larger: the first row of the largest |score| wins, as numpy's argmax.
          if (row[c]! < 0 || Math.abs(s) > Math.abs(value[c]!)) (value[c] = s), (row[c] = offset + i);
        }
      }
      return { value, row };
    });
  }),
);

registerOp("ml.pca.flip.combine", (...parts: FlipPartial[]): FlipPartial => {
  const acc = { value: Float64Array.from(parts[0]!.value), row: Float64Array.from(parts[0]!.row) };
  for (const p of parts.slice(1)) {
    for (let c = 0; c < acc.value.length; c++) {
      if (p.row[c]! < 0) continue;
      const better = acc.row[c]! < 0 || Math.abs(p.value[c]!) > Math.abs(acc.value[c]!) || (Math.abs(p.value[c]!) === Math.abs(acc.value[c]!) && p.row[c]! < acc.row[c]!);
      if (better) (acc.value[c] = p.value[c]!), (acc.row[c] = p.row[c]!);
    }
  }
  return acc;
});


export interface LoglikeSpec {
  d: number;
  k: number;
  mean: Float64Array;
  /** Components, k x d, orthonormal rows. */
  C: Float64Array;
  /** The model covariance's variance along each component, and σ² off them (0: k = d). */
  lambda: Float64Array;
  noise: number;
}

/**
 * The quadratic form of the probabilistic PCA model's precision, per block: along component c
 * it is (x·C_c)² / λ_c, and the rest of ‖x‖² (off the components) over σ².
 */
registerOp("ml.pca.loglike", (spec: LoglikeSpec, x: unknown) =>
  withKernels((k): { n: number; q: number } => {
    const m = matrix(k, x, spec.d, "ml.pca.loglike X");
    return using([m], () => {
      const v = k.view("float64", m.ptr, m.rows * m.d);
      const { d, C, mean, lambda, noise } = spec;
      const r = new Float64Array(d);
      let q = 0;
      for (let i = 0; i < m.rows; i++) {
        let norm = 0;
        for (let j = 0; j < d; j++) norm += (r[j] = v[i * d + j]! - mean[j]!) ** 2;
        let along = 0;
        for (let c = 0; c < spec.k; c++) {
          let s = 0;
          for (let j = 0; j < d; j++) s += r[j]! * C[c * d + j]!;
          q += (s * s) / lambda[c]!;
          along += s * s;
        }
        if (noise > 0) q += Math.max(0, norm - along) / noise;
      }
      return { n: m.rows, q };
    });
  }),
);
