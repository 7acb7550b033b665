// Block kernels of the estimators, without workers: column moments in wasm against the plain
// loop they replaced (bit for bit), the logistic kernel's Hessian term (solver "newton") against
// a plain loop, and the k-means‖ draw's early rejection against the full draw.
import { describe, expect, it } from "vitest";
import { blockMoments, logisticBlock } from "../../src/ml/kernels.js";
import { uniformAt, uniformStream } from "../../src/ml/random.js";
import { kernels, rng } from "../kernels/helpers.js";

function reference(v: Float64Array, rows: number, d: number) {
  const mean = new Float64Array(d);
  const m2 = new Float64Array(d);
  const min = new Float64Array(d).fill(Infinity);
  const max = new Float64Array(d).fill(-Infinity);
  for (let i = 0; i < rows; i++) for (let j = 0; j < d; j++) mean[j] += v[i * d + j]!;
  if (rows > 0) for (let j = 0; j < d; j++) mean[j] /= rows;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < d; j++) {
      const x = v[i * d + j]!;
      m2[j] += (x - mean[j]!) ** 2;
      if (x < min[j]!) min[j] = x;
      if (x > max[j]!) max[j] = x;
    }
  }
  return { n: rows, mean, m2, min, max };
}

/** Σ x̃ x̃ᵀ ⊗ (diag(p) - p pᵀ), x̃ = (x, 1), in full: P x P, P = K(d + 1) (K = 1: the sigmoid's p(1 - p)). */
function hessianReference(x: Float64Array, rows: number, d: number, W: Float64Array, b: Float64Array, K: number): Float64Array {
  const P = K * (d + 1);
  const H = new Float64Array(P * P);
  for (let i = 0; i < rows; i++) {
    const xt = [...x.subarray(i * d, (i + 1) * d), 1];
    const z = Array.from({ length: K }, (_, a) => b[a]! + xt.slice(0, d).reduce((s, v, j) => s + v * W[a * d + j]!, 0));
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const p = K === 1 ? [1 / (1 + Math.exp(-z[0]!))] : e.map((v) => v / e.reduce((s, u) => s + u, 0));
    for (let a = 0; a < K; a++) {
      for (let c = 0; c < K; c++) {
        const w = K === 1 ? p[0]! * (1 - p[0]!) : p[a]! * ((a === c ? 1 : 0) - p[c]!);
        for (let j = 0; j <= d; j++) for (let l = 0; l <= d; l++) H[(a * (d + 1) + j) * P + c * (d + 1) + l] += w * xt[j]! * xt[l]!;
      }
    }
  }
  return H;
}

describe("ml block kernels", () => {
  it("mlLogistic with a Hessian: its upper triangle is the plain loop's; loss and gradient are the same bits as without", async () => {
    const k = await kernels();
    const r = rng(11);
    for (const [rows, d, K] of [[1, 1, 1], [7, 3, 1], [64, 16, 1], [33, 5, 3], [10, 2, 4]] as const) {
      const x = Float64Array.from({ length: rows * d }, () => (r() - 0.5) * 4);
      const y = Float64Array.from({ length: rows }, (_, i) => i % Math.max(2, K));
      const W = Float64Array.from({ length: K * d }, () => r() - 0.5);
      const b = Float64Array.from({ length: K }, () => r() - 0.5);
      const xp = k.copyIn(x);
      const yp = k.copyIn(y);
      try {
        const plain = logisticBlock(k, xp, yp, rows, d, W, b, K);
        const newton = logisticBlock(k, xp, yp, rows, d, W, b, K, true);
        expect(plain.hess).toBeUndefined();
        expect(newton.loss).toBe(plain.loss);
        expect(newton.grad).toEqual(plain.grad);
        expect(newton.gradB).toEqual(plain.gradB);
        const ref = hessianReference(x, rows, d, W, b, K);
        const P = K * (d + 1);
        let scale = 0;
        for (const v of ref) scale = Math.max(scale, Math.abs(v));
        for (let i = 0; i < P; i++) {
          for (let j = 0; j < P; j++) {
            if (j >= i) expect(Math.abs(newton.hess![i * P + j]! - ref[i * P + j]!)).toBeLessThan(1e-13 * scale);
            else expect(newton.hess![i * P + j]).toBe(0);
          }
        }
      } finally {
        k.free(xp);
        k.free(yp);
      }
    }
  });

  it("mlMoments: the same bits as a plain loop, for even and odd widths, with and without min/max", async () => {
    const k = await kernels();
    const r = rng(5);
    for (const [rows, d] of [[0, 3], [1, 1], [257, 16], [1000, 7], [31, 2]] as const) {
      const v = Float64Array.from({ length: rows * d }, () => (r() - 0.3) * 1e3 + 1e6 * (r() < 0.01 ? 1 : 0));
      const ptr = k.copyIn(v.length > 0 ? v : new Float64Array(1));
      try {
        const ref = reference(v, rows, d);
        expect(blockMoments(k, ptr, rows, d, true)).toEqual(ref);
        expect(blockMoments(k, ptr, rows, d, false)).toEqual({ n: rows, mean: ref.mean, m2: ref.m2 });
      } finally {
        k.free(ptr);
      }
    }
  });

  it("uniformStream: at() is uniformAt, and floor() is a lower bound within 2^-27 of it", () => {
    for (const [seed, stream] of [[0, 1000], [12345, 1003], [2 ** 40 + 7, 5]] as const) {
      const u = uniformStream(seed, stream);
      for (const i of [0, 1, 2, 1e6, 2 ** 33 + 5]) {
        const a = u.at(i);
        expect(a).toBe(uniformAt(seed, stream, i));
        expect(u.floor(i)).toBeLessThanOrEqual(a);
        expect(a - u.floor(i)).toBeLessThan(2 ** -27);
      }
    }
  });
});
