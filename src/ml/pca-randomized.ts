/**
 * PCA's randomized solver (Halko, Martinsson & Tropp 2011, Algorithm 4.4: randomized subspace
 * iteration), for data with many columns where TSQR's d x d R and its SVD cost too much. With
 * A the centred X (n x d, row blocks on the workers) and l = k + nOversamples:
 *
 *   P = orth(Ω)                  Ω d x l standard normal, seeded (on the client)
 *   nIter times: P = orth(AᵀA P)  one pass each: per block A_bᵀ(A_b P), d x l, summed by a tree;
 *                                orth (modified Gram-Schmidt, twice) on the client
 *   Z = AᵀA P                    one more pass
 *   Q = orth(A P), B = QᵀA        never formed: with PᵀZ = (AP)ᵀ(AP) = W Λ Wᵀ, Q = A P W Λ^-½
 *                                and Bᵀ = Z W Λ^-½ (d x l); directions with λ below rounding of
 *                                the largest are dropped
 *   Bᵀ = V S Uᵀ                  one-sided Jacobi on the client: A ≈ Q B = (Q U) S Vᵀ
 *
 * The singular values are S, the right singular vectors V (the first k kept): scikit-learn's
 * randomized_svd (Q = orth(A (AᵀA)^nIter Ω), the SVD of QᵀA), the same subspace from the same
 * number of passes over A. Nothing larger than d x l leaves a worker. The random draws,
 * and scikit-learn's LU normalization between iterations, differ, so results agree with
 * scikit-learn's to the accuracy of the approximation, not bit for bit.
 */

import type { ComputeOptions } from "../client/current.js";
import type { Rows } from "./data.js";
import { symmetricEigen } from "./linalg.js";
import { jacobiSvd } from "./qr.js";
import { uniformAt } from "./random.js";
import { reduceBlocks } from "./run.js";

export interface RandomizedSpec {
  d: number;
  mean: Float64Array;
  /** Components wanted. */
  k: number;
  nOversamples: number;
  /** Power iterations. */
  nIter: number;
  seed: number;
}

/** scikit-learn's iterated_power "auto": 7 when k < 0.1·min(n, d), else 4. */
export const autoPowerIterations = (k: number, n: number, d: number): number => (k < 0.1 * Math.min(n, d) ? 7 : 4);

/** The top k singular values s and right singular vectors Vk (d x k row-major, vectors as columns) of the centred rows. */
export async function randomizedSvd(data: Rows, o: RandomizedSpec, what: string, options: ComputeOptions): Promise<{ s: Float64Array; Vk: Float64Array }> {
  const { d, mean, k } = o;
  const l = Math.min(d, k + o.nOversamples);
  let P = orthonormalize(gaussian(d, l, o.seed), d, l);
  const power = async (P: Float64Array) =>
    (await reduceBlocks<{ z: Float64Array }>(data, { name: "ml-pca-power", op: "ml.pca.power", combine: "ml.sum", withY: false, spec: () => ({ d, mean, P, l }) }, what, options)).z;
  for (let it = 0; it < o.nIter; it++) P = orthonormalize(await power(P), d, l);
  const Z = await power(P);
  // G = PᵀZ = (AP)ᵀ(AP), symmetric positive semi-definite (symmetrized against rounding).
  const G = new Float64Array(l * l);
  for (let a = 0; a < l; a++) for (let b = 0; b < l; b++) for (let j = 0; j < d; j++) G[a * l + b] += P[j * l + a]! * Z[j * l + b]!;
  for (let a = 0; a < l; a++) for (let b = 0; b < a; b++) G[a * l + b] = G[b * l + a] = (G[a * l + b]! + G[b * l + a]!) / 2;
  const { values, vectors: W } = symmetricEigen(G, l);
  const top = Math.max(...values);
  const keep = [...values.keys()].filter((i) => values[i]! > top * l * 2.220446049250313e-16);
  const r = keep.length;
  // Bᵀ = Z W Λ^-½ over the directions kept: d x r.
  const Bt = new Float64Array(d * r);
  keep.forEach((i, c) => {
    const f = 1 / Math.sqrt(values[i]!);
    for (let j = 0; j < d; j++) {
      let v = 0;
      for (let t = 0; t < l; t++) v += Z[j * l + t]! * W[t * l + i]!;
      Bt[j * r + c] = v * f;
    }
  });
  const { s, V } = jacobiSvd(Bt, d, r);
  // Left singular vectors of Bᵀ (the right ones of B, of A): Bᵀ v / σ.
  const Vk = new Float64Array(d * k);
  for (let c = 0; c < Math.min(k, r); c++) {
    const sigma = s[c]!;
    if (sigma === 0) continue;
    for (let j = 0; j < d; j++) {
      let v = 0;
      for (let t = 0; t < r; t++) v += Bt[j * r + t]! * V[t * r + c]!;
      Vk[j * k + c] = v / sigma;
    }
  }
  const sk = new Float64Array(k);
  sk.set(s.subarray(0, Math.min(k, r)));
  return { s: sk, Vk };
}

/** d x l standard normal draws (Box-Muller over uniformAt), row-major. */
function gaussian(d: number, l: number, seed: number): Float64Array {
  const out = new Float64Array(d * l);
  for (let i = 0; i < out.length; i++) {
    const u = 1 - uniformAt(seed, 0x5ca1ab1e, 2 * i); // (0, 1]
    const v = uniformAt(seed, 0x5ca1ab1e, 2 * i + 1);
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return out;
}

/**
 * Orthonormal columns spanning those of Z (d x l, row-major): modified Gram-Schmidt, twice
 * (enough for orthogonality to rounding). A column that vanishes is replaced by a unit vector
 * orthogonal to the others, so the basis keeps l columns.
 */
export function orthonormalize(Z: Float64Array, d: number, l: number): Float64Array {
  const cols = Array.from({ length: l }, (_, c) => Float64Array.from({ length: d }, (_, j) => Z[j * l + c]!));
  for (let c = 0; c < l; c++) {
    const v = cols[c]!;
    const before = norm(v);
    deflate(v, cols, c);
    let r = norm(v);
    // Rank-deficient: the next coordinate vector, made orthogonal to the basis so far.
    for (let e = 0; e < d && (r === 0 || r <= 1e-10 * before); e++) {
      v.fill(0);
      v[e] = 1;
      deflate(v, cols, c);
      r = norm(v);
    }
    for (let j = 0; j < d; j++) v[j] /= r;
  }
  const out = new Float64Array(d * l);
  for (let c = 0; c < l; c++) for (let j = 0; j < d; j++) out[j * l + c] = cols[c]![j]!;
  return out;
}

const norm = (v: Float64Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

/** v minus its projections on the first c columns, twice. */
function deflate(v: Float64Array, cols: Float64Array[], c: number): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let p = 0; p < c; p++) {
      const q = cols[p]!;
      let dot = 0;
      for (let j = 0; j < v.length; j++) dot += q[j]! * v[j]!;
      for (let j = 0; j < v.length; j++) v[j] -= dot * q[j]!;
    }
  }
}
